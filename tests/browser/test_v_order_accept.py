"""A volunteer accepts a V-order on a phone (375 px) and the station reviews the acceptor on a desktop:
screenshots to test-artifacts/ and the checks of test_page_tour (no sideways scrolling, 17 px text,
44 px touch targets)."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import login_as
from tests.browser.test_page_tour import check_phone_page
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data

pytestmark = pytest.mark.browser

TITLE = '陪陈伯复诊'


@pytest.fixture
def station_order(api):
    """An order published by station_xicun for 陈伯, approved by the station and open to volunteers."""
    so = approved_object(api)
    station = api('station_xicun')
    resp = station.post('/processes/v_order/instances', json={'data': order_data(
        [so], title=TITLE, address='荔湾区西村街西湾路 8 号', needs='陪同到医院复诊，协助挂号取药')})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    order_id = int(inst['business_key'].split(':')[1])
    db.session.remove()  # the server thread may share this connection (SQLite in memory)
    return {'instance_id': inst['id'], 'order_id': order_id}


def test_volunteer_accepts_on_the_phone_station_reviews_on_the_desktop(new_page, shot, station_order):
    phone = new_page('phone')
    login_as(phone, 'vol_zhang')
    phone.get_by_role('link', name='可接订单').click()
    expect(phone).to_have_url(re.compile(r'/m/orders/open$'))
    card = phone.locator('li.order-open', has_text=TITLE)
    expect(card).to_have_count(1)
    expect(card).to_contain_text('西村街')
    expect(card).to_contain_text('需要 1 人，已确定 0 人')
    check_phone_page(phone)
    shot(phone, 'open-orders')

    card.get_by_label('接单留言（可选）').fill('周六上午有空，可以陪同')
    card.get_by_role('button', name='我要接单').click()
    expect(phone.locator('.flash.success')).to_contain_text('已接单，等待社工站审核')
    expect(phone.locator('li.order-open', has_text=TITLE)).to_have_count(0)
    expect(phone.locator('li.empty')).to_contain_text('暂时没有可接的订单')
    check_phone_page(phone)
    shot(phone, 'accepted')

    phone.goto('/m/')
    phone.get_by_role('link', name='我的订单').click()
    mine = phone.locator('ul.accepted li', has_text=TITLE)
    expect(mine).to_have_count(1)
    expect(mine.locator('.badge')).to_have_text('待接单')
    expect(mine).to_contain_text('我的接单：待社工站审核')
    check_phone_page(phone)
    shot(phone, 'my-orders-pending')

    desk = new_page('desktop')
    login_as(desk, 'station_xicun')
    row = desk.locator('table.list tbody tr', has_text='接单人审核')
    expect(row).to_have_count(1)
    expect(row).to_contain_text(TITLE)
    shot(desk, 'inbox-acceptor-review')
    row.get_by_role('link').first.click()
    expect(desk.locator('h1')).to_contain_text('接单人审核')
    expect(desk.locator('.acceptor-profile')).to_contain_text('张建国')  # 接单人情况 above the order
    data = desk.locator('section.card', has_text='提交的信息').locator('dl.data')
    expect(data).to_contain_text('张建国（待社工站审核）：周六上午有空，可以陪同')
    expect(data).to_contain_text(re.compile(r'开始时间\s*20\d\d-\d\d-\d\d \d\d:\d\d'))  # Beijing time, not ISO
    expect(desk.locator('ol.history')).to_contain_text('志愿者接单')
    shot(desk, 'acceptor-review-task')
    desk.get_by_label('通过', exact=True).check()
    desk.get_by_role('button', name='提交审核结果').click()
    expect(desk.locator('.flash.success')).to_be_visible()
    expect(desk.locator('table.list tbody tr', has_text='接单人审核')).to_have_count(0)
    shot(desk, 'inbox-after-review')

    phone.reload()
    mine = phone.locator('ul.accepted li', has_text=TITLE)
    expect(mine.locator('.badge')).to_have_text('进行中')
    expect(mine).to_contain_text('我的接单：已确定')
    check_phone_page(phone)
    shot(phone, 'my-orders-confirmed')
    mine.get_by_role('link').click()
    expect(phone.locator('.status-line')).to_contain_text('进行中')
    expect(phone.locator('dl.data')).to_contain_text('张建国（已确定）')
    expect(phone.locator('dl.data')).to_contain_text('需要 1 人，已确定 1 人')
    check_phone_page(phone)
    shot(phone, 'order-detail')
