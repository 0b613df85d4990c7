"""Export job: write the .xlsx of one queued export (rq entry point; inline without Redis)."""
from app.jobs import enqueue
from app.jobs.context import job_context
from app.services import exports


def run_export(job_id: int) -> bool:
    with job_context():
        return exports.run(job_id)


def schedule_export(job_id: int) -> None:
    """Queue run_export once the requesting transaction commits (inline when there is no Redis)."""
    enqueue(run_export, job_id)
