"""The bridge between engine runs and our rows: deploy, start, load, save + project, audit."""
import hashlib
import json
import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import undefer
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import Decision, HumanTask, HumanTaskScope, OrgUnit, WorkflowInstance, WorkflowVersion
from app.models.base import utcnow
from app.services import forms, in_chinese, messages, org_cache, use_case_memo
from app.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from app.services.hooks import hooks_for
from app.services.roles import LANE_ROLES
from app.services.step_names import step_name, stored_text
from workflows import DeploymentError, EngineError, InstanceRun, TaskNotReady, compile_diagram
from workflows.projection import project, scope_codes

# versions are immutable and their XML hash names the spec, so the hash is a safe cache key
_spec_cache: dict[str, str] = {}


class EngineFailure(ServiceError):
    status = 500
    code = 'engine_error'


def deploy(process_key: str, xml: bytes, user=None) -> WorkflowVersion:
    """Lint, parse and freeze a diagram as the next version (adds, does not commit)."""
    try:
        compiled = compile_diagram(xml, process_key, roles=LANE_ROLES, forms=forms.form_names())
    except DeploymentError as exc:
        raise ValidationFailed({'bpmn': [f'{p.element_id or "-"}: {p.message}' for p in exc.problems]}) from exc
    last = db.session.scalar(select(func.max(WorkflowVersion.version)).where(
        WorkflowVersion.process_key == process_key)) or 0
    version = WorkflowVersion(process_key=process_key, version=last + 1, name=compiled.name or process_key,
                              bpmn_xml=compiled.bpmn_xml, sha256=compiled.sha256, spec_json=compiled.spec_json,
                              published_by_id=user.id if user else None)
    db.session.add(version)
    db.session.flush()
    return version


def latest_version(process_key: str) -> WorkflowVersion:
    version = db.session.scalar(select(WorkflowVersion).where(WorkflowVersion.process_key == process_key)
                                .order_by(WorkflowVersion.version.desc()).limit(1))
    if version is None:
        raise NotFound(_l('没有已发布的流程：%(key)s', key=process_key))
    return version


def _spec_json(version: WorkflowVersion) -> str:
    spec = _spec_cache.get(version.sha256)
    if spec is None:
        spec = db.session.scalar(select(WorkflowVersion.spec_json).where(WorkflowVersion.id == version.id))
        _spec_cache[version.sha256] = spec
    return spec


def new_run(instance: WorkflowInstance, data: dict) -> InstanceRun:
    version = instance.version
    return _guard(lambda: InstanceRun.start(_spec_json(version), data, cache_key=version.sha256))


def lock_instance(instance_id: int) -> WorkflowInstance:
    """The instance row, locked for this transaction where the database can."""
    instance = db.session.scalar(select(WorkflowInstance).where(WorkflowInstance.id == instance_id)
                                 .options(undefer(WorkflowInstance.state_json))  # the step needs it: same round trip
                                 .with_for_update(of=WorkflowInstance).execution_options(populate_existing=True))
    if instance is None:
        raise NotFound()
    return instance


def load_run(instance: WorkflowInstance) -> InstanceRun:
    version = instance.version
    return _guard(lambda: InstanceRun.load(_spec_json(version), instance.state_json, cache_key=version.sha256))


def run_step(run: InstanceRun, task_guid: str, data: dict) -> None:
    """Complete one READY task in the engine; a task that is no longer READY is a conflict."""
    try:
        run.complete(task_guid, data)
    except TaskNotReady as exc:
        raise Conflict() from exc
    except EngineError as exc:
        current_app.logger.exception('engine step failed')
        raise EngineFailure(_l('流程执行出错：%(msg)s', msg=str(exc))) from exc


def _guard(fn):
    try:
        return fn()
    except EngineError as exc:
        current_app.logger.exception('engine failed')
        raise EngineFailure(_l('流程执行出错：%(msg)s', msg=str(exc))) from exc


def scope_units(ready) -> list[OrgUnit]:
    """The org units a READY task's scope variable names; the root (city) when it names none."""
    return org_cache.by_codes(scope_codes(ready)) or [org_cache.root()]


# a masked ID number in a title (4401**********2499, validators.mask_id): the inbox search keeps its last 4 only
_MASKED_ID = re.compile(r'[0-9]{4}\*{10}([0-9X]{4})', re.IGNORECASE)
ID_FIELDS = ('id_number', 'relative_id_number')  # the ID numbers a case is about: an elder's, a relative's


def searchable(text: str) -> str:
    """Text as the inbox search sees it: a masked ID number stands as its last 4 characters, so a search for its
    first digits (4401, every Guangzhou number) or for its stars does not match every case."""
    return _MASKED_ID.sub(r'\1', text or '')


def id_search_key(id_number) -> str | None:
    """What a task row keeps to be found by a full ID number: a hash of the normalised number, never the number."""
    number = str(id_number or '').strip().upper()
    return hashlib.sha256(f'cn-id:{number}'.encode()).hexdigest() if number else None


def task_search(instance: WorkflowInstance, subject: str | None, data: dict) -> dict:
    """A new task row's search columns: its case title and subject (`search_text`) and the full ID number of the
    person the case is about, from the task's data (`id_key`)."""
    number = next((data[k] for k in ID_FIELDS if isinstance(data.get(k), str) and data[k].strip()), None)
    return {'search_text': searchable(' '.join(filter(None, (instance.title, subject))))[:400],
            'id_key': id_search_key(number)}


def save_run(instance: WorkflowInstance, run: InstanceRun, *, fresh: bool = False,
             ready_before: set[str] | None = None, completed: str | None = None,
             notify: bool = True) -> list[HumanTask]:
    """Store engine state and project READY manual tasks into human_task rows; returns new rows.

    `fresh`: the instance was created in this use case, so it has no task rows yet. `ready_before` and
    `completed`: the READY guids before the one step this use case ran, and the guid that step completed;
    when that task was the only open one and it did not come back, the open rows are known (none) without
    asking the database. Otherwise the instance's open rows are read and reconciled with the engine.
    `notify=False` leaves the new-task messages to the caller (who sends its own first).

    Reads happen with autoflush off so the whole projection goes to the database in one flush
    (one UPDATE of the instance, batched INSERTs) instead of a write per intermediate query."""
    now = utcnow()
    ready = project(run)
    ready_guids = {r.guid for r in ready}
    known = fresh or (ready_before is not None and ready_before <= {completed} and completed not in ready_guids)
    with db.session.no_autoflush:
        open_rows = {} if known else _reconcile_rows(instance, ready_guids)
        created = []
        hooks = hooks_for(instance.process_key)
        for r in ready:
            if r.guid in open_rows:
                continue
            subject = hooks.task_subject(instance, r)
            row = HumanTask(task_guid=r.guid, instance_id=instance.id, process_key=instance.process_key,
                            bpmn_id=r.bpmn_id, title=r.name or r.bpmn_id, subject=subject, lane=r.lane,
                            form_key=r.form, due_at=r.due_at, created_at=now,
                            **task_search(instance, subject, r.data),
                            assignee_id=instance.submitter_id if r.lane in (None, 'submitter') else None)
            # a submitter's task has no scope rows; saying so spares a lazy load when it is shown
            row.scopes = [] if row.assignee_id else [
                HumanTaskScope(org_unit=u, path=u.path, lane=r.lane, process_key=instance.process_key,
                               created_at=now) for u in scope_units(r)]
            db.session.add(row)
            created.append(row)
        instance.state_json = run.dump()
        instance.next_timer_at = run.next_timer_at()
        instance.updated_at = now
        instance.stage = '、'.join(r.name or r.bpmn_id for r in ready)[:200]
        if run.is_completed() and instance.status == 'running':
            instance.status = 'completed'
        hooks.on_saved(instance, [r.bpmn_id for r in ready])
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise Conflict() from exc
    if not fresh:
        close_scopes(instance.id)
    if notify:  # a fresh instance has no decision yet
        messages.notify_new_tasks(created, decided=False if fresh else None)
    memo = use_case_memo()
    if memo is not None:
        memo[('open_tasks', instance.id)] = [row for row in open_rows.values() if row.status == 'open'] + created
    return created


def _reconcile_rows(instance: WorkflowInstance, ready_guids: set[str]) -> dict[str, HumanTask]:
    """The instance's open rows that stay open (by guid); cancels open rows the engine no longer has READY and
    renames finished rows whose guid a reset or migration made READY again (kept as history)."""
    cond = (HumanTask.instance_id == instance.id) & (HumanTask.status == 'open')
    rows = db.session.scalars(select(HumanTask).where(cond | HumanTask.task_guid.in_(ready_guids))).all()
    open_rows = {t.task_guid: t for t in rows if t.status == 'open' and t.instance_id == instance.id}
    renamed = False
    for row in rows:
        if row.task_guid in open_rows and row.task_guid in ready_guids:
            continue
        if row.status == 'open':
            row.status = 'cancelled'
        if row.task_guid in ready_guids:  # keep the old row as history under a new guid
            row.task_guid, renamed = f'{row.task_guid}:{row.id}', True
    if renamed:
        db.session.flush()  # renamed guids must reach the database before their successors are inserted
    return {guid: row for guid, row in open_rows.items() if guid in ready_guids}


def mark_new(instance: WorkflowInstance) -> None:
    """Record that the instance was created by the current use case: it has no rows of its own yet."""
    memo = use_case_memo()
    if memo is not None:
        memo[('new_instance', instance.id)] = True


def is_new(instance: WorkflowInstance) -> bool:
    """Was the instance created by the current use case? Then its orders, files and decisions are known to be
    none (those a hook adds in this use case are kept by the hook) and need not be asked for."""
    memo = use_case_memo()
    return bool(memo and memo.get(('new_instance', instance.id)))


def open_rows_saved(instance_id: int) -> list[HumanTask] | None:
    """The open task rows save_run left for this instance in the current use case (None if it did not run)."""
    memo = use_case_memo()
    return memo.get(('open_tasks', instance_id)) if memo is not None else None


def close_scopes(instance_id: int) -> None:
    """Take the instance's tasks that are no longer open out of the inbox index (ix_scope_open); their
    scope rows stay, for jurisdiction over the case's history."""
    closed = select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.status != 'open')
    db.session.execute(update(HumanTaskScope).where(HumanTaskScope.is_open, HumanTaskScope.human_task_id.in_(closed))
                       .values(is_open=False).execution_options(synchronize_session=False))


def record_decision(instance, task: HumanTask, user, membership, decision: str, reason, data: dict) -> Decision:
    """The audit row of one completed task: who, role, unit, decision, reason, data, version."""
    row = Decision(instance_id=instance.id, human_task_id=task.id if task else None,
                   bpmn_id=task.bpmn_id, task_title=task.title, subject=task.subject, lane=task.lane,
                   actor_id=user.id if user else None, role=membership.role if membership else task.lane,
                   org_unit_id=membership.org_unit_id if membership else None, decision=decision,
                   reason=reason, data_json=json.dumps(data, ensure_ascii=False, default=str),
                   version=instance.version.version, at=utcnow())
    db.session.add(row)
    return row


def reset_instance(actor, instance_id: int, bpmn_id: str, reason: str) -> WorkflowInstance:
    """Operator's recovery: make the latest completed `bpmn_id` task READY again (process admins only, audited).

    The case runs again (a finished one too: its outcome is cleared, a V-order's status follows its open step);
    the tasks the reset withdrew are marked so (their pages say by whom and why) and their 新待办 settled; the
    submitter learns where the case went back to and why, and the reopened tasks are announced as usual."""
    from app.services import transaction
    from app.services.process_admin import require_admin
    require_admin(actor)
    reason = (reason or '').strip() if isinstance(reason, str) else ''
    if not reason:
        raise ValidationFailed({'reason': [_l('请填写回退原因')]})
    with transaction():
        instance = lock_instance(instance_id)
        if instance.status == 'cancelled':
            raise Conflict(_l('该案件已撤销或终止，不能回退'), code='cancelled')
        step = reset_step_title(instance.id, bpmn_id)
        hooks = hooks_for(instance.process_key)
        refusal = hooks.reset_refusal(instance, bpmn_id)
        if refusal:
            raise Conflict(refusal, code='reset_refused')
        run = load_run(instance)
        try:
            run.reset_to(bpmn_id)
        except TaskNotReady as exc:
            raise Conflict(_l('无法回退到“%(step)s”：该案件没有已完成的这一步骤，请刷新页面后重新选择', step=step),
                           code='reset_refused') from exc
        except EngineError as exc:
            current_app.logger.exception('reset of instance %s to %s failed', instance.id, bpmn_id)
            raise Conflict(_l('无法回退到“%(step)s”：流程无法从该步骤重新开始（%(msg)s）。案件没有任何改动，请选择其他步骤，'
                              '或联系技术支持', step=step, msg=str(exc)), code='reset_failed') from exc
        now = utcnow()
        was_open = list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                                   HumanTask.status == 'open')))
        instance.status, instance.outcome = 'running', None
        hooks.on_reset(instance, run, step, reason)
        created = save_run(instance, run, notify=False)
        for task in was_open:
            if task.status == 'cancelled':  # withdrawn by this reset: its page names the reset's history row
                task.decision, task.completed_at = 'reset', now
                messages.settle_task_messages(task)
        db.session.add(Decision(instance_id=instance.id, bpmn_id=bpmn_id, task_title=in_chinese(_l('回退到此步骤')),
                                lane=None, actor_id=actor.id, decision='reset', reason=reason,
                                data_json='{}', version=instance.version.version, at=now))
        if instance.submitter_id != actor.id:
            messages.send([instance.submitter_id], kind='decision', body=reason, link=f'/m/cases/{instance.id}',
                          title=lambda: _l('您的提交「%(subject)s」已被管理员退回到“%(step)s”重新办理，原因：%(reason)s',
                                           subject=stored_text(instance.title) or instance.process_key, step=step_name(step),
                                           reason=reason))
        messages.notify_new_tasks(created)
    return instance


def cancel_run(instance: WorkflowInstance, outcome: str) -> list[HumanTask]:
    """End a running case before its chain finished (inside the caller's transaction, the instance row locked): the
    engine cancels every open step, their rows leave every inbox and their unread 新待办 are settled (nobody is told
    again). Returns the task rows it withdrew."""
    waiting = list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                              HumanTask.status == 'open')))
    run = load_run(instance)
    run.cancel()
    save_run(instance, run, notify=False)
    instance.status, instance.outcome = 'cancelled', outcome
    for task in waiting:  # their 新待办 lead to nothing to do now
        messages.settle_task_messages(task)
    return waiting


def reset_step_title(instance_id: int, bpmn_id: str) -> str:
    """The title of a case's step as its task rows name it (the id when it has none)."""
    return db.session.scalar(select(HumanTask.title).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.bpmn_id == bpmn_id)
                             .order_by(HumanTask.id.desc()).limit(1)) or bpmn_id


def ended_by(task: HumanTask) -> dict | None:
    """For a task withdrawn because its case ended early (not by a reset): the history row that ended it (提交人撤回,
    志愿者取消报名, 活动撤销，报名结束): its title, who, when and why."""
    if task.status != 'cancelled' or task.decision == 'reset':
        return None
    row = db.session.scalar(select(Decision).where(Decision.instance_id == task.instance_id,
                                                   Decision.decision.in_(('withdraw', 'auto')),
                                                   Decision.at >= task.created_at)
                            .order_by(Decision.id.desc()).limit(1))
    if row is None:
        return None
    return {'step': row.task_title, 'actor': row.actor.display_name if row.actor else None, 'at': row.at,
            'reason': row.reason}


def withdrawal(task: HumanTask) -> dict | None:
    """For a task an operator's reset withdrew: who reset the case, when, to which step and why."""
    if task.status != 'cancelled' or task.decision != 'reset' or task.completed_at is None:
        return None
    row = db.session.scalar(select(Decision).where(Decision.instance_id == task.instance_id,
                                                   Decision.decision == 'reset', Decision.at >= task.completed_at)
                            .order_by(Decision.id).limit(1))
    if row is None:
        return None
    return {'actor': row.actor.display_name if row.actor else None, 'at': row.at, 'reason': row.reason,
            'step': reset_step_title(task.instance_id, row.bpmn_id)}
