"""Service objects (服务对象): one row per submitted version."""
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class ServiceObject(db.Model):
    __tablename__ = 'service_object'
    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18))
    version: Mapped[int] = mapped_column(default=1)
    instance_id: Mapped[int] = mapped_column(ForeignKey('workflow_instance.id'))
    status: Mapped[str] = mapped_column(String(16), default='pending')  # pending approved rejected abandoned
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(32))
    gender: Mapped[str] = mapped_column(String(8))
    birth_date: Mapped[str] = mapped_column(String(10))
    household_street_id: Mapped[int] = mapped_column(ForeignKey('org_unit.id'))
    residence_street_id: Mapped[int] = mapped_column(ForeignKey('org_unit.id'))
    data_json: Mapped[str] = mapped_column(Text)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    decided_at = mapped_column(UTCDateTime)

    household_street = relationship('OrgUnit', foreign_keys=[household_street_id], lazy='joined')
    residence_street = relationship('OrgUnit', foreign_keys=[residence_street_id], lazy='joined')
    instance = relationship('WorkflowInstance')


Index('ix_service_object_idno', ServiceObject.id_number, ServiceObject.version)
Index('ix_service_object_instance', ServiceObject.instance_id)
Index('ix_service_object_status', ServiceObject.status, ServiceObject.created_at)
# one live (pending or approved) row per ID number: duplicate entries cannot slip in concurrently
Index('uq_service_object_live_idno', ServiceObject.id_number, unique=True,
      postgresql_where=ServiceObject.status.in_(['pending', 'approved']),
      sqlite_where=ServiceObject.status.in_(['pending', 'approved']))
