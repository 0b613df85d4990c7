"""Timer jobs: fire one instance's due timers, or sweep every due instance (repeats via rq Repeat); the sweep also
deletes the export files past their keeping period."""
import logging

from app.jobs.context import job_context
from app.jobs.exports import purge_expired_exports
from app.services import timers

log = logging.getLogger(__name__)
SWEEP_LIMIT = 500


def fire_instance_timers(instance_id: int) -> bool:
    """Fire the due timers of one instance (a no-op if another worker already did)."""
    with job_context():
        return timers.fire_instance(instance_id)


def sweep_due_timers() -> int:
    """Fire every due timer, then purge expired exports (its own transaction: a failing timer never keeps
    personal data longer); never raises, so the repeating sweep keeps its schedule."""
    try:
        with job_context():
            fired = timers.fire_due(limit=SWEEP_LIMIT)
    except Exception:
        log.exception('timer sweep failed')
        fired = 0
    purge_expired_exports()
    return fired
