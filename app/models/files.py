"""Uploaded files; bytes kept in the database so an upload commits or rolls back with its use case."""
from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class StoredFile(db.Model):
    __tablename__ = 'stored_file'
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(255))
    content = deferred(mapped_column(LargeBinary))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)


class InstanceFile(db.Model):
    """Files attached to a case; downloading one needs the right to see the case."""

    __tablename__ = 'instance_file'
    instance_id: Mapped[int] = mapped_column(ForeignKey('workflow_instance.id'), primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey('stored_file.id'), primary_key=True, index=True)
