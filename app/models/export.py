"""Excel exports (.xlsx) of lists: one row per request, with its progress and, once done, the file."""
from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class ExportJob(db.Model):
    __tablename__ = 'export_job'
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'))
    kind: Mapped[str] = mapped_column(String(32))
    params_json: Mapped[str] = mapped_column(Text, default='{}')  # the filters, as the requester set them
    status: Mapped[str] = mapped_column(String(16), default='queued')  # queued running done failed expired (file deleted)
    total_rows: Mapped[int | None]
    done_rows: Mapped[int] = mapped_column(default=0)
    file_name: Mapped[str] = mapped_column(String(120), default='')
    content = deferred(mapped_column(LargeBinary))
    size: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    started_at = mapped_column(UTCDateTime)
    finished_at = mapped_column(UTCDateTime)

    user = relationship('User')


Index('ix_export_job_user', ExportJob.user_id, ExportJob.id)
