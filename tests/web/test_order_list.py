"""订单管理 (/orders and GET /api/v1/orders): each back-office unit lists the V-orders of its area (a station its
street, a street/district/广志协 the streets below it, a provider the orders offered to it), filtered by status,
search and a Beijing-day range of the service start; every listed order opens, and no other street's does."""
import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OrgUnit, VOrder
from app.services.timers import fire_due
from tests.jobs.test_v_order_timers import advance_to_next_timer
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, travel_past_service
from tests.web.test_v_order_rules import RATINGS, publish

ROW_LINK = re.compile(r'<td class="title-cell"><a href="/orders/(\d+)">')
LIST_USERS = ('station_xicun', 'station_xinshi', 'street_xicun', 'district_liwan', 'gzva', 'provider_a')


def order_id(inst) -> int:
    return int(inst['business_key'].split(':')[1])


def listed(browser, **args) -> list[int]:
    resp = browser.get('/orders?' + urlencode(args))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return [int(i) for i in ROW_LINK.findall(resp.get_data(as_text=True))]


def api_listed(client, **args) -> list[int]:
    resp = client.get('/orders?' + urlencode(args))
    assert resp.status_code == 200, resp.get_json()
    return [o['id'] for o in resp.get_json()['items']]


def set_start(oid: int, start: datetime, hours=2) -> None:
    """Move an order's service time (as travel_past_service does): the date filter reads start_at only."""
    order = db.session.get(VOrder, oid)
    order.start_at, order.end_at = start, start + timedelta(hours=hours)
    db.session.commit()


@pytest.fixture
def world(api):
    """Four orders of one elder (户籍 西村街, 居住 新市街) published by vol_zhang: three on 西村街 (待审核, 待派单 to
    provider_a, 待接单) and one on 新市街 (待审核)."""
    so = approved_object(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    xicun = publish(publisher, so, title='陪陈伯复诊')
    xinshi = publish(publisher, so, title='上门助洁', street='xinshi', service_item='cleaning',
                     address='白云区新市街新市路 2 号')
    provider = publish(publisher, so, title='派给服务商的订单')
    complete(station, open_task(station, provider['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    opened = publish(publisher, so, title='开放接单的订单')
    complete(station, open_task(station, opened['id']), decision='approve', data={'dispatch_mode': 'open'})
    return {'so': so, 'xicun': order_id(xicun), 'xinshi': order_id(xinshi), 'provider': order_id(provider),
            'open': order_id(opened), 'instances': {'provider': provider, 'open': opened}}


def test_each_unit_lists_the_orders_of_its_area_newest_first(world, login, api):
    w = world
    # 逢源街 is the other street of 荔湾区: the district lists it, 西村街's station and office do not
    fengyuan = order_id(publish(api('vol_zhang'), w['so'], title='逢源街的订单'))
    order = db.session.get(VOrder, fengyuan)  # a 逢源街 publisher is not in the demo data: the order moves there
    order.street_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == 'fengyuan'))
    db.session.commit()
    on_xicun = [w['open'], w['provider'], w['xicun']]
    expected = {'station_xicun': on_xicun, 'street_xicun': on_xicun, 'district_liwan': [fengyuan, *on_xicun],
                'station_xinshi': [w['xinshi']], 'street_xinshi': [w['xinshi']],
                'gzva': [fengyuan, w['open'], w['provider'], w['xinshi'], w['xicun']],
                'provider_a': [w['provider']], 'station_shipai': [], 'street_shipai': []}
    for username, ids in expected.items():
        assert listed(login(username)) == ids, username
    page = login('station_xicun').get('/orders').get_data(as_text=True)
    assert '共 3 张订单' in page and '上门助洁' not in page
    row = page[page.index(f'href="/orders/{w["provider"]}"'):].split('</tr>')[0]
    assert '派给服务商的订单' in row and '西村街' in row and '<span class="badge s-pending">待派单</span>' in row
    assert '0 / 1' in row


def test_another_streets_station_sees_none_of_them_and_gets_404(world, login, api):
    shipai, shipai_api = login('station_shipai'), api('station_shipai')
    page = shipai.get('/orders').get_data(as_text=True)
    assert '暂无订单' in page and '共 0 张订单' in page
    assert '陪陈伯复诊' not in page and '上门助洁' not in page
    assert shipai_api.get('/orders').get_json() == {'items': [], 'total': 0, 'page': 1}
    assert listed(shipai, q='陪陈伯') == [] and listed(shipai, status='awaiting_dispatch') == []
    for key in ('xicun', 'xinshi', 'provider', 'open'):
        assert shipai.get(f'/orders/{world[key]}').status_code == 404, key
        assert shipai_api.get(f'/orders/{world[key]}').status_code == 404, key
    # the neighbouring street's station neither
    xinshi = login('station_xinshi')
    assert xinshi.get(f'/orders/{world["xicun"]}').status_code == 404
    assert api('station_xinshi').get(f'/orders/{world["xicun"]}').status_code == 404


def test_a_provider_lists_only_the_orders_offered_to_it(world, login, api):
    provider = login('provider_a')
    assert listed(provider) == [world['provider']]
    html_page = provider.get(f'/orders/{world["provider"]}').get_data(as_text=True)
    assert '派给服务商的订单' in html_page
    for key in ('xicun', 'open'):  # 西村街 lies in 荔湾区 like the provider, but these were not offered to it
        assert provider.get(f'/orders/{world[key]}').status_code == 404, key
        assert api('provider_a').get(f'/orders/{world[key]}').status_code == 404, key


def test_read_only_units_open_the_orders_they_list(world, login, api):
    """A street or district office holds no task of a V-order: the list's rule alone lets it open the order."""
    for username in ('street_xicun', 'district_liwan'):
        page = login(username)
        resp = page.get(f'/orders/{world["xicun"]}')
        assert resp.status_code == 200 and '陪陈伯复诊' in resp.get_data(as_text=True), username
        assert '确认取消' not in resp.get_data(as_text=True), 'an overview, not a way to cancel'
        assert api(username).get(f'/orders/{world["xicun"]}').get_json()['title'] == '陪陈伯复诊'
        assert page.get(f'/orders/{world["xinshi"]}').status_code == 404, username  # 新市街 is in 白云区


def test_every_listed_order_opens_for_its_user(world, login, api):
    for username in LIST_USERS:
        page = login(username)
        ids = listed(page)
        assert ids, username
        for oid in ids:
            assert page.get(f'/orders/{oid}').status_code == 200, (username, oid)
            assert api(username).get(f'/orders/{oid}').status_code == 200, (username, oid)


def test_volunteers_have_no_order_list_and_no_link_to_it(world, login, api):
    vol = login('vol_zhang')
    resp = vol.get('/orders')
    assert resp.status_code == 403 and '陪陈伯复诊' not in resp.get_data(as_text=True)
    assert vol.get('/orders?from=not-a-date').status_code == 403
    body = api('vol_zhang').get('/orders').get_json()
    assert api('vol_zhang').get('/orders').status_code == 403 and body['error'] == 'forbidden'
    assert '订单管理' not in vol.get('/m/').get_data(as_text=True)
    assert '订单管理' not in vol.get('/messages').get_data(as_text=True)
    assert vol.get(f'/orders/{world["xicun"]}').status_code == 200, 'the publisher still opens her own order'

    station = login('station_xicun')
    inbox = station.get('/inbox').get_data(as_text=True)
    assert '<a href="/orders" >订单管理</a>' in inbox
    orders = station.get('/orders').get_data(as_text=True)
    assert '<a href="/orders" aria-current="page">订单管理</a>' in orders
    nav = orders[orders.index('class="mainnav"'):orders.index('</nav>')]
    assert nav.index('服务对象库') < nav.index('订单管理')


def _in_progress(api, so, title):
    publisher, station, vol_li = api('vol_zhang'), api('station_xicun'), api('vol_li')
    inst = publish(publisher, so, title=title)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    complete(vol_li, open_task(vol_li, inst['id']))
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    return inst


def test_status_filters_including_to_rate_and_overdue(world, login, api):
    so = world['so']
    running = order_id(_in_progress(api, so, '正在服务的订单'))
    ended = _in_progress(api, so, '服务已结束待评价')
    travel_past_service(ended['id'])
    late = _in_progress(api, so, '认证逾期的订单')
    travel_past_service(late['id'])
    publisher = api('vol_zhang')
    complete(publisher, open_task(publisher, late['id']), data=RATINGS)
    for _reminder in ('day 7', 'day 12', 'overdue at day 14'):
        advance_to_next_timer(late['id'])
        assert fire_due() == 1
    ended, late = order_id(ended), order_id(late)

    page = login('station_xicun')
    expected = {'pending_review': [world['xicun']], 'awaiting_dispatch': [world['provider']],
                'open': [world['open']], 'in_progress': [running], 'to_rate': [ended],
                'to_certify': [late], 'overdue': [late], 'done': [], 'cancelled': []}
    for status, ids in expected.items():
        assert listed(page, status=status) == ids, status
        assert api_listed(api('station_xicun'), status=status) == ids, status
    assert listed(page) == [late, ended, running, world['open'], world['provider'], world['xicun']]

    rate = page.get('/orders?status=to_rate').get_data(as_text=True)
    assert '<span class="badge s-pending">待评价</span>' in rate and '<option value="to_rate" selected>待评价</option>' in rate
    end = db.session.get(VOrder, ended).end_at
    due = (end + timedelta(days=14)).astimezone(ZoneInfo('Asia/Shanghai'))
    assert f'{due:%Y-%m-%d %H:%M}' in rate, 'the certification deadline (Beijing time) runs from the end of the service'
    overdue = page.get('/orders?status=overdue').get_data(as_text=True)
    row = overdue[overdue.index(f'href="/orders/{late}"'):].split('</tr>')[0]
    assert '<span class="due overdue">' in row and '<span class="badge s-rejected">已逾期</span>' in row
    assert '待认证' in row
    assert '已逾期' not in rate.split('<tbody>')[1], 'a deadline still ahead is not marked'
    assert '没有符合条件的订单' in page.get('/orders?status=done').get_data(as_text=True)
    assert '待派单' in page.get('/orders?status=done').get_data(as_text=True), 'the select still offers every status'


def test_search_title_and_address_literally(world, login):
    page = login('gzva')
    assert listed(page, q='新市路') == [world['xinshi']], 'address'
    assert listed(page, q=' 服务商 ') == [world['provider']], 'title, trimmed'
    assert listed(page, q='%') == [] and listed(page, q='_') == [], 'wildcards are plain characters'
    assert listed(page, q='订单', status='open') == [world['open']]
    html_page = page.get('/orders?q=没有这样的订单').get_data(as_text=True)
    assert '没有符合条件的订单' in html_page and 'value="没有这样的订单"' in html_page
    assert '清除筛选' in html_page and '清除筛选' not in page.get('/orders').get_data(as_text=True)
    assert listed(page, q='陪' * 300) == []


def test_date_range_is_in_beijing_calendar_days(world, login, api):
    """00:30 on 1 December in Beijing is 16:30 on 30 November in UTC: it belongs to 1 December."""
    set_start(world['xicun'], datetime(2026, 11, 30, 16, 30, tzinfo=UTC))    # Beijing 12-01 00:30
    set_start(world['xinshi'], datetime(2026, 11, 30, 15, 59, tzinfo=UTC))   # Beijing 11-30 23:59
    set_start(world['provider'], datetime(2026, 12, 1, 15, 59, tzinfo=UTC))  # Beijing 12-01 23:59
    set_start(world['open'], datetime(2026, 12, 1, 16, 0, tzinfo=UTC))       # Beijing 12-02 00:00
    page, gz = login('gzva'), api('gzva')
    cases = [({'from': '2026-12-01', 'to': '2026-12-01'}, [world['provider'], world['xicun']]),
             ({'from': '2026-11-30', 'to': '2026-11-30'}, [world['xinshi']]),
             ({'from': '2026-12-02'}, [world['open']]),
             ({'to': '2026-11-30'}, [world['xinshi']]),
             ({'from': '2026-12-01', 'to': '2026-12-01', 'q': '服务商'}, [world['provider']])]
    for args, ids in cases:
        assert listed(page, **args) == ids, args
        assert api_listed(gz, **args) == ids, args
    day = page.get('/orders?from=2026-12-01&to=2026-12-01').get_data(as_text=True)
    assert '2026-12-01 00:30–02:30' in day, 'service times read in Beijing time'
    assert 'value="2026-12-01"' in day


def test_a_bad_date_range_is_explained_and_the_filters_are_kept(world, login, api):
    page = login('station_xicun')
    resp = page.get('/orders?' + urlencode({'status': 'pending_review', 'q': '陪陈伯', 'from': '2026-12-05',
                                            'to': '2026-12-01'}))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert '开始日期不能晚于结束日期' in body
    assert 'value="陪陈伯"' in body and '<option value="pending_review" selected>' in body
    assert 'value="2026-12-05"' in body and 'value="2026-12-01"' in body
    assert ROW_LINK.findall(body) == [], 'no list that ignores what the user asked for'
    unreadable = page.get('/orders?from=2026-13-01&q=陪陈伯')
    assert unreadable.status_code == 422 and '日期格式不正确' in unreadable.get_data(as_text=True)
    assert 'value="陪陈伯"' in unreadable.get_data(as_text=True)

    client = api('station_xicun')
    resp = client.get('/orders?from=2026-12-05&to=2026-12-01')
    assert resp.status_code == 422
    assert resp.get_json()['error'] == 'invalid' and resp.get_json()['errors'] == {'from': ['开始日期不能晚于结束日期']}
    both = client.get('/orders?to=12/01/2026&status=whatever').get_json()
    unreadable_day = '日期格式不正确，应为 年-月-日，例如 2026-11-30'
    assert both['errors'] == {'to': [unreadable_day], 'status': ['订单状态无效']}, 'every problem at once'
    assert client.get('/orders?from=0001-01-01&to=9999-12-31').get_json()['total'] == 3, 'extreme dates are no 500'
    en = api('station_xicun', lang='en').get('/orders?from=x').get_json()
    assert en['errors'] == {'from': ['Invalid date: use year-month-day, e.g. 2026-11-30']}


def test_pages_of_twenty_keep_the_filters(world, login, api):
    publisher = api('vol_zhang')
    made = [order_id(publish(publisher, world['so'], title=f'巡访独居长者 {i:02d}')) for i in range(21)]
    page = login('station_xicun')
    first = page.get('/orders?q=巡访').get_data(as_text=True)
    assert ROW_LINK.findall(first) == [str(i) for i in reversed(made[1:])]
    assert '共 21 张订单' in first and '第 1 / 2 页，共 21 条' in first
    next_link = html.unescape(re.search(r'<a class="btn" href="([^"]+)">下一页', first).group(1))
    assert 'q=%E5%B7%A1%E8%AE%BF' in next_link and 'page=2' in next_link
    assert listed(page, q='巡访', page=2) == [made[0]]
    assert [int(i) for i in ROW_LINK.findall(page.get(next_link).get_data(as_text=True))] == [made[0]]
    body = api('station_xicun').get('/orders?q=巡访&page=2').get_json()
    assert [o['id'] for o in body['items']] == [made[0]] and body['total'] == 21 and body['page'] == 2
    assert len(listed(page)) == 20
    assert listed(page, page=2) == [made[0], world['open'], world['provider'], world['xicun']]


def test_the_api_lists_the_same_orders_as_the_page(world, login, api):
    for username in ('station_xicun', 'gzva', 'provider_a', 'district_liwan'):
        page, client = login(username), api(username)
        for args in ({}, {'status': 'pending_review'}, {'q': '订单'}, {'status': 'open', 'q': '接单'}):
            assert api_listed(client, **args) == listed(page, **args), (username, args)
    body = api('gzva').get('/orders?status=awaiting_dispatch').get_json()
    [item] = body['items']
    assert body['total'] == 1 and body['page'] == 1
    assert item['title'] == '派给服务商的订单' and item['status_label'] == '待派单' and item['provider'] == 'provider_a'
    assert item['volunteers_approved'] == 0 and item['street_name'] == '西村街'
