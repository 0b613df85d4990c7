"""Unbound extension singletons, bound in create_app()."""
import math
import time

import flask_login
from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from limits import parse
from sqlalchemy import MetaData

NAMING = {
    'ix': 'ix_%(column_0_label)s',
    'uq': 'uq_%(table_name)s_%(column_0_name)s',
    'ck': 'ck_%(table_name)s_%(constraint_name)s',
    'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
    'pk': 'pk_%(table_name)s',
}


class LoginManager(flask_login.LoginManager):
    """Flask-Login whose session id (the signed session's `_user_id` and the remember cookie) is
    "user id:session version:signed in at" (User.get_id): the registered loader still loads a user by the bare id,
    and only a session of the user's current version, not older than a remember cookie lasts, signs anyone in."""

    def user_loader(self, callback):
        """Register `callback(user id)`; the session id is checked here, around it (app.services.auth)."""
        def load(session_id):
            from app.services.auth import user_for_session
            return user_for_session(session_id, callback)
        self._user_callback = load
        return callback


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
# the login throttle's store is Redis when configured: if it cannot be reached, count in this process's memory
# (and try Redis again later) rather than answer every sign-in with a 500; an error left over (a failed deduction
# after the response) is logged, not raised, for the same reason
limiter = Limiter(key_func=get_remote_address, in_memory_fallback_enabled=True, swallow_errors=True)


def _address_limit() -> str:
    """Failed logins from one address whatever the username: RATELIMIT_LOGIN_ADDRESS, by default ten times
    RATELIMIT_LOGIN (a station office behind one address has many accounts)."""
    if current_app.config.get('RATELIMIT_LOGIN_ADDRESS'):
        return current_app.config['RATELIMIT_LOGIN_ADDRESS']
    per_account = parse(current_app.config['RATELIMIT_LOGIN'])
    return f'{per_account.amount * 10} per {per_account.multiples} {per_account.GRANULARITY.name}'


def login_throttle(username, failed, **options):
    """Decorator of a login endpoint. Only failed attempts count (`failed(response)`): RATELIMIT_LOGIN per username
    and address, so that guessing one account's password locks that account from that address only (not its
    owner elsewhere, not colleagues behind the same address), and a much higher ceiling per address
    (`_address_limit`) against trying many usernames. `username()` reads the name the request tries."""
    def per_account_key():
        return f'{get_remote_address()}|{(username() or "").strip()[:100]}'

    per_account = limiter.limit(lambda: current_app.config['RATELIMIT_LOGIN'], key_func=per_account_key,
                                deduct_when=failed, **options)
    per_address = limiter.limit(_address_limit, key_func=get_remote_address, deduct_when=failed, **options)

    def decorate(view):
        return per_address(per_account(view))
    return decorate


def retry_after_seconds() -> int | None:
    """Whole seconds until the limit this request broke lets requests through again (None when none broke)."""
    try:
        current = limiter.current_limit
        if current is None or not current.breached:
            return None
        return max(1, math.ceil(current.window[0] - time.time()))  # window: (reset time, remaining)
    except Exception:  # noqa: BLE001 - the storage may be unreachable; the 429 itself still stands
        current_app.logger.exception('rate limit window unavailable')
        return None
