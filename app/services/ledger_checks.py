"""Reconciliation of the points ledger (`flask ledger-check`): every entry balances, account counters equal
their postings and open holds, no negative balance, holds within balance, idempotency keys used once."""
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import LedgerAccount, LedgerEntry, LedgerHold, LedgerPosting


def counts() -> tuple[int, int]:
    """(accounts, entries) for the reconciliation summary."""
    return (db.session.scalar(select(func.count()).select_from(LedgerAccount)),
            db.session.scalar(select(func.count()).select_from(LedgerEntry)))


def check_invariants() -> list[str]:
    """Reconcile the whole ledger; returns one line per problem (empty when everything adds up).

    On PostgreSQL, when called outside a transaction, reads one REPEATABLE READ snapshot so that
    concurrent postings cannot produce false alarms.
    """
    own = False
    if db.session.get_bind().dialect.name == 'postgresql' and not db.session().in_transaction():
        db.session.connection(execution_options={'isolation_level': 'REPEATABLE READ'})
        own = True
    try:
        return _problems()
    finally:
        if own:
            db.session.rollback()


def _problems() -> list[str]:
    problems: list[str] = []
    s = db.session
    for entry_id, key, total in s.execute(
            select(LedgerEntry.id, LedgerEntry.idempotency_key, func.sum(LedgerPosting.amount))
            .join(LedgerPosting, LedgerPosting.entry_id == LedgerEntry.id)
            .group_by(LedgerEntry.id, LedgerEntry.idempotency_key).having(func.sum(LedgerPosting.amount) != 0)):
        problems.append(f'entry {entry_id} ({key}): postings sum to {total}, not 0')
    n_postings = (select(func.count()).where(LedgerPosting.entry_id == LedgerEntry.id)
                  .correlate(LedgerEntry).scalar_subquery())
    for entry_id, key, kind, n in s.execute(select(LedgerEntry.id, LedgerEntry.idempotency_key, LedgerEntry.kind,
                                                   n_postings)):
        if kind in ('hold', 'void_hold') and n:
            problems.append(f'entry {entry_id} ({key}): a {kind} entry must not move points but has {n} postings')
        elif kind not in ('hold', 'void_hold') and n < 2:
            problems.append(f'entry {entry_id} ({key}): a {kind} entry needs at least 2 postings, has {n}')

    posted = (select(func.coalesce(func.sum(LedgerPosting.amount), 0))
              .where(LedgerPosting.account_id == LedgerAccount.id).correlate(LedgerAccount).scalar_subquery())
    open_held = (select(func.coalesce(func.sum(LedgerHold.amount), 0))
                 .where(LedgerHold.account_id == LedgerAccount.id, LedgerHold.status == 'open')
                 .correlate(LedgerAccount).scalar_subquery())
    for acc, total, held in s.execute(select(LedgerAccount, posted, open_held)):
        if acc.balance != total:
            problems.append(f'account {acc.id} ({acc.key}): balance {acc.balance} but postings sum to {total}')
        if acc.held != held:
            problems.append(f'account {acc.id} ({acc.key}): held {acc.held} but open holds sum to {held}')
        if acc.held < 0:
            problems.append(f'account {acc.id} ({acc.key}): held {acc.held} is negative')
        if not acc.allow_negative and acc.balance < 0:
            problems.append(f'account {acc.id} ({acc.key}): balance {acc.balance} is negative')
        if not acc.allow_negative and acc.held > acc.balance:
            problems.append(f'account {acc.id} ({acc.key}): held {acc.held} exceeds balance {acc.balance}')

    he, pe, ve = aliased(LedgerEntry), aliased(LedgerEntry), aliased(LedgerEntry)
    rows = s.execute(select(LedgerHold, he.kind, pe.kind, ve.kind)
                     .outerjoin(he, he.id == LedgerHold.hold_entry_id)
                     .outerjoin(pe, pe.id == LedgerHold.post_entry_id)
                     .outerjoin(ve, ve.id == LedgerHold.void_entry_id))
    for h, hold_kind, post_kind, void_kind in rows:
        label = f'hold {h.id} ({h.idempotency_key})'
        if hold_kind != 'hold':
            problems.append(f'{label}: its hold entry {h.hold_entry_id} is missing or not a hold')
        expected = {'open': (None, None), 'posted': ('post_hold', None), 'voided': (None, 'void_hold')}.get(h.status)
        if expected is None:
            problems.append(f'{label}: unknown status {h.status!r}')
        elif (post_kind, void_kind) != expected or (h.post_entry_id is None) != (expected[0] is None) \
                or (h.void_entry_id is None) != (expected[1] is None):
            problems.append(f'{label}: status {h.status} but post entry {h.post_entry_id} ({post_kind}), '
                            f'void entry {h.void_entry_id} ({void_kind})')

    for model, what in ((LedgerEntry, 'entries'), (LedgerHold, 'holds')):
        for key, n in s.execute(select(model.idempotency_key, func.count()).group_by(model.idempotency_key)
                                .having(func.count() > 1)):
            problems.append(f'{n} {what} share the idempotency key {key}')
    for entry_id, n in s.execute(select(LedgerEntry.reverses_entry_id, func.count())
                                 .where(LedgerEntry.reverses_entry_id.is_not(None))
                                 .group_by(LedgerEntry.reverses_entry_id).having(func.count() > 1)):
        problems.append(f'entry {entry_id} is reversed {n} times')
    return problems
