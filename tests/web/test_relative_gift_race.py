"""Races on PostgreSQL with real threads: two gifts for the last points, two volunteers for the last
unit, a double tap of the same request, personal redemptions; the balance never goes negative and
nothing is paid twice."""

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import GiftRequest, LedgerEntry, LedgerHold, ShopItem, ShopRedemption, WorkflowInstance
from app.services import ledger_checks, transaction
from tests.helpers import name_no, post_together, upload_png
from tests.web.shop_helpers import BATH, award, elder_id, gift_data, item, points

ROUNDS = 8


@pytest.fixture(autouse=True)
def _postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip('row locks and concurrent transactions need PostgreSQL')


def _together(app, calls):
    """Run each (headers, api path, body) at the same moment in its own thread; [(status, json)] in order."""
    return post_together(app, [(headers, '/api/v1' + url, body) for headers, url, body in calls])


def _count(model, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _gift_body(client, **overrides):
    return {'data': gift_data([upload_png(client)], **overrides)}


def test_two_gifts_race_for_the_last_points(app, api):
    award('vol_li', 30)
    li = api('vol_li')
    for n in range(ROUNDS):
        if n:
            award('vol_li', 30, key=f'race:{n}')
        bodies = [_gift_body(li, relative_name=f'父亲{name_no(n)}', relative_id_number=elder_id(2 * n)),
                  _gift_body(li, relative_name=f'配偶{name_no(n)}', relation='spouse', relative_id_number=elder_id(2 * n + 1))]
        results = _together(app, [(li.headers, '/processes/relative_gift/instances', b) for b in bodies])
        assert sorted(code for code, _ in results) == [201, 422], results
        loser = next(body for code, body in results if code == 422)
        assert loser['errors']['points'] == ['可用积分不足：可用 0 分，需要 30 分']
        balance, held, available = points(li)
        assert (balance, held, available) == (30 * (n + 1), 30 * (n + 1), 0)
    assert _count(GiftRequest) == _count(LedgerHold) == ROUNDS
    assert _count(WorkflowInstance) == ROUNDS
    assert ledger_checks.check_invariants() == []


def test_two_volunteers_race_for_the_last_unit(app, api):
    award('vol_li', 30 * ROUNDS)
    award('vol_zhang', 30 * ROUNDS)
    li, zhang = api('vol_li'), api('vol_zhang')
    bath = item(BATH).id
    for n in range(ROUNDS):
        with transaction():
            db.session.execute(update(ShopItem).where(ShopItem.id == bath).values(stock=ShopItem.reserved + 1))
        db.session.remove()
        calls = [(c.headers, '/processes/relative_gift/instances',
                  _gift_body(c, relative_name=f'长辈{name_no(n)}', relative_id_number=elder_id(n))) for c in (li, zhang)]
        results = _together(app, calls)
        assert sorted(code for code, _ in results) == [201, 422], results
        loser = next(body for code, body in results if code == 422)
        assert '库存不足' in loser['errors']['item_id'][0]
        db.session.expire_all()
        row = db.session.get(ShopItem, bath)
        assert row.reserved == row.stock == n + 1
    assert points(li)[1] + points(zhang)[1] == 30 * ROUNDS
    assert ledger_checks.check_invariants() == []


def test_double_tap_of_the_same_gift_request(app, api):
    award('vol_li', 60)
    li = api('vol_li')
    for n in range(ROUNDS):
        award('vol_li', 30, key=f'tap:{n}')
        body = _gift_body(li, relative_name=f'父亲{name_no(n)}', relative_id_number=elder_id(n), request_token=f'tap-{n:010d}')
        results = _together(app, [(li.headers, '/processes/relative_gift/instances', body)] * 2)
        assert sorted(code for code, _ in results) == [201, 409], results
        loser = next(b for code, b in results if code == 409)
        assert loser['error'] == 'duplicate_request'
    assert _count(GiftRequest) == _count(LedgerHold) == ROUNDS
    balance, held, available = points(li)
    assert held == 30 * ROUNDS and available == balance - held >= 0
    assert ledger_checks.check_invariants() == []


def test_personal_redemption_double_tap_and_last_unit(app, api):
    award('vol_zhang', 30 * ROUNDS * 2)
    zhang = api('vol_zhang')
    bath = item(BATH).id
    for n in range(ROUNDS):
        body = {'request_token': f'redeem-tap-{n:06d}'}
        results = _together(app, [(zhang.headers, f'/shop/items/{bath}/redeem', body)] * 2)
        assert sorted(code for code, _ in results) == [200, 201], results
        assert results[0][1]['id'] == results[1][1]['id']
    assert _count(ShopRedemption) == _count(LedgerEntry, LedgerEntry.kind == 'spend') == ROUNDS
    with transaction():
        db.session.execute(update(ShopItem).where(ShopItem.id == bath).values(stock=1))
    db.session.remove()
    results = _together(app, [(zhang.headers, f'/shop/items/{bath}/redeem', {'request_token': f'last-{i:08d}'})
                              for i in range(2)])
    assert sorted(code for code, _ in results) == [201, 422], results
    assert points(zhang) == (30 * ROUNDS - 30, 0, 30 * ROUNDS - 30)
    db.session.expire_all()
    assert db.session.get(ShopItem, bath).stock == 0
    assert ledger_checks.check_invariants() == []


def test_approve_and_batch_race_pays_once(app, api):
    award('vol_li', 30 * ROUNDS)
    li, gzva = api('vol_li'), api('gzva')
    for n in range(ROUNDS):
        resp = li.post('/processes/relative_gift/instances',
                       json=_gift_body(li, relative_name=f'长辈{name_no(n)}', relative_id_number=elder_id(n)))
        assert resp.status_code == 201, resp.get_json()
    tasks = [t['id'] for t in gzva.get('/tasks?state=open&process=relative_gift').get_json()['items']]
    assert len(tasks) == ROUNDS
    results = _together(app, [(gzva.headers, '/tasks/batch', {'task_ids': tasks, 'decision': 'approve'}),
                              (gzva.headers, '/tasks/batch', {'task_ids': list(reversed(tasks)), 'decision': 'approve'})])
    oks = [r['ok'] for _, body in results for r in body['results']]
    assert oks.count(True) == ROUNDS
    assert points(li) == (0, 0, 0)
    assert _count(LedgerEntry, LedgerEntry.kind == 'post_hold') == ROUNDS
    db.session.expire_all()
    assert db.session.get(ShopItem, item(BATH).id).stock == 20 - ROUNDS
    assert ledger_checks.check_invariants() == []
