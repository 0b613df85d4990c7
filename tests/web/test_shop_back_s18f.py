"""Walk (phone) fix 1: browser Back after 确认捐赠 (积分公益: 项目捐分 and 捐入公益池) finds the confirmation used and
says the donation is done; tapping again charges nothing. The confirmation's one-time token stands in its address,
as 个人兑换's does (the page writes it into the browser's history entry)."""
import json
import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import LedgerEntry
from app.services import shop
from tests.web.shop_helpers import available, award, doc, item, text_of

PROJECT = '关爱独居长者项目'
CONFIRM_FORM = '//form[@action="/m/shop/donate"][@method="post"]'
_REPLACE = re.compile(r"history\.replaceState\(history\.state, '', (\"[^\"]*\")\)")


_doc, _text, _available = doc, text_of, available  # shop_helpers


def _donations():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == 'donate'))


def _history_address(resp, requested) -> str:
    """The address the browser's history keeps for a page: the one it requested, unless the page rewrote it."""
    scripts = [m.group(1) for m in _REPLACE.finditer(resp.get_data(as_text=True))]
    return json.loads(scripts[-1]) if scripts else requested


def _card_address(page, card_id, amount) -> str:
    """What a 积分公益 card's button opens: its GET form's action with the form's fields, as a browser builds it."""
    [card] = _doc(page.get('/m/shop?section=charity')).xpath(f'//li[@id="{card_id}"]')
    [form] = card.xpath('.//form')
    fields = {i.get('name'): i.get('value') for i in form.xpath('.//input[@name]')}
    fields['amount'] = str(amount)
    return form.get('action') + '?' + urlencode(fields)


def _confirm(page, address):
    """Open a confirmation and tap 确认捐赠 on it; the address the browser's history keeps for that page."""
    resp = page.get(address)
    assert resp.status_code == 200
    doc = _doc(resp)
    [form] = doc.xpath(CONFIRM_FORM)
    data = {i.get('name'): i.get('value') for i in form.xpath('.//input[@name]')}
    assert page.post(form.get('action'), data=data).status_code == 302
    return _history_address(resp, address)


def _back_and_tap_again(page, address):
    """Browser Back onto the confirmation (pages are not cached: it is fetched again), then 确认捐赠 if offered."""
    resp = page.get(address)
    assert resp.status_code == 200
    doc = _doc(resp)
    for form in doc.xpath(CONFIRM_FORM):
        page.post(form.get('action'), data={i.get('name'): i.get('value') for i in form.xpath('.//input[@name]')})
    return doc


@pytest.mark.parametrize('card', ['pool', 'project'])
def test_back_after_donating_says_done_and_charges_once(login, card):
    award('vol_zhang', 60)
    page = login('vol_zhang')
    project = item(PROJECT)
    card_id = 'pool' if card == 'pool' else f'item-{project.id}'
    pool_before = shop.pool_balance()

    address = _confirm(page, _card_address(page, card_id, 5))
    assert _available() == 55 and _donations() == 1

    doc = _back_and_tap_again(page, address)
    assert _available() == 55 and _donations() == 1, 'Back + 确认捐赠 took the points a second time'
    assert 'request_token=' in address, 'the confirmation keeps its one-time token in its address'
    assert doc.xpath('//h1/text()') == ['捐赠已完成']
    assert [_text(n) for n in doc.xpath('//*[@role="alert"]')] == ['该捐赠已完成，请勿重复提交']
    assert doc.xpath(CONFIRM_FORM) == [], 'no 确认捐赠 button to tap a second time'
    done = _text(doc.xpath('//section[contains(@class, "donate-done")]')[0])
    assert ('公益池' if card == 'pool' else PROJECT) in done and '5 养老时间积分' in done
    assert '这次确认只扣除一次积分，没有重复捐赠' in done
    assert _available() == 55 and _donations() == 1

    points = _text(_doc(page.get('/m/points?type=elderly_time')).xpath('//main')[0])
    line = '积分捐入公益池' if card == 'pool' else f'项目捐分「{PROJECT}」'
    assert points.count(line) == 1

    db.session.expire_all()
    if card == 'pool':
        assert shop.pool_balance() == pool_before + 5
        rows = _doc(login('gzva').get('/shop/pool')).xpath('//tr[contains(@class, "pool-in")]')
        assert [_text(r) for r in rows if '张建国' in _text(r)] and len(rows) == 1
    else:
        assert shop.project_totals()[project.id] == 5


def test_a_deliberate_second_donation_is_a_fresh_confirmation_that_mentions_the_first(login):
    award('vol_zhang', 60)
    page = login('vol_zhang')
    address = _confirm(page, _card_address(page, 'pool', 5))
    doc = _doc(page.get(address))
    [again] = doc.xpath('//a[normalize-space()="再捐一次"]/@href')
    assert doc.xpath('//a[normalize-space()="查看我的积分"]/@href') == ['/m/points?type=elderly_time']

    resp = page.get(again)
    doc = _doc(resp)
    assert doc.xpath('//h1/text()') == ['确认捐赠']
    [note] = doc.xpath('//*[contains(@class, "recent-donation")]')
    assert re.search(r'您在 \d\d:\d\d 刚捐过 5 积分', _text(note))
    second = _confirm(page, again)
    assert second != address and _available() == 50 and _donations() == 2
    # Back onto either confirmation: both are used
    for used in (address, second):
        assert _back_and_tap_again(page, used).xpath('//h1/text()') == ['捐赠已完成']
    assert _available() == 50 and _donations() == 2


def test_a_token_used_for_another_target_gets_a_fresh_confirmation(login):
    award('vol_zhang', 60)
    page = login('vol_zhang')
    address = _confirm(page, _card_address(page, 'pool', 5))
    token = address.split('request_token=')[1]
    project = item(PROJECT)
    resp = page.get('/m/shop/donate', query_string={'target': project.id, 'point_type': 'elderly_time', 'amount': 5,
                                                    'request_token': token})
    doc = _doc(resp)
    assert doc.xpath('//h1/text()') == ['确认捐赠']
    [form] = doc.xpath(CONFIRM_FORM)
    assert form.xpath('.//input[@name="request_token"]/@value')[0] != token
    assert token not in _history_address(resp, '')


def test_back_after_redeeming_from_an_address_without_token_is_done_too(login):
    """个人兑换's confirmation opened without a token (an old link): the page writes its token into the address."""
    award('vol_zhang', 60)
    page = login('vol_zhang')
    bath = item('上门助浴服务（1 次）')
    requested = f'/m/shop/items/{bath.id}/redeem'
    resp = page.get(requested)
    address = _history_address(resp, requested)
    [form] = _doc(resp).xpath('//form[contains(@action, "/redeem")][@method="post"]')
    data = {i.get('name'): i.get('value') for i in form.xpath('.//input[@name]')}
    assert page.post(form.get('action'), data=data).status_code == 302
    doc = _doc(page.get(address))
    assert doc.xpath('//h1/text()') == ['兑换已完成']
    assert '这次确认只扣除一次积分，没有重复兑换' in _text(doc.xpath('//section[contains(@class, "redeem-done")]')[0])
    assert _available() == 30
