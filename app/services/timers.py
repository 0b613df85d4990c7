"""Fire due workflow timers: one instance per transaction, each row locked so two workers never fire it twice."""
import logging

from sqlalchemy import select

from app.extensions import db
from app.models import WorkflowInstance
from app.models.base import utcnow
from app.services import transaction
from app.services.instances import EngineFailure, load_run, save_run
from workflows import EngineError

log = logging.getLogger(__name__)


def due_instance_ids(now=None, limit: int = 100) -> list[int]:
    """Running instances whose earliest timer is due, oldest due first."""
    now = now or utcnow()
    ids = list(db.session.scalars(select(WorkflowInstance.id).where(
        WorkflowInstance.status == 'running', WorkflowInstance.next_timer_at <= now)
        .order_by(WorkflowInstance.next_timer_at, WorkflowInstance.id).limit(limit)))
    return ids


def fire_instance(instance_id: int, now=None) -> bool:
    """Fire the due timers of one instance; False when it was not due (any more) or is locked elsewhere."""
    now = now or utcnow()
    with transaction():
        # FOR UPDATE SKIP LOCKED on PostgreSQL: a busy row is somebody else's; SQLite ignores the clause
        instance = db.session.scalar(
            select(WorkflowInstance).where(WorkflowInstance.id == instance_id)
            .with_for_update(skip_locked=True, of=WorkflowInstance).execution_options(populate_existing=True))
        if instance is None or instance.status != 'running':
            return False
        if instance.next_timer_at is None or instance.next_timer_at > now:
            return False  # another worker fired it already
        run = load_run(instance)
        before = instance.state_json
        try:
            run.fire_timers()
        except EngineError as exc:
            raise EngineFailure(str(exc)) from exc
        if run.dump() == before and run.next_timer_at() == instance.next_timer_at:
            return False  # the engine's clock says not yet due: nothing to write
        save_run(instance, run)
    return True


def fire_due(now=None, limit: int = 100) -> int:
    """Fire every due timer (up to `limit` instances); returns how many instances fired.

    A failing instance is logged and skipped; its next_timer_at stays, so the next sweep retries it."""
    now = now or utcnow()
    fired = 0
    for instance_id in due_instance_ids(now, limit):
        try:
            fired += fire_instance(instance_id, now)
        except Exception:  # one broken instance must not stop the others
            log.exception('firing timers of instance %s failed', instance_id)
    return fired
