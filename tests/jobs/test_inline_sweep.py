"""The embedded default (no Redis, no worker): due timers fire after ordinary requests, at most once a minute."""
import time

from sqlalchemy import func, select

from app import jobs
from app.extensions import db
from app.models import Message, User


def _reminders():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Message).join(User, User.id == Message.user_id)
                             .where(User.username == 'station_xicun', Message.kind == 'reminder'))


def test_a_due_reminder_fires_after_a_page_request_without_a_worker(app, client, timer_case, monkeypatch):
    monkeypatch.setitem(app.config, 'REDIS_URL', None)
    monkeypatch.setitem(app.config, 'INLINE_TIMER_SWEEP_SECONDS', 60)
    monkeypatch.setattr(jobs, '_last_inline_sweep', 0.0)
    timer_case(reminder_after='PT1S')
    assert client.get('/login').status_code == 200  # the sweep runs: nothing is due yet
    time.sleep(1.2)
    assert client.get('/login').status_code == 200
    assert _reminders() == 0, 'one sweep a minute: the second request is too soon'
    monkeypatch.setattr(jobs, '_last_inline_sweep', time.monotonic() - 61)
    assert client.get('/login').status_code == 200
    assert _reminders() == 1


def test_no_sweep_in_the_web_process_when_a_worker_does_it(app, client, timer_case, monkeypatch):
    monkeypatch.setitem(app.config, 'REDIS_URL', 'redis://127.0.0.1:6379/15')
    monkeypatch.setitem(app.config, 'INLINE_TIMER_SWEEP_SECONDS', 60)
    monkeypatch.setattr(jobs, '_last_inline_sweep', 0.0)
    timer_case(reminder_after='PT1S')
    time.sleep(1.2)
    assert client.get('/login').status_code == 200
    assert _reminders() == 0
