"""Request tokens: one id per filled-in start form, so that a repeated submission (a double tap, a phone browser's
retry on a slow network, 重新提交) is answered with the case the first one started instead of a second case.

The page puts a fresh token in a hidden field; the process's submit hook, inside the start transaction and after a
lock that serialises the user's submissions, looks for a case already started with it and raises `duplicate`;
`start_once` turns that (or an earlier case found before starting) into (instance, created=False).
Where the form definition has no `request_token` field, `carrying` hands the token to the hook.
"""
from contextlib import contextmanager
from contextvars import ContextVar

from app.extensions import db
from app.models import WorkflowInstance
from app.services import shop
from app.services.errors import Conflict, ServiceError

CODE = 'duplicate_request'
_current: ContextVar[str | None] = ContextVar('request_token', default=None)


def new_token() -> str:
    return shop.new_token()


def cleaned(token) -> str | None:
    """The token of a submission, None when it sent none; a malformed one is refused (422 on `request_token`)."""
    if token is None or not str(token).strip():
        return None
    return shop.check_token(str(token))


@contextmanager
def carrying(token):
    """Makes `token` the current submission's token for the hook of a form without a request_token field."""
    handle = _current.set(token)
    try:
        yield token
    finally:
        _current.reset(handle)


def current() -> str | None:
    return _current.get()


def duplicate(instance_id: int, message) -> Conflict:
    """The refusal a submit hook raises for a token already used: 409 `duplicate_request`, naming the first case."""
    exc = Conflict(message, code=CODE)
    exc.instance_id = instance_id
    return exc


def start_once(earlier, start) -> tuple[WorkflowInstance, bool]:
    """(instance, created): `earlier()` (the case started with the same token, or None) when there is one, else the
    case `start()` makes; a repeat that raced past the first look is recognised by the hook's `duplicate`."""
    found = earlier()
    if found is not None:
        return found, False
    try:
        return start(), True
    except ServiceError as exc:
        if getattr(exc, 'code', None) != CODE:
            raise
        return db.session.get(WorkflowInstance, exc.instance_id), False
