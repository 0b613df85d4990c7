"""Workflow timers fired by rq jobs on a real Redis: exactly once, and consistent after a crash mid-firing."""
import time
from datetime import timedelta

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import func, select

from app import jobs
from app.extensions import db
from app.jobs.timers import fire_instance_timers, sweep_due_timers
from app.models import HumanTask, Message, User, WorkflowInstance
from app.models.base import utcnow
from app.services import timers, transaction
from tests.jobs.conftest import TEST_REDIS_URL


def _reminders(username='station_xicun'):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Message).join(User, User.id == Message.user_id)
                             .where(User.username == username, Message.kind == 'reminder'))


def _instance(instance_id):
    db.session.expire_all()
    return db.session.get(WorkflowInstance, instance_id)


def _work(conn):
    queue = Queue(jobs.QUEUE_NAME, connection=conn)
    SimpleWorker([queue], connection=conn).work(burst=True)
    return queue


def _wait_due(instance_id):
    due = _instance(instance_id).next_timer_at
    time.sleep(max((due - utcnow()).total_seconds(), 0) + 0.1)


def test_variable_timer_fires_for_real(timer_case):
    iid = timer_case(reminder_after='PT1S')
    assert timers.fire_due() == 0
    assert _reminders() == 0
    _wait_due(iid)
    assert timers.fire_due() == 1
    assert _reminders() == 1
    inst = _instance(iid)
    assert inst.status == 'running' and inst.next_timer_at > utcnow()  # the 14-day deadline remains
    assert [t.status for t in db.session.scalars(select(HumanTask).where(HumanTask.instance_id == iid))] == ['open']
    assert timers.fire_due() == 0


def test_reminder_links_to_the_open_task_and_reaches_only_the_scope(timer_case):
    iid = timer_case(reminder_after='PT1S')
    _wait_due(iid)
    timers.fire_due()
    task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == iid))
    msg = db.session.scalar(select(Message).where(Message.kind == 'reminder'))
    assert msg.link == f'/inbox/tasks/{task.id}' and msg.title.startswith('审核即将到期')
    assert _reminders('station_shipai') == 0


def test_interrupting_deadline_cancels_the_task(timer_case):
    iid = timer_case(reminder_after='P7D', deadline_after='PT1S')
    _wait_due(iid)
    assert timers.fire_due() == 1
    inst = _instance(iid)
    assert inst.status == 'completed' and inst.next_timer_at is None
    assert db.session.scalar(select(HumanTask.status).where(HumanTask.instance_id == iid)) == 'cancelled'


def test_clock_seam_selects_nothing_before_due(timer_case):
    iid = timer_case(reminder_after='P1D')
    before = _instance(iid).lock_version
    assert timers.fire_due(now=utcnow()) == 0
    # a clock ahead of the engine's: the row is looked at, the engine fires nothing, nothing is written
    assert timers.fire_due(now=utcnow() + timedelta(days=30)) == 0
    assert _instance(iid).lock_version == before


def test_job_enqueued_twice_fires_once(timer_case, with_redis):
    iid = timer_case(reminder_after='PT1S')
    before = _instance(iid).lock_version
    _wait_due(iid)
    jobs.enqueue(fire_instance_timers, iid)
    jobs.enqueue(fire_instance_timers, iid)
    queue = Queue(jobs.QUEUE_NAME, connection=with_redis)
    assert queue.count == 2
    _work(with_redis)
    assert queue.count == 0 and not FailedJobRegistry(queue=queue).get_job_ids()
    assert _reminders() == 1
    assert _instance(iid).lock_version == before + 1


def test_crash_before_commit_leaves_instance_unchanged_then_fires_once(timer_case, with_redis, monkeypatch):
    iid = timer_case(reminder_after='PT1S')
    inst = _instance(iid)
    before = (inst.lock_version, inst.state_json, inst.next_timer_at, inst.stage)
    _wait_due(iid)
    real_save, calls = timers.save_run, []

    def dies_once(instance, run):
        calls.append(instance.id)
        if len(calls) == 1:
            raise SystemExit('worker killed after the engine step, before the commit')
        return real_save(instance, run)

    monkeypatch.setattr(timers, 'save_run', dies_once)
    jobs.enqueue(fire_instance_timers, iid)
    queue = _work(with_redis)
    assert len(FailedJobRegistry(queue=queue).get_job_ids()) == 1
    inst = _instance(iid)
    assert (inst.lock_version, inst.state_json, inst.next_timer_at, inst.stage) == before
    assert _reminders() == 0  # the reminder the service task wrote was rolled back with the rest

    jobs.enqueue(sweep_due_timers)  # the restarted worker's sweep
    _work(with_redis)
    assert _reminders() == 1
    assert _instance(iid).lock_version == before[0] + 1
    jobs.enqueue(sweep_due_timers)
    _work(with_redis)
    assert _reminders() == 1 and len(calls) == 2


def test_one_broken_instance_does_not_stop_the_others(timer_case, monkeypatch, caplog):
    first, second = timer_case(reminder_after='PT1S'), timer_case(reminder_after='PT1S')
    _wait_due(second)
    real_save = timers.save_run

    def broken(instance, run):
        if instance.id == first:
            raise RuntimeError('boom')
        return real_save(instance, run)

    monkeypatch.setattr(timers, 'save_run', broken)
    assert timers.fire_due() == 1
    assert 'boom' in caplog.text
    assert _instance(first).next_timer_at <= utcnow()  # still due: the next sweep retries it


def test_enqueue_waits_for_commit_and_drops_on_rollback(timer_case, with_redis):
    iid = timer_case(reminder_after='P1D')
    queue = Queue(jobs.QUEUE_NAME, connection=with_redis)
    with pytest.raises(RuntimeError):
        with transaction():
            jobs.enqueue(fire_instance_timers, iid)
            assert queue.count == 0
            raise RuntimeError('rolled back')
    assert queue.count == 0
    with transaction():
        jobs.enqueue(fire_instance_timers, iid)
        assert queue.count == 0
    assert queue.count == 1


def test_enqueue_at_schedules_on_rq(timer_case, with_redis):
    iid = timer_case(reminder_after='P1D')
    jobs.enqueue(fire_instance_timers, iid, at=_instance(iid).next_timer_at)
    queue = Queue(jobs.QUEUE_NAME, connection=with_redis)
    assert queue.count == 0 and len(ScheduledJobRegistry(queue=queue).get_job_ids()) == 1


def test_inline_without_redis(timer_case, app, monkeypatch):
    monkeypatch.setitem(app.config, 'REDIS_URL', None)
    iid = timer_case(reminder_after='PT1S')
    _wait_due(iid)
    jobs.enqueue(fire_instance_timers, iid, at=utcnow() + timedelta(hours=1))  # future: sweep's job
    assert _reminders() == 0
    with transaction():
        jobs.enqueue(fire_instance_timers, iid)
        assert _reminders() == 0  # runs only after the commit
    assert _reminders() == 1


def test_repeating_sweep_exists_once(timer_case, with_redis):
    iid = timer_case(reminder_after='PT1S')
    queue = jobs.get_queue(TEST_REDIS_URL)
    first = jobs.ensure_sweep(queue, 60)
    assert jobs.ensure_sweep(queue, 60).id == first.id == jobs.SWEEP_JOB_ID
    assert queue.count == 1
    _wait_due(iid)
    _work(with_redis)
    assert _reminders() == 1
    job = Job.fetch(jobs.SWEEP_JOB_ID, connection=with_redis)
    assert job.get_status() == JobStatus.SCHEDULED  # rq Repeat put it back for the next minute
    assert ScheduledJobRegistry(queue=queue).get_job_ids() == [jobs.SWEEP_JOB_ID]
    jobs.ensure_sweep(queue, 60)
    assert queue.count == 0 and ScheduledJobRegistry(queue=queue).get_job_ids() == [jobs.SWEEP_JOB_ID]


def test_cli(app, timer_case, monkeypatch):
    monkeypatch.setitem(app.config, 'REDIS_URL', None)
    runner = app.test_cli_runner()
    result = runner.invoke(args=['worker', '--burst'])
    assert result.exit_code == 1 and 'REDIS_URL' in result.output
    iid = timer_case(reminder_after='PT1S')
    _wait_due(iid)
    result = runner.invoke(args=['fire-timers'])
    assert result.exit_code == 0 and 'fired timers of 1 instance' in result.output
    assert _reminders() == 1


def test_worker_command_runs_due_jobs(app, timer_case, with_redis, is_postgres):
    if not is_postgres:
        pytest.skip('the forked work horse cannot see an in-memory SQLite database')
    iid = timer_case(reminder_after='PT1S')
    _wait_due(iid)
    result = app.test_cli_runner().invoke(args=['worker', '--burst'])
    assert result.exit_code == 0, result.output
    assert _reminders() == 1
