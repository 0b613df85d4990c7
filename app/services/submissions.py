"""Browser form submissions that carry their files in the same request."""
from flask_babel import lazy_gettext as _l

from app.services import files, forms, tasks, transaction
from app.services.errors import ValidationFailed


def _file_field(form: dict) -> str | None:
    return next((n for n, p in form['properties'].items() if 'x-file' in p), None)


def _check_files(form: dict, field: str, kept: list, new: list) -> None:
    spec = form['properties'][field]['x-file']
    total = len(kept) + len(new)
    if total > spec.get('maxItems', 9):
        raise ValidationFailed({field: [_l('最多上传 %(n)s 个文件，您选择了 %(total)s 个', n=spec['maxItems'], total=total)]})
    errors = []
    for name, content in new:
        try:
            files.check_upload(name, content, field)
        except ValidationFailed as exc:
            errors += exc.errors[field]
            status = exc.status
    if errors:
        raise ValidationFailed({field: errors}, status=status)


def _submit(user, form_key: str, data: dict, new_files: list, action) -> object:
    """Store new files and run `action(data)` together; on a form error keep the good files for the retry."""
    form = forms.get_form(form_key)
    field = _file_field(form)
    kept = [int(i) for i in data.get(field) or [] if str(i).isdigit()] if field else []
    if field:
        _check_files(form, field, kept, new_files)
    try:
        with transaction():
            ids = [files.add_upload(user, n, c, field).id for n, c in new_files]
            if field:
                data = {**data, field: kept + ids}
            return action(data)
    except ValidationFailed as exc:
        if new_files:
            with transaction():
                exc.kept_files = kept + [files.add_upload(user, n, c, field).id for n, c in new_files]
        else:
            exc.kept_files = kept
        raise


def start_with_files(user, process_key: str, form_key: str, data: dict, new_files: list):
    """Start a case from a browser form with its uploads."""
    return _submit(user, form_key, data, new_files, lambda d: tasks.start_instance(user, process_key, d))


def resubmit_with_files(user, task, data: dict, new_files: list):
    """Complete a returned submission form (a corrected version) with its uploads."""
    return _submit(user, task.form_key, data, new_files, lambda d: tasks.complete_task(user, task.id, data=d))


def complete_with_files(user, task, data: dict, new_files: list):
    """Complete an inbox task from its page: review decisions, dispatch, rating, certification with photos."""
    def action(d):
        d = dict(d)
        decision, reason = d.pop('decision', None), d.pop('reason', None)
        if forms.is_review_form(task.form_key):
            return tasks.complete_task(user, task.id, decision, reason, data=d)
        return tasks.complete_task(user, task.id, data={**d, **({'reason': reason} if reason else {})})
    return _submit(user, task.form_key, data, new_files, action)
