"""Use cases. This is the only layer that commits: one `with transaction():` per use case."""
from contextlib import contextmanager
from contextvars import ContextVar

from flask_babel import force_locale

from app.extensions import db
from app.services.errors import Conflict, Forbidden, NotFound, ServiceError, Unauthorized, ValidationFailed

_depth: ContextVar[int] = ContextVar('tx_depth', default=0)
_after_commit: ContextVar[list | None] = ContextVar('tx_after_commit', default=None)
_memo: ContextVar[dict | None] = ContextVar('tx_memo', default=None)


def in_chinese(text) -> str:
    """A record's text (a history row, a ledger reason, a closing reason) is stored in Chinese, the system's
    language, whatever language the acting user's pages speak."""
    with force_locale('zh'):
        return str(text)


@contextmanager
def transaction():
    """Commit everything done inside on success, roll all of it back on any error."""
    depth = _depth.get()
    if depth:
        token = _depth.set(depth + 1)
        try:
            yield db.session
        finally:
            _depth.reset(token)
        return
    token = _depth.set(1)
    hooks: list = []
    hooks_token = _after_commit.set(hooks)
    memo_token = _memo.set({})
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _depth.reset(token)
        _after_commit.reset(hooks_token)
        _memo.reset(memo_token)
    for hook in hooks:
        hook()


def paged(stmt, page: int, per_page: int) -> tuple[list, int]:
    """(rows of page `page`, how many rows the whole select has) for a select of entities in list order."""
    from sqlalchemy import func, select
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return rows, total


def use_case_memo() -> dict | None:
    """A dict that lives as long as the current use case's transaction (None outside one): rows that several
    steps of one use case read, kept so the session does not fetch them again."""
    return _memo.get()


def abandon() -> None:
    """Roll back whatever a failed request left in the session (its transaction may be aborted)."""
    db.session.rollback()


def row_id(value) -> int | None:
    """A primary key from a URL or form value; None for anything that is not one (text, negative, or too large
    for the database's integer: a forged 99999999999999999999 is a 404, not a 500)."""
    text = str(value)
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else None


def after_commit(fn):
    """Run fn once the surrounding transaction has committed (messages, jobs)."""
    hooks = _after_commit.get()
    if hooks is None:
        fn()
    else:
        hooks.append(fn)


__all__ = ['Conflict', 'Forbidden', 'NotFound', 'ServiceError', 'Unauthorized', 'ValidationFailed',
           'abandon', 'after_commit', 'paged', 'row_id', 'transaction', 'use_case_memo']
