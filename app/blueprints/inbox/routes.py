from io import BytesIO

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.inbox import bp
from app.blueprints.template_helpers import decision_label
from app.blueprints.web import file_uploads, form_values, page_arg
from app.services import files, forms, service_objects, submissions, tasks
from app.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from app.services.step_names import step_with_subject

STATES = {'open': 'open', 'approved': 'approve', 'rejected': 'reject'}
PHONE_RESUBMIT = ('service_object_entry', 'v_order')  # processes whose submitter steps the phone pages do


@bp.before_request
@login_required
def _login():
    return None


@bp.get('/inbox')
def index():
    state = request.args.get('state', 'open')
    rows, total = tasks.list_tasks(current_user, STATES.get(state, 'open'), request.args.get('process'),
                                   request.args.get('q'), page_arg())
    hints = tasks.batch_hints(rows) if state == 'open' else []
    return render_template('inbox/index.html', rows=rows, total=total, state=state, q=request.args.get('q', ''),
                           page=page_arg(), batch_hints=hints)


@bp.get('/inbox/tasks/<int:task_id>')
def task(task_id):
    d = tasks.task_detail(current_user, task_id)
    if d['can_act'] and d['task'].assignee_id == current_user.id and d['task'].process_key in PHONE_RESUBMIT:
        # a submitter's own step is done on the phone pages: a returned submission on its own form, filled in
        # with what was sent last time; another step (确认完成并评价) there too, or its case says from when
        return redirect(url_for('mobile.resubmit_form', instance_id=d['task'].instance_id))
    values = d['values']
    field = forms.file_field(d['form']) if d['form'] else None
    return render_template('inbox/task.html', d=d, errors={}, values=values, kept=values.get(field, []) if field else [])


@bp.post('/inbox/tasks/<int:task_id>/decide')
def decide(task_id):
    d = tasks.task_detail(current_user, task_id)
    values = form_values(d['form'])
    try:
        submissions.complete_with_files(current_user, d['task'], values, file_uploads(d['form']))
    except ValidationFailed as exc:
        return render_template('inbox/task.html', d=tasks.task_detail(current_user, task_id), errors=exc.errors,
                               values=values, kept=getattr(exc, 'kept_files', [])), exc.status
    except Conflict as exc:  # someone was first or holds the claim: show the task as it is now, not a dead end
        flash(str(exc.message), 'error')
        return render_template('inbox/task.html', d=tasks.task_detail(current_user, task_id), errors={},
                               values=values, kept=[]), exc.status
    flash(_done_text(d['task'], values.get('decision')), 'success')
    return redirect(url_for('inbox.index'))


def _done_text(task, decision) -> str:
    """What the flash after a decision says: which step of which case, and the result."""
    about = {'step': step_with_subject(task.title, task.subject), 'title': task.instance.title}
    if tasks.is_review(task) and decision in ('approve', 'reject'):
        return _('已提交：%(step)s · %(title)s，审核结果：%(result)s', **about, result=decision_label(decision))
    return _('已提交：%(step)s · %(title)s', **about)


@bp.post('/inbox/tasks/<int:task_id>/<any(claim, unclaim):action>')
def claim(task_id, action):
    try:
        (tasks.claim if action == 'claim' else tasks.unclaim)(current_user, task_id)
        flash(_('已认领，其他审核人将看到由您处理') if action == 'claim' else _('已取消认领'), 'success')
    except NotFound:
        raise
    except ServiceError as exc:
        flash(str(exc.message), 'error')
    return redirect(url_for('inbox.task', task_id=task_id))


@bp.post('/inbox/batch')
def batch():
    ids = [int(i) for i in request.form.getlist('task_ids') if i.isdigit()]
    results = tasks.batch_decide(current_user, ids, request.form.get('decision'), request.form.get('reason'))
    return render_template('inbox/batch_result.html', results=results, decision=request.form.get('decision'))


@bp.get('/library')
def library():
    view = 'all' if request.args.get('view') == 'all' else 'approved'
    rows, total = service_objects.library(current_user, view, request.args.get('q'), page_arg())
    return render_template('inbox/library.html', rows=rows, total=total, view=view, q=request.args.get('q', ''),
                           page=page_arg())


@bp.get('/cases/<int:instance_id>')
def case(instance_id):
    return render_template('inbox/case.html', **tasks.case_view(current_user, instance_id))


@bp.get('/files/<int:file_id>')
def file(file_id):
    row = files.for_download(current_user, file_id)
    return send_file(BytesIO(row.content), mimetype=row.content_type, download_name=row.original_name)
