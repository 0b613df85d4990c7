"""Points ledger (养老时间积分): awards, holds, spends, donations, reversals, statements, reconciliation.

Double entry in whole points. Every writer runs inside `with transaction():`, so it joins the caller's
use case (the V-order certification, the gift review) or commits on its own. Writers lock the
involved account rows (`SELECT ... FOR UPDATE`, ordered by id) before reading balances, so two
concurrent spends of the same points cannot both pass on PostgreSQL; the CHECK constraints on
`ledger_account` are the last line of defence. Every business event carries a unique idempotency
key (`award:{order}:{volunteer}`, `gift:{request}`): repeating a call with the same key returns
what the first call wrote and writes nothing. Never key on an engine task id (a reset re-runs tasks).

A reason the app builds is stored in Chinese and English (the reader's language is unknown when the entry is
written): writers pass it as a lazy string or a function that builds it in the current language (see
`messages.in_both`); a plain string reads the same in both. `LedgerEntry.shown_reason` picks the reader's.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, union
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import LedgerAccount, LedgerEntry, LedgerHold, LedgerPosting
from app.models.base import utcnow
from app.services import transaction
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.messages import in_both

ELDERLY_TIME = 'elderly_time'
# system account kinds -> may the balance go below zero (only the issuance account: the source of points)
SYSTEM_KINDS = {'issuance': True, 'donation_pool': False, 'redemption_sink': False, 'project': False}


class InsufficientPoints(ValidationFailed):
    """More points asked for than the account has available (balance minus open holds)."""

    code = 'insufficient_points'

    def __init__(self, available: int, needed: int):
        self.available, self.needed = available, needed
        super().__init__({'points': [_l('可用积分不足：可用 %(a)s 分，需要 %(n)s 分', a=available, n=needed)]})


# ---------------------------------------------------------------- accounts

def _user_id(user) -> int:
    return getattr(user, 'id', user)


def volunteer_key(user, point_type: str = ELDERLY_TIME) -> str:
    return f'volunteer:{_user_id(user)}:{point_type}'


def system_key(kind: str, point_type: str = ELDERLY_TIME, ref: str | None = None) -> str:
    return f'{kind}:{ref}:{point_type}' if ref is not None else f'{kind}:{point_type}'


def _volunteer_spec(user, point_type: str) -> tuple[str, dict]:
    """(unique key, the fields of a new row) of a volunteer's account."""
    return volunteer_key(user, point_type), {'kind': 'volunteer', 'owner_user_id': _user_id(user),
                                             'point_type': point_type, 'allow_negative': False}


def _system_spec(kind: str, point_type: str, ref: str | None = None) -> tuple[str, dict]:
    """issuance / donation_pool / redemption_sink, or a project account (`ref` = the project)."""
    if kind not in SYSTEM_KINDS:
        raise ValueError(f'unknown system account kind {kind!r}')
    if (kind == 'project') != (ref is not None):
        raise ValueError('a project account needs ref=<project>, other system accounts take no ref')
    return system_key(kind, point_type, ref), {'kind': kind, 'ref': ref, 'point_type': point_type,
                                               'allow_negative': SYSTEM_KINDS[kind]}


def _create(key: str, fields: dict) -> None:
    """Race-safe insert on the unique key: a concurrent creator makes ours a no-op."""
    values = {'key': key, 'balance': 0, 'held': 0, 'created_at': utcnow(), **fields}
    dialect = db.session.get_bind().dialect.name
    if dialect in ('postgresql', 'sqlite'):
        insert = pg_insert if dialect == 'postgresql' else sqlite_insert
        db.session.execute(insert(LedgerAccount).values(**values).on_conflict_do_nothing(index_elements=['key']))
    else:
        try:
            with db.session.begin_nested():
                db.session.add(LedgerAccount(**values))
        except IntegrityError:
            pass


def _get_or_create(key: str, fields: dict) -> LedgerAccount:
    account = db.session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))
    if account is not None:
        return account
    _create(key, fields)
    return db.session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))


def _locked(*specs) -> list[LedgerAccount]:
    """The accounts of `specs` [(key, fields)], created when missing, locked (`SELECT ... FOR UPDATE` in id
    order: no deadlocks) with fresh counters; one statement when they all exist. One account per spec."""
    db.session.flush()
    keys = list(dict.fromkeys(key for key, _ in specs))
    found = {a.key: a for a in _lock_where(LedgerAccount.key.in_(keys))}
    missing = {key: fields for key, fields in specs if key not in found}
    if missing:
        for key, fields in missing.items():
            _create(key, fields)
        found = {a.key: a for a in _lock_where(LedgerAccount.key.in_(keys))}
    return [found[key] for key, _ in specs]


def _lock_where(condition) -> list[LedgerAccount]:
    """SELECT ... FOR UPDATE the matching accounts in id order (no deadlocks), refreshing their counters."""
    return list(db.session.scalars(select(LedgerAccount).where(condition).order_by(LedgerAccount.id)
                                   .with_for_update().execution_options(populate_existing=True)))


def account_for(user, point_type: str = ELDERLY_TIME) -> LedgerAccount:
    """The volunteer's account for this point type, created empty on first use."""
    with transaction():
        return _get_or_create(*_volunteer_spec(user, point_type))


def system_account(kind: str, point_type: str = ELDERLY_TIME, *, ref: str | None = None) -> LedgerAccount:
    """issuance / donation_pool / redemption_sink, or a project account (`ref` = the project)."""
    with transaction():
        return _get_or_create(*_system_spec(kind, point_type, ref))


def _find_account(user, point_type: str) -> LedgerAccount | None:
    return db.session.scalar(select(LedgerAccount).where(LedgerAccount.key == volunteer_key(user, point_type)))


# ---------------------------------------------------------------- internals

def _check_amount(amount) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationFailed({'amount': [_l('积分数量必须是正整数')]})


def _lock(accounts) -> None:
    """Lock accounts already loaded (see `_lock_where`)."""
    db.session.flush()
    _lock_where(LedgerAccount.id.in_({a.id for a in accounts}))


def _merge(legs) -> list[tuple[LedgerAccount, int]]:
    totals: dict[int, list] = {}
    for account, amount in legs:
        totals.setdefault(account.id, [account, 0])[1] += amount
    return [(a, n) for a, n in totals.values() if n]


def _require_available(account: LedgerAccount, amount: int) -> None:
    if not account.allow_negative and account.available < amount:
        raise InsufficientPoints(max(account.available, 0), amount)


def _key_reused(key: str):
    return Conflict(_l('记账编号 %(k)s 已用于另一笔不同的积分记录', k=key), code='ledger_key_reused')


def _existing_entry(key: str, kind: str, legs) -> LedgerEntry | None:
    """The entry already written under this key, after checking it is the same event."""
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))
    if entry is None:
        return None
    same = sorted((p.account_id, p.amount) for p in entry.postings) == sorted((a.id, n) for a, n in legs)
    if entry.kind != kind or not same:
        raise _key_reused(key)
    return entry


def _write(kind: str, key: str, legs, *, reason, business_ref, point_type, actor=None,
           reverses: int | None = None) -> LedgerEntry:
    """Insert one entry with its postings and move the balances (accounts already locked and checked)."""
    assert sum(n for _, n in legs) == 0, 'postings of an entry must sum to zero'
    reason, reason_en = in_both(reason)
    entry = LedgerEntry(idempotency_key=key, kind=kind, point_type=point_type, reason=reason, reason_en=reason_en,
                        business_ref=business_ref, reverses_entry_id=reverses,
                        created_by_id=_user_id(actor) if actor is not None else None, created_at=utcnow())
    db.session.add(entry)
    for account, amount in legs:
        account.balance += amount
        db.session.add(LedgerPosting(entry=entry, account_id=account.id, amount=amount))
    db.session.flush()
    return entry


def _move(kind: str, key: str, src_spec, dst_spec, amount: int, *, reason, business_ref, actor=None) -> LedgerEntry:
    """Move points between the accounts of two specs: lock both, then `_transfer`."""
    _check_amount(amount)
    src, dst = _locked(src_spec, dst_spec)
    return _transfer(kind, key, src, dst, amount, reason=reason, business_ref=business_ref, actor=actor)


def _transfer(kind: str, key: str, src: LedgerAccount, dst: LedgerAccount, amount: int, *, reason, business_ref,
              actor=None) -> LedgerEntry:
    """One entry src -> dst, once per key (both accounts already locked by this transaction)."""
    if src.point_type != dst.point_type:
        raise ValueError('points of different types cannot be moved between accounts')
    legs = _merge([(src, -amount), (dst, amount)])
    existing = _existing_entry(key, kind, legs)
    if existing is not None:
        return existing
    _require_available(src, amount)
    return _write(kind, key, legs, reason=reason, business_ref=business_ref, point_type=src.point_type, actor=actor)


# ---------------------------------------------------------------- writers

def award(user, amount: int, *, key: str, reason, business_ref: str | None = None, actor=None,
          point_type: str = ELDERLY_TIME) -> LedgerEntry:
    """Issue points to a volunteer (issuance -> volunteer), once per key."""
    with transaction():
        _check_amount(amount)
        return _move('award', key, _system_spec('issuance', point_type), _volunteer_spec(user, point_type), amount,
                     reason=reason, business_ref=business_ref, actor=actor)


def award_many(awards, *, reason, business_ref: str | None = None, actor=None,
               point_type: str = ELDERLY_TIME) -> list[LedgerEntry]:
    """Several awards in one go, e.g. every volunteer of a certified V-order: `awards` is
    [(user, amount, key), ...]. All accounts are locked up front in id order, in one statement, so two such
    calls cannot deadlock each other."""
    with transaction():
        for _, amount, _ in awards:
            _check_amount(amount)
        issuance, *accounts = _locked(_system_spec('issuance', point_type),
                                      *(_volunteer_spec(u, point_type) for u, _, _ in awards))
        return [_transfer('award', key, issuance, account, amount, reason=reason, business_ref=business_ref,
                          actor=actor) for account, (_, amount, key) in zip(accounts, awards, strict=True)]


def spend(user, amount: int, *, key: str, reason, business_ref: str | None = None, to_kind: str = 'redemption_sink',
          to_ref: str | None = None, actor=None, point_type: str = ELDERLY_TIME) -> LedgerEntry:
    """Spend available points at once (no review): volunteer -> a system account."""
    with transaction():
        _check_amount(amount)
        return _move('spend', key, _volunteer_spec(user, point_type), _system_spec(to_kind, point_type, to_ref),
                     amount, reason=reason, business_ref=business_ref, actor=actor)


def donate(user, amount: int, *, key: str, reason, business_ref: str | None = None, to_kind: str = 'donation_pool',
           to_ref: str | None = None, actor=None, point_type: str = ELDERLY_TIME) -> LedgerEntry:
    """积分公益: give points to the 公益池 pool (elderly time points only) or to a project (to_ref)."""
    if to_kind not in ('donation_pool', 'project'):
        raise ValueError('points can be donated to the donation pool or a project only')
    if to_kind == 'donation_pool' and point_type != ELDERLY_TIME:
        raise ValidationFailed({'points': [_l('只有养老时间积分可以捐入公益池')]})
    with transaction():
        _check_amount(amount)
        return _move('donate', key, _volunteer_spec(user, point_type), _system_spec(to_kind, point_type, to_ref),
                     amount, reason=reason, business_ref=business_ref, actor=actor)


def allocate(user, amount: int, *, key: str, reason, business_ref: str | None = None, from_kind: str = 'donation_pool',
             from_ref: str | None = None, actor=None, point_type: str = ELDERLY_TIME) -> LedgerEntry:
    """广志协 allocates pooled (or project) points to a volunteer."""
    with transaction():
        _check_amount(amount)
        return _move('allocate', key, _system_spec(from_kind, point_type, from_ref),
                     _volunteer_spec(user, point_type), amount, reason=reason, business_ref=business_ref, actor=actor)


def hold(user, amount: int, *, key: str, reason, business_ref: str | None = None, actor=None,
         point_type: str = ELDERLY_TIME) -> LedgerHold:
    """Reserve points (available drops, balance stays) until post_hold or void_hold; once per key.

    The hold's entries are keyed `{key}:hold`, `{key}:post`, `{key}:void`.
    """
    with transaction():
        _check_amount(amount)
        account, = _locked(_volunteer_spec(user, point_type))
        existing = db.session.scalar(select(LedgerHold).where(LedgerHold.idempotency_key == key))
        if existing is not None:
            if existing.account_id != account.id or existing.amount != amount:
                raise _key_reused(key)
            return existing
        _require_available(account, amount)
        account.held += amount
        entry = _write('hold', f'{key}:hold', [], reason=reason, business_ref=business_ref, point_type=point_type,
                       actor=actor)
        held = LedgerHold(idempotency_key=key, account_id=account.id, amount=amount, status='open',
                          business_ref=business_ref, hold_entry_id=entry.id, created_at=utcnow())
        db.session.add(held)
        db.session.flush()
        return held


def _find_hold(ref) -> LedgerHold:
    if isinstance(ref, LedgerHold):
        ref = ref.id
    where = LedgerHold.idempotency_key == ref if isinstance(ref, str) else LedgerHold.id == ref
    held = db.session.scalar(select(LedgerHold).where(where))
    if held is None:
        raise NotFound(_l('找不到该积分冻结记录'))
    return held


def _lock_hold(held: LedgerHold, accounts) -> None:
    _lock(accounts)
    # every change to a hold locks its account first, so the row is stable from here on
    db.session.refresh(held)


def post_hold(ref, *, reason, to_kind: str = 'redemption_sink', to_ref: str | None = None, actor=None) -> LedgerHold:
    """Spend held points: move them to the destination account and close the hold. `ref`: id, key or hold."""
    with transaction():
        held = _find_hold(ref)
        account = db.session.get(LedgerAccount, held.account_id)
        dest = system_account(to_kind, account.point_type, ref=to_ref)
        _lock_hold(held, [account, dest])
        if held.status == 'posted':
            return held
        if held.status == 'voided':
            raise Conflict(_l('该冻结积分已解冻，不能再扣减'), code='hold_voided')
        account.held -= held.amount  # release first: balance and held drop together in one UPDATE
        entry = _write('post_hold', f'{held.idempotency_key}:post', [(account, -held.amount), (dest, held.amount)],
                       reason=reason, business_ref=held.business_ref, point_type=account.point_type, actor=actor)
        held.status, held.post_entry_id, held.closed_at = 'posted', entry.id, utcnow()
        db.session.flush()
        return held


def void_hold(ref, *, reason, actor=None) -> LedgerHold:
    """Release held points (e.g. the gift request was rejected). `ref`: id, key or hold."""
    with transaction():
        held = _find_hold(ref)
        account = db.session.get(LedgerAccount, held.account_id)
        _lock_hold(held, [account])
        if held.status == 'voided':
            return held
        if held.status == 'posted':
            raise Conflict(_l('该冻结积分已扣减，不能解冻'), code='hold_posted')
        account.held -= held.amount
        entry = _write('void_hold', f'{held.idempotency_key}:void', [], reason=reason, business_ref=held.business_ref,
                       point_type=account.point_type, actor=actor)
        held.status, held.void_entry_id, held.closed_at = 'voided', entry.id, utcnow()
        db.session.flush()
        return held


def reverse(entry_id: int, *, reason, actor=None) -> LedgerEntry:
    """Post the opposite of an entry, once (key `reverse:{entry_id}`). Holds are voided, not reversed."""
    with transaction():
        entry = db.session.get(LedgerEntry, entry_id)
        if entry is None:
            raise NotFound(_l('找不到该积分记录'))
        if entry.kind == 'reversal':
            raise Conflict(_l('冲正记录不能再次冲正'), code='reversal_of_reversal')
        if not entry.postings:
            raise Conflict(_l('冻结或解冻记录不能冲正，请解冻或扣减该冻结'), code='not_reversible')
        accounts = {p.account_id: db.session.get(LedgerAccount, p.account_id) for p in entry.postings}
        _lock(accounts.values())
        legs = _merge([(accounts[p.account_id], -p.amount) for p in entry.postings])
        key = f'reverse:{entry.id}'
        existing = _existing_entry(key, 'reversal', legs)
        if existing is not None:
            return existing
        for account, amount in legs:
            if amount < 0:
                _require_available(account, -amount)
        return _write('reversal', key, legs, reason=reason, business_ref=entry.business_ref,
                      point_type=entry.point_type, actor=actor, reverses=entry.id)


# ---------------------------------------------------------------- readers

def statement(user, page: int = 1, per_page: int = 20, point_type: str = ELDERLY_TIME) -> dict:
    """`GET /api/v1/me/points`: counters plus the entries touching the account, newest first.

    `amount` is the entry's signed effect on the balance (awards +, spends -, hold/void 0); `held_change`
    its effect on held points (hold +, post/void -). Sums over all entries give balance and held.
    """
    account = _find_account(user, point_type)
    if account is None:
        return {'balance': 0, 'held': 0, 'available': 0, 'entries': [], 'total': 0}
    page, per_page = max(int(page), 1), max(int(per_page), 1)
    ids = union(
        select(LedgerPosting.entry_id.label('entry_id')).where(LedgerPosting.account_id == account.id),
        select(LedgerHold.hold_entry_id).where(LedgerHold.account_id == account.id),
        select(LedgerHold.void_entry_id).where(LedgerHold.account_id == account.id, LedgerHold.void_entry_id.is_not(None)),
    ).subquery()
    total = db.session.scalar(select(func.count()).select_from(ids))
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.id.in_(select(ids.c.entry_id)))
                                 .order_by(LedgerEntry.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    page_ids = [e.id for e in entries]
    amounts = dict(db.session.execute(
        select(LedgerPosting.entry_id, func.sum(LedgerPosting.amount))
        .where(LedgerPosting.account_id == account.id, LedgerPosting.entry_id.in_(page_ids))
        .group_by(LedgerPosting.entry_id)).all())
    held_change: dict[int, int] = {}
    for h in db.session.scalars(select(LedgerHold).where(
            LedgerHold.account_id == account.id,
            LedgerHold.hold_entry_id.in_(page_ids) | LedgerHold.post_entry_id.in_(page_ids)
            | LedgerHold.void_entry_id.in_(page_ids))):
        held_change[h.hold_entry_id] = h.amount
        for closing in (h.post_entry_id, h.void_entry_id):
            if closing is not None:
                held_change[closing] = -h.amount
    return {
        'balance': account.balance, 'held': account.held, 'available': account.available, 'total': total,
        'entries': [{'id': e.id, 'kind': e.kind, 'amount': int(amounts.get(e.id, 0)),
                     'held_change': held_change.get(e.id, 0), 'reason': e.shown_reason, 'business_ref': e.business_ref,
                     'at': e.created_at.isoformat() if e.created_at else None} for e in entries],
    }
