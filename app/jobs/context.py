"""The app a job runs in: the worker process builds one app once; inline jobs reuse the caller's."""
import os
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app, has_app_context

from app.extensions import db

_app = None
_pid = os.getpid()
_inline: ContextVar[bool] = ContextVar('job_inline', default=False)


def get_app():
    """The process-wide app for jobs: the one already active (CLI worker, tests) or a new create_app()."""
    global _app
    if _app is None:
        if has_app_context():
            _app = current_app._get_current_object()
        else:
            from app import create_app
            _app = create_app()
    return _app


def set_app(app) -> None:
    global _app
    _app = app


@contextmanager
def inline():
    """Mark jobs run from here as inline: they share the caller's app context and session."""
    token = _inline.set(True)
    try:
        yield
    finally:
        _inline.reset(token)


@contextmanager
def job_context():
    """App context for one job run."""
    global _pid
    if _inline.get() and has_app_context():
        yield current_app._get_current_object()
        return
    app = get_app()
    with app.app_context():
        if os.getpid() != _pid:
            # rq forks a work horse per job: never reuse the parent's pooled connections
            db.engine.dispose(close=False)
            _pid = os.getpid()
        try:
            yield app
        finally:
            db.session.remove()
