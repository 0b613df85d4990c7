"""V-order timers fired by the rq worker on a real Redis: expiry when nobody accepts, the certification
reminders at day 7 / 12 and the overdue escalation at day 14, and a worker killed while firing.

The clock moves through the engine's own seam (InstanceRun.advance_clock: every waiting timer comes
closer by the same amount), never by sleeping."""
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from app import jobs
from app.extensions import db
from app.jobs.timers import sweep_due_timers
from app.models import HumanTask, Message, User, VOrder, WorkflowInstance
from app.models.base import utcnow
from app.services import transaction
from app.services.instances import load_run, lock_instance, save_run
from tests.jobs.conftest import TEST_REDIS_URL
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data, order_of, travel_past_service

ROOT = Path(__file__).resolve().parents[2]
RATINGS = {k: 5 for k in ('rating_overall', 'rating_arrangement', 'rating_effect', 'rating_attitude', 'rating_skill',
                          'rating_efficiency')}


# ---------------------------------------------------------------------------------------------- helpers

def _instance(instance_id) -> WorkflowInstance:
    db.session.expire_all()
    return db.session.get(WorkflowInstance, instance_id)


def _order(instance_id) -> VOrder:
    db.session.expire_all()
    return db.session.scalar(select(VOrder).where(VOrder.instance_id == instance_id))


def _messages(username, kind=None) -> list[Message]:
    db.session.expire_all()
    q = select(Message).join(User, User.id == Message.user_id).where(User.username == username)
    if kind:
        q = q.where(Message.kind == kind)
    return list(db.session.scalars(q.order_by(Message.id)))


def advance_to_next_timer(instance_id) -> timedelta:
    """Bring the instance's earliest timer to now (plus a second): the clock jumps, nothing fires yet."""
    with transaction():
        instance = lock_instance(instance_id)
        delta = instance.next_timer_at - utcnow() + timedelta(seconds=1)
        run = load_run(instance)
        assert run.advance_clock(delta) > 0
        save_run(instance, run)
    return delta


def run_worker(conn) -> Queue:
    """What the running `flask worker` does every minute: the sweep job, executed by an rq worker."""
    jobs.enqueue(sweep_due_timers)
    queue = Queue(jobs.QUEUE_NAME, connection=conn)
    assert queue.count == 1
    SimpleWorker([queue], connection=conn).work(burst=True)
    assert queue.count == 0 and not FailedJobRegistry(queue=queue).get_job_ids()
    return queue


def publish_approved(api, **overrides) -> dict:
    """An order of vol_zhang approved by station_xicun and open to volunteers."""
    so = approved_object(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    resp = publisher.post('/processes/v_order/instances', json={'data': order_data([so], **overrides)})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    return inst


def at_certification(api) -> dict:
    """An order served by vol_li and rated by its publisher: the station's certification is open."""
    inst = publish_approved(api)
    station, vol_li, publisher = api('station_xicun'), api('vol_li'), api('vol_zhang')
    complete(vol_li, open_task(vol_li, inst['id']), data={'note': '我可以'})
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    travel_past_service(inst['id'])
    complete(publisher, open_task(publisher, inst['id']), data=RATINGS)
    assert open_task(station, inst['id'])['title'] == '时数认证'
    return inst


# ---------------------------------------------------------------------------------------------- (a) expiry

def test_nobody_accepts_by_start_time_the_worker_expires_the_order(api, login, with_redis):
    inst = publish_approved(api)
    publisher, station, vol_li = api('vol_zhang'), api('station_xicun'), api('vol_li')
    assert open_task(vol_li, inst['id'])['title'] == '志愿者接单'
    assert _instance(inst['id']).next_timer_at is not None

    run_worker(with_redis)  # before the start time the sweep finds nothing
    assert order_of(publisher, inst)['status_label'] == '待接单'

    advance_to_next_timer(inst['id'])
    run_worker(with_redis)
    view = order_of(publisher, inst)
    assert view['status_label'] == '已过期'
    assert view['closed_reason'] == '开始时间已到仍无人接单，订单自动过期'
    body = publisher.get(f'/instances/{inst["id"]}').get_json()
    assert body['status'] == 'completed' and body['open_tasks'] == []
    last = body['history'][-1]
    assert (last['task'], last['decision'], last['actor']) == ('订单过期', 'auto', None)
    assert '无人接单' in last['reason']
    assert not [t for t in vol_li.get('/tasks').get_json()['items'] if t['instance_id'] == inst['id']]
    assert station.get('/tasks').get_json()['total'] == 0

    told = _messages('vol_zhang', 'info')
    assert len(told) == 1
    assert told[0].title == '您发布的V订单「陪陈伯复诊」已过期：开始时间已到仍无人接单，订单自动过期'
    page = login('vol_zhang')
    resp = page.get(f'/messages/{told[0].id}')
    assert resp.status_code == 302 and resp.headers['Location'].endswith(f'/orders/{view["id"]}')
    detail = page.get(resp.headers['Location']).get_data(as_text=True)
    assert '已过期' in detail and '无人接单' in detail and '系统自动' in detail
    listing = login('vol_li').get('/m/orders/open').get_data(as_text=True)
    assert '陪陈伯复诊' not in listing

    run_worker(with_redis)  # nothing left to fire: no second message, no second history row
    assert len(_messages('vol_zhang', 'info')) == 1
    assert [h['task'] for h in publisher.get(f'/instances/{inst["id"]}').get_json()['history']].count('订单过期') == 1


def test_a_confirmed_volunteer_keeps_the_order_past_its_start(api, with_redis):
    inst = publish_approved(api, volunteers_needed=2)
    station, vol_li, publisher = api('station_xicun'), api('vol_li'), api('vol_zhang')
    complete(vol_li, open_task(vol_li, inst['id']))
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    assert order_of(publisher, inst)['status_label'] == '待接单', 'one of two volunteers'
    advance_to_next_timer(inst['id'])
    run_worker(with_redis)
    view = order_of(publisher, inst)
    assert view['status_label'] == '进行中' and view['volunteers_approved'] == 1
    assert _messages('vol_zhang', 'info') == []


# ---------------------------------------------------------------------------------------------- (b) certification

def test_certification_reminders_day_7_and_12_then_overdue_at_14(api, login, with_redis):
    inst = at_certification(api)
    station, gzva, publisher = api('station_xicun'), api('gzva'), api('vol_zhang')
    order_id = order_of(publisher, inst)['id']
    certify = open_task(station, inst['id'])
    # travel_past_service moved the order's times back in the database only; the engine's timers keep the
    # published end, so the deadline is read from what the engine was given
    published = load_run(_instance(inst['id'])).ready_tasks()[0].data
    deadline = datetime.fromisoformat(published['overdue_at'])
    assert deadline - datetime.fromisoformat(published['remind7_at']) == timedelta(days=7)
    assert datetime.fromisoformat(certify['due_at']) == deadline, 'the inbox shows the 14-day deadline, not day 7'
    run_worker(with_redis)
    assert _messages('station_xicun', 'reminder') == []

    # day 7
    advance_to_next_timer(inst['id'])
    run_worker(with_redis)
    reminders = _messages('station_xicun', 'reminder')
    assert [m.title for m in reminders] == [
        'V订单「陪陈伯复诊」服务已结束 7 天，请尽快完成时数认证（须在 10 个工作日内完成）']
    assert reminders[0].link == f'/orders/{order_id}'
    assert _messages('station_shipai', 'reminder') == []
    assert _messages('gzva', 'reminder') == []
    assert open_task(station, inst['id'])['id'] == certify['id'], 'the reminder leaves the task with the station'
    assert datetime.fromisoformat(open_task(station, inst['id'])['due_at']) == deadline
    assert order_of(publisher, inst)['overdue'] is False

    # the station logs in: the reminder is flashed; the message opens the order, which leads to the task
    page = login('station_xicun')
    landing = page.get('/').headers['Location']
    html = page.get(landing, follow_redirects=True).get_data(as_text=True)
    assert '提醒：V订单「陪陈伯复诊」服务已结束 7 天' in html
    resp = page.get(f'/messages/{reminders[0].id}')
    assert resp.headers['Location'].endswith(f'/orders/{order_id}')
    detail = page.get(resp.headers['Location']).get_data(as_text=True)
    assert '去处理：时数认证' in detail and f'/inbox/tasks/{certify["id"]}' in detail
    assert page.get(f'/inbox/tasks/{certify["id"]}').status_code == 200

    # day 12
    advance_to_next_timer(inst['id'])
    run_worker(with_redis)
    assert [m.title for m in _messages('station_xicun', 'reminder')][1:] == [
        'V订单「陪陈伯复诊」服务已结束 12 天，时数认证即将逾期，请在 2 天内完成']
    assert order_of(publisher, inst)['overdue'] is False

    # day 14: overdue, escalated to 广志协, shown on the order
    advance_to_next_timer(inst['id'])
    run_worker(with_redis)
    overdue = 'V订单「陪陈伯复诊」时数认证已逾期（超过 14 天），已上报广志协'
    assert [m.title for m in _messages('station_xicun', 'reminder')][2:] == [overdue]
    assert [m.title for m in _messages('gzva', 'reminder')] == [overdue]
    view = order_of(publisher, inst)
    assert view['overdue'] is True and view['status_label'] == '待认证'
    badge = 'class="badge s-rejected">认证已逾期</span>'
    assert badge in login('vol_zhang').get(f'/orders/{order_id}').get_data(as_text=True)
    gz_page = login('gzva')  # the escalation opens the order for 广志协 too, although no task of theirs is open yet
    gz_msg = _messages('gzva', 'reminder')[0]
    resp = gz_page.get(gz_page.get(f'/messages/{gz_msg.id}').headers['Location'])
    assert resp.status_code == 200 and badge in resp.get_data(as_text=True)
    assert _instance(inst['id']).next_timer_at is None, 'no timer is left to fire'

    # the station can still certify; the association approves and no reminder follows
    run_worker(with_redis)
    assert len(_messages('station_xicun', 'reminder')) == 3
    from tests.helpers import served_day, upload_png
    today = served_day()
    complete(station, open_task(station, inst['id']), data={
        'service_start_date': today, 'service_end_date': today, 'person_times': 1, 'object_count': 1,
        'volunteer_count': 1, 'service_hours': 3, 'summary': '陪同复诊', 'results': '满意', 'photos': [upload_png(station)]})
    complete(gzva, open_task(gzva, inst['id']), decision='approve')
    assert order_of(publisher, inst)['status_label'] == '已完成'
    assert api('vol_li').get('/me/points').get_json()['balance'] == 3


def test_certified_in_time_no_reminder_is_sent(api, with_redis):
    inst = at_certification(api)
    station, gzva = api('station_xicun'), api('gzva')
    from tests.helpers import served_day, upload_png
    today = served_day()
    complete(station, open_task(station, inst['id']), data={
        'service_start_date': today, 'service_end_date': today, 'person_times': 1, 'object_count': 1,
        'volunteer_count': 1, 'service_hours': 2, 'summary': '陪同复诊', 'results': '满意', 'photos': [upload_png(station)]})
    complete(gzva, open_task(gzva, inst['id']), decision='approve')
    assert _instance(inst['id']).next_timer_at is None
    run_worker(with_redis)
    assert _messages('station_xicun', 'reminder') == []


# ---------------------------------------------------------------------------------------------- (c) killed worker

def test_failure_inside_the_commit_rolls_everything_back_then_fires_once(api, with_redis, monkeypatch):
    """The commit itself fails (connection lost, disk full): the job fails, nothing of the firing stays,
    and the next sweep fires the day-7 reminder exactly once."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    inst = at_certification(api)
    advance_to_next_timer(inst['id'])
    before = _instance(inst['id'])
    before = (before.lock_version, before.state_json, before.next_timer_at)
    calls = []

    def note_message(session, flush_context):
        if any(isinstance(o, Message) for o in session.new):
            session.info['wrote_message'] = True

    def dies_in_commit(session):
        if session.info.pop('wrote_message', False):
            calls.append(1)
            if len(calls) == 1:
                raise OSError('connection lost during COMMIT')

    event.listen(Session, 'after_flush', note_message)
    event.listen(Session, 'before_commit', dies_in_commit)
    try:
        jobs.enqueue(sweep_due_timers)
        queue = Queue(jobs.QUEUE_NAME, connection=with_redis)
        SimpleWorker([queue], connection=with_redis).work(burst=True)
        inst_row = _instance(inst['id'])
        assert (inst_row.lock_version, inst_row.state_json, inst_row.next_timer_at) == before
        assert _messages('station_xicun', 'reminder') == [] and _order(inst['id']).reminders_json == '[]'
        run_worker(with_redis)
        run_worker(with_redis)
    finally:
        event.remove(Session, 'before_commit', dies_in_commit)
        event.remove(Session, 'after_flush', note_message)
    assert len(calls) == 2
    assert len(_messages('station_xicun', 'reminder')) == 1
    assert _instance(inst['id']).lock_version == before[0] + 1
    assert _order(inst['id']).reminders_json == '["day7"]'


KILLED_WORKER = r'''
import os, signal, sys
from rq import Queue, SimpleWorker
from sqlalchemy import event
from sqlalchemy.orm import Session
from app import create_app
from app.jobs import QUEUE_NAME, connection
from app.jobs.context import set_app
from app.models import Message

app = create_app()
set_app(app)


@event.listens_for(Session, 'after_flush')
def note(session, flush_context):
    if any(isinstance(o, Message) for o in session.new):
        session.info['wrote_message'] = True


@event.listens_for(Session, 'before_commit')
def die(session):
    # the timer has fired in the engine, state and reminder rows are flushed: the process dies before COMMIT
    if session.info.pop('wrote_message', False):
        session.flush()
        print('killing myself', flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


conn = connection(os.environ['REDIS_URL'])
SimpleWorker([Queue(QUEUE_NAME, connection=conn)], connection=conn).work(burst=True)
'''


def _worker_env(app):
    url = db.engine.url.render_as_string(hide_password=False)
    return {**os.environ, 'FLASK_APP': 'wsgi.py', 'APP_CONFIG': 'testing', 'TEST_DATABASE_URL': url,
            'REDIS_URL': TEST_REDIS_URL, 'PYTHONPATH': str(ROOT)}


def _wait_until_unlocked(instance_id, seconds=10):
    """The server notices the dead client and rolls its transaction back; wait for the row lock to go."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            db.session.execute(select(WorkflowInstance.id).where(WorkflowInstance.id == instance_id)
                               .with_for_update(nowait=True))
            db.session.rollback()
            return
        except Exception:
            db.session.rollback()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_worker_killed_mid_firing_restarts_and_fires_exactly_once(app, api, with_redis, is_postgres):
    if not is_postgres:
        pytest.skip('worker processes cannot see an in-memory SQLite database')
    inst = at_certification(api)
    advance_to_next_timer(inst['id'])
    row = _instance(inst['id'])
    before = (row.lock_version, row.state_json, row.next_timer_at, row.stage)
    env = _worker_env(app)
    db.session.remove()

    jobs.enqueue(sweep_due_timers)
    killed = subprocess.run([sys.executable, '-c', KILLED_WORKER], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stdout, killed.stderr[-2000:])
    assert 'killing myself' in killed.stdout
    _wait_until_unlocked(inst['id'])

    row = _instance(inst['id'])
    assert (row.lock_version, row.state_json, row.next_timer_at, row.stage) == before
    assert _messages('station_xicun', 'reminder') == []
    assert _order(inst['id']).reminders_json == '[]'
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == inst['id'],
                                                       HumanTask.status == 'open')).all()
    assert [t.title for t in tasks] == ['时数认证']

    # the restarted worker (the real CLI, burst mode: it schedules its sweep and runs what is due)
    for _ in range(2):
        restarted = subprocess.run([sys.executable, '-m', 'flask', 'worker', '--burst'], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=120)
        assert restarted.returncode == 0, restarted.stderr[-2000:]
        with_redis.delete(f'rq:job:{jobs.SWEEP_JOB_ID}')  # a fresh sweep for the next restart
    reminders = _messages('station_xicun', 'reminder')
    assert [m.title for m in reminders] == [
        'V订单「陪陈伯复诊」服务已结束 7 天，请尽快完成时数认证（须在 10 个工作日内完成）']
    row = _instance(inst['id'])
    assert row.lock_version == before[0] + 1 and row.next_timer_at > before[2]
    assert _order(inst['id']).reminders_json == '["day7"]'
    assert db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.instance_id == inst['id'], HumanTask.status == 'open')) == 1
