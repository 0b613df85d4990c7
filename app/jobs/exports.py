"""Export jobs: write the .xlsx of one queued export (rq entry point; inline without Redis), and delete the files
past their keeping period (run by the timer sweep)."""
import logging

from app.jobs import enqueue
from app.jobs.context import job_context
from app.services import exports

log = logging.getLogger(__name__)


def run_export(job_id: int) -> bool:
    with job_context():
        return exports.run(job_id)


def schedule_export(job_id: int) -> None:
    """Queue run_export once the requesting transaction commits (inline when there is no Redis)."""
    enqueue(run_export, job_id)


def purge_expired_exports() -> int:
    """Delete the files of the exports past EXPORT_KEEP_DAYS; never raises (it runs inside the repeating sweep)."""
    try:
        with job_context():
            return exports.purge_expired()
    except Exception:
        log.exception('export purge failed')
        return 0
