"""Published processes as users see them."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import WorkflowVersion
from app.services.step_names import step_name


def published_processes() -> list[dict]:
    """Latest published version of every process key; its name in the reader's language (as the pages show it)."""
    latest = select(WorkflowVersion.process_key, func.max(WorkflowVersion.version).label('v')).group_by(
        WorkflowVersion.process_key).subquery()
    rows = db.session.scalars(select(WorkflowVersion).join(latest, (WorkflowVersion.process_key == latest.c.process_key)
                                                           & (WorkflowVersion.version == latest.c.v))
                              .order_by(WorkflowVersion.process_key))
    return [{'key': v.process_key, 'name': step_name(v.name), 'version': v.version,
             'published_at': v.published_at.isoformat() if v.published_at else None} for v in rows]
