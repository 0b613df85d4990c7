"""Accounts and org units. Set up from the command line (flask create-unit / create-user / set-password) and kept by
process administrators in the browser (用户管理) and over the API: find accounts, create one, add or remove a role,
deactivate and activate, reset a password. Each change is one transaction with its audit row: on the command line
without an actor and with {"via": "cli"}; in the browser (or over the API) with the administrator as the actor and
{"via": "web"} (or "api").

What a unit needs comes from how the code reads the tree: a unit's path is its parent's path plus its code; a
station sits under its street with the code `<street>_station` (service objects and V-orders find a street's station
by that code); roles whose tasks are scoped to the city (广志协, 退役军人事务局, 流程管理员) hold it on the city unit,
anywhere lower they would see nothing."""
import json
import re
import secrets
from collections.abc import Mapping

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import AuditLog, HumanTask, Membership, OrgUnit, User
from app.models.base import utcnow
from app.services import org_cache, paged, row_id, transaction
from app.services.auth import end_all_sign_ins_and_tokens, end_other_sign_ins_and_tokens, hash_password
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.jurisdiction import matching_membership
from app.services.roles import role_label
from app.services.v_orders import beijing
from app.services.validators import clean_text, half_width, is_valid_mobile, normalize_mobile, reason_too_long
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
KIND_LABELS = {'city': _l('市'), 'district': _l('区'), 'street': _l('街道'), 'station': _l('社工站'),
               'team': _l('志愿服务团队'), 'provider': _l('服务商'), 'association': _l('志愿者协会'),
               'bureau': _l('政府部门')}
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
ADMIN_ROLE = 'process_admin'
_CODE = re.compile(r'[A-Za-z0-9][A-Za-z0-9_-]{0,63}')
PASSWORD_MAX = 128
PER_PAGE = 20
SEARCH_MAX = 64
REASON_MAX = 500
STATUSES = {'active': _l('启用'), 'inactive': _l('停用')}
# a temporary password is read out to its owner: no 0/O, 1/l/I, and no x/X (while a password is still to be
# changed, the sign-in also reads a typed x as X)
_TEMP_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWYZabcdefghijkmnpqrstuvwyz23456789'
TEMP_PASSWORD_LENGTH = 10
LAST_ROLE = _l('这是该账号唯一的角色，不能移除：账号至少要有一个角色。如该账号不再使用，请停用账号。')
OWN_ADMIN_ROLE = _l('不能移除自己的流程管理员角色，否则您将无法再管理用户；如确需移除，请由另一位流程管理员操作。')
OWN_ACCOUNT = _l('不能停用自己的账号；如确需停用，请由另一位流程管理员操作。')


def _refuse(field: str, message) -> None:
    raise ValidationFailed({field: [message]})


def _require_admin(user) -> None:
    """403 for anyone but a process administrator (process_admin imports this module: imported when called)."""
    from app.services.process_admin import require_admin
    require_admin(user)


def _audit(action: str, target: str, detail: dict, actor=None, via: str = 'web', at=None) -> None:
    """The audit row of a change: by `actor` in the browser or over the API, or without one on the command line."""
    db.session.add(AuditLog(actor_id=actor.id if actor is not None else None, action=action, target=target,
                            detail_json=json.dumps({**detail, 'via': via if actor is not None else 'cli'},
                                                   ensure_ascii=False), at=at or utcnow()))


def _unit(code) -> OrgUnit | None:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == str(code or '').strip()))


def _password_problem(password: str):
    if len((password or '').strip()) < PASSWORD_MIN:  # eight spaces are no password
        return _l('密码至少 %(n)s 位', n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        return _l('密码不能超过 %(n)s 位', n=PASSWORD_MAX)
    return None


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
    if parent.kind not in allowed:  # (the command line's: with the codes its operator types)
        _refuse('parent', _l('%(kind)s的上级单位须是%(allowed)s，%(parent)s是%(found)s', kind=_kind_label(kind, True),
                             allowed=_either(_kind_label(k, True) for k in allowed),
                             parent=_named(parent.name, parent.code), found=_kind_label(parent.kind, True)))
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


def _named(name, code) -> str:
    """'西村街（xicun）': a name with its code, for the command line's operator, who types codes."""
    return gettext('%(text)s（%(note)s）', text=name, note=code) if name and str(name) != code else code


def _kind_label(kind: str, codes: bool = False) -> str:
    label = str(KIND_LABELS.get(kind, kind))
    return _named(label, kind) if codes else label


def _either(labels) -> str:
    """'街道、志愿服务团队或服务商': the choices of a rule, read as one phrase."""
    labels = list(labels)
    if len(labels) < 2:
        return ''.join(labels)
    return gettext('%(items)s或%(last)s', items=gettext('、').join(labels[:-1]), last=labels[-1])


def wrong_kind(role: str, unit, codes: bool = False) -> str | None:
    """Why `role` cannot sit on `unit` (ROLE_KINDS), or None: one rule and one message for the browser and the API
    (where a page without JavaScript or a script can send any unit), in names only; the command line's (`codes`)
    adds the codes its operator types to each name."""
    if unit.kind in ROLE_KINDS[role]:
        return None
    return str(_l('%(role)s只能设在%(kinds)s类单位上，%(unit)s是%(kind)s',
                  role=_named(role_label(role), role) if codes else role_label(role),
                  kinds=_either(_kind_label(k, codes) for k in ROLE_KINDS[role]),
                  unit=_named(unit.name, unit.code) if codes else unit.name, kind=_kind_label(unit.kind, codes)))


def _role_and_unit(role: str, unit_code: str, errors: dict, codes: bool = False) -> OrgUnit | None:
    """The unit of a new membership; the problems go into errors['role'] and errors['unit'] (`codes`: wrong_kind)."""
    if role not in ROLE_KINDS:
        errors['role'] = [_l('没有这种角色：%(role)s', role=role) if role else _l('请选择角色')]
    if not str(unit_code or '').strip():
        errors['unit'] = [_l('请选择单位')]
        return None
    unit = _unit(unit_code)
    if unit is None:
        errors['unit'] = [_l('没有代码为 %(code)s 的单位', code=unit_code)]
    elif role in ROLE_KINDS and (message := wrong_kind(role, unit, codes)):
        errors['unit'] = [message]
    return unit


def _check_new_account(username: str, display_name: str, password: str, errors: dict, cli: bool) -> None:
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        errors['username'] = [_l('用户名不能为空、不能含空格，且不超过 64 位')]
    if not display_name or len(display_name) > 64:
        errors['display_name'] = [_l('新用户须用 --name 给出显示名称（不超过 64 字）') if cli
                                  else _l('请填写姓名或单位名称（不超过 64 字）')]
    if (problem := _password_problem(password)) is not None:
        errors['password'] = [problem]


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationFailed(errors)


def create_user(username: str, display_name: str | None, role: str, unit_code: str,
                password: str | None = None) -> tuple[User, str]:
    """flask create-user: a new account with one membership, or one more membership for an existing account (its
    name and password stay). Returns (user, outcome): 'created', 'joined' or 'already' (it had this membership)."""
    username, display_name = (username or '').strip(), (display_name or '').strip()
    try:
        with transaction():
            errors: dict = {}
            unit = _role_and_unit(role, unit_code, errors, codes=True)
            user = find_user(username)
            if user is None:
                _check_new_account(username, display_name, password or '', errors, cli=True)
            _raise(errors)
            if user is not None:
                outcome = 'already' if _has(user, role, unit) else _join(user, role, unit)
            else:
                user, outcome = _create(username, display_name, role, unit, password), 'created'
    except IntegrityError:
        _refuse('username', _l('用户名 %(name)s 已被使用', name=username))
    return user, outcome


def create_account(actor, values: Mapping, via: str = 'web') -> tuple[User, str | None]:
    """新建用户 (browser, API): username, display_name, phone (optional), role, unit (code), password (empty: one is
    generated). Every problem at once, by field; an existing username is refused (a role is added on its page).
    The new account chooses its own password at its first sign-in. Returns (user, the generated password or None)."""
    _require_admin(actor)
    username = str(values.get('username') or '').strip()
    display_name = clean_text(str(values.get('display_name') or ''))
    phone = str(values.get('phone') or '').strip()
    role, unit_code = str(values.get('role') or '').strip(), str(values.get('unit') or '').strip()
    typed = str(values.get('password') or '')
    generated = None if typed else temporary_password()
    try:
        with transaction():
            errors: dict = {}
            _check_new_account(username, display_name, typed or generated, errors, cli=False)
            if 'username' not in errors and find_user(username) is not None:
                errors['username'] = [_l('用户名 %(name)s 已被使用', name=username)]
            if phone and not is_valid_mobile(phone):
                errors['phone'] = [_l('请填写正确的 11 位手机号码，或留空')]
            unit = _role_and_unit(role, unit_code, errors)
            _raise(errors)
            user = _create(username, display_name, role, unit, typed or generated, phone=normalize_mobile(phone) or None,
                           actor=actor, via=via, generated=generated is not None)
    except IntegrityError:
        _refuse('username', _l('用户名 %(name)s 已被使用', name=username))
    return user, generated


def _memberships(user: User) -> list[Membership]:
    """The user's memberships as stored now (after the row lock), join order."""
    return list(db.session.scalars(select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)))


def _has(user: User, role: str, unit: OrgUnit) -> bool:
    return any(m.role == role and m.org_unit_id == unit.id for m in _memberships(user))


def _join(user: User, role: str, unit: OrgUnit, actor=None, via: str = 'web') -> str:
    db.session.add(Membership(user_id=user.id, role=role, org_unit_id=unit.id))
    db.session.flush()
    db.session.expire(user, ['memberships'])
    _audit('user.membership_add', f'user:{user.username}', {'username': user.username, 'role': role,
                                                            'unit': unit.code}, actor, via)
    return 'joined'


def _create(username: str, display_name: str, role: str, unit: OrgUnit, password: str, phone: str | None = None,
            actor=None, via: str = 'web', generated: bool = False) -> User:
    """The account and its first membership; made in the browser, it must choose its own password first."""
    home = street_of(unit) if role == 'volunteer' else None
    user = User(username=username, display_name=display_name, password_hash=hash_password(password), phone=phone,
                home_unit_id=home.id if home is not None and home.kind == 'street' else None,
                must_change_password=actor is not None, memberships=[Membership(role=role, org_unit_id=unit.id)])
    db.session.add(user)
    db.session.flush()
    detail = {'username': username, 'display_name': display_name, 'role': role, 'unit': unit.code}
    if actor is not None:
        detail.update(must_change=True, generated=generated)
    _audit('user.create', f'user:{username}', detail, actor, via)
    return user


def temporary_password() -> str:
    return ''.join(secrets.choice(_TEMP_ALPHABET) for _ in range(TEMP_PASSWORD_LENGTH))


def _set_password(user: User, password: str, must_change: bool, actor=None, via: str = 'web',
                  generated: bool = False) -> None:
    user.password_hash = hash_password(password)
    user.must_change_password = bool(must_change)
    end_other_sign_ins_and_tokens(user)
    detail = {'username': user.username, 'must_change': bool(must_change)}
    if generated:
        detail['generated'] = True
    _audit('user.set_password', f'user:{user.username}', detail, actor, via)


def set_password(username: str, password: str, must_change: bool = False) -> User:
    """flask set-password: every browser sign-in and API token of the account ends; with `must_change` the owner
    replaces the password at the next sign-in (the /password page)."""
    if (problem := _password_problem(password or '')) is not None:
        _refuse('password', problem)
    with transaction():
        user = find_user(username)
        if user is None:
            _refuse('username', _l('没有用户名为 %(name)s 的用户', name=username))
        _set_password(user, password, must_change)
    return user


# ---------------------------------------------------------------- 用户管理 (process administrators)

def _account(user_id, lock: bool = False) -> User:
    stmt = select(User).where(User.id == (row_id(user_id) or 0))
    if lock:  # two administrators changing one account (its last two roles) one after the other
        stmt = stmt.with_for_update(of=User).execution_options(populate_existing=True)
    user = db.session.scalar(stmt)
    if user is None:
        raise NotFound()
    return user


def search_users(actor, args: Mapping, page: int = 1) -> tuple[list[User], int]:
    """One page of accounts (20, by username) and how many match: q (username, name, or the last digits of the
    phone number), role, status ('active' / 'inactive'). A bad filter: ValidationFailed by filter."""
    _require_admin(actor)
    errors: dict = {}
    role, status = str(args.get('role') or '').strip(), str(args.get('status') or '').strip()
    if role and role not in ROLE_KINDS:
        errors['role'] = [_l('角色无效，请从列表中选择')]
    if status and status not in STATUSES:
        errors['status'] = [_l('状态无效，请从列表中选择')]
    _raise(errors)
    stmt = select(User)
    term = clean_text(str(args.get('q') or ''))[:SEARCH_MAX]
    if term:
        found = [User.username.contains(term, autoescape=True), User.display_name.contains(term, autoescape=True)]
        digits = half_width(term).replace(' ', '')
        if digits.isascii() and digits.isdigit():
            found.append(User.phone.endswith(digits, autoescape=True))
        stmt = stmt.where(or_(*found))
    if role:
        stmt = stmt.where(exists().where(Membership.user_id == User.id, Membership.role == role))
    if status:
        stmt = stmt.where(User.active == (status == 'active'))
    return paged(stmt.options(selectinload(User.memberships)).order_by(User.username), page, PER_PAGE)


def account_row(user: User) -> dict:
    """An account as the list, its page and the API show it: its roles at their units, by name."""
    return {'id': user.id, 'username': user.username, 'display_name': user.display_name, 'phone': user.phone,
            'active': bool(user.active), 'status': str(STATUSES['active' if user.active else 'inactive']),
            'must_change_password': bool(user.must_change_password),
            'memberships': [{'id': m.id, 'role': m.role, 'role_label': role_label(m.role), 'unit': m.org_unit.code,
                             'unit_name': m.org_unit.name}
                            for m in sorted(user.memberships, key=lambda m: m.id)]}


def _claimed_open(user: User):
    return select(HumanTask).where(HumanTask.claimed_by_id == user.id, HumanTask.status == 'open')


def account_view(actor, user_id) -> dict:
    """An account's page: its roles (each with why it cannot be removed, if so), how many open tasks it holds
    claimed, and who last deactivated or activated it, when and why."""
    _require_admin(actor)
    user = _account(user_id)
    row = account_row(user)
    is_self = user.id == actor.id
    for m, member in zip(row['memberships'], sorted(user.memberships, key=lambda m: m.id), strict=True):
        m['place'] = ' · '.join([str(KIND_LABELS.get(member.org_unit.kind, '')), *org_cache.place_names(m['unit'])])
        m['refusal'] = (gettext('唯一的角色，不能移除') if len(row['memberships']) == 1
                        else gettext('不能移除自己的流程管理员角色') if is_self and m['role'] == ADMIN_ROLE else None)
        m['sole'] = user.active and _sole_reviewer(user, member)
    last = db.session.execute(select(AuditLog, User.display_name).outerjoin(User, User.id == AuditLog.actor_id)
                              .where(AuditLog.target == f'user:{user.username}',
                                     AuditLog.action.in_(('user.deactivate', 'user.activate')))
                              .order_by(AuditLog.id.desc()).limit(1)).first()
    change = None
    if last is not None:
        detail = json.loads(last[0].detail_json or '{}')
        change = {'action': last[0].action, 'at': beijing(last[0].at), 'by': last[1] or gettext('命令行'),
                  'reason': detail.get('reason') if isinstance(detail, dict) else None}
    claimed = db.session.scalar(select(func.count()).select_from(_claimed_open(user).subquery()))
    return {'user': user, 'row': row, 'is_self': is_self, 'claimed': claimed, 'change': change}


def _sole_reviewer(user: User, member: Membership) -> bool:
    """No other active account holds this reviewer role on the unit or above it: nobody else sees its tasks."""
    if member.role in ('volunteer', ADMIN_ROLE):
        return False
    parts = member.org_unit.path.strip('/').split('/')
    above = ['/' + '/'.join(parts[:n]) + '/' for n in range(1, len(parts) + 1)]
    return not db.session.scalar(select(exists().where(
        Membership.role == member.role, Membership.user_id != user.id, Membership.org_unit_id == OrgUnit.id,
        OrgUnit.path.in_(above), User.id == Membership.user_id, User.active.is_(True))))


def picker(actor) -> dict:
    """What the role and unit pickers and the list's filters offer: roles (role, its name, the unit kinds it may sit
    on), units by kind ((kind, its name, [(code, name with where it is)]), tree order) and the statuses."""
    _require_admin(actor)
    units = []
    for kind in KINDS:
        found = [(u.code, _where(u)) for u in org_cache.of_kind(kind)]
        if found:
            units.append((kind, str(KIND_LABELS[kind]), found))
    return {'roles': [(role, role_label(role), ' '.join(kinds)) for role, kinds in ROLE_KINDS.items()],
            'units': units, 'statuses': [(key, str(label)) for key, label in STATUSES.items()]}


def _where(unit) -> str:
    places = org_cache.place_names(unit.code)
    return gettext('%(text)s（%(note)s）', text=unit.name, note=' · '.join(places)) if places else unit.name


def _reason(reason, missing, errors: dict) -> str:
    text = clean_text(reason, multiline=True) if isinstance(reason, str) else ''
    if not text:
        errors['reason'] = [missing]
    elif (message := reason_too_long(text, REASON_MAX)) is not None:
        errors['reason'] = [message]
    return text


def _release_claims(user: User, keep=None) -> list[int]:
    """Un-claim the open tasks the user holds (those `keep(task)` refuses, when given), so that the colleagues who
    share the inbox can take them; the ids released."""
    held = db.session.scalars(_claimed_open(user)).all()
    ids = [t.id for t in held if keep is None or not keep(t)]
    if ids:
        db.session.execute(update(HumanTask).where(HumanTask.id.in_(ids), HumanTask.claimed_by_id == user.id)
                           .values(claimed_by_id=None, claimed_at=None).execution_options(synchronize_session='fetch'))
    return ids


def deactivate(actor, user_id, reason, via: str = 'web') -> tuple[User, dict]:
    """停用账号 (reason required): the account can no longer sign in, every browser sign-in and API token of it ends
    and the tasks it held claimed go back to their inboxes. Returns (user, what ended)."""
    _require_admin(actor)
    errors: dict = {}
    reason = _reason(reason, _l('请填写停用原因'), errors)
    _raise(errors)
    with transaction():
        user = _account(user_id, lock=True)
        if user.id == actor.id:
            raise Conflict(OWN_ACCOUNT, code='own_account')
        if not user.active:
            raise Conflict(_l('该账号已经是停用状态'), code='already_inactive')
        user.active = False
        # the sign-ins end at the audit row's time: the login page tells a browser signed out by this why
        now = utcnow()
        sign_ins, api_logins = end_all_sign_ins_and_tokens(user, at=now)
        ended = {'ended_sign_ins': sign_ins, 'ended_api_logins': api_logins, 'released_tasks': _release_claims(user)}
        _audit('user.deactivate', f'user:{user.username}', {'username': user.username, 'reason': reason, **ended},
               actor, via, at=now)
    return user, ended


def activate(actor, user_id, reason, via: str = 'web') -> User:
    """启用账号 (reason required): the account signs in again with its password."""
    _require_admin(actor)
    errors: dict = {}
    reason = _reason(reason, _l('请填写启用原因'), errors)
    _raise(errors)
    with transaction():
        user = _account(user_id, lock=True)
        if user.active:
            raise Conflict(_l('该账号已经是启用状态'), code='already_active')
        user.active = True
        _audit('user.activate', f'user:{user.username}', {'username': user.username, 'reason': reason}, actor, via)
    return user


def add_membership(actor, user_id, role, unit_code, via: str = 'web') -> User:
    """添加角色: one more (role, unit); a role on the wrong kind of unit is refused as on the command line."""
    _require_admin(actor)
    role, unit_code = str(role or '').strip(), str(unit_code or '').strip()
    with transaction():
        user = _account(user_id, lock=True)
        errors: dict = {}
        unit = _role_and_unit(role, unit_code, errors)
        if not errors and _has(user, role, unit):
            errors['unit'] = [_l('该账号已有角色：%(role)s @ %(unit)s', role=role_label(role), unit=unit.name)]
        _raise(errors)
        _join(user, role, unit, actor, via)
    return user


def remove_membership(actor, user_id, membership_id, via: str = 'web') -> tuple[User, dict]:
    """移除角色: one membership; never the last one, nor the acting administrator's own process_admin role. The
    tasks the user held claimed through it go back to their inboxes. Returns (user, the removed role and unit)."""
    _require_admin(actor)
    with transaction():
        user = _account(user_id, lock=True)
        memberships = _memberships(user)
        member = next((m for m in memberships if m.id == row_id(membership_id)), None)
        if member is None:
            raise NotFound()
        if len(memberships) == 1:
            raise Conflict(LAST_ROLE, code='last_role')
        if user.id == actor.id and member.role == ADMIN_ROLE:
            raise Conflict(OWN_ADMIN_ROLE, code='own_admin_role')
        removed = {'role': member.role, 'role_label': role_label(member.role), 'unit': member.org_unit.code,
                   'unit_name': member.org_unit.name}
        db.session.delete(member)
        db.session.flush()
        db.session.expire(user, ['memberships'])
        released = _release_claims(user, keep=lambda t: t.assignee_id == user.id
                                   or matching_membership(user, t) is not None)
        _audit('user.membership_remove', f'user:{user.username}',
               {'username': user.username, 'role': member.role, 'unit': removed['unit'], 'released_tasks': released},
               actor, via)
    return user, removed


def reset_password(actor, user_id, via: str = 'web') -> tuple[User, str]:
    """重置密码: a generated temporary password (returned, shown once, never stored in clear) that the owner must
    replace at the next sign-in; every sign-in and API token of the account ends."""
    _require_admin(actor)
    temporary = temporary_password()
    with transaction():
        user = _account(user_id, lock=True)
        _set_password(user, temporary, True, actor, via, generated=True)
    return user, temporary
