"""Passwords, browser sign-ins and API tokens."""
import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import ApiToken, LoginSession, Membership, User
from app.models.base import utcnow
from app.services import transaction

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


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way)."""
    user = db.session.scalar(select(User).where(User.username == (username or '').strip()))
    if user is None:
        _verifies(_DUMMY_HASH, password or '')
        return None
    return user if password_matches(user, password) and user.is_active else None


def _now():
    return utcnow()


def _seconds(value) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def user_for_session(session_id: str, load) -> User | None:
    """The user a browser session or remember cookie names ("user id:sign-in id", User.get_id), loaded with
    `load(id)`; None when that sign-in has ended (its logout, a password change elsewhere, the account deactivated)
    or is older than a remember cookie lasts (REMEMBER_COOKIE_DURATION: the cookie's own expiry is only the browser's promise)."""
    parts = str(session_id or '').split(':')
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and 0 < len(p) < 20 for p in parts):
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


def end_all_sign_ins_and_tokens(user: User) -> tuple[int, int]:
    """Inside the caller's transaction (an administrator deactivating the account): every browser sign-in and every
    API token of the user ends; (sign-ins ended, tokens ended)."""
    sign_ins = _end(user, LoginSession.id.is_not(None))
    tokens = db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)
                                .execution_options(synchronize_session=False)).rowcount
    return sign_ins, tokens


def _end(user: User, which) -> int:
    return db.session.execute(update(LoginSession).where(LoginSession.user_id == user.id, which,
                                                         LoginSession.ended_at.is_(None)).values(ended_at=utcnow())
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
    """The user behind a live token, None for unknown, expired or malformed tokens."""
    if not raw or len(raw) > 200:
        return None
    # one round trip for the token, its user and the user's memberships with their units
    token = db.session.scalars(select(ApiToken).where(ApiToken.token_hash == _digest(raw))
                               .options(joinedload(ApiToken.user).joinedload(User.memberships)
                                        .joinedload(Membership.org_unit))).unique().first()
    if token is None or token.expires_at <= utcnow() or not token.user.is_active:
        return None
    return token.user


def revoke_token(raw: str) -> bool:
    """Sign a token out (its row is deleted); False when it was not a stored token."""
    if not raw or len(raw) > 200:
        return False
    with transaction():
        return db.session.execute(delete(ApiToken).where(ApiToken.token_hash == _digest(raw))
                                  .execution_options(synchronize_session=False)).rowcount > 0
