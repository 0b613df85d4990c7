"""A team's volunteers: who manages a team, its roster (团队志愿者), the batch import from an .xlsx (every row or
none), and the first-login password change of the accounts the import creates.

Where an imported volunteer belongs: a `volunteer` membership of the team (the roster) and one of the team's street
(jurisdiction: accept tasks of a street's V-orders are scoped to the street, as for the demo volunteers), and the
street as home unit of a new account."""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import AuditLog, Membership, OrgUnit, User
from app.models.base import utcnow
from app.services import org_cache, paged, transaction
from app.services.auth import end_other_sign_ins_and_tokens, hash_initial_password, hash_password, password_matches
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.jurisdiction import path_range
from app.services.validators import age_on, mask_id, mask_name
from app.services.volunteer_sheet import ImportRefused, SheetRow, check_rows, read_rows

BEIJING = ZoneInfo('Asia/Shanghai')
MANAGER_ROLES = ('team_admin', 'station_admin')
PASSWORD_MIN = 8


def beijing_today():
    return datetime.now(BEIJING).date()


def _areas(user) -> list[str]:
    """Paths under which this user manages teams: a team admin's team (and its sub-teams), a station's street."""
    paths = []
    for m in user.memberships:
        unit = m.org_unit
        if m.role == 'team_admin':
            paths.append(unit.path)
        elif m.role == 'station_admin':
            paths.append(unit.path.rstrip('/').rsplit('/', 1)[0] + '/' if unit.kind == 'station' else unit.path)
    return paths


def may_manage_teams(user) -> bool:
    return any(m.role in MANAGER_ROLES for m in user.memberships)


def manages_teams(user) -> bool:
    """Whether `managed_teams(user)` is not empty, read from the cached organisation tree: no query beyond the
    user's memberships (the menu asks on every page; a station whose street has no team gets no 团队志愿者 link)."""
    if not may_manage_teams(user):
        return False
    areas = _areas(user)
    return any(team.path.startswith(p) for team in org_cache.of_kind('team') for p in areas)


def managed_teams(user) -> list[OrgUnit]:
    """The teams whose volunteers this user manages, in tree order."""
    ranges = [and_(OrgUnit.path >= lo, OrgUnit.path < hi) for lo, hi in sorted({path_range(p) for p in _areas(user)})]
    return list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind == 'team', or_(*ranges) if ranges else false())
                                   .order_by(OrgUnit.path)))


def team_for(user, code: str) -> OrgUnit:
    """The team `code` if this user manages it; NotFound for an unknown code and for a team outside their area."""
    team = db.session.scalar(select(OrgUnit).where(OrgUnit.code == str(code)[:64], OrgUnit.kind == 'team'))
    if team is None or not any(team.path.startswith(p) for p in _areas(user)):
        raise NotFound()
    return team


def street_of(team: OrgUnit) -> OrgUnit:
    """The street (or the nearest unit above the team that is not a team) the team serves."""
    unit = team
    while unit.kind not in ('street', 'district', 'city') and unit.parent is not None:
        unit = unit.parent
    return unit


def roster(user, code: str, q: str | None = None, page: int = 1, per_page: int = 20):
    """(team, memberships of one page with their users, total): the team's volunteers, newest first."""
    team = team_for(user, code)
    stmt = (select(Membership).join(User, Membership.user_id == User.id).options(joinedload(Membership.user))
            .where(Membership.org_unit_id == team.id, Membership.role == 'volunteer'))
    term = (q or '').strip()[:50]
    if term:
        stmt = stmt.where(or_(User.display_name.contains(term, autoescape=True),
                              User.phone.contains(term, autoescape=True), User.id_number == term.upper()))
    rows, total = paged(stmt.order_by(Membership.created_at.desc(), Membership.id.desc()), page, per_page)
    return team, rows, total


def roster_item(member: Membership, today=None) -> dict:
    """What the roster shows of one volunteer (ID number masked)."""
    u = member.user
    age = age_on(u.id_number, today or beijing_today()) if u.id_number else None
    guardian = json.loads(u.guardian_json) if u.guardian_json else None
    return {'username': u.username, 'name': u.display_name, 'id_number': mask_id(u.id_number or ''), 'phone': u.phone,
            'age': age, 'minor': age is not None and age < 18,
            'guardian': {'name': guardian.get('name'), 'relation': guardian.get('relation'),
                         'phone': guardian.get('phone')} if guardian else None,
            'joined_at': member.created_at.isoformat() if member.created_at else None,
            'must_change_password': bool(u.must_change_password)}


def _by(column, values) -> dict[str, list[User]]:
    found: dict[str, list[User]] = {}
    values = sorted(v for v in values if v)
    for i in range(0, len(values), 500):
        for u in db.session.scalars(select(User).options(joinedload(User.memberships))
                                    .where(column.in_(values[i:i + 500]))).unique():
            found.setdefault(getattr(u, column.key), []).append(u)
    return found


def _match(rows: list[SheetRow], team: OrgUnit) -> dict[int, User]:
    """{row number: existing account} for rows that name one; a row's conflicts become its problems."""
    ids = _by(User.id_number, {r.values['id_number'] for r in rows})
    phones = _by(User.phone, {r.values['phone'] for r in rows})
    names = _by(User.username, {r.values['phone'] for r in rows})
    matched: dict[int, User] = {}
    rows_of: dict[int, int] = {}  # account id -> the row that named it first
    for row in rows:
        if row.problems:
            continue
        v = row.values
        by_id = ids.get(v['id_number'], [])
        by_phone = {u.id: u for u in phones.get(v['phone'], []) + names.get(v['phone'], [])}
        if len(by_id) > 1 or len(by_phone) > 1:
            row.fail('id_number' if len(by_id) > 1 else 'phone',
                     _l('该号码对应多个已有账号，无法确定是哪一位；请联系平台管理员处理后再导入'))
            continue
        user_by_id, user_by_phone = (by_id or [None])[0], next(iter(by_phone.values()), None)
        if user_by_id and user_by_phone and user_by_id.id != user_by_phone.id:
            row.fail('phone', _l('身份证号码和手机号码分别属于两个不同的已有账号（%(a)s、%(b)s），请核对后再导入',
                                 a=mask_name(user_by_id.display_name), b=mask_name(user_by_phone.display_name)))
            continue
        user = user_by_id or user_by_phone
        if user is None:
            continue
        if user.display_name != v['name']:
            row.fail('name', _l('与已有账号（%(by)s相同）的姓名“%(name)s”不一致，请核对',
                                by=_l('身份证号码') if user_by_id else _l('手机号码'), name=mask_name(user.display_name)))
        elif user.id_number and user.id_number != v['id_number']:
            row.fail('id_number', _l('该手机号码已属于另一身份证号码的志愿者，请核对'))
        elif not user.active:
            row.fail('phone', _l('该志愿者的账号已停用，不能加入团队'))
        elif user.id in rows_of:
            row.fail('phone', _l('与第 %(n)s 行是同一位已有志愿者', n=rows_of[user.id]))
        else:
            rows_of[user.id] = row.number
            matched[row.number] = user
            row.outcome = 'already' if any(m.role == 'volunteer' and m.org_unit_id == team.id
                                           for m in user.memberships) else 'joined'
    for row in rows:
        if not row.problems and row.number not in matched:
            row.outcome = 'created'
    return matched


def _initial_hash(id_number: str) -> str:
    return hash_initial_password(id_number[-6:])


def _guardian_json(row: SheetRow) -> str | None:
    v = row.values
    if not row.minor:
        return None
    return json.dumps({'name': v['guardian_name'], 'relation': v['guardian_relation'],
                       'id_number': v['guardian_id_number'], 'phone': v['guardian_phone']}, ensure_ascii=False)


def _join(user: User, row: SheetRow, team: OrgUnit, street: OrgUnit) -> None:
    """An existing account joins the team (and the team's street, unless a membership already covers it)."""
    now = utcnow()
    covered = any(m.role == 'volunteer' and street.path.startswith(m.org_unit.path) for m in user.memberships)
    user.memberships.append(Membership(role='volunteer', org_unit_id=team.id, created_at=now))
    if not covered:
        user.memberships.append(Membership(role='volunteer', org_unit_id=street.id, created_at=now))
    user.id_number = user.id_number or row.values['id_number']
    user.home_unit_id = user.home_unit_id or street.id
    if row.minor and not user.guardian_json:
        user.guardian_json = _guardian_json(row)


def _create(row: SheetRow, team: OrgUnit, street: OrgUnit) -> User:
    v, now = row.values, utcnow()
    user = User(username=v['phone'], display_name=v['name'], password_hash=_initial_hash(v['id_number']),
                id_number=v['id_number'], phone=v['phone'], home_unit_id=street.id, guardian_json=_guardian_json(row),
                must_change_password=True, created_at=now,
                memberships=[Membership(role='volunteer', org_unit_id=team.id, created_at=now),
                             Membership(role='volunteer', org_unit_id=street.id, created_at=now)])
    db.session.add(user)
    return user


def import_volunteers(user, code: str, filename: str, content: bytes, dry_run: bool = False) -> dict:
    """Import the file's volunteers into the team in one transaction, or nothing: ImportRefused lists every problem
    of the file or its rows. Returns {created, joined, already, rows, dry_run}."""
    team = team_for(user, code)
    rows = read_rows(filename, content)
    try:
        with transaction():
            check_rows(rows, beijing_today())
            matched = _match(rows, team)
            problems = [p for r in rows for p in r.problems]
            if problems:
                raise ImportRefused(problems, rows)
            counts = {k: sum(r.outcome == k for r in rows) for k in ('created', 'joined', 'already')}
            if dry_run:
                return {**counts, 'rows': rows, 'dry_run': True}
            _apply(user, team, rows, matched, filename, counts)
    except IntegrityError:
        raise Conflict(_l('导入时有人同时新建了相同手机号码的账号，没有导入任何人；请重新上传该文件'), code='conflict') from None
    return {**counts, 'rows': rows, 'dry_run': False}


def _apply(actor, team, rows, matched, filename, counts) -> None:
    street = street_of(team)
    created, joined = [], []
    for row in rows:
        if row.outcome == 'created':
            created.append(_create(row, team, street))
        elif row.outcome == 'joined':
            _join(matched[row.number], row, team, street)
            joined.append(matched[row.number].id)
    db.session.flush()
    db.session.add(AuditLog(actor_id=actor.id, action='team.volunteer_import', target=f'org_unit:{team.code}',
                            detail_json=json.dumps({'team': team.code, 'team_name': team.name, 'file': filename,
                                                    'rows': len(rows), **counts,
                                                    'created_user_ids': [u.id for u in created],
                                                    'joined_user_ids': joined}, ensure_ascii=False),
                            at=utcnow()))


def change_initial_password(user, password: str, confirm: str, same_refusal=None) -> None:
    """The first-login password change: at least 8 characters, typed twice, not the initial password again. Whoever
    signed in with the initial password (it is known to the team admin and from the ID card) is signed out: every
    browser session and API token of the account ends, the caller signs the current browser in again.
    `same_refusal`: the refusal of the same password again where it is not the initial one (a temporary password)."""
    errors: dict = {}
    password, confirm = password or '', confirm or ''
    if len(password) < PASSWORD_MIN:
        errors['password'] = [_l('新密码至少 %(n)s 位', n=PASSWORD_MIN)]
    elif len(password.strip()) < PASSWORD_MIN:
        errors['password'] = [_l('新密码不能只是空格，空格之外至少 %(n)s 位', n=PASSWORD_MIN)]
    elif len(password) > 128:
        errors['password'] = [_l('新密码不能超过 128 位')]
    elif password != confirm:
        errors['confirm'] = [_l('两次输入的新密码不一致，请重新输入')]
    elif _same_password(user, password):
        errors['password'] = [same_refusal or _l('新密码不能与初始密码相同')]
    if errors:
        raise ValidationFailed(errors)
    with transaction():
        user.password_hash = hash_password(password)
        user.must_change_password = False
        end_other_sign_ins_and_tokens(user)


def _same_password(user, password: str) -> bool:
    return password_matches(user, password)
