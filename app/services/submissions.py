"""Browser form submissions that carry their files in the same request, and the submitter's own cases (我的提交,
撤回)."""
import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Decision, WorkflowInstance, WorkflowVersion
from app.models.base import utcnow
from app.services import files, forms, row_id, tasks, transaction
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.hooks import ProcessHooks, hooks_for
from app.services.instances import cancel_run, lock_instance
from app.services.status import status_label
from app.services.step_names import step_name
from app.services.validators import clean_text, reason_too_long

# 我的提交's 类型 filter: a volunteer's words for the kinds of case they submit (other processes: their own names)
KIND_LABELS = {'service_object_entry': _l('服务对象'), 'v_order': _l('V订单'), 'relative_gift': _l('赠予兑换'),
               'activity_signup': _l('活动报名'), 'activity_publish': _l('活动发布')}


def _file_field(form: dict) -> str | None:
    return next((n for n, p in form['properties'].items() if 'x-file' in p), None)


def _check_files(form: dict, field: str, kept: list, new: list) -> tuple[list, int | None, list]:
    """(messages, status, the new files that are proven images) of the picked files: the count first, then each
    file's size and type (413 when one is too large)."""
    limit = form['properties'][field]['x-file'].get('maxItems', 9)
    total = len(kept) + len(new)
    problems, status, good = [], None, []
    if total > limit:
        problems.append(_l('最多上传 %(n)s 个文件，您选择了 %(total)s 个', n=limit, total=total))
    for name, content in new:
        try:
            files.check_upload(name, content, field)
        except ValidationFailed as exc:
            problems += exc.errors[field]
            status = 413 if 413 in (status, exc.status) else exc.status
        else:
            good.append((name, content))
    return problems, status, good


class _Rehearsed(Exception):
    """Raised after a rehearsal's action went through, so that its transaction is rolled back."""


def _other_errors(user, field: str, data: dict, ids: list, good: list, action) -> dict:
    """The field messages `action` gives for the rest of the form, found by running it with the good files in a
    transaction that is always rolled back (no case, no attached file, no message: after-commit work is dropped).
    Must run as its own use case, outside any surrounding transaction."""
    try:
        with transaction():
            new_ids = [files.add_upload(user, n, c, field).id for n, c in good]
            action({**data, field: ids + new_ids})
            raise _Rehearsed()
    except _Rehearsed:
        return {}
    except ValidationFailed as exc:
        return exc.errors


def _refuse_files(user, form: dict, field: str, data: dict, kept: list, new_files: list, action) -> ValidationFailed:
    """A file problem: one ValidationFailed with the file messages and every other field's messages; the good new
    files are stored (within the file limit) as kept files for the retry, attached to nothing."""
    problems, status, good = _check_files(form, field, kept, new_files)
    if not problems:
        return None
    good = good[:max(form['properties'][field]['x-file'].get('maxItems', 9) - len(kept), 0)]
    others = _other_errors(user, field, data, kept, good, action)
    found = {**others, field: problems}
    order = [n for n in forms.field_order(form) if n in found] + [n for n in found if n not in forms.field_order(form)]
    exc = ValidationFailed({n: found[n] for n in order}, status=status)
    with transaction():
        exc.kept_files = kept + [files.add_upload(user, n, c, field).id for n, c in good]
    return exc


def _submit(user, form_key: str, data: dict, new_files: list, action) -> object:
    """Store new files and run `action(data)` together. A refused submission stores nothing but the good new
    files, kept for the retry: a form error keeps them all, a file problem keeps those within the file limit
    and still names every other field's problem in the same answer."""
    form = forms.get_form(form_key)
    field = _file_field(form)
    kept = [int(i) for i in data.get(field) or [] if str(i).isdigit()] if field else []
    if field:
        refused = _refuse_files(user, form, field, data, kept, new_files, action)
        if refused is not None:
            raise refused
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


def _kinds(user) -> dict[str, tuple[str, int]]:
    """{process key: (its name in 我的提交's filter, how many cases of it the user submitted)}, in KIND_LABELS order."""
    counts = dict(db.session.execute(select(WorkflowInstance.process_key, func.count())
                                     .where(WorkflowInstance.submitter_id == user.id)
                                     .group_by(WorkflowInstance.process_key)).all())
    names = dict(db.session.execute(select(WorkflowVersion.process_key, WorkflowVersion.name)
                                    .where(WorkflowVersion.process_key.in_(list(counts)))
                                    .order_by(WorkflowVersion.version)).all()) if counts else {}
    order = [k for k in KIND_LABELS if k in counts] + sorted(k for k in counts if k not in KIND_LABELS)
    return {k: (str(KIND_LABELS[k]) if k in KIND_LABELS else step_name(names.get(k) or k), counts[k]) for k in order}


def submitted_times(instance_ids) -> dict[int, tuple]:
    """{case id: (first, latest submission time)} of the cases with a submission form: a case corrected and sent
    again after a rejection was last submitted later than it was first."""
    if not instance_ids:
        return {}
    rows = db.session.execute(select(Decision.instance_id, func.min(Decision.at), func.max(Decision.at))
                              .where(Decision.instance_id.in_(list(instance_ids)), Decision.bpmn_id == 'submit',
                                     Decision.decision == 'submit')
                              .group_by(Decision.instance_id)).all()
    return {i: (first, latest) for i, first, latest in rows}


def my_submissions(user, process: str | None = None, page: int = 1, per_page: int = 20) -> dict:
    """我的提交: the user's cases newest first, all or of one kind (`process`; one they never submitted: all), with
    the kinds they have for the 类型 filter and when each case on the page was first and last submitted."""
    kinds = _kinds(user)
    process = process if process in kinds else None
    rows, total = tasks.my_instances(user, process=process, page=page, per_page=per_page)
    return {'rows': rows, 'total': total, 'kinds': kinds, 'process': process,
            'submitted': submitted_times([r.id for r in rows])}


# ---- 撤回: the submitter ends their own case before it is reviewed --------------------------------------------------

WITHDRAW_REASON_MAX = 200
WITHDRAW_TITLE = '提交人撤回'  # the history row's step (step_names carries its translation)


def withdrawable_kind(instance) -> bool:
    """The process lets its submitter withdraw a case: its hooks undo their own rows (`on_withdraw`)."""
    return type(hooks_for(instance.process_key)).on_withdraw is not ProcessHooks.on_withdraw


def withdraw_refusal(user, instance, open_rows=None) -> str | None:
    """Why `user` may not withdraw the case now (None: they may): only the submitter, only a process that allows it,
    only while it runs and no review decision was recorded on its current submission (a case a review returned to
    the submitter may be withdrawn too)."""
    if instance.submitter_id != user.id or not withdrawable_kind(instance):
        return str(_l('该案件不能撤回'))
    if instance.status != 'running':
        if instance.outcome == 'withdrawn':
            return str(_l('该案件已撤回，无需再次撤回'))
        return str(_l('该案件已结束（%(status)s），不能撤回', status=status_label(instance, [])))
    rows = tasks.open_tasks(instance.id) if open_rows is None else open_rows
    if rows and all(t.assignee_id == user.id for t in rows):  # returned to the submitter: nobody reviews it now
        return None
    history = tasks.instance_history(instance.id)
    last_submit = max((i for i, h in enumerate(history) if h['decision'] == 'submit'), default=-1)
    decided = [h for h in history[last_submit + 1:] if h['decision'] in ('approve', 'reject')]
    if decided:
        unit = decided[-1]['org_unit'] or decided[-1]['actor'] or _l('审核单位')
        return str(_l('%(unit)s已审核（%(step)s），不能撤回；如需更改，请联系%(unit)s', unit=unit,
                      step=step_name(decided[-1]['task'])))
    return None


def withdraw(user, instance_id, reason=None) -> WorkflowInstance:
    """撤回: the submitter ends their own case while no review decision has been recorded on it. The case ends as
    已撤回, its open tasks leave every inbox without a message to the reviewers, the process undoes its own rows
    (`on_withdraw`: a service object's version under review, a gift's held points), and the history and the audit
    log say who withdrew it and why. Another's case: NotFound; one no longer withdrawable: Conflict."""
    message = reason_too_long(reason, WITHDRAW_REASON_MAX, label=_l('撤回原因'))
    if message:  # refused, never cut
        raise ValidationFailed({'reason': [message]})
    reason = clean_text(reason or '', multiline=True) or None
    with transaction():
        # locked as complete_task locks it: a reviewer's decision under way finishes first, or sees it withdrawn
        instance = lock_instance(own_case(user, instance_id).id)
        refusal = withdraw_refusal(user, instance, tasks.open_tasks(instance.id))
        if refusal:
            raise Conflict(refusal, code='not_withdrawable')
        stage = instance.stage
        hooks_for(instance.process_key).on_withdraw(instance, reason)
        cancel_run(instance, 'withdrawn')
        now = utcnow()
        db.session.add(Decision(instance_id=instance.id, bpmn_id='withdraw', task_title=WITHDRAW_TITLE,
                                lane='submitter', actor_id=user.id, decision='withdraw',
                                role=next((m.role for m in user.memberships), None),
                                reason=reason, data_json=json.dumps({'waiting': stage}, ensure_ascii=False),
                                version=instance.version.version, at=now))
        db.session.add(AuditLog(actor_id=user.id, action='instance.withdraw', target=f'instance:{instance.id}',
                                detail_json=json.dumps({'step': stage, 'reason': reason}, ensure_ascii=False), at=now))
    return instance


def own_case(user, instance_id) -> WorkflowInstance:
    """The user's own case (they submitted it); NotFound for anybody else's, even one they review."""
    found = db.session.get(WorkflowInstance, row_id(instance_id)) if row_id(instance_id) else None
    if found is None or found.submitter_id != user.id:
        raise NotFound()
    return found


def withdrawn_row(instance) -> dict | None:
    """The history row of the submitter's 撤回 of a withdrawn case (when, why), for its page."""
    if instance.outcome != 'withdrawn':
        return None
    rows = [h for h in tasks.instance_history(instance.id) if h['decision'] == 'withdraw']
    return rows[-1] if rows else None
