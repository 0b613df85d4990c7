"""Points shop (积分商城): redemption resources, personal redemptions and gift-to-relative requests.

Stock works like the points ledger: a gift request reserves one unit (`reserved`) when it is
submitted, approval takes it from `stock`, rejection or expiry releases it. The CHECK constraints
keep `reserved <= stock` and both non-negative whatever the code does.
"""
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.message import _english

SECTIONS = ('goods', 'elderly_care', 'other', 'charity')
ITEM_STATUSES = ('pending', 'approved', 'rejected')
GIFT_STATUSES = ('pending', 'approved', 'rejected', 'expired')


class ShopItem(db.Model):
    """A redemption resource of one district; on sale only once that district's bureau approved it."""

    __tablename__ = 'shop_item'
    __table_args__ = (
        CheckConstraint('stock >= 0', name='stock_not_negative'),
        CheckConstraint('reserved >= 0', name='reserved_not_negative'),
        CheckConstraint('reserved <= stock', name='reserved_within_stock'),
        CheckConstraint('price >= 0', name='price_not_negative'),
        CheckConstraint("section <> 'elderly_care' OR point_type = 'elderly_time'", name='elderly_care_paid_with_time'),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    section: Mapped[str] = mapped_column(String(16))  # goods elderly_care other charity
    description: Mapped[str] = mapped_column(Text, default='')
    price: Mapped[int] = mapped_column(default=0)  # points per unit; 0 for charity projects (any amount)
    point_type: Mapped[str] = mapped_column(String(32), default='elderly_time')
    stock: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)  # units held by gift requests under review
    district_id: Mapped[int] = mapped_column(ForeignKey('org_unit.id'))
    provider_name: Mapped[str] = mapped_column(String(120), default='')
    status: Mapped[str] = mapped_column(String(16), default='pending')
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    reviewed_at = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    district = relationship('OrgUnit', lazy='joined')
    reviewed_by = relationship('User', foreign_keys=[reviewed_by_id])

    @property
    def available(self) -> int:
        return self.stock - self.reserved


Index('ix_shop_item_sale', ShopItem.status, ShopItem.section, ShopItem.id)
Index('ix_shop_item_district', ShopItem.district_id, ShopItem.status)


class ShopRedemption(db.Model):
    """个人兑换: points spent and one unit taken at once; `request_token` makes a double tap harmless."""

    __tablename__ = 'shop_redemption'
    __table_args__ = (UniqueConstraint('user_id', 'request_token', name='uq_redemption_token'),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey('shop_item.id'))
    user_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'))
    request_token: Mapped[str] = mapped_column(String(64))
    points: Mapped[int]
    point_type: Mapped[str] = mapped_column(String(32))
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey('ledger_entry.id'))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    item = relationship('ShopItem', lazy='joined')


Index('ix_shop_redemption_user', ShopRedemption.user_id, ShopRedemption.id)


class GiftRequest(db.Model):
    """赠予直系亲属: the business record behind a relative_gift instance."""

    __tablename__ = 'gift_request'
    __table_args__ = (UniqueConstraint('volunteer_id', 'request_token', name='uq_gift_token'),)
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey('workflow_instance.id'), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey('shop_item.id'))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'))
    request_token: Mapped[str | None] = mapped_column(String(64))
    relative_name: Mapped[str] = mapped_column(String(40))
    relation: Mapped[str] = mapped_column(String(16))
    relative_phone: Mapped[str] = mapped_column(String(20))
    relative_id_number: Mapped[str] = mapped_column(String(18))
    kinship_files_json: Mapped[str] = mapped_column(Text, default='[]')
    points: Mapped[int]
    point_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default='pending')
    stock_state: Mapped[str] = mapped_column(String(16), default='none')  # none reserved taken released
    reason: Mapped[str | None] = mapped_column(Text)  # rejection reason (as typed) or why the request expired
    logistics: Mapped[str | None] = mapped_column(Text)
    # the app-built texts above in English (NULL: the same in both, e.g. a reviewer's words, or older rows)
    reason_en: Mapped[str | None] = mapped_column(Text)
    logistics_en: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    decided_at = mapped_column(UTCDateTime)

    item = relationship('ShopItem', lazy='joined')
    volunteer = relationship('User')
    instance = relationship('WorkflowInstance')

    @property
    def shown_reason(self) -> str | None:
        """The reason in the reader's language (see Message.shown_title)."""
        return self.reason_en if self.reason_en and _english() else self.reason

    @property
    def shown_logistics(self) -> str | None:
        return self.logistics_en if self.logistics_en and _english() else self.logistics


Index('ix_gift_request_volunteer', GiftRequest.volunteer_id, GiftRequest.id)
Index('ix_gift_request_item', GiftRequest.item_id, GiftRequest.status)


FULFILMENT_STATUSES = ('pending', 'arranged', 'delivered')


class ShopFulfilment(db.Model):
    """What an item's holder (the org unit that provides it) hands over for one 个人兑换 or one approved gift: who,
    what and whom to contact, and the holder's 已安排 / 已发放 with a note the volunteer reads."""

    __tablename__ = 'shop_fulfilment'
    __table_args__ = (
        UniqueConstraint('redemption_id', name='uq_fulfilment_redemption'),
        UniqueConstraint('gift_id', name='uq_fulfilment_gift'),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey('shop_item.id'))
    holder_unit_id: Mapped[int] = mapped_column(ForeignKey('org_unit.id'))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'))
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey('shop_redemption.id'))  # 个人兑换
    gift_id: Mapped[int | None] = mapped_column(ForeignKey('gift_request.id'))  # 赠予直系亲属
    recipient_name: Mapped[str] = mapped_column(String(40))  # the volunteer, or the relative a gift is for
    recipient_phone: Mapped[str] = mapped_column(String(20), default='')
    status: Mapped[str] = mapped_column(String(16), default='pending')
    note: Mapped[str | None] = mapped_column(String(500))  # the holder's words to the volunteer (where, when)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    updated_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    item = relationship('ShopItem', lazy='joined')
    holder = relationship('OrgUnit', lazy='joined')
    volunteer = relationship('User', foreign_keys=[volunteer_id])
    updated_by = relationship('User', foreign_keys=[updated_by_id])


Index('ix_shop_fulfilment_holder', ShopFulfilment.holder_unit_id, ShopFulfilment.status, ShopFulfilment.id)
Index('ix_shop_fulfilment_volunteer', ShopFulfilment.volunteer_id, ShopFulfilment.id)
