"""QA walk of 兑换记录 (the holder's hand-over pages): only the unit that holds an item sees and marks its
hand-overs (everyone else, units above it included, gets 404 by URL, so no volunteer is told something "from the
provider" that another unit typed); 已完成服务 / 已发放 is final, and a new note on it tells the volunteer the note
changed; a status left out names the choices the page shows for that item."""
import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from app.models.shop import ShopFulfilment
from tests.web.shop_helpers import CLEAN, RICE, award, item
from tests.web.shop_helpers import doc as _doc
from tests.web.shop_helpers import messages_of as _messages
from tests.web.shop_helpers import text_of as _text

MEAL = '长者饭堂餐券（10 张）'   # 提供单位 西村街长者饭堂 is no unit: held by 荔湾区民政局, the listing district
OUTSIDERS = ('gzva', 'veterans', 'admin', 'district_liwan', 'station_xicun', 'street_xicun', 'team_a', 'vol_li')


def _audits():
    db.session.expire_all()
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action.like('shop_fulfilment.%'))
                                   .order_by(AuditLog.id)))


def _redeem(api, username, name, token) -> int:
    """The hand-over id of a 个人兑换 (the id the holder's message links to)."""
    resp = api(username).post(f'/shop/items/{item(name).id}/redeem', json={'request_token': token})
    assert resp.status_code == 201, resp.get_json()
    db.session.expire_all()
    return db.session.scalar(select(ShopFulfilment.id).where(ShopFulfilment.item_id == item(name).id)
                             .order_by(ShopFulfilment.id.desc()))


def _row(page, fid):
    resp = page.get(f'/shop/redemptions/{fid}')
    assert resp.status_code == 200, resp.status_code
    [row] = _doc(resp).xpath(f'//tr[@id="handover-{fid}"]')
    return row


def _mark(page, fid, status, note=''):
    return page.post(f'/shop/redemptions/{fid}', data={'status': status, 'note': note, 'list_one': '1'})


def _status(fid) -> str:
    db.session.expire_all()
    return db.session.get(ShopFulfilment, fid).status


@pytest.mark.parametrize('who', OUTSIDERS)
def test_only_the_holder_sees_and_marks_a_hand_over(api, login, who):
    award('vol_zhang', 15)
    fid = _redeem(api, 'vol_zhang', CLEAN, 'h19-clean-perm')
    assert [m.link for m in _messages('provider_a')] == [f'/shop/redemptions/{fid}']
    assert _messages(who, 'task') == []                       # only the holder's staff are told
    before = len(_messages('vol_zhang'))

    page = login(who)
    assert page.get(f'/shop/redemptions/{fid}').status_code == 404
    assert page.post(f'/shop/redemptions/{fid}', data={'status': 'delivered', 'note': '已上门'}).status_code == 404
    listed = page.get('/shop/redemptions?status=all')
    assert listed.status_code in (200, 403)
    assert f'handover-{fid}' not in listed.get_data(as_text=True) and CLEAN not in listed.get_data(as_text=True)

    assert _status(fid) == 'pending' and _audits() == []
    assert len(_messages('vol_zhang')) == before              # nobody "from the provider" wrote to the volunteer
    assert CLEAN in _text(_row(login('provider_a'), fid))     # the holder still has it


def test_units_that_hold_nothing_get_no_list_and_a_district_keeps_what_it_holds(api, login):
    award('vol_zhang', 12)
    fid = _redeem(api, 'vol_zhang', MEAL, 'h19-meal-01')
    for who in ('veterans', 'admin'):                         # roles that never act for an item's holder
        assert login(who).get('/shop/redemptions').status_code == 403
    gzva = _doc(login('gzva').get('/shop/redemptions?status=all'))    # 广志协 would hold a city unit's items: none
    assert _text(gzva.xpath('//p[@class="list-total"]')[0]) == '共 0 条兑换记录'
    district = login('district_liwan')                        # the district holds what no named unit provides
    assert MEAL in _text(_row(district, fid))
    assert _mark(district, fid, 'delivered', '请到荔湾区长者饭堂领取').status_code == 302
    assert login('provider_a').get(f'/shop/redemptions/{fid}').status_code == 404
    [audit] = _audits()
    detail = json.loads(audit.detail_json)
    assert detail['unit'] == 'liwan' and detail['role'] == 'district_admin'


def test_a_finished_service_cannot_go_back_and_a_new_note_tells_the_volunteer_once(api, login):
    award('vol_zhang', 15)
    fid = _redeem(api, 'vol_zhang', CLEAN, 'h19-clean-final')
    provider = login('provider_a')
    assert _mark(provider, fid, 'arranged', '周五上午上门').status_code == 302
    assert _mark(provider, fid, 'delivered', '已于周五完成').status_code == 302
    assert _messages('vol_zhang')[-1].title == f'颐康居家养老服务中心：您兑换的「{CLEAN}」已完成服务'
    told = len(_messages('vol_zhang'))

    # the finished row offers no way back
    row = _row(provider, fid)
    assert row.xpath('.//input[@name="status"]/@value') == ['delivered']
    assert '这是最终状态，不能改回“已安排”' in _text(row)

    # a stale page (or a forged post) asking to go back is refused, at the row, with the typed note kept
    resp = _mark(provider, fid, 'arranged', '改约下周一')
    assert resp.status_code == 422
    doc = _doc(resp)
    assert ('该兑换已标记为“已完成服务”，不能改回“已安排”；如需补充情况，请修改说明后保存'
            in _text(doc.xpath(f'//*[@id="field-status-{fid}"]')[0]))
    assert doc.xpath(f'//textarea[@id="f-note-{fid}"]/text()') == ['改约下周一']
    assert _status(fid) == 'delivered' and len(_messages('vol_zhang')) == told
    assert [a.action for a in _audits()] == ['shop_fulfilment.arranged', 'shop_fulfilment.delivered']

    # the same state with another note: the note is updated and the volunteer told that the note changed
    resp = _mark(provider, fid, 'delivered', '已于周五完成，清洁员小王')
    assert resp.status_code == 302
    assert '已更新说明，已通知志愿者' in _text(_doc(provider.get(resp.headers['Location'])).xpath('//main')[0])
    msgs = _messages('vol_zhang')
    assert len(msgs) == told + 1
    assert msgs[-1].title == f'颐康居家养老服务中心：您兑换的「{CLEAN}」（已完成服务）说明已更新'
    assert msgs[-1].body == '已于周五完成，清洁员小王'
    assert _status(fid) == 'delivered'
    last = _audits()[-1]
    assert last.action == 'shop_fulfilment.delivered'
    assert json.loads(last.detail_json)['before'] == {'status': 'delivered', 'note': '已于周五完成'}
    page = login('vol_zhang')
    [entry] = _doc(page.get('/m/shop/mine')).xpath('//li[contains(@class, "redemption")]')
    assert '已完成服务' in _text(entry) and '清洁员小王' in _text(entry)

    # and saving it once more unchanged tells nobody
    assert _mark(provider, fid, 'delivered', '已于周五完成，清洁员小王').status_code == 302
    assert len(_messages('vol_zhang')) == told + 1

    # a note taken away is said so, not sent as an empty message
    assert _mark(provider, fid, 'delivered', '').status_code == 302
    last = _messages('vol_zhang')[-1]
    assert last.title.endswith('（已完成服务）说明已更新') and last.body == '（说明已清空）'
    assert _status(fid) == 'delivered'


def test_a_missing_status_names_the_choices_the_page_shows(api, login):
    award('vol_zhang', 15)
    award('vol_li', 20, point_type='service')
    service = _redeem(api, 'vol_zhang', CLEAN, 'h19-clean-none')
    goods = _redeem(api, 'vol_li', RICE, 'h19-rice-none')

    resp = _mark(login('provider_a'), service, '', '周五上门')
    assert resp.status_code == 422
    doc = _doc(resp)
    labels = [_text(x) for x in doc.xpath(f'//tr[@id="handover-{service}"]//label[contains(@class, "radio")]')]
    assert labels == ['已安排', '已完成服务']
    error = _text(doc.xpath(f'//*[@id="field-status-{service}"]//*[contains(@class, "error")]')[0])
    assert '请选择“已安排”或“已完成服务”' in error and '已发放' not in error
    assert doc.xpath(f'//textarea[@id="f-note-{service}"]/text()') == ['周五上门']

    resp = _mark(login('station_xicun'), goods, '')
    assert resp.status_code == 422
    assert '请选择“已安排”或“已发放”' in _text(_doc(resp).xpath(f'//*[@id="field-status-{goods}"]')[0])
