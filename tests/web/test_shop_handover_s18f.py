"""Walk (phone) fix 5: the unit that provides a shop item (its 提供单位: a provider, a station) is told of every
个人兑换 and every approved gift of it (who, what, whom to contact), lists them on 兑换记录 (its own items only, paged,
searchable) and marks each 已安排 / 已发放 with a note; the volunteer sees that on 我的兑换 and is told."""
import json

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from tests.web.shop_helpers import BATH, CLEAN, RICE, award, item, review_task, started_gift, user
from tests.web.shop_helpers import doc as _doc
from tests.web.shop_helpers import messages_of as _messages
from tests.web.shop_helpers import text_of as _text

MEAL = '长者饭堂餐券（10 张）'        # 提供单位 西村街长者饭堂: no such unit, so 荔湾区民政局 (the listing district)


def _redeem(client, name, token):
    resp = client.post(f'/shop/items/{item(name).id}/redeem', json={'request_token': token})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _rows(page, url='/shop/redemptions'):
    resp = page.get(url)
    assert resp.status_code == 200, resp.status_code
    return _doc(resp).xpath('//table[contains(@class, "handovers")]/tbody/tr[starts-with(@id, "handover-")]')


def _mark(page, row, status, note='', **extra):
    [form] = row.xpath('.//form')
    data = {i.get('name'): i.get('value') for i in form.xpath('.//input[@type="hidden"]')}
    return page.post(form.get('action'), data={**data, 'status': status, 'note': note, **extra})


def test_a_personal_redemption_reaches_the_provider_who_marks_it_and_the_volunteer_sees_it(api, login):
    award('vol_zhang', 60)
    _redeem(api('vol_zhang'), BATH, 'handover-bath-01')

    [told] = _messages('provider_a')
    assert told.kind == 'task'
    assert told.title == f'新的兑换：张建国兑换「{BATH}」，请联系张建国（13700000000）安排'
    assert told.link.startswith('/shop/redemptions/')
    assert _messages('vol_li') == []                 # a volunteer of the provider is not its staff
    assert _messages('station_xicun') == []
    [mine] = _messages('vol_zhang')
    assert mine.title == f'您已兑换「{BATH}」，已扣除 30 积分' and '颐康居家养老服务中心将联系您安排' in mine.body

    provider = login('provider_a')
    nav = _doc(provider.get('/shop/redemptions')).xpath('//nav//a[normalize-space()="兑换记录"]/@href')
    assert nav == ['/shop/redemptions']
    [row] = _rows(provider, told.link)                # the message opens this one hand-over
    text = _text(row)
    assert BATH in text and '个人兑换' in text and '张建国' in text and '13700000000' in text and '待安排' in text

    page = login('vol_zhang')
    [entry] = _doc(page.get('/m/shop/mine')).xpath('//li[contains(@class, "redemption")]')
    assert '待安排' in _text(entry) and '颐康居家养老服务中心将联系您（13700000000）安排' in _text(entry)

    resp = _mark(provider, row, 'arranged', '12月5日上午10点上门，助浴员小陈')
    assert resp.status_code == 302
    assert '已标记为“已安排”，已通知志愿者' in _text(_doc(provider.get(resp.headers['Location'])).xpath('//main')[0])
    told_back = _messages('vol_zhang')[-1]
    assert told_back.title == f'颐康居家养老服务中心：您兑换的「{BATH}」已安排'
    assert told_back.body == '12月5日上午10点上门，助浴员小陈' and told_back.link.startswith('/m/shop/mine#fulfilment-')
    [entry] = _doc(page.get('/m/shop/mine')).xpath('//li[contains(@class, "redemption")]')
    assert entry.get('id') == told_back.link.split('#')[1]
    assert '已安排' in _text(entry) and '12月5日上午10点上门，助浴员小陈' in _text(entry)

    [audit] = db.session.scalars(select(AuditLog).where(AuditLog.action == 'shop_fulfilment.arranged'))
    detail = json.loads(audit.detail_json)
    assert audit.actor_id == user('provider_a').id and detail['note'] == '12月5日上午10点上门，助浴员小陈'
    assert detail['before']['status'] == 'pending' and detail['unit'] == 'provider_a'

    # no longer 待安排; saving the same again tells nobody twice; 已完成服务 does
    assert _rows(provider) == []
    [row] = _rows(provider, '/shop/redemptions?status=arranged')
    assert _mark(provider, row, 'arranged', '12月5日上午10点上门，助浴员小陈').status_code == 302
    assert len(_messages('vol_zhang')) == 2
    assert _mark(provider, row, 'delivered').status_code == 302
    assert _messages('vol_zhang')[-1].title == f'颐康居家养老服务中心：您兑换的「{BATH}」已完成服务'
    [entry] = _doc(page.get('/m/shop/mine')).xpath('//li[contains(@class, "redemption")]')
    assert '已完成服务' in _text(entry)


def test_goods_reach_the_station_that_holds_them_and_nobody_else(api, login):
    award('vol_li', 40, point_type='service')
    _redeem(api('vol_li'), RICE, 'handover-rice-01')
    [told] = _messages('station_xicun')
    assert told.title == f'新的兑换：李晓敏兑换「{RICE}」，请联系李晓敏（13700000001）安排'
    assert _messages('provider_a') == []
    station, provider = login('station_xicun'), login('provider_a')
    [row] = _rows(station)
    assert RICE in _text(row)
    assert _rows(provider) == []
    assert provider.get(told.link).status_code == 404            # another unit's hand-over
    assert provider.post(told.link, data={'status': 'delivered'}).status_code == 404
    assert login('vol_li').get('/shop/redemptions').status_code == 403
    assert _mark(station, row, 'delivered', '已于西村街社工站领取').status_code == 302
    entry = _text(_doc(login('vol_li').get('/m/shop/mine')).xpath('//li[contains(@class, "redemption")]')[0])
    assert '已发放' in entry and '已于西村街社工站领取' in entry


def test_an_item_whose_provider_is_no_unit_goes_to_the_district_that_listed_it(api, login):
    award('vol_zhang', 20)
    _redeem(api('vol_zhang'), MEAL, 'handover-meal-01')
    assert [m.title for m in _messages('district_liwan')] == [
        f'新的兑换：张建国兑换「{MEAL}」，请联系张建国（13700000000）安排']
    assert len(_rows(login('district_liwan'))) == 1


def test_an_approved_gift_gives_the_provider_the_relatives_contact(api, login):
    award('vol_li', 60)
    li, gzva = api('vol_li'), api('gzva')
    inst = started_gift(li, relative_name='李大山', relative_phone='13800138000')
    assert _messages('provider_a') == []                         # nothing to hand over before the review
    task = review_task(gzva, inst['id'])
    assert gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    [told] = _messages('provider_a')
    assert told.title == f'新的赠予兑换：李晓敏为李大山兑换「{BATH}」，请联系李大山（13800138000）安排'
    provider = login('provider_a')
    [row] = _rows(provider, told.link)
    assert '赠予直系亲属' in _text(row) and '李大山' in _text(row) and '（受赠人）' in _text(row)
    assert _mark(provider, row, 'arranged', '已与李大山约好12月6日下午上门').status_code == 302
    assert _messages('vol_li', 'info')[-1].title == f'颐康居家养老服务中心：您为李大山兑换的「{BATH}」已安排'
    card = _text(_doc(login('vol_li').get('/m/shop/mine')).xpath('//li[contains(@class, "case")]')[0])
    assert '已安排' in card and '已与李大山约好12月6日下午上门' in card


def test_a_refused_mark_is_said_at_its_row_and_keeps_the_note(api, login):
    award('vol_zhang', 60)
    _redeem(api('vol_zhang'), BATH, 'handover-bath-02')
    provider = login('provider_a')
    [row] = _rows(provider)
    rid = row.get('id').split('-')[1]
    resp = _mark(provider, row, '', '周五上门')
    assert resp.status_code == 422
    doc = _doc(resp)
    assert '请选择“已安排”或“已完成服务”' in _text(doc.xpath(f'//*[@id="field-status-{rid}"]')[0])
    assert doc.xpath(f'//textarea[@id="f-note-{rid}"]/text()') == ['周五上门']
    resp = _mark(provider, row, 'arranged', '长' * 501)
    assert resp.status_code == 422
    assert '说明最多 500 个字，现在 501 个字' in _text(_doc(resp).xpath(f'//*[@id="field-note-{rid}"]')[0])
    assert len(_messages('vol_zhang')) == 1                      # only the redemption's own message
    assert db.session.scalars(select(AuditLog).where(AuditLog.action.like('shop_fulfilment.%'))).all() == []


def test_the_list_is_paged_and_searched(api, login):
    award('vol_zhang', 15 * 22)
    award('vol_li', 60)
    zhang = api('vol_zhang')
    for n in range(22):
        _redeem(zhang, CLEAN, f'handover-clean-{n:03d}')
    li, gzva = api('vol_li'), api('gzva')
    inst = started_gift(li, relative_name='陈阿伯', relative_phone='13800138099')
    task = review_task(gzva, inst['id'])
    assert gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200

    provider = login('provider_a')
    doc = _doc(provider.get('/shop/redemptions'))
    assert _text(doc.xpath('//p[@class="list-total"]')[0]) == '共 23 条兑换记录'
    assert len(_rows(provider)) == 20 and len(_rows(provider, '/shop/redemptions?page=2')) == 3
    assert '陈阿伯' in _text(_rows(provider)[0])                  # newest first
    found = _rows(provider, '/shop/redemptions?q=陈阿伯')
    assert len(found) == 1 and BATH in _text(found[0])
    assert len(_rows(provider, '/shop/redemptions?q=13800138099')) == 1
    assert len(_rows(provider, '/shop/redemptions?q=张建国')) == 20
    assert len(_rows(provider, '/shop/redemptions?q=助洁')) == 20
    assert _rows(provider, '/shop/redemptions?status=delivered') == []
    assert len(_rows(provider, '/shop/redemptions?status=all&lang=en')) == 20    # the English page draws too
