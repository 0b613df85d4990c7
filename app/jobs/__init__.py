"""Background jobs on rq queue 'timebank'; inline after the commit when REDIS_URL is not configured."""
import logging
import threading
import time
from datetime import UTC, datetime

from flask import current_app
from redis import Redis
from rq import Queue, Repeat
from rq.job import Job, JobStatus

from app.jobs.context import inline
from app.services import after_commit

QUEUE_NAME = 'timebank'
SWEEP_JOB_ID = 'timebank-timer-sweep'
JOB_TIMEOUT = 300
log = logging.getLogger(__name__)


def redis_url() -> str | None:
    return current_app.config.get('REDIS_URL')


def connection(url: str | None = None) -> Redis:
    return Redis.from_url(url or redis_url())


def get_queue(url: str | None = None) -> Queue:
    return Queue(QUEUE_NAME, connection=connection(url), default_timeout=JOB_TIMEOUT)


def enqueue(func, *args, at: datetime | None = None, job_id: str | None = None) -> None:
    """Run func(*args) in the background once the current transaction has committed (at `at` if given)."""
    url = redis_url()
    if url:
        after_commit(lambda: _push(url, func, args, at, job_id))
        return
    if at is not None and at > datetime.now(UTC):
        return  # no scheduler without Redis: the periodic sweep (`flask fire-timers`) picks it up
    after_commit(lambda: _run_inline(func, args))


def _push(url, func, args, at, job_id) -> None:
    try:
        queue = get_queue(url)
        if at is not None:
            queue.enqueue_at(at, func, *args, job_id=job_id)
        else:
            queue.enqueue(func, *args, job_id=job_id)
    except Exception:  # the commit stands; the sweep retries timers, so log instead of failing the request
        log.exception('could not enqueue %s%r', getattr(func, '__name__', func), args)


def _run_inline(func, args) -> None:
    try:
        with inline():
            func(*args)
    except Exception:
        log.exception('inline job %s%r failed', getattr(func, '__name__', func), args)


def ensure_sweep(queue: Queue, interval: int) -> Job:
    """One repeating timer sweep per Redis: (re)create it unless a live one exists under SWEEP_JOB_ID."""
    from app.jobs.timers import sweep_due_timers

    try:
        job = Job.fetch(SWEEP_JOB_ID, connection=queue.connection)
        if job.get_status(refresh=False) in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED):
            return job
    except Exception:  # NoSuchJobError, or an unreadable stale hash
        pass
    return queue.enqueue(sweep_due_timers, job_id=SWEEP_JOB_ID, repeat=Repeat(times=10**6, interval=interval),
                         result_ttl=interval * 2, failure_ttl=86400, description='fire due workflow timers')


_last_inline_sweep = 0.0
_inline_sweep_lock = threading.Lock()


def install_inline_sweep(app) -> None:
    """The embedded default has no worker: after a request, fire the due workflow timers (order expiry, reminders,
    overdue marks) and delete expired export files at most once every INLINE_TIMER_SWEEP_SECONDS. With REDIS_URL
    the worker's sweep does it."""

    @app.after_request
    def _sweep_due_timers(response):
        interval = app.config.get('INLINE_TIMER_SWEEP_SECONDS') or 0
        if interval and not app.config.get('REDIS_URL'):
            sweep_now_and_then(interval)
        return response


def sweep_now_and_then(interval: float) -> bool:
    """Run the timer sweep unless one ran within `interval` seconds or is running now; True when it ran."""
    global _last_inline_sweep
    if time.monotonic() - _last_inline_sweep < interval or not _inline_sweep_lock.acquire(blocking=False):
        return False
    try:
        _last_inline_sweep = time.monotonic()
        from app.jobs.timers import sweep_due_timers
        sweep_due_timers()  # its own app context and session: the request's are left as they are
        return True
    finally:
        _inline_sweep_lock.release()
