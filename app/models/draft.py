"""Diagram drafts: an administrator's saved, not yet published edit of a process."""
from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class WorkflowDraft(db.Model):
    """One saved draft; publishing points it at the version it became (never edited afterwards)."""

    __tablename__ = 'workflow_draft'
    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(64))
    xml = deferred(mapped_column(LargeBinary))
    problems_json: Mapped[str] = mapped_column(Text, default='[]')
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    published_version_id: Mapped[int | None] = mapped_column(ForeignKey('workflow_version.id'))
    # the published version number the edit started from: publishing is refused once a newer one exists
    base_version: Mapped[int | None] = mapped_column(Integer)

    created_by = relationship('User')
    published_version = relationship('WorkflowVersion')


Index('ix_draft_process', WorkflowDraft.process_key, WorkflowDraft.id)
