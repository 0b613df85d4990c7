"""Volunteer activities (志愿活动), the sensitive-word list and the unit white/black lists."""
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Activity(db.Model):
    """One row per submitted version of an activity; the published one is listed publicly."""

    __tablename__ = 'activity'
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey('workflow_instance.id'))
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default='pending')  # pending published rejected abandoned
    title: Mapped[str] = mapped_column(String(120))
    service_field: Mapped[str] = mapped_column(String(32))
    tags_json: Mapped[str] = mapped_column(Text, default='[]')
    street_id: Mapped[int] = mapped_column(ForeignKey('org_unit.id'))
    place: Mapped[str] = mapped_column(String(200))
    start_at = mapped_column(UTCDateTime)
    end_at = mapped_column(UTCDateTime)
    recruit_count: Mapped[int]
    description: Mapped[str] = mapped_column(Text)
    team_id: Mapped[int] = mapped_column(ForeignKey('org_unit.id'))
    is_veterans: Mapped[bool] = mapped_column(default=False)
    reject_stage: Mapped[str | None] = mapped_column(String(16))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    decided_at = mapped_column(UTCDateTime)
    published_at = mapped_column(UTCDateTime)

    street = relationship('OrgUnit', foreign_keys=[street_id], lazy='joined')
    team = relationship('OrgUnit', foreign_keys=[team_id], lazy='joined')
    instance = relationship('WorkflowInstance')

    @property
    def has_ended(self) -> bool:
        return self.end_at is not None and self.end_at < utcnow()


Index('ix_activity_instance', Activity.instance_id, Activity.version)
Index('ix_activity_status', Activity.status, Activity.start_at)


class SensitiveWord(db.Model):
    """A word 广志协 blocks; `normalized` is what the matcher compares (NFKC, lower case, no separators)."""

    __tablename__ = 'sensitive_word'
    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(100))
    normalized: Mapped[str] = mapped_column(String(100), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    created_by = relationship('User')


class UnitListEntry(db.Model):
    """A team or station on 广志协's whitelist (白名单) or blacklist (黑名单)."""

    __tablename__ = 'unit_list_entry'
    __table_args__ = (UniqueConstraint('kind', 'org_unit_id'),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # white black
    org_unit_id: Mapped[int] = mapped_column(ForeignKey('org_unit.id'))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    org_unit = relationship('OrgUnit', lazy='joined')
    created_by = relationship('User')


Index('ix_unit_list_unit', UnitListEntry.org_unit_id)


class ListVersion(db.Model):
    """A counter bumped by every change of a list, so caches in every worker know when to rebuild."""

    __tablename__ = 'list_version'
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
