"""Texts the app builds for a record (points-ledger reasons, a gift's delivery note and expiry reason) are stored in
Chinese and English when they are written, whatever the writer's language: /m/points, /m/shop/mine, the API and
the ledger export show the reader's language; rows written before English was kept read in Chinese."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import LedgerEntry
from app.services import ledger, timers, transaction
from app.services.step_names import NAMES, step_name
from tests.web.shop_helpers import BATH, award, move_clock, review_task, started_gift, user
from tests.web.test_exports import _export


@pytest.fixture(autouse=True)
def jobs_inline(app, monkeypatch):
    monkeypatch.setitem(app.config, 'REDIS_URL', None)  # the export runs right after the request's commit


def _reasons(client):
    return [e['reason'] for e in client.get('/me/points').get_json()['entries']]


def _approved_gift(api):
    award('vol_li', 60)
    li, gzva = api('vol_li', lang='en'), api('gzva', lang='en')  # both act on English pages
    inst = started_gift(li)
    task = review_task(gzva, inst['id'])
    assert gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    return inst


def test_gift_points_history_and_delivery_note_in_the_readers_language(api, login):
    _approved_gift(api)
    assert _reasons(api('vol_li', lang='en'))[:2] == [
        f'Gift redemption “{BATH}” (recipient: 李大爷) approved: points deducted',
        f'Gift redemption “{BATH}” (recipient: 李大爷) awaiting review: points held']
    assert _reasons(api('vol_li'))[:2] == [f'赠予兑换「{BATH}」（受赠人：李大爷）审核通过，扣减积分',
                                            f'赠予兑换「{BATH}」（受赠人：李大爷）待审核，冻结积分']
    page = login('vol_li')
    html = page.get('/m/points?lang=en').get_data(as_text=True)
    assert f'Gift redemption “{BATH}” (recipient: 李大爷) approved: points deducted' in html
    assert '审核通过，扣减积分' not in html
    assert '审核通过，扣减积分' in page.get('/m/points?lang=zh').get_data(as_text=True)

    note_en = 'will contact the recipient 李大爷 (13800138071) within 3 working days to arrange the service'
    mine = page.get('/m/shop/mine?lang=en').get_data(as_text=True)
    assert note_en in mine and '安排服务' not in mine
    assert '将在 3 个工作日内联系受赠人李大爷（13800138071）安排服务' in page.get('/m/shop/mine?lang=zh').get_data(as_text=True)
    [gift] = api('vol_li', lang='en').get('/gifts').get_json()['items']
    assert note_en in gift['logistics']
    [gift] = api('vol_li').get('/gifts').get_json()['items']
    assert '安排服务' in gift['logistics']
    msg = api('vol_li', lang='en').get('/messages').get_json()['items'][0]
    assert note_en in msg['body'], msg


def test_an_expired_gift_reads_in_english_with_its_history_step(api, login):
    award('vol_li', 60)
    li = api('vol_li')
    inst = started_gift(li)
    move_clock(inst['id'], timedelta(days=30, minutes=1))
    assert timers.fire_due() == 1
    page = login('vol_li')
    mine = page.get('/m/shop/mine?lang=en').get_data(as_text=True)
    assert 'Not reviewed within 30 days: the request ended automatically' in mine and '未审核' not in mine
    assert '超过 30 天未审核，申请自动结束' in page.get('/m/shop/mine?lang=zh').get_data(as_text=True)
    reason = _reasons(api('vol_li', lang='en'))[0]
    assert reason.startswith(f'Gift redemption “{BATH}” (for ') and 'was not reviewed within 30 days' in reason, reason
    case = page.get(f'/m/cases/{inst["id"]}?lang=en').get_data(as_text=True)
    assert 'Association review (overdue)' in case and '广志协审核（逾期）' not in case


def test_system_history_steps_are_listed_for_translation(app):
    """The whitelist skip and the gift expiry name a step no diagram has: the list `make extract` reads carries them."""
    assert {'广志协审核（白名单免审）', '广志协审核（逾期）'} <= {n._args[0] for n in NAMES}
    with app.test_request_context('/?lang=en'):
        assert step_name('广志协审核（白名单免审）') == 'Association review (skipped: whitelisted)'


def test_shop_and_v_order_reasons_in_english(api):
    award('vol_zhang', 100)
    zhang = api('vol_zhang', lang='en')
    assert zhang.post('/shop/donations', json={'target': 'pool', 'amount': 5, 'point_type': 'elderly_time',
                                               'request_token': 'donate-token-1'}).status_code == 201
    assert api('gzva').post('/shop/pool/allocations', json={'username': 'vol_li', 'amount': 2, 'reason': '生活困难',
                                                            'request_token': 'allocate-token-1'}).status_code == 201
    assert _reasons(zhang)[0] == 'Points donated to the public welfare pool'
    assert _reasons(api('vol_zhang'))[0] == '积分捐入公益池'
    assert _reasons(api('vol_li', lang='en')) == ['Allocated from the public welfare pool: 生活困难']
    assert _reasons(api('vol_li')) == ['公益池分配：生活困难']
    pool = api('gzva').get('/shop/pool').get_json()
    assert pool['balance'] == 3


def test_v_order_award_reason_in_english(api):
    from tests.web.test_v_order_rules import certified
    certified(api, 3)
    [reason] = _reasons(api('vol_li', lang='en'))
    assert reason.startswith('V-order') and 'service hours certified: 3.0 hours' in reason, reason
    assert _reasons(api('vol_li'))[0].endswith('服务时数认证：3.0 小时')


def test_old_rows_without_english_read_in_chinese(api):
    with transaction():
        ledger.award(user('vol_li'), 4, key='old:1', reason='历史导入积分')
    db.session.remove()
    assert db.session.scalar(select(LedgerEntry.reason_en).where(LedgerEntry.idempotency_key == 'old:1')) is None
    assert _reasons(api('vol_li', lang='en')) == ['历史导入积分']


def test_ledger_export_in_the_readers_language(api, app):
    _approved_gift(api)
    _, rows = _export(api('gzva', lang='en'), kind='ledger')
    reasons = [r[7] for r in rows[1:]]
    assert f'Gift redemption “{BATH}” (recipient: 李大爷) approved: points deducted' in reasons, reasons
    _, rows = _export(api('gzva'), kind='ledger')
    assert f'赠予兑换「{BATH}」（受赠人：李大爷）审核通过，扣减积分' in [r[7] for r in rows[1:]]
    assert app.test_cli_runner().invoke(args=['ledger-check']).exit_code == 0
