"""Moving running instances between published versions of a process, and the admin's instance viewer."""
import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Decision, HumanTask, HumanTaskScope, WorkflowInstance, WorkflowVersion
from app.models.base import utcnow
from app.services import in_chinese, transaction
from app.services.errors import NotFound, ValidationFailed
from app.services.instances import _spec_json, load_run, lock_instance, save_run, scope_units
from app.services.process_admin import ADMIN_ROLE, _audit, _known_key, _version, require_admin
from app.services.roles import role_label
from app.services.tasks import instance_history
from workflows import EngineError, InstanceRun
from workflows.migration import MigrationUnsafe, diff_versions, migrate_state


def _reason(exc: Exception) -> str:
    if isinstance(exc, MigrationUnsafe):
        if exc.element_ids:
            return str(_l('已经过的步骤在新版本中被修改或删除：%(ids)s', ids='、'.join(exc.element_ids)))
        if 'completed' in exc.reason:
            return str(_l('实例已结束'))
    return str(_l('无法迁移：%(msg)s', msg=str(exc)))


def migrate(user, key: str, from_version, to_version, dry_run=True) -> dict:
    """Dry run or apply moving running instances of one version to another.

    `movable`: the instances that can move (dry run) or did move (applied; also given as `moved`);
    `blocked`: those that cannot move, or were left on the old version when applied, each with the reason."""
    require_admin(user)
    _known_key(key)
    old, new = _version(key, from_version), _version(key, to_version)
    if old is None or new is None:
        raise NotFound()
    if old.id == new.id:
        raise ValidationFailed({'to_version': [_l('请选择两个不同的版本')]})
    old_spec, new_spec = _spec_json(old), _spec_json(new)
    ids = list(db.session.scalars(select(WorkflowInstance.id).where(
        WorkflowInstance.version_id == old.id, WorkflowInstance.status == 'running').order_by(WorkflowInstance.id)))
    movable, blocked = [], []
    with transaction():
        for instance_id in ids:
            instance = lock_instance(instance_id) if not dry_run else db.session.get(WorkflowInstance, instance_id)
            if instance.status != 'running' or instance.version_id != old.id:
                continue
            try:
                state = migrate_state(instance.state_json, old_spec, new_spec)
            except EngineError as exc:
                blocked.append({'instance_id': instance.id, 'title': instance.title, 'reason': _reason(exc)})
                continue
            movable.append(instance.id)
            if not dry_run:
                _apply(user, instance, old, new, state)
        if not dry_run:
            _audit(user, 'process.migrate', f'{key} v{old.version}->v{new.version}', {
                'from_version': old.version, 'to_version': new.version, 'moved': movable, 'blocked': blocked,
                'diff': diff_versions(old_spec, new_spec)})
        else:
            db.session.rollback()
    result = {'from_version': old.version, 'to_version': new.version, 'dry_run': bool(dry_run),
              'movable': movable, 'blocked': blocked}
    if not dry_run:
        result['moved'] = movable
    return result


def _apply(user, instance: WorkflowInstance, old: WorkflowVersion, new: WorkflowVersion, state: str) -> None:
    instance.version_id, instance.version = new.id, new
    run = InstanceRun.load(_spec_json(new), state, cache_key=new.sha256)
    _reproject_open_rows(instance, run)
    save_run(instance, run)
    db.session.add(Decision(instance_id=instance.id, bpmn_id='-', lane=None, actor_id=user.id, role=ADMIN_ROLE,
                            task_title=in_chinese(_l('流程版本迁移 v%(a)d → v%(b)d', a=old.version, b=new.version)),
                            decision='migrate', reason=in_chinese(_l('管理员迁移到新版本')),
                            data_json=json.dumps({'from_version': old.version, 'to_version': new.version}),
                            version=new.version, at=utcnow()))


def _reproject_open_rows(instance: WorkflowInstance, run: InstanceRun) -> None:
    """A READY task keeps its guid across a migration; refresh its row when its lane, form or title changed."""
    ready = {r.guid: r for r in run.ready_tasks()}
    rows = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == 'open'))
    for row in rows:
        r = ready.get(row.task_guid)
        if r is None or (row.lane, row.form_key, row.title, row.bpmn_id) == (r.lane, r.form, r.name, r.bpmn_id):
            continue
        row.lane, row.form_key, row.title, row.bpmn_id = r.lane, r.form, r.name or r.bpmn_id, r.bpmn_id
        row.claimed_by_id = row.claimed_at = None
        row.assignee_id = instance.submitter_id if r.lane in (None, 'submitter') else None
        for scope in list(row.scopes):
            db.session.delete(scope)
        db.session.flush()
        if row.assignee_id is None:
            for unit in scope_units(r):
                db.session.add(HumanTaskScope(human_task_id=row.id, org_unit_id=unit.id, path=unit.path,
                                              lane=row.lane, created_at=row.created_at))
        db.session.expire(row, ['scopes'])


def instance_view(user, instance_id: int) -> dict:
    """An instance with its version's diagram, completed and current steps, and its history."""
    require_admin(user)
    instance = db.session.get(WorkflowInstance, instance_id)
    if instance is None:
        raise NotFound()
    run = load_run(instance)
    open_rows = list(db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == 'open')))
    current = [t.bpmn_id for t in open_rows]
    return {'instance': instance, 'version': instance.version, 'xml': instance.version.bpmn_xml.decode('utf-8'),
            'completed': sorted(set(run.completed_bpmn_ids()) - set(current)), 'current': current,
            'open_tasks': [{'bpmn_id': t.bpmn_id, 'title': t.title, 'lane': role_label(t.lane),
                            'claimed_by': t.claimed_by.display_name if t.claimed_by else None} for t in open_rows],
            'history': instance_history(instance.id)}
