"""Passwords, browser sign-ins and API tokens."""
import hashlib
import json
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import ApiToken, AuditLog, LoginSession, Membership, User
from app.models.base import utcnow
from app.services import transaction
from app.services.errors import Forbidden, Unauthorized

_hasher = PasswordHasher()
_fast_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# verifying an unknown user still costs one hash, so timing does not reveal which usernames exist
_DUMMY_HASH = _hasher.hash('not-a-real-password')


def _ph():
    return _fast_hasher if current_app.config.get('PASSWORD_HASH_FAST') else _hasher


def hash_password(password: str) -> str:
    return _ph().hash(password)


def hash_initial_password(password: str) -> str:
    """The hash of an imported account's initial password (the last 6 characters of its ID number, stored in clear
    beside it): a costly hash would protect nothing and keep a 2,000-row import waiting for minutes. The owner
    replaces it at first login with a password hashed the usual way."""
    return _fast_hasher.hash(password)


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return _ph().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _spellings(user: User, password: str) -> tuple[str, ...]:
    """The password as typed, and while the initial password (the ID number's last 6, whose check letter is an
    upper-case X) is still to be changed, with x read as X: phone keyboards type a lower-case x."""
    password = password or ''
    if user.must_change_password and 'x' in password:
        return password, password.replace('x', 'X')
    return (password,)


def password_matches(user: User, password: str) -> bool:
    return any(_verifies(user.password_hash, p) for p in _spellings(user, password))


class AccountDisabled(Forbidden):
    """The right password of a deactivated account: said only then, so a wrong password reveals nothing more."""
    code = 'account_disabled'

    def default_message(self):
        return _l('该账号已停用，如有疑问请联系管理员')


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way); AccountDisabled when the password
    is right but an administrator has deactivated the account (its owner is told why, not "wrong password")."""
    user = db.session.scalar(select(User).where(User.username == (username or '').strip()))
    if user is None:
        _verifies(_DUMMY_HASH, password or '')
        return None
    if not password_matches(user, password):
        return None
    if not user.is_active:
        raise AccountDisabled()
    return user


# why a new password is due (password_change_reason) -> what the /password page's refusal and the API say
_SAME_PASSWORD = {'initial': _l('新密码不能与初始密码相同'), 'reset': _l('新密码不能与临时密码相同'),
                  'created': _l('新密码不能与临时密码相同'), 'other': _l('新密码不能与当前密码相同')}
_NO_TOKEN_YET = {'initial': _l('您还在使用初始密码：请先在网页登录并修改密码，再使用接口'),
                 'reset': _l('您还在使用管理员重置的临时密码：请先在网页登录并修改密码，再使用接口'),
                 'created': _l('您还在使用管理员设置的临时密码：请先在网页登录并修改密码，再使用接口'),
                 'other': _l('请先在网页登录并修改密码，再使用接口')}


def password_change_reason(user: User) -> str | None:
    """Why the user must set a new password before anything else, None when no change is due: 'reset' (an
    administrator reset it to a temporary one, in 用户管理 or with flask set-password --must-change), 'created' (an
    administrator made the account with a password of theirs), 'initial' (a team's batch import: the last 6
    characters of the ID number), 'other' (none of these is on record). Read from the audit row that last set the
    password with a change due (accounts writes one for each; an import writes none per account), so no column
    records it."""
    if not user.must_change_password:
        return None
    row = db.session.scalar(select(AuditLog).where(AuditLog.target == f'user:{user.username}',
                                                   AuditLog.action.in_(('user.set_password', 'user.create')))
                            .order_by(AuditLog.id.desc()).limit(1))
    try:
        detail = json.loads(row.detail_json or '{}') if row is not None else {}
    except ValueError:
        detail = {}
    if isinstance(detail, dict) and detail.get('must_change'):
        return 'reset' if row.action == 'user.set_password' else 'created'
    return 'initial' if user.id_number else 'other'


def no_token_yet(user: User) -> str:
    """The API's refusal of a token to an account whose password is still to be replaced, saying which password."""
    return _NO_TOKEN_YET[password_change_reason(user) or 'other']


def replace_required_password(user: User, password: str, confirm: str) -> None:
    """The /password page: volunteers.change_initial_password, its refusal of the same password again naming the
    password the user actually has (the initial one, or an administrator's temporary one)."""
    from app.services.volunteers import change_initial_password  # volunteers imports this module
    change_initial_password(user, password, confirm, same_refusal=_SAME_PASSWORD[password_change_reason(user) or 'other'])


def _now():
    return utcnow()


def _seconds(value) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _session_parts(session_id) -> list[str] | None:
    """["user id", "sign-in id"] of a session id (User.get_id), None when it is not one."""
    parts = str(session_id or '').split(':')
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and 0 < len(p) < 20 for p in parts):
        return None
    return parts


def user_for_session(session_id: str, load) -> User | None:
    """The user a browser session or remember cookie names ("user id:sign-in id", User.get_id), loaded with
    `load(id)`; None when that sign-in has ended (its logout, a password change elsewhere, the account deactivated)
    or is older than a remember cookie lasts (REMEMBER_COOKIE_DURATION: the cookie's own expiry is only the browser's promise)."""
    parts = _session_parts(session_id)
    if parts is None:
        return None
    sign_in = db.session.get(LoginSession, int(parts[1]))
    config = current_app.config
    longest = timedelta(seconds=max(_seconds(config.get('REMEMBER_COOKIE_DURATION', timedelta(days=365))),
                                    _seconds(config['PERMANENT_SESSION_LIFETIME'])))
    if (sign_in is None or sign_in.user_id != int(parts[0]) or sign_in.ended_at is not None
            or _now() - sign_in.created_at > longest):
        return None
    user = load(parts[0])
    if user is None or not user.is_active:  # a deactivated account's cookies open nothing, whatever else ended
        return None
    user.login_session_id = sign_in.id
    return user


def ended_by_deactivation(session_id: str) -> bool:
    """Whether the sign-in a browser still names ("user id:sign-in id") stopped working because its account is
    deactivated: the account is inactive now, and the sign-in was still open when that happened (its end is the
    deactivation's own time, accounts.deactivate) or is open yet (the account was made inactive some other way).
    A sign-in ended earlier (a logout, a password change) is not said to be the deactivation's doing."""
    parts = _session_parts(session_id)
    if parts is None:
        return False
    sign_in = db.session.get(LoginSession, int(parts[1]))
    if sign_in is None or sign_in.user_id != int(parts[0]):
        return False
    user = db.session.get(User, sign_in.user_id)
    if user is None or user.active:
        return False
    if sign_in.ended_at is None:
        return True
    return sign_in.ended_at in set(db.session.scalars(select(AuditLog.at).where(
        AuditLog.target == f'user:{user.username}', AuditLog.action == 'user.deactivate')))


def start_sign_in(user: User) -> None:
    """A new browser sign-in of the user (before flask_login.login_user, which stores its id in the cookies)."""
    with transaction():
        row = LoginSession(user_id=user.id)
        db.session.add(row)
        db.session.flush()
        user.login_session_id = row.id


def end_sign_in(user: User) -> None:
    """Logout: this browser's sign-in ends, and with it any copy of its session or remember cookie; the user's
    other browsers (colleagues sharing a station's account) stay signed in."""
    with transaction():
        _end(user, LoginSession.id == (user.login_session_id or 0))


def end_other_sign_ins_and_tokens(user: User) -> None:
    """Inside the caller's transaction (a password change): every other browser sign-in and every API token of the
    user ends; the browser that changed the password stays signed in."""
    _end(user, LoginSession.id != (user.login_session_id or 0))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id).execution_options(synchronize_session=False))


def end_all_sign_ins_and_tokens(user: User, at=None) -> tuple[int, int]:
    """Inside the caller's transaction (an administrator deactivating the account): every browser sign-in and every
    API token of the user ends, the sign-ins at `at` (the deactivation's audit time: the login page can tell why a
    browser was signed out); (sign-ins ended, tokens ended)."""
    sign_ins = _end(user, LoginSession.id.is_not(None), at)
    tokens = db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)
                                .execution_options(synchronize_session=False)).rowcount
    return sign_ins, tokens


def _end(user: User, which, at=None) -> int:
    return db.session.execute(update(LoginSession).where(LoginSession.user_id == user.id, which,
                                                         LoginSession.ended_at.is_(None))
                              .values(ended_at=at or utcnow())
                              .execution_options(synchronize_session=False)).rowcount


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, object]:
    """A new bearer token; only its sha256 is stored."""
    raw = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=current_app.config['API_TOKEN_HOURS'])
    with transaction():
        db.session.add(ApiToken(token_hash=_digest(raw), user_id=user.id, expires_at=expires))
    return raw, expires


def user_for_token(raw: str) -> User | None:
    """The user behind a live token, None for unknown (or signed-out) and malformed tokens and a deactivated
    account's. An expired token is refused with its own code (401 token_expired): the client gets a new one."""
    if not raw or len(raw) > 200:
        return None
    # one round trip for the token, its user and the user's memberships with their units
    token = db.session.scalars(select(ApiToken).where(ApiToken.token_hash == _digest(raw))
                               .options(joinedload(ApiToken.user).joinedload(User.memberships)
                                        .joinedload(Membership.org_unit))).unique().first()
    if token is None or not token.user.is_active:
        return None
    if token.expires_at <= utcnow():
        raise Unauthorized(_l('登录已过期，请重新获取令牌'), code='token_expired')
    return token.user


def revoke_token(raw: str) -> bool:
    """Sign a token out (its row is deleted); False when it was not a stored token."""
    if not raw or len(raw) > 200:
        return False
    with transaction():
        return db.session.execute(delete(ApiToken).where(ApiToken.token_hash == _digest(raw))
                                  .execution_options(synchronize_session=False)).rowcount > 0
