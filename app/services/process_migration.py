"""Moving running instances between published versions of a process, and the admin's instance viewer."""
import json
from collections import Counter

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import Decision, HumanTask, HumanTaskScope, Membership, OrgUnit, User, WorkflowInstance, WorkflowVersion
from app.models.base import utcnow
from app.services import in_chinese, transaction
from app.services.errors import NotFound, ValidationFailed
from app.services.instances import _spec_json, load_run, lock_instance, save_run, scope_units
from app.services.jurisdiction import CANDIDATE_LANES
from app.services.process_admin import ADMIN_ROLE, _audit, _diff_specs, _known_key, _version, require_admin
from app.services.roles import role_label
from app.services.tasks import instance_history
from workflows import EngineError, InstanceRun, scope_codes
from workflows.migration import MigrationUnsafe, diff_versions, migrate_state


def _step_names(spec_json: str) -> dict[str, str]:
    """{bpmn id: how a migration message names that element}: its name in the version the case runs on, with the id
    in brackets only when another element of that version has the same name (两个“退回修改”); the id when unnamed."""
    named = {}
    for ts in _diff_specs(spec_json).values():
        if ts.get('bpmn_id'):
            named[ts['bpmn_id']] = ' '.join((ts.get('bpmn_name') or '').split())
    clashes = {n for n, count in Counter(named.values()).items() if n and count > 1}
    return {i: (str(_l('%(text)s（%(note)s）', text=n, note=i)) if n in clashes else n) if n else i
            for i, n in named.items()}


def _reason(exc: Exception, names: dict[str, str]) -> str:
    if isinstance(exc, MigrationUnsafe):
        if exc.element_ids:
            return str(_l('已经过的步骤在新版本中被修改或删除：%(steps)s',
                          steps=str(_l('、')).join(names.get(i, i) for i in exc.element_ids)))
        if 'completed' in exc.reason:
            return str(_l('实例已结束'))
    return str(_l('无法迁移：%(msg)s', msg=str(exc)))


def migrate(user, key: str, from_version, to_version, dry_run=True) -> dict:
    """Dry run or apply moving running instances of one version to another.

    `movable`: the ids of the instances that can move (dry run) or did move (applied; also given as `moved`), and
    `movable_cases` the same with their titles; `blocked`: those that cannot move, or were left on the old version
    when applied, each with its title and the reason (naming the steps by their names)."""
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
    movable, titles, blocked, names = [], [], [], _step_names(old_spec)
    with transaction():
        for instance_id in ids:
            instance = lock_instance(instance_id) if not dry_run else db.session.get(WorkflowInstance, instance_id)
            if instance.status != 'running' or instance.version_id != old.id:
                continue
            try:
                state = migrate_state(instance.state_json, old_spec, new_spec)
            except EngineError as exc:
                blocked.append({'instance_id': instance.id, 'title': instance.title, 'reason': _reason(exc, names)})
                continue
            movable.append(instance.id)
            titles.append({'instance_id': instance.id, 'title': instance.title})
            if not dry_run:
                _apply(user, instance, old, new, state)
        if not dry_run:
            _audit(user, 'process.migrate', f'{key} v{old.version}->v{new.version}', {
                'from_version': old.version, 'to_version': new.version, 'moved': movable, 'blocked': blocked,
                'diff': diff_versions(old_spec, new_spec)})
        else:
            db.session.rollback()
    result = {'from_version': old.version, 'to_version': new.version, 'dry_run': bool(dry_run),
              'movable': movable, 'movable_cases': titles, 'blocked': blocked}
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
    """A READY task keeps its guid across a migration; refresh its row when its lane, form or title changed, and
    recompute its scope rows from the new version's scope variable and the case data whenever they differ (a
    version that named no scope, or a misspelt one, left the task on the whole city, where no district or street
    reviewer sees it: the corrected version must bring it back to their inboxes)."""
    ready = {r.guid: r for r in run.ready_tasks()}
    rows = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == 'open'))
    for row in rows:
        r = ready.get(row.task_guid)
        if r is None:
            continue
        assignee_id = instance.submitter_id if r.lane in (None, 'submitter') else None
        units = [] if assignee_id else scope_units(r)
        same_task = (row.lane, row.form_key, row.title, row.bpmn_id) == (r.lane, r.form, r.name or r.bpmn_id, r.bpmn_id)
        same_scope = sorted(s.org_unit_id for s in row.scopes) == sorted(u.id for u in units)
        if same_task and same_scope and row.assignee_id == assignee_id:
            continue
        row.lane, row.form_key, row.title, row.bpmn_id = r.lane, r.form, r.name or r.bpmn_id, r.bpmn_id
        row.claimed_by_id = row.claimed_at = None
        row.assignee_id = assignee_id
        for scope in list(row.scopes):
            db.session.delete(scope)
        db.session.flush()
        for unit in units:
            db.session.add(HumanTaskScope(human_task_id=row.id, org_unit_id=unit.id, path=unit.path,
                                          lane=row.lane, process_key=row.process_key, created_at=row.created_at))
        db.session.expire(row, ['scopes'])


def instance_view(user, instance_id: int) -> dict:
    """An instance with its version's diagram, completed and current steps, who can act on each open task, and its
    history."""
    require_admin(user)
    instance = db.session.get(WorkflowInstance, instance_id)
    if instance is None:
        raise NotFound()
    run = load_run(instance)
    open_rows = list(db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == 'open').order_by(HumanTask.id)))
    ready = {r.guid: r for r in run.ready_tasks()} if instance.status == 'running' else {}
    current = [t.bpmn_id for t in open_rows]
    latest = _version(instance.process_key)
    return {'newer_version': latest.version if latest and latest.version > instance.version.version else None,
            'instance': instance, 'version': instance.version, 'xml': instance.version.bpmn_xml.decode('utf-8'),
            'completed': sorted(set(run.completed_bpmn_ids()) - set(current)), 'current': current,
            'open_tasks': [_open_task(instance, t, ready.get(t.task_guid)) for t in open_rows],
            'history': instance_history(instance.id)}


# how many of the accounts that can act on a task the case page names
HOLDERS_SHOWN = 5
# a street's 社工站 has the code '<street code>_station' (accounts._check_parent, service_objects.station_code)
STATION_SUFFIX = '_station'


def _open_task(instance: WorkflowInstance, task: HumanTask, ready) -> dict:
    """An open task as the case page shows it: its step, the role of its lane, the org units of its scope, the
    accounts that can act on it, and `warning` when nobody can (nobody sees it in an inbox)."""
    item = {'bpmn_id': task.bpmn_id, 'title': task.title, 'subject': task.subject, 'lane': role_label(task.lane),
            'lane_key': task.lane,
            'claimed_by': task.claimed_by.display_name if task.claimed_by else None, 'assignee': None,
            'scopes': [], 'no_scope_variable': False, 'holders': [], 'holder_count': 0, 'warning': None,
            'warning_kind': None}
    if task.assignee_id is not None:  # the submitter's own form: theirs alone, no scope
        assignee = db.session.get(User, task.assignee_id)
        item['assignee'] = assignee.display_name if assignee else None
        return item
    paths = sorted({s.path for s in task.scopes})
    item['scopes'] = sorted({s.org_unit.name for s in task.scopes})
    # a step whose scope variable is missing, misspelt or empty in the case data falls back to the whole city
    item['no_scope_variable'] = ready is not None and not scope_codes(ready)
    if paths:
        # a candidate task (an order to accept) is never offered to the case's own submitter
        item['holders'], item['holder_count'] = _holders(
            task.lane, paths, instance.submitter_id if task.lane in CANDIDATE_LANES else None)
    fallen = _fallen_to_city(ready, paths) if not item['holder_count'] else None
    if not paths or (item['no_scope_variable'] and not item['holder_count']):
        item['warning'], item['warning_kind'] = str(_l('无人可办理：此步骤没有管辖范围，任何审核人都看不到它')), 'no_scope'
    elif fallen:
        # the case names its unit (a street's 社工站), which did not exist when the task was made: the task fell to
        # the whole city, where no holder of a role below the city sees it
        item.update(fallen)
        item['warning_kind'] = 'missing_unit'
        item['warning'] = str(_l('无人可办理：此步骤应由“%(units)s”办理，但分派任务时该单位不存在，任务落到了全市一级，'
                                 '任何审核人都看不到它', units=str(_l('、')).join(u['label'] for u in fallen['units'])))
    elif not item['holder_count']:
        item['warning'] = str(_l('无人可办理：管辖范围内没有“%(role)s”的账号，任何审核人都看不到它',
                                 role=role_label(task.lane)))
        item['warning_kind'] = 'no_holder'
    return item


def _fallen_to_city(ready, paths: list[str]) -> dict | None:
    """For a task scoped to the city only because the units its scope variable names did not exist when it was made
    (a street set up without its 社工站): {'units': each named unit with whether it exists now and, for a missing
    station, the street it belongs under}; None for any other task."""
    codes = scope_codes(ready) if ready is not None else []
    root = db.session.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id).limit(1))
    if not codes or root is None or paths != [root.path] or root.code in codes:
        return None
    existing = {u.code: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes)))}
    units = []
    for code in dict.fromkeys(codes):
        unit = existing.get(code)
        street = None
        if unit is None and code.endswith(STATION_SUFFIX):
            street = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code[:-len(STATION_SUFFIX)],
                                                             OrgUnit.kind == 'street'))
        units.append({'code': code, 'exists': unit is not None,
                      'label': str(_l('%(text)s（%(note)s）', text=unit.name, note=code)) if unit else code,
                      'street_code': street.code if street else None, 'street_name': street.name if street else None})
    return {'units': units, 'missing': [u for u in units if not u['exists']],
            'cache_seconds': current_app.config.get('ORG_CACHE_SECONDS', 60)}


def _ancestors(path: str) -> set[str]:
    """'/gz/liwan/xicun/' -> {'/gz/', '/gz/liwan/', '/gz/liwan/xicun/'}: the units whose members' jurisdiction
    covers a unit are the unit and the units above it (`jurisdiction.path_range`)."""
    parts = [p for p in path.split('/') if p]
    return {'/' + '/'.join(parts[:i]) + '/' for i in range(1, len(parts) + 1)}


def _holders(lane: str | None, paths: list[str], not_user: int | None = None) -> tuple[list[str], int]:
    """(the first HOLDERS_SHOWN active accounts holding the lane's role over one of the scope units, as '名称（单位）'
    in tree order; how many there are in all)."""
    covering = set().union(*(_ancestors(p) for p in paths))
    cond = (Membership.role == lane, User.active.is_(True), OrgUnit.path.in_(covering), User.id != (not_user or 0))
    base = select(User.id).join(Membership, Membership.user_id == User.id).join(
        OrgUnit, OrgUnit.id == Membership.org_unit_id).where(*cond)
    count = db.session.scalar(select(func.count()).select_from(base.distinct().subquery()))
    rows = db.session.execute(
        select(User.id, User.display_name, User.username, OrgUnit.name).join(Membership, Membership.user_id == User.id)
        .join(OrgUnit, OrgUnit.id == Membership.org_unit_id).where(*cond)
        .order_by(OrgUnit.path, User.username).limit(HOLDERS_SHOWN * 2)).all()
    seen, out = set(), []
    for user_id, name, username, unit in rows:
        if user_id not in seen and len(out) < HOLDERS_SHOWN:
            seen.add(user_id)
            # a unit's own account is named after the unit: then its username tells it apart
            out.append(str(_l('%(text)s（%(note)s）', text=name or username, note=unit if unit != name else username)))
    return out, count
