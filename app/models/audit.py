"""Append-only audit: review decisions and administrative events."""
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Decision(db.Model):
    """One row per completed human task: who, role, org unit, decision, reason, data, version."""

    __tablename__ = 'decision'
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey('workflow_instance.id'))
    human_task_id: Mapped[int | None] = mapped_column(ForeignKey('human_task.id'))
    bpmn_id: Mapped[str] = mapped_column(String(120))
    task_title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(120))  # the task's subject (HumanTask.subject)
    lane: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    role: Mapped[str | None] = mapped_column(String(32))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey('org_unit.id'))
    decision: Mapped[str] = mapped_column(String(16))  # submit approve reject auto ...
    reason: Mapped[str | None] = mapped_column(Text)
    data_json: Mapped[str] = mapped_column(Text, default='{}')
    version: Mapped[int]
    at = mapped_column(UTCDateTime, default=utcnow)
    # where it was made: 'web', 'api' or 'cli' (audit_source stamps it on insert); None for a job, or before sources
    # were recorded (审计日志's 来源)
    via: Mapped[str | None] = mapped_column(String(8))

    actor = relationship('User')
    org_unit = relationship('OrgUnit')


Index('ix_decision_instance', Decision.instance_id, Decision.id)
Index('ix_decision_at', Decision.at, Decision.id)  # 审计日志: newest first


class AuditLog(db.Model):
    """Administrative and security events outside review decisions."""

    __tablename__ = 'audit_log'
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default='')
    detail_json: Mapped[str] = mapped_column(Text, default='{}')
    at = mapped_column(UTCDateTime, default=utcnow)


Index('ix_audit_log_at', AuditLog.at, AuditLog.id)  # 审计日志: newest first
