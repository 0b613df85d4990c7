"""A gift request left unreviewed for 30 days, fired by the rq worker on a real Redis (what `flask worker`
does every minute): the hold is voided, the reserved unit released, the association's task closed, and
the volunteer told once, with a link to the case. The clock moves through the engine's seam."""
import re
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import LedgerHold
from app.services import ledger_checks
from tests.jobs.test_v_order_timers import _instance, _messages, advance_to_next_timer, run_worker
from tests.web.shop_helpers import BATH, award, move_clock, points, review_task, shop_item, started_gift


def test_worker_voids_a_hold_left_unreviewed_for_30_days_and_tells_the_volunteer(api, login, with_redis):
    award('vol_li', 60)
    li, gzva = api('vol_li'), api('gzva')
    inst = started_gift(li)
    instance = _instance(inst['id'])
    assert timedelta(days=29, hours=23) < instance.next_timer_at - instance.created_at < timedelta(days=30, hours=1)

    move_clock(inst['id'], timedelta(days=29))
    run_worker(with_redis)  # day 29: nothing fires
    assert points(li) == (60, 30, 30) and review_task(gzva, inst['id']) is not None
    assert _messages('vol_li', 'decision') == []

    advance_to_next_timer(inst['id'])
    run_worker(with_redis)
    assert points(li) == (60, 0, 60)
    assert shop_item(li, BATH)['available'] == 20
    assert review_task(gzva, inst['id']) is None
    hold = li.get('/me/points').get_json()['entries'][0]
    assert (hold['kind'], hold['amount'], hold['held_change']) == ('void_hold', 0, -30)
    assert '超过 30 天未审核' in hold['reason']
    db.session.expire_all()
    assert db.session.scalar(select(LedgerHold.status)) == 'voided'
    [told] = _messages('vol_li', 'decision')
    assert told.title == f'您为李大爷申请的「{BATH}」赠予兑换超过 30 天未审核，申请自动结束，冻结的积分已解冻'
    assert told.link == f'/m/cases/{inst["id"]}'
    page = login('vol_li')
    resp = page.get(f'/messages/{told.id}')
    assert resp.status_code == 302 and resp.headers['Location'].endswith(f'/m/cases/{inst["id"]}')
    case = page.get(resp.headers['Location']).get_data(as_text=True)
    assert '超过 30 天未审核' in case and re.search(r'物流 / 服务安排</dt>\s*<dd>\s*—\s*</dd>', case)

    run_worker(with_redis)  # fired once: no second message, no second void
    assert len(_messages('vol_li', 'decision')) == 1
    assert points(li) == (60, 0, 60)
    assert ledger_checks.check_invariants() == []
