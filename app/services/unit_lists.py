"""广志协's whitelist (白名单) and blacklist (黑名单) of teams and stations."""
import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import AuditLog, Membership, OrgUnit, UnitListEntry, User, WorkflowInstance
from app.services import transaction
from app.services.errors import Forbidden, NotFound, ValidationFailed

KINDS = {'white': _l('白名单'), 'black': _l('黑名单')}
CHANGE_LABELS = {'sensitive_word.add': _l('添加敏感词'), 'sensitive_word.remove': _l('删除敏感词'),
                 'unit_list.white.add': _l('加入白名单'), 'unit_list.white.remove': _l('移出白名单'),
                 'unit_list.black.add': _l('加入黑名单'), 'unit_list.black.remove': _l('移出黑名单')}
LISTABLE = ('team', 'station')


def _require_association(user) -> None:
    if not any(m.role == 'association_admin' for m in user.memberships):
        raise Forbidden(_l('只有广志协管理员可以维护白名单和黑名单'))


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound()
    return kind


def entries(user, kind: str) -> list[UnitListEntry]:
    """Units on one list, by org-unit path."""
    _require_association(user)
    return list(db.session.scalars(select(UnitListEntry).join(OrgUnit, UnitListEntry.org_unit_id == OrgUnit.id)
                                   .where(UnitListEntry.kind == _kind(kind)).order_by(OrgUnit.path)))


def candidates() -> list[OrgUnit]:
    """Teams and stations that may be put on a list."""
    return list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(LISTABLE)).order_by(OrgUnit.path)))


def _unit(code) -> OrgUnit:
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == str(code or '').strip())) if code else None
    if unit is None or unit.kind not in LISTABLE:
        raise ValidationFailed({'org_unit': [_l('请选择一个志愿服务团队或社工站')]})
    return unit


def _audit(user, action, unit, kind) -> None:
    db.session.add(AuditLog(actor_id=user.id, action=action, target=unit.code,
                            detail_json=json.dumps({'list': kind, 'org_unit': unit.code, 'name': unit.name},
                                                   ensure_ascii=False)))


def add(user, kind: str, code) -> UnitListEntry:
    """Put a unit on a list (see place())."""
    return place(user, kind, code)[0]


def place(user, kind: str, code) -> tuple[UnitListEntry, bool]:
    """(entry, moved): put a unit on a list, never on both at once. A blacklisted unit cannot be whitelisted (it must
    be taken off the blacklist first); blacklisting a whitelisted unit moves it: it leaves the whitelist (moved=True).
    Both changes are audited."""
    _require_association(user)
    kind = _kind(kind)
    with transaction():
        unit = _unit(code)
        on = flags(unit.id)
        if on[kind]:
            raise ValidationFailed({'org_unit': [_l('%(name)s 已在%(list)s中', name=unit.name, list=KINDS[kind])]})
        if kind == 'white' and on['black']:
            raise ValidationFailed({'org_unit': [_l('%(name)s 在黑名单中，不能加入白名单', name=unit.name)]})
        moved = kind == 'black' and on['white']
        if moved:
            db.session.execute(UnitListEntry.__table__.delete().where(UnitListEntry.kind == 'white',
                                                                      UnitListEntry.org_unit_id == unit.id))
            _audit(user, 'unit_list.white.remove', unit, 'white')
        row = UnitListEntry(kind=kind, org_unit_id=unit.id, created_by_id=user.id)
        db.session.add(row)
        _audit(user, f'unit_list.{kind}.add', unit, kind)
        db.session.flush()
    return row, moved


def remove(user, kind: str, code) -> None:
    _require_association(user)
    kind = _kind(kind)
    with transaction():
        unit = _unit(code)
        row = db.session.scalar(select(UnitListEntry).where(UnitListEntry.kind == kind,
                                                            UnitListEntry.org_unit_id == unit.id))
        if row is None:
            raise NotFound(_l('%(name)s 不在%(list)s中', name=unit.name, list=KINDS[kind]))
        _audit(user, f'unit_list.{kind}.remove', unit, kind)
        db.session.delete(row)


def flags(org_unit_id) -> dict:
    """{'white': bool, 'black': bool} for one unit, read now."""
    kinds = set(db.session.scalars(select(UnitListEntry.kind).where(UnitListEntry.org_unit_id == org_unit_id)))
    return {'white': 'white' in kinds, 'black': 'black' in kinds}


def blacklisted_instance_ids(instance_ids) -> set[int]:
    """Instances (of any process) whose submitter belongs to a blacklisted unit; one query."""
    ids = [i for i in set(instance_ids or []) if i is not None]
    if not ids:
        return set()
    return set(db.session.scalars(
        select(WorkflowInstance.id).join(Membership, Membership.user_id == WorkflowInstance.submitter_id)
        .join(UnitListEntry, UnitListEntry.org_unit_id == Membership.org_unit_id)
        .where(WorkflowInstance.id.in_(ids), UnitListEntry.kind == 'black').distinct()))


def changes(user, limit=20) -> tuple[list[dict], int]:
    """(latest audited changes of the word list and the white/black lists, how many there are in all)."""
    _require_association(user)
    cond = or_(AuditLog.action.like('sensitive_word.%'), AuditLog.action.like('unit_list.%'))
    total = db.session.scalar(select(func.count()).select_from(AuditLog).where(cond))
    rows = db.session.execute(select(AuditLog, User).outerjoin(User, User.id == AuditLog.actor_id).where(cond)
                              .order_by(AuditLog.id.desc()).limit(limit)).all()
    items = []
    for log, actor in rows:
        detail = json.loads(log.detail_json or '{}')
        items.append({'at': log.at, 'action': log.action, 'label': str(CHANGE_LABELS.get(log.action, log.action)),
                      'target': detail.get('name') or detail.get('word') or log.target, 'code': detail.get('org_unit'),
                      'actor': actor.display_name if actor else None, 'actor_username': actor.username if actor else None})
    return items, total
