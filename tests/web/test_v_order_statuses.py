"""Every list a user sees names the V-order statuses of SPEC §2.2, from 待审核 to 已中止."""
import re

from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data, travel_past_service
from tests.web.test_v_order_rules import RATINGS, certification, publish

SPEC_STATUSES = {'待审核', '初审已通过', '审核不通过', '待接单', '待派单', '进行中', '待评价', '待认证', '已完成', '已取消',
                 '已过期', '已中止'}


def badge_of(html, title):
    """The status badge on the list card whose title is `title`."""
    for card in re.findall(r'<li class="card[^"]*">(.*?)</li>', html, re.S):
        if f'<strong>{title}</strong>' in card:
            return re.search(r'class="badge s-[a-z]+">([^<]+)<', card).group(1)
    raise AssertionError(f'no card for {title}')


def walk(api, seen):
    """Take orders through every status, calling seen(status, instance) at each one."""
    so = approved_object(api)
    pub, station, provider, vol_li, gzva = (api(u) for u in ('vol_zhang', 'station_xicun', 'provider_a', 'vol_li', 'gzva'))
    a = publish(pub, so, title='订单甲')
    seen('待审核', a)
    complete(station, open_task(station, a['id']), decision='reject', reason='地址不详')
    seen('审核不通过', a)
    complete(pub, open_task(pub, a['id']), data=order_data([so], title='订单甲'))
    complete(station, open_task(station, a['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    seen('待派单', a)
    complete(provider, open_task(provider, a['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    complete(station, open_task(station, a['id'], '接单人审核'), decision='approve')
    seen('进行中', a)
    travel_past_service(a['id'])
    seen('待评价', a)
    complete(pub, open_task(pub, a['id']), data=RATINGS)
    seen('待认证', a)
    complete(station, open_task(station, a['id']), data=certification(station))
    complete(gzva, open_task(gzva, a['id']), decision='approve')
    seen('已完成', a)
    b = publish(pub, so, title='订单乙')
    complete(station, open_task(station, b['id']), decision='approve', data={'dispatch_mode': 'open'})
    seen('待接单', b)
    pub.post(f'/orders/{int(b["business_key"].split(":")[1])}/cancel', json={'reason': '家属已安排'})
    seen('已取消', b)
    c = publish(pub, so, title='订单丙')
    complete(station, open_task(station, c['id']), decision='approve', data={'dispatch_mode': 'open'})
    complete(vol_li, open_task(vol_li, c['id']))
    complete(station, open_task(station, c['id'], '接单人审核'), decision='approve')
    pub.post(f'/orders/{int(c["business_key"].split(":")[1])}/abort', json={'reason': '长者住院'})
    seen('已中止', c)


def test_my_orders_and_the_order_page_show_the_spec_statuses(api, login):
    page = login('vol_zhang')
    shown = set()

    def seen(status, inst):
        order_id = int(inst['business_key'].split(':')[1])
        assert badge_of(page.get('/m/orders').get_data(as_text=True), inst['title']) == status
        assert re.search(rf'class="status-line">.*?>{status}<', page.get(f'/orders/{order_id}').get_data(as_text=True), re.S)
        assert api('vol_zhang').get(f'/orders/{order_id}').get_json()['status_label'] == status
        shown.add(status)
    walk(api, seen)
    assert shown == SPEC_STATUSES - {'初审已通过', '已过期'}  # those two: test_v_order_rules and tests/jobs


def test_my_submissions_and_the_case_api_show_the_spec_statuses(api, login):
    page = login('vol_zhang')

    def seen(status, inst):
        assert badge_of(page.get('/m/cases').get_data(as_text=True), inst['title']) == status
        assert api('vol_zhang').get(f'/instances/{inst["id"]}').get_json()['status_label'] == status
    walk(api, seen)
