"""Points ledger: double entry in whole points.

Accounts carry running `balance` and `held` counters; journal entries and their postings are
append-only (corrections are reversal entries); holds reserve points without moving them.
Use app.services.ledger to write: it locks the account rows and keeps the counters in step.
"""
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.message import _english

POINT_TYPES = ('elderly_time', 'service')  # 养老时间积分, 志愿服务积分
ACCOUNT_KINDS = ('volunteer', 'issuance', 'donation_pool', 'redemption_sink', 'project')
ENTRY_KINDS = ('award', 'hold', 'post_hold', 'void_hold', 'spend', 'donate', 'allocate', 'reversal')
HOLD_STATUSES = ('open', 'posted', 'voided')


class LedgerAccount(db.Model):
    """One account per (kind, owner or ref, point type); `key` makes that unique even when owner is NULL."""

    __tablename__ = 'ledger_account'
    __table_args__ = (
        CheckConstraint('allow_negative OR balance >= 0', name='balance_not_negative'),
        CheckConstraint('held >= 0', name='held_not_negative'),
        CheckConstraint('allow_negative OR held <= balance', name='held_within_balance'),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # volunteer:12:elderly_time, issuance:elderly_time
    kind: Mapped[str] = mapped_column(String(32))
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    ref: Mapped[str | None] = mapped_column(String(64))  # e.g. the project of a project account
    point_type: Mapped[str] = mapped_column(String(32), default='elderly_time')
    allow_negative: Mapped[bool] = mapped_column(default=False)  # only the issuance account: the source of points
    balance: Mapped[int] = mapped_column(default=0)
    held: Mapped[int] = mapped_column(default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    owner = relationship('User')

    @property
    def available(self) -> int:
        return self.balance - self.held


Index('ix_ledger_account_owner', LedgerAccount.owner_user_id)


class LedgerEntry(db.Model):
    """A journal entry: one business event, once (unique idempotency key). Never updated or deleted."""

    __tablename__ = 'ledger_entry'
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    point_type: Mapped[str] = mapped_column(String(32), default='elderly_time')
    reason: Mapped[str] = mapped_column(String(500), default='')  # shown to users
    # the reason in English when the app built it (NULL: the same in both, or written before English was kept)
    reason_en: Mapped[str | None] = mapped_column(String(500))
    business_ref: Mapped[str | None] = mapped_column(String(120))  # v_order:12, gift:7
    reverses_entry_id: Mapped[int | None] = mapped_column(ForeignKey('ledger_entry.id'))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    postings = relationship('LedgerPosting', back_populates='entry', lazy='selectin', order_by='LedgerPosting.id')
    created_by = relationship('User')

    @property
    def shown_reason(self) -> str:
        """The reason in the reader's language (English pages and exports: the English text where one was stored)."""
        return self.reason_en if self.reason_en and _english() else self.reason


Index('ix_ledger_entry_business', LedgerEntry.business_ref)
Index('ix_ledger_entry_reverses', LedgerEntry.reverses_entry_id)


class LedgerPosting(db.Model):
    """One leg of an entry: a signed whole-point amount on one account; an entry's legs sum to zero."""

    __tablename__ = 'ledger_posting'
    __table_args__ = (CheckConstraint('amount <> 0', name='amount_not_zero'),)
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey('ledger_entry.id'))
    account_id: Mapped[int] = mapped_column(ForeignKey('ledger_account.id'))
    amount: Mapped[int]

    entry = relationship('LedgerEntry', back_populates='postings')
    account = relationship('LedgerAccount')


Index('ix_ledger_posting_entry', LedgerPosting.entry_id)
Index('ix_ledger_posting_account', LedgerPosting.account_id, LedgerPosting.entry_id)


class LedgerHold(db.Model):
    """Points reserved on an account: open -> posted (moved to the destination) or voided (released)."""

    __tablename__ = 'ledger_hold'
    __table_args__ = (
        CheckConstraint('amount > 0', name='amount_positive'),
        CheckConstraint("status IN ('open', 'posted', 'voided')", name='status_known'),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)  # gift:7
    account_id: Mapped[int] = mapped_column(ForeignKey('ledger_account.id'))
    amount: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default='open')
    business_ref: Mapped[str | None] = mapped_column(String(120))
    hold_entry_id: Mapped[int] = mapped_column(ForeignKey('ledger_entry.id'))
    post_entry_id: Mapped[int | None] = mapped_column(ForeignKey('ledger_entry.id'))
    void_entry_id: Mapped[int | None] = mapped_column(ForeignKey('ledger_entry.id'))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    closed_at = mapped_column(UTCDateTime)

    account = relationship('LedgerAccount')


Index('ix_ledger_hold_account', LedgerHold.account_id, LedgerHold.status)


def _refuse(target):
    raise RuntimeError(f'{type(target).__name__} rows are append-only: post a reversal entry instead')


def _no_update(mapper, connection, target):
    state = inspect(target)
    if any(state.attrs[attr.key].history.has_changes() for attr in mapper.column_attrs):
        _refuse(target)


for _model in (LedgerEntry, LedgerPosting):
    event.listen(_model, 'before_update', _no_update)
    event.listen(_model, 'before_delete', lambda mapper, connection, target: _refuse(target))
