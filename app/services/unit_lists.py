"""广志协's whitelist (白名单) and blacklist (黑名单) of teams and stations.

A case is marked 黑名单 in a reviewer's list when the team or station it was submitted *as* (its publisher) is
blacklisted: a volunteer's own submission has no publisher, whatever teams the volunteer belongs to."""
import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import AuditLog, Decision, OrgUnit, UnitListEntry, User
from app.services import forms, transaction
from app.services.errors import Forbidden, NotFound, ValidationFailed
from app.services.validators import REASON_MAX, reason_too_long

KINDS = {'white': _l('白名单'), 'black': _l('黑名单')}
CHANGE_LABELS = {'sensitive_word.add': _l('添加敏感词'), 'sensitive_word.remove': _l('删除敏感词'),
                 'unit_list.white.add': _l('加入白名单'), 'unit_list.white.remove': _l('移出白名单'),
                 'unit_list.black.add': _l('加入黑名单'), 'unit_list.black.remove': _l('移出黑名单')}
LISTABLE = ('team', 'station')
# the roles in which a submission is made on behalf of a team or a station (a volunteer submits for themselves)
UNIT_ROLES = ('team_admin', 'station_admin')
MAX_REASON = REASON_MAX  # as every reason box: a longer one is refused with its count, never cut


def require_page(user) -> None:
    """The 名单与敏感词 page is 广志协's: say what the page is to anyone else."""
    if not any(m.role == 'association_admin' for m in user.memberships):
        raise Forbidden(_l('“名单与敏感词”页面只对广志协管理员开放：这里维护活动发布单位的白名单、黑名单和敏感词。'))


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


def candidates(white: list[UnitListEntry], black: list[UnitListEntry]) -> dict[str, list[dict]]:
    """{list: [{'code', 'name', 'on_white'}]}: the teams and stations each add-dropdown offers, given both lists.
    The whitelist offers neither whitelisted nor blacklisted units (a blacklisted one is refused); the blacklist
    offers every unit not on it yet, a whitelisted one noted (blacklisting moves it)."""
    on_white = {e.org_unit_id for e in white}
    on_black = {e.org_unit_id for e in black}
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(LISTABLE)).order_by(OrgUnit.path))
    found: dict[str, list[dict]] = {'white': [], 'black': []}
    for u in units:
        item = {'code': u.code, 'name': u.name, 'on_white': u.id in on_white}
        if u.id not in on_white and u.id not in on_black:
            found['white'].append(item)
        if u.id not in on_black:
            found['black'].append(item)
    return found


def unit_named(user, kind: str, code) -> OrgUnit:
    """The unit a confirmation page asks about: it must be on that list now."""
    require_page(user)
    kind = _kind(kind)
    unit = _unit(code)
    if not flags(unit.id)[kind]:
        raise NotFound(_l('%(name)s 不在%(list)s中', name=unit.name, list=KINDS[kind]))
    return unit


def _unit(code) -> OrgUnit:
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == str(code or '').strip())) if code else None
    if unit is None or unit.kind not in LISTABLE:
        raise ValidationFailed({'org_unit': [_l('请选择一个志愿服务团队或社工站')]})
    return unit


def _audit(user, action, unit, kind, reason=None) -> None:
    detail = {'list': kind, 'org_unit': unit.code, 'name': unit.name}
    if reason:
        detail['reason'] = reason
    db.session.add(AuditLog(actor_id=user.id, action=action, target=unit.code,
                            detail_json=json.dumps(detail, ensure_ascii=False)))


def _reason(value, *, required: bool) -> str | None:
    reason = ' '.join(value.split()) if isinstance(value, str) else ''
    if required and not reason:
        raise ValidationFailed({'reason': [_l('请填写加入黑名单的原因')]})
    too_long = reason_too_long(reason, MAX_REASON)
    if too_long:
        raise ValidationFailed({'reason': [too_long]})
    return reason or None


def _unit_and_reason(code, reason, *, required: bool) -> tuple[OrgUnit, str | None]:
    """The unit and the cleaned reason, or ValidationFailed naming every field's problem at once."""
    errors, unit = {}, None
    try:
        unit = _unit(code)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        reason = _reason(reason, required=required)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return unit, reason


def place(user, kind: str, code, reason=None) -> tuple[UnitListEntry, bool]:
    """(entry, moved): put a unit on a list (the page and the JSON API alike), never on both at once. A blacklisted
    unit cannot be whitelisted (it must be taken off the blacklist first); blacklisting a whitelisted unit moves it:
    it leaves the whitelist (moved=True). Blacklisting needs a reason, kept in the audit log (the lists show it);
    without one nothing is stored. Every change is audited."""
    _require_association(user)
    kind = _kind(kind)
    with transaction():
        unit, reason = _unit_and_reason(code, reason, required=kind == 'black')
        on = flags(unit.id)
        if on[kind]:
            raise ValidationFailed({'org_unit': [_l('%(name)s 已在%(list)s中', name=unit.name, list=KINDS[kind])]})
        if kind == 'white' and on['black']:
            raise ValidationFailed({'org_unit': [_l('%(name)s 在黑名单中，不能加入白名单', name=unit.name)]})
        moved = kind == 'black' and on['white']
        if moved:
            db.session.execute(UnitListEntry.__table__.delete().where(UnitListEntry.kind == 'white',
                                                                      UnitListEntry.org_unit_id == unit.id))
            _audit(user, 'unit_list.white.remove', unit, 'white', reason)
        row = UnitListEntry(kind=kind, org_unit_id=unit.id, created_by_id=user.id)
        db.session.add(row)
        _audit(user, f'unit_list.{kind}.add', unit, kind, reason)
        db.session.flush()
    return row, moved


def remove(user, kind: str, code, reason=None) -> None:
    """Take a unit off a list (the page asks for confirmation first); an optional reason goes into the audit log."""
    _require_association(user)
    kind = _kind(kind)
    with transaction():
        unit = _unit(code)
        reason = _reason(reason, required=False)
        row = db.session.scalar(select(UnitListEntry).where(UnitListEntry.kind == kind,
                                                            UnitListEntry.org_unit_id == unit.id))
        if row is None:
            raise NotFound(_l('%(name)s 不在%(list)s中', name=unit.name, list=KINDS[kind]))
        _audit(user, f'unit_list.{kind}.remove', unit, kind, reason)
        db.session.delete(row)


def reasons(user, rows: list[UnitListEntry]) -> dict[str, str]:
    """{unit code: reason} of the listed units: the reason given when each was last put on its list (one query)."""
    _require_association(user)
    action_of = {e.org_unit.code: f'unit_list.{e.kind}.add' for e in rows}
    if not action_of:
        return {}
    found: dict[str, str] = {}
    logs = db.session.execute(select(AuditLog.action, AuditLog.target, AuditLog.detail_json)
                              .where(AuditLog.action.in_(set(action_of.values())), AuditLog.target.in_(list(action_of)))
                              .order_by(AuditLog.id))
    for action, target, detail in logs:
        if action_of.get(target) == action:  # the newest row wins: the reason of the unit's current listing
            found[target] = json.loads(detail or '{}').get('reason')
    return {code: reason for code, reason in found.items() if reason}


def flags(org_unit_id) -> dict:
    """{'white': bool, 'black': bool} for one unit, read now."""
    kinds = set(db.session.scalars(select(UnitListEntry.kind).where(UnitListEntry.org_unit_id == org_unit_id)))
    return {'white': 'white' in kinds, 'black': 'black' in kinds}


def case_publishers(instance_ids) -> dict[int, dict]:
    """{instance id: {'id', 'code', 'name', 'black'}}: the team or station each case was submitted as, and whether
    that unit is on the blacklist now; one query. The publisher is the unit of the case's first decision (its
    submission: an activity's team, the station that published an order or entered a service object) when it was
    made in a team or station admin role; a volunteer's own submission (a gift request, an entry they typed, an
    order for themselves) has none, whatever teams the volunteer belongs to."""
    ids = [i for i in set(instance_ids or []) if i is not None]
    if not ids:
        return {}
    first = (select(func.min(Decision.id)).where(Decision.instance_id.in_(ids))
             .group_by(Decision.instance_id).scalar_subquery())
    black = (UnitListEntry.org_unit_id == OrgUnit.id) & (UnitListEntry.kind == 'black')
    rows = db.session.execute(
        select(Decision.instance_id, OrgUnit.id, OrgUnit.code, OrgUnit.name, UnitListEntry.id)
        .join(OrgUnit, OrgUnit.id == Decision.org_unit_id).outerjoin(UnitListEntry, black)
        .where(Decision.id.in_(first), Decision.decision == 'submit', Decision.role.in_(UNIT_ROLES),
               OrgUnit.kind.in_(LISTABLE)))
    return {inst: {'id': uid, 'code': code, 'name': name, 'black': entry is not None}
            for inst, uid, code, name, entry in rows}


def blacklisted_instance_ids(instance_ids) -> set[int]:
    """Instances whose publisher (see case_publishers) is blacklisted now; one query."""
    return {inst for inst, p in case_publishers(instance_ids).items() if p['black']}


def review_publishers(user, rows, *, mark: bool) -> dict[int, dict]:
    """For one page of a reviewer's task list: {instance id: {'name', 'black', ...}} of its review tasks whose case a
    team or station submitted (one query; none when the page has no review task). The viewer's own unit is left
    out: a station is not told about itself. `black` (bold red + 黑名单) only where `mark`: the open tasks still to
    decide; a decided row keeps no mark, since the list as it is now would rewrite what was true at the decision
    (the activity review's own record keeps the list status the reviewer saw)."""
    ids = [t.instance_id for t in rows if forms.is_review_form(t.form_key)]
    if not ids:
        return {}
    own = {m.org_unit_id for m in user.memberships}
    return {inst: {**p, 'black': mark and p['black']} for inst, p in case_publishers(ids).items() if p['id'] not in own}


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
                      'reason': detail.get('reason'),
                      'actor': actor.display_name if actor else None, 'actor_username': actor.username if actor else None})
    return items, total
