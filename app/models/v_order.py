"""V-orders (耆望成真): the business record behind a v_order instance."""
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class VOrder(db.Model):
    __tablename__ = 'v_order'
    # a repeat of one filled-in publish form (its hidden request_token) is answered with the first order
    __table_args__ = (UniqueConstraint('publisher_id', 'request_token', name='uq_v_order_request_token'),)
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey('workflow_instance.id'), unique=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'))
    # pending_review first_approved rejected open awaiting_dispatch in_progress to_certify certifying
    # done cancelled expired aborted abandoned
    status: Mapped[str] = mapped_column(String(24), default='pending_review')
    title: Mapped[str] = mapped_column(String(60), default='')
    demand_type: Mapped[str] = mapped_column(String(16), default='others')
    category: Mapped[str] = mapped_column(String(16), default='general')
    service_item: Mapped[str] = mapped_column(String(32), default='')
    street_id: Mapped[int] = mapped_column(ForeignKey('org_unit.id'))
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    address: Mapped[str] = mapped_column(String(200), default='')
    start_at = mapped_column(UTCDateTime)
    end_at = mapped_column(UTCDateTime)
    volunteers_needed: Mapped[int] = mapped_column(default=1)
    needs: Mapped[str] = mapped_column(Text, default='')
    special_notes: Mapped[str] = mapped_column(Text, default='')
    dispatch_mode: Mapped[str | None] = mapped_column(String(16))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey('org_unit.id'))
    overdue: Mapped[bool] = mapped_column(default=False)
    reminders_json: Mapped[str] = mapped_column(Text, default='[]')
    rating_json: Mapped[str | None] = mapped_column(Text)
    certification_json: Mapped[str | None] = mapped_column(Text)
    data_json: Mapped[str] = mapped_column(Text, default='{}')
    request_token: Mapped[str | None] = mapped_column(String(64))
    closed_reason: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)  # every UPDATE of the order

    street = relationship('OrgUnit', foreign_keys=[street_id], lazy='joined')
    provider = relationship('OrgUnit', foreign_keys=[provider_id])
    publisher = relationship('User')
    instance = relationship('WorkflowInstance')
    volunteers = relationship('VOrderVolunteer', back_populates='order', order_by='VOrderVolunteer.id')


Index('ix_v_order_status', VOrder.status, VOrder.street_id)
Index('ix_v_order_publisher', VOrder.publisher_id, VOrder.id)


class VOrderObject(db.Model):
    """The service objects one (batch) order serves."""

    __tablename__ = 'v_order_object'
    order_id: Mapped[int] = mapped_column(ForeignKey('v_order.id'), primary_key=True)
    service_object_id: Mapped[int] = mapped_column(ForeignKey('service_object.id'), primary_key=True)

    service_object = relationship('ServiceObject', lazy='joined')


class VOrderVolunteer(db.Model):
    """A volunteer who accepted (or was dispatched to) an order, and the station's decision on them."""

    __tablename__ = 'v_order_volunteer'
    __table_args__ = (UniqueConstraint('order_id', 'user_id'),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey('v_order.id'), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'), index=True)
    status: Mapped[str] = mapped_column(String(16), default='pending')  # pending approved rejected
    via_provider_id: Mapped[int | None] = mapped_column(ForeignKey('org_unit.id'))
    note: Mapped[str] = mapped_column(String(200), default='')
    hours: Mapped[float | None]
    points_awarded: Mapped[int] = mapped_column(default=0)
    accepted_at = mapped_column(UTCDateTime, default=utcnow)
    decided_at = mapped_column(UTCDateTime)

    order = relationship('VOrder', back_populates='volunteers')
    user = relationship('User', lazy='joined')
