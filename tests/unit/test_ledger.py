"""Points ledger: double entry, holds, idempotency, reversals, DB constraints, reconciliation."""
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import LedgerAccount, LedgerEntry, LedgerHold, LedgerPosting, User
from app.services import Conflict, NotFound, ValidationFailed, ledger, ledger_checks, transaction
from app.services.ledger import InsufficientPoints


@pytest.fixture(autouse=True)
def request_ctx(app):
    # error messages are translated, and the locale selector reads the request (see report: jobs/CLI)
    with app.test_request_context():
        yield


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def zhang():
    return _user('vol_zhang')


@pytest.fixture
def li():
    return _user('vol_li')


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _points(user):
    s = ledger.statement(user)
    return s['balance'], s['held'], s['available']


def _system(kind, ref=None):
    return ledger.system_account(kind, ref=ref).balance


def test_award_moves_points_from_issuance_to_volunteer(zhang):
    entry = ledger.award(zhang, 5, key='award:1:zhang', reason='服务时数认证：3 小时', business_ref='v_order:1')
    assert entry.kind == 'award' and sorted(p.amount for p in entry.postings) == [-5, 5]
    assert _points(zhang) == (5, 0, 5)
    assert _system('issuance') == -5
    assert ledger_checks.check_invariants() == []


def test_same_key_twice_writes_one_entry(zhang):
    first = ledger.award(zhang, 5, key='award:1:zhang', reason='认证', business_ref='v_order:1')
    again = ledger.award(zhang, 5, key='award:1:zhang', reason='认证', business_ref='v_order:1')
    assert again.id == first.id
    assert _count(LedgerEntry) == 1 and _count(LedgerPosting) == 2
    assert _points(zhang) == (5, 0, 5)


def test_same_key_for_a_different_event_is_refused(zhang, li):
    ledger.award(zhang, 5, key='award:1:zhang', reason='认证')
    with pytest.raises(Conflict):
        ledger.award(zhang, 6, key='award:1:zhang', reason='认证')
    with pytest.raises(Conflict):
        ledger.award(li, 5, key='award:1:zhang', reason='认证')
    with pytest.raises(Conflict):
        ledger.spend(zhang, 5, key='award:1:zhang', reason='兑换')
    assert _count(LedgerEntry) == 1 and _points(zhang) == (5, 0, 5) and _points(li) == (0, 0, 0)


@pytest.mark.parametrize('amount', [0, -3, 1.5, True, '2'])
def test_amount_must_be_a_positive_whole_number(zhang, amount):
    with pytest.raises(ValidationFailed) as exc:
        ledger.award(zhang, amount, key='award:x', reason='认证')
    assert 'amount' in exc.value.errors
    assert _count(LedgerEntry) == 0


def test_award_many_awards_every_volunteer_once(zhang, li):
    items = [(zhang, 3, 'award:9:zhang'), (li, 4, 'award:9:li')]
    ledger.award_many(items, reason='认证', business_ref='v_order:9')
    ledger.award_many(items, reason='认证', business_ref='v_order:9')
    assert _points(zhang) == (3, 0, 3) and _points(li) == (4, 0, 4)
    assert _count(LedgerEntry) == 2


def test_award_many_with_one_volunteer_twice_pays_both_awards(zhang, li):
    ledger.award(li, 1, key='award:8:li', reason='认证')  # li's account exists already, zhang's does not
    ledger.award_many([(zhang, 3, 'award:9:zhang'), (li, 2, 'award:9:li'), (zhang, 4, 'award:9:zhang:2')],
                      reason='认证', business_ref='v_order:9')
    assert _points(zhang) == (7, 0, 7) and _points(li) == (3, 0, 3)
    assert _system('issuance') == -10
    assert _count(LedgerAccount) == 3 and _count(LedgerEntry) == 4
    assert ledger_checks.check_invariants() == []


def test_hold_then_post_spends_the_held_points(zhang):
    ledger.award(zhang, 10, key='award:1:zhang', reason='认证')
    h = ledger.hold(zhang, 4, key='gift:7', reason='赠予亲属兑换：冻结', business_ref='gift:7')
    assert h.status == 'open' and _points(zhang) == (10, 4, 6)
    assert ledger.hold(zhang, 4, key='gift:7', reason='赠予亲属兑换：冻结').id == h.id  # idempotent
    assert _points(zhang) == (10, 4, 6)

    posted = ledger.post_hold('gift:7', reason='赠予亲属兑换：审核通过')
    assert posted.status == 'posted' and posted.post_entry_id and posted.closed_at
    assert _points(zhang) == (6, 0, 6)
    assert _system('redemption_sink') == 4
    assert ledger.post_hold(h.id, reason='again').post_entry_id == posted.post_entry_id
    assert _count(LedgerEntry) == 3  # award, hold, post
    assert db.session.scalar(select(LedgerEntry.idempotency_key).where(LedgerEntry.id == posted.post_entry_id)) == 'gift:7:post'
    assert ledger_checks.check_invariants() == []


def test_void_releases_the_hold(zhang):
    ledger.award(zhang, 10, key='award:1:zhang', reason='认证')
    h = ledger.hold(zhang, 10, key='gift:7', reason='冻结')
    assert _points(zhang) == (10, 10, 0)
    with pytest.raises(InsufficientPoints):
        ledger.spend(zhang, 1, key='shop:1', reason='兑换')
    voided = ledger.void_hold(h, reason='赠予亲属兑换：审核不通过')
    assert voided.status == 'voided' and _points(zhang) == (10, 0, 10)
    assert ledger.void_hold('gift:7', reason='again').void_entry_id == voided.void_entry_id
    with pytest.raises(Conflict) as exc:
        ledger.post_hold('gift:7', reason='审核通过')
    assert exc.value.code == 'hold_voided'
    assert _points(zhang) == (10, 0, 10) and _system('redemption_sink') == 0
    assert ledger_checks.check_invariants() == []


def test_void_after_post_is_refused(zhang):
    ledger.award(zhang, 10, key='award:1:zhang', reason='认证')
    ledger.hold(zhang, 3, key='gift:7', reason='冻结')
    ledger.post_hold('gift:7', reason='通过')
    with pytest.raises(Conflict) as exc:
        ledger.void_hold('gift:7', reason='驳回')
    assert exc.value.code == 'hold_posted'
    assert _points(zhang) == (7, 0, 7)


def test_unknown_hold_is_not_found():
    with pytest.raises(NotFound):
        ledger.post_hold('gift:404', reason='x')


def test_hold_more_than_available_stores_nothing(zhang):
    ledger.award(zhang, 5, key='award:1:zhang', reason='认证')
    ledger.hold(zhang, 3, key='gift:1', reason='冻结')
    with pytest.raises(InsufficientPoints) as exc:
        ledger.hold(zhang, 3, key='gift:2', reason='冻结')
    assert isinstance(exc.value, ValidationFailed) and exc.value.status == 422
    assert exc.value.errors == {'points': ['可用积分不足：可用 2 分，需要 3 分']}
    assert _count(LedgerHold) == 1 and _count(LedgerEntry) == 2
    assert _points(zhang) == (5, 3, 2)


def test_hold_without_any_account_reports_zero_available(li):
    with pytest.raises(InsufficientPoints) as exc:
        ledger.hold(li, 1, key='gift:1', reason='冻结')
    assert exc.value.errors['points'] == ['可用积分不足：可用 0 分，需要 1 分']


def test_spend_and_donate_and_allocate(zhang, li):
    ledger.award(zhang, 20, key='award:1:zhang', reason='认证')
    ledger.spend(zhang, 5, key='shop:1', reason='物品兑换：毛巾', business_ref='shop_order:1')
    ledger.donate(zhang, 6, key='donate:1', reason='捐入公益池')
    ledger.donate(zhang, 2, key='donate:2', to_kind='project', to_ref='p3', reason='项目捐分', business_ref='project:p3')
    assert _points(zhang) == (7, 0, 7)
    assert _system('redemption_sink') == 5 and _system('donation_pool') == 6 and _system('project', 'p3') == 2
    ledger.allocate(li, 4, key='allocate:1', reason='公益池分配', actor=_user('gzva'))
    assert _points(li) == (4, 0, 4) and _system('donation_pool') == 2
    with pytest.raises(InsufficientPoints):
        ledger.allocate(li, 3, key='allocate:2', reason='公益池分配')
    with pytest.raises(InsufficientPoints):
        ledger.spend(zhang, 8, key='shop:2', reason='兑换')
    assert ledger_checks.check_invariants() == []


def test_reverse_posts_the_opposite_once(zhang):
    entry = ledger.award(zhang, 8, key='award:1:zhang', reason='认证', business_ref='v_order:1')
    rev = ledger.reverse(entry.id, reason='认证有误，冲正')
    assert rev.kind == 'reversal' and rev.reverses_entry_id == entry.id and rev.business_ref == 'v_order:1'
    assert rev.idempotency_key == f'reverse:{entry.id}'
    assert _points(zhang) == (0, 0, 0) and _system('issuance') == 0
    assert ledger.reverse(entry.id, reason='again').id == rev.id
    with pytest.raises(Conflict):
        ledger.reverse(rev.id, reason='冲正的冲正')
    assert _count(LedgerEntry) == 2
    assert ledger_checks.check_invariants() == []


def test_reverse_cannot_take_points_already_spent_or_held(zhang):
    entry = ledger.award(zhang, 8, key='award:1:zhang', reason='认证')
    ledger.hold(zhang, 5, key='gift:1', reason='冻结')
    with pytest.raises(InsufficientPoints):
        ledger.reverse(entry.id, reason='冲正')
    assert _points(zhang) == (8, 5, 3)


def test_reverse_a_spend_and_a_posted_hold_refunds(zhang):
    ledger.award(zhang, 10, key='award:1:zhang', reason='认证')
    spent = ledger.spend(zhang, 4, key='shop:1', reason='兑换')
    h = ledger.hold(zhang, 3, key='gift:1', reason='冻结')
    ledger.post_hold(h.id, reason='通过')
    ledger.reverse(spent.id, reason='退货退分')
    ledger.reverse(h.post_entry_id, reason='撤销兑换')
    assert _points(zhang) == (10, 0, 10) and _system('redemption_sink') == 0
    with pytest.raises(Conflict):
        ledger.reverse(h.hold_entry_id, reason='冻结不能冲正')
    assert ledger_checks.check_invariants() == []


def test_a_failing_use_case_rolls_its_ledger_entries_back(zhang):
    with pytest.raises(RuntimeError), transaction():
        ledger.award(zhang, 5, key='award:1:zhang', reason='认证')
        raise RuntimeError('workflow step failed')
    assert _count(LedgerEntry) == 0 and _points(zhang) == (0, 0, 0)


def test_statement_lists_entries_newest_first(zhang):
    ledger.award(zhang, 10, key='award:1:zhang', reason='服务时数认证', business_ref='v_order:1')
    ledger.hold(zhang, 4, key='gift:1', reason='冻结', business_ref='gift:1')
    ledger.void_hold('gift:1', reason='审核不通过')
    ledger.hold(zhang, 3, key='gift:2', reason='冻结', business_ref='gift:2')
    ledger.post_hold('gift:2', reason='审核通过')
    ledger.spend(zhang, 2, key='shop:1', reason='物品兑换')
    s = ledger.statement(zhang)
    assert (s['balance'], s['held'], s['available'], s['total']) == (5, 0, 5, 6)
    assert [(e['kind'], e['amount'], e['held_change']) for e in s['entries']] == [
        ('spend', -2, 0), ('post_hold', -3, -3), ('hold', 0, 3), ('void_hold', 0, -4), ('hold', 0, 4), ('award', 10, 0)]
    assert s['entries'][-1]['reason'] == '服务时数认证' and s['entries'][-1]['business_ref'] == 'v_order:1'
    assert s['entries'][0]['at'].startswith('20')
    assert sum(e['amount'] for e in s['entries']) == s['balance']
    page2 = ledger.statement(zhang, page=2, per_page=4)
    assert page2['total'] == 6 and [e['kind'] for e in page2['entries']] == ['hold', 'award']
    assert ledger.statement(_user('vol_li')) == {'balance': 0, 'held': 0, 'available': 0, 'entries': [], 'total': 0}


def test_accounts_are_one_per_key(zhang):
    a = ledger.account_for(zhang)
    assert ledger.account_for(zhang.id).id == a.id and a.key == f'volunteer:{zhang.id}:elderly_time'
    assert ledger.system_account('issuance').key == 'issuance:elderly_time'
    assert ledger.system_account('issuance').allow_negative and not a.allow_negative
    with pytest.raises(ValueError):
        ledger.system_account('volunteer')
    with pytest.raises(ValueError):
        ledger.system_account('project')


def test_database_refuses_a_negative_balance_even_without_the_service(zhang):
    account_id = ledger.account_for(zhang).id
    with pytest.raises(IntegrityError):
        db.session.execute(text('UPDATE ledger_account SET balance = -1 WHERE id = :id'), {'id': account_id})
        db.session.flush()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(text('UPDATE ledger_account SET held = 1 WHERE id = :id'), {'id': account_id})
    db.session.rollback()
    issuance_id = ledger.system_account('issuance').id
    db.session.execute(text('UPDATE ledger_account SET balance = -1 WHERE id = :id'), {'id': issuance_id})
    db.session.rollback()


def test_entries_and_postings_are_append_only(zhang):
    entry = ledger.award(zhang, 5, key='award:1:zhang', reason='认证')
    entry.reason = '改过的原因'
    with pytest.raises(RuntimeError, match='append-only'):
        db.session.flush()
    db.session.rollback()
    posting = db.session.scalar(select(LedgerPosting).limit(1))
    db.session.delete(posting)
    with pytest.raises(RuntimeError, match='append-only'):
        db.session.flush()
    db.session.rollback()
    assert _count(LedgerPosting) == 2


def test_check_invariants_finds_tampering(zhang):
    ledger.award(zhang, 5, key='award:1:zhang', reason='认证')
    ledger.hold(zhang, 2, key='gift:1', reason='冻结')
    account_id = ledger.account_for(zhang).id
    db.session.execute(text('UPDATE ledger_account SET balance = 9, held = 0 WHERE id = :id'), {'id': account_id})
    db.session.execute(text("UPDATE ledger_hold SET status = 'posted'"))
    problems = ledger_checks.check_invariants()
    assert any('balance 9 but postings sum to 5' in p for p in problems)
    assert any('status posted but post entry None' in p for p in problems)
    db.session.rollback()
    assert ledger_checks.check_invariants() == []


def test_ledger_check_cli(app, zhang):
    ledger.award(zhang, 5, key='award:1:zhang', reason='认证')
    ledger.hold(zhang, 2, key='gift:1', reason='冻结')
    runner = app.test_cli_runner()
    ok = runner.invoke(args=['ledger-check'])
    assert ok.exit_code == 0, ok.output
    assert 'ledger OK: 2 accounts, 2 entries' in ok.output
    with transaction():
        db.session.execute(text('UPDATE ledger_posting SET amount = amount + 1 WHERE amount > 0'))
    bad = runner.invoke(args=['ledger-check'])
    assert bad.exit_code == 1
    assert 'postings sum to 1, not 0' in bad.output and 'but postings sum to 6' in bad.output


# ---------------------------------------------------------------- PostgreSQL: concurrent spends

def _race(app, user_id, n, first, second):
    """Run two ledger calls at the same moment in separate app contexts (sessions, connections)."""
    barrier = threading.Barrier(2)
    results = [None, None]

    def run(i, fn):
        with app.app_context(), app.test_request_context():
            try:
                barrier.wait(timeout=10)
                fn()
                results[i] = 'ok'
            except InsufficientPoints:
                results[i] = 'insufficient'
            except Exception as exc:  # reported by the assertion below
                results[i] = repr(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.postgres
@pytest.mark.parametrize('mode', ['spend_spend', 'hold_spend', 'hold_hold'])
def test_concurrent_use_of_the_last_points_lets_exactly_one_win(app, is_postgres, zhang, mode):
    if not is_postgres:
        pytest.skip('needs PostgreSQL row locks')
    uid = zhang.id
    ledger.account_for(uid)
    ledger.system_account('redemption_sink')
    db.session.commit()
    calls = {
        'spend': lambda n, side: lambda: ledger.spend(uid, 5, key=f'shop:{n}:{side}', reason='兑换'),
        'hold': lambda n, side: lambda: ledger.hold(uid, 5, key=f'gift:{n}:{side}', reason='冻结'),
    }
    a_kind, b_kind = mode.split('_')
    for n in range(20):
        ledger.award(uid, 5, key=f'award:{n}:{uid}', reason='认证')
        db.session.remove()
        results = _race(app, uid, n, calls[a_kind](n, 'a'), calls[b_kind](n, 'b'))
        assert sorted(results) == ['insufficient', 'ok'], results
        account = ledger.account_for(uid)
        assert account.available == 0 and account.balance >= 0
        # free the held points so the next round starts from 5 available again
        for h in db.session.scalars(select(LedgerHold).where(LedgerHold.status == 'open')).all():
            ledger.post_hold(h.id, reason='通过')
        db.session.remove()
    assert ledger_checks.check_invariants() == []
    assert db.session.scalar(select(LedgerAccount.balance).where(LedgerAccount.key == f'volunteer:{uid}:elderly_time')) == 0
