"""Setting up a site from the command line (flask create-unit / create-user / set-password): the organisation tree,
the accounts of administrators and reviewers, and a password reset by an administrator. Each use case is one
transaction with its audit row (actor: none, via the command line).

What a unit needs comes from how the code reads the tree: a unit's path is its parent's path plus its code; a
station sits under its street with the code `<street>_station` (service objects and V-orders find a street's station
by that code); roles whose tasks are scoped to the city (广志协, 退役军人事务局, 流程管理员) hold it on the city unit,
anywhere lower they would see nothing."""
import json
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AuditLog, Membership, OrgUnit, User
from app.models.base import utcnow
from app.services import transaction
from app.services.auth import end_other_sign_ins_and_tokens, hash_password
from app.services.errors import ValidationFailed
from app.services.volunteers import PASSWORD_MIN, street_of

# kind -> the kinds its parent may have (None: the root, no parent)
PARENT_KINDS = {
    'city': None,
    'district': ('city',),
    'street': ('district',),
    'station': ('street',),
    'team': ('street', 'team'),
    'provider': ('district', 'street'),
    'association': ('city',),
    'bureau': ('city',),
}
KINDS = tuple(PARENT_KINDS)
# role -> the unit kinds a membership of it may be on (SPEC §1: what each role is bound to)
ROLE_KINDS = {
    'volunteer': ('street', 'team', 'provider'),
    'team_admin': ('team',),
    'station_admin': ('station',),
    'street_admin': ('street',),
    'district_admin': ('district',),
    'association_admin': ('city',),
    'provider_admin': ('provider',),
    'veterans_admin': ('city',),
    'process_admin': ('city',),
}
GRANTABLE_ROLES = tuple(ROLE_KINDS)
_CODE = re.compile(r'[A-Za-z0-9][A-Za-z0-9_-]{0,63}')
PASSWORD_MAX = 128


def _refuse(field: str, message) -> None:
    raise ValidationFailed({field: [message]})


def _audit(action: str, target: str, detail: dict) -> None:
    db.session.add(AuditLog(actor_id=None, action=action, target=target,
                            detail_json=json.dumps({**detail, 'via': 'cli'}, ensure_ascii=False), at=utcnow()))


def _unit(code) -> OrgUnit | None:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == str(code or '').strip()))


def _check_password(password: str) -> None:
    if len((password or '').strip()) < PASSWORD_MIN:  # eight spaces are no password
        _refuse('password', _l('密码至少 %(n)s 位', n=PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        _refuse('password', _l('密码不能超过 %(n)s 位', n=PASSWORD_MAX))


def _check_parent(code: str, kind: str, parent: OrgUnit | None) -> None:
    allowed = PARENT_KINDS[kind]
    if allowed is None:
        if parent is not None:
            _refuse('parent', _l('市级单位是组织树的根，不能有上级单位'))
        if db.session.scalar(select(OrgUnit.code).where(OrgUnit.parent_id.is_(None)).limit(1)):
            _refuse('kind', _l('已有市级根单位，不能再建一个'))
        return
    if parent is None:
        _refuse('parent', _l('请用 --parent 给出上级单位的代码'))
    if parent.kind not in allowed:
        _refuse('parent', _l('%(kind)s 的上级单位须是 %(allowed)s，%(parent)s 是 %(found)s', kind=kind,
                             allowed=' / '.join(allowed), parent=parent.code, found=parent.kind))
    if kind == 'station':
        if code != f'{parent.code}_station':
            _refuse('code', _l('社工站的代码须为“所属街道代码_station”，即 %(code)s', code=f'{parent.code}_station'))


def create_unit(code: str, name: str, kind: str, parent_code: str | None = None, is_veterans: bool = False) -> OrgUnit:
    """A new org unit under `parent_code`; ValidationFailed names the first problem and nothing is written."""
    code, name, kind = (code or '').strip(), (name or '').strip(), (kind or '').strip()
    if not _CODE.fullmatch(code):
        _refuse('code', _l('单位代码须为 1-64 位字母、数字、下划线或连字符，且以字母或数字开头'))
    if not name or len(name) > 120:
        _refuse('name', _l('单位名称不能为空，且不超过 120 字'))
    if kind not in PARENT_KINDS:
        _refuse('kind', _l('没有这种单位类型：%(kind)s', kind=kind))
    if is_veterans and kind != 'team':
        _refuse('veterans', _l('只有志愿服务队可以标为退役军人服务队'))
    try:
        with transaction():
            if _unit(code) is not None:
                _refuse('code', _l('单位代码 %(code)s 已被使用', code=code))
            parent = None
            if parent_code:
                parent = _unit(parent_code)
                if parent is None:
                    _refuse('parent', _l('没有代码为 %(code)s 的单位', code=parent_code))
            _check_parent(code, kind, parent)
            unit = OrgUnit(code=code, name=name, kind=kind, parent=parent, is_veterans=is_veterans,
                           path=(parent.path if parent else '/') + code + '/')
            db.session.add(unit)
            _audit('org_unit.create', f'org_unit:{code}', {'code': code, 'name': name, 'kind': kind,
                                                            'parent': parent.code if parent else None,
                                                            'is_veterans': is_veterans})
    except IntegrityError:
        _refuse('code', _l('单位代码 %(code)s 已被使用', code=code))
    return unit


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == (username or '').strip()))


def create_user(username: str, display_name: str | None, role: str, unit_code: str,
                password: str | None = None) -> tuple[User, str]:
    """A new account with one membership, or one more membership for an existing account (its name and password
    stay). Returns (user, outcome): 'created', 'joined' or 'already' (it had this membership)."""
    username, display_name = (username or '').strip(), (display_name or '').strip()
    if role not in ROLE_KINDS:
        _refuse('role', _l('没有这种角色：%(role)s', role=role))
    try:
        with transaction():
            unit = _unit(unit_code)
            if unit is None:
                _refuse('unit', _l('没有代码为 %(code)s 的单位', code=unit_code))
            if unit.kind not in ROLE_KINDS[role]:
                _refuse('unit', _l('角色 %(role)s 须在 %(kinds)s 类单位上，%(unit)s 是 %(kind)s', role=role,
                                   kinds=' / '.join(ROLE_KINDS[role]), unit=unit.code, kind=unit.kind))
            user = find_user(username)
            if user is not None:
                outcome = _join(user, role, unit)
            else:
                user, outcome = _create(username, display_name, role, unit, password), 'created'
    except IntegrityError:
        _refuse('username', _l('用户名 %(name)s 已被使用', name=username))
    return user, outcome


def _join(user: User, role: str, unit: OrgUnit) -> str:
    if any(m.role == role and m.org_unit_id == unit.id for m in user.memberships):
        return 'already'
    user.memberships.append(Membership(role=role, org_unit_id=unit.id))
    db.session.flush()
    _audit('user.membership_add', f'user:{user.username}', {'username': user.username, 'role': role,
                                                            'unit': unit.code})
    return 'joined'


def _create(username: str, display_name: str, role: str, unit: OrgUnit, password: str | None) -> User:
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        _refuse('username', _l('用户名不能为空、不能含空格，且不超过 64 位'))
    if not display_name or len(display_name) > 64:
        _refuse('name', _l('新用户须用 --name 给出显示名称（不超过 64 字）'))
    _check_password(password or '')
    home = street_of(unit) if role == 'volunteer' else None
    user = User(username=username, display_name=display_name, password_hash=hash_password(password),
                home_unit_id=home.id if home is not None and home.kind == 'street' else None,
                memberships=[Membership(role=role, org_unit_id=unit.id)])
    db.session.add(user)
    db.session.flush()
    _audit('user.create', f'user:{username}', {'username': username, 'display_name': display_name, 'role': role,
                                               'unit': unit.code})
    return user


def set_password(username: str, password: str, must_change: bool = False) -> User:
    """An administrator's password reset: every browser sign-in and API token of the account ends; with
    `must_change` the owner replaces the password at the next sign-in (the /password page)."""
    _check_password(password or '')
    with transaction():
        user = find_user(username)
        if user is None:
            _refuse('username', _l('没有用户名为 %(name)s 的用户', name=username))
        user.password_hash = hash_password(password)
        user.must_change_password = bool(must_change)
        end_other_sign_ins_and_tokens(user)
        _audit('user.set_password', f'user:{user.username}', {'username': user.username,
                                                              'must_change': bool(must_change)})
    return user
