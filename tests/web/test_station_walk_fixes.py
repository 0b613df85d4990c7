"""A station's week of V-orders, as a walk found it: orders told apart by number (and found by it), the acceptors
waiting for the station's review counted in 订单管理."""
import re

from tests.web.test_v_order_lifecycle import approved_object, complete, open_task
from tests.web.test_v_order_rules import publish


def _open_order(api, needed=2):
    station = api('station_xicun')
    inst = publish(station, approved_object(api), volunteers_needed=needed)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    return inst, int(inst['business_key'].split(':')[1])


def test_orders_are_numbered_and_found_by_number(api, login):
    station = api('station_xicun')
    so = approved_object(api)
    first, second = (int(publish(station, so)['business_key'].split(':')[1]) for _ in range(2))
    page = login('station_xicun')
    html = page.get('/orders').get_data(as_text=True)
    assert f'#{first}</span>' in html and f'#{second}</span>' in html, 'two orders of one title are told apart'
    for typed in (f'#{second}', str(second), f'＃{second}'):
        found = page.get('/orders', query_string={'q': typed}).get_data(as_text=True)
        assert f'/orders/{second}"' in found and f'/orders/{first}"' not in found, typed
    assert f'#{first}</span>' in page.get(f'/orders/{first}').get_data(as_text=True)
    assert [o['id'] for o in station.get(f'/orders?q=%23{first}').get_json()['items']] == [first]


def test_the_list_counts_acceptors_waiting_for_review(api, login):
    inst, order_id = _open_order(api, needed=2)
    vol_li = api('vol_li')
    complete(vol_li, open_task(vol_li, inst['id'], '志愿者接单'), data={'note': ''})
    row = re.search(rf'/orders/{order_id}".*?</tr>', login('station_xicun').get('/orders').get_data(as_text=True), re.S)
    assert re.search(r'0 / 2</span> <span class="badge s-pending nowrap">1 人待审核</span>', row.group(0)), row.group(0)
    station = api('station_xicun')
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    row = re.search(rf'/orders/{order_id}".*?</tr>', login('station_xicun').get('/orders').get_data(as_text=True), re.S)
    assert '1 / 2</span>' in row.group(0) and '待审核</span>' not in row.group(0)
