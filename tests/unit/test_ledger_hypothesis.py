"""Randomised ledger operations against a plain-Python model: same balances, same refusals, invariants hold."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from app.extensions import db
from app.models import LedgerAccount, User
from app.services import Conflict, ValidationFailed, ledger, ledger_checks
from app.services.ledger import InsufficientPoints

VOLUNTEERS = ('vol_zhang', 'vol_li', 'vol_wang')
OPS_PER_RUN = 50
RUNS = 20  # 20 x 50 = 1,000 operations

vol = st.integers(0, 2)
amount = st.integers(-2, 25)  # zero and negatives are invalid
index = st.integers(0, 10_000)
operation = st.one_of(
    st.tuples(st.just('award'), vol, amount),
    st.tuples(st.just('hold'), vol, amount),
    st.tuples(st.just('spend'), vol, amount),
    st.tuples(st.just('post'), index),
    st.tuples(st.just('void'), index),
    st.tuples(st.just('reverse'), index),
    st.tuples(st.just('repeat_award'), index),
)


@pytest.fixture(autouse=True)
def request_ctx(app):
    with app.test_request_context():  # translated error messages need a locale, which reads the request
        yield


def _clean_ledger():
    for table in ('ledger_hold', 'ledger_posting', 'ledger_entry', 'ledger_account'):
        db.session.execute(text(f'DELETE FROM {table}'))
    db.session.commit()


class Model:
    """Expected balances in plain Python; predicts which calls the ledger must refuse."""

    def __init__(self):
        self.balance = [0, 0, 0]
        self.held = [0, 0, 0]
        self.holds = []  # [volunteer, amount, status, key]
        self.entries = []  # [entry id, volunteer, signed amount, reversed]
        self.awards = []  # (volunteer, amount, key, entry id)
        self.n = 0

    def available(self, v):
        return self.balance[v] - self.held[v]

    def key(self, prefix):
        self.n += 1
        return f'{prefix}:{self.n}'


def _apply(op, m: Model, users):
    kind = op[0]
    if kind in ('award', 'hold', 'spend'):
        _, v, n = op
        key = m.key(kind)
        if n <= 0:
            with pytest.raises(ValidationFailed):
                getattr(ledger, kind)(users[v], n, key=key, reason='测试')
            return
        if kind != 'award' and n > m.available(v):
            with pytest.raises(InsufficientPoints):
                getattr(ledger, kind)(users[v], n, key=key, reason='测试')
            return
        if kind == 'award':
            e = ledger.award(users[v], n, key=key, reason='测试', business_ref=f'v_order:{m.n}')
            m.balance[v] += n
            m.entries.append([e.id, v, n, False])
            m.awards.append((v, n, key, e.id))
        elif kind == 'spend':
            e = ledger.spend(users[v], n, key=key, reason='测试')
            m.balance[v] -= n
            m.entries.append([e.id, v, -n, False])
        else:
            h = ledger.hold(users[v], n, key=key, reason='测试')
            assert h.status == 'open'
            m.held[v] += n
            m.holds.append([v, n, 'open', key])
    elif kind in ('post', 'void'):
        if not m.holds:
            return
        h = m.holds[op[1] % len(m.holds)]
        v, n, status, key = h
        fn = ledger.post_hold if kind == 'post' else ledger.void_hold
        target = 'posted' if kind == 'post' else 'voided'
        if status not in ('open', target):
            with pytest.raises(Conflict):
                fn(key, reason='测试')
            return
        result = fn(key, reason='测试')
        assert result.status == target
        if status == 'open':
            m.held[v] -= n
            if kind == 'post':
                m.balance[v] -= n
                m.entries.append([result.post_entry_id, v, -n, False])
            h[2] = target
    elif kind == 'reverse':
        if not m.entries:
            return
        e = m.entries[op[1] % len(m.entries)]
        entry_id, v, n, reversed_ = e
        if reversed_:
            assert ledger.reverse(entry_id, reason='冲正').reverses_entry_id == entry_id
            return
        if n > 0 and n > m.available(v):
            with pytest.raises(InsufficientPoints):
                ledger.reverse(entry_id, reason='冲正')
            return
        ledger.reverse(entry_id, reason='冲正')
        m.balance[v] -= n
        e[3] = True
    elif kind == 'repeat_award':
        if not m.awards:
            return
        v, n, key, entry_id = m.awards[op[1] % len(m.awards)]
        assert ledger.award(users[v], n, key=key, reason='测试').id == entry_id


def _accounts(users):
    rows = {a.owner_user_id: a for a in db.session.scalars(select(LedgerAccount).where(LedgerAccount.kind == 'volunteer'))}
    return [rows.get(u) for u in users]


@settings(max_examples=RUNS, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          database=None)
@given(ops=st.lists(operation, min_size=OPS_PER_RUN, max_size=OPS_PER_RUN))
def test_random_operations_match_the_model(ops):
    _clean_ledger()
    users = [db.session.scalar(select(User.id).where(User.username == u)) for u in VOLUNTEERS]
    m = Model()
    for op in ops:
        _apply(op, m, users)
        for v, account in enumerate(_accounts(users)):
            balance, held = (account.balance, account.held) if account else (0, 0)
            assert (balance, held) == (m.balance[v], m.held[v]), (op, v)
            assert balance >= 0 and held >= 0 and balance - held >= 0
    assert ledger_checks.check_invariants() == []
    for v, u in enumerate(users):
        s = ledger.statement(u, per_page=1000)
        assert (s['balance'], s['held'], s['available']) == (m.balance[v], m.held[v], m.available(v))
        assert sum(e['amount'] for e in s['entries']) == s['balance']
        assert sum(e['held_change'] for e in s['entries']) == s['held']
    db.session.remove()
