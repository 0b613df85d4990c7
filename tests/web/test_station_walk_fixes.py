"""A station's week of V-orders, as a walk found it: orders told apart by number (and found by it), the acceptors
waiting for the station's review counted in 订单管理, a submitted certification shown as waiting for the association
(no deadline warning left), no more hours certified than the order booked, no publish approval after the start."""
import re
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import VOrder
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data, travel_past_service
from tests.web.test_v_order_rules import RATINGS, certification, publish, staffed_order


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


def _rated_order(api):
    """An order of vol_zhang's served by 李晓敏 (10 hours, ended an hour ago) and rated: waiting for certification."""
    inst = staffed_order(api)
    travel_past_service(inst['id'])
    publisher = api('vol_zhang')
    complete(publisher, open_task(publisher, inst['id']), data=RATINGS)
    return inst, int(inst['business_key'].split(':')[1])


def test_a_submitted_certification_waits_for_the_association_without_the_deadline_warning(api, login):
    inst, order_id = _rated_order(api)
    station, gzva = api('station_xicun'), api('gzva')
    page = login('station_xicun')
    assert '时数认证须在服务结束后 10 个工作日内完成' in page.get(f'/orders/{order_id}').get_data(as_text=True)
    complete(station, open_task(station, inst['id']), data=certification(station))
    html = page.get(f'/orders/{order_id}').get_data(as_text=True)
    assert '待认证（已提交，广志协审核中）' in html and '10 个工作日内完成' not in html, 'the station has done its part'
    assert station.get(f'/orders/{order_id}').get_json()['status'] == 'certifying'
    listed = page.get('/orders?status=certifying').get_data(as_text=True)
    assert f'/orders/{order_id}"' in listed and f'/orders/{order_id}"' not in page.get(
        '/orders?status=to_certify').get_data(as_text=True)
    complete(gzva, open_task(gzva, inst['id']), decision='reject', reason='照片不清晰')
    html = page.get(f'/orders/{order_id}').get_data(as_text=True)
    assert '10 个工作日内完成' in html and '已提交，广志协审核中' not in html, 'sent back: the station must act again'


def test_hours_beyond_the_booked_time_are_refused(api, row_counts):
    inst, _order_id = _rated_order(api)  # booked for 10 hours
    station = api('station_xicun')
    task = open_task(station, inst['id'])
    before = row_counts()
    resp = station.post(f'/tasks/{task["id"]}/complete', json={'data': certification(station, service_hours=10.5)})
    assert resp.status_code == 422
    assert resp.get_json()['errors']['service_hours'][0].startswith('每位志愿者的服务时长不能超过订单预约的服务时长（10 小时，')
    assert row_counts() == before
    ok = station.post(f'/tasks/{task["id"]}/complete', json={'data': certification(station, service_hours=10)})
    assert ok.status_code == 200, ok.get_json()


def test_an_order_whose_start_has_passed_cannot_be_approved_for_publishing(api):
    station = api('station_xicun')
    inst = publish(station, approved_object(api))
    order = db.session.scalar(select(VOrder).where(VOrder.instance_id == inst['id']))
    order.start_at -= timedelta(hours=3)  # the review waited too long
    order.end_at -= timedelta(hours=3)
    db.session.commit()
    task = open_task(station, inst['id'])
    late = station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve', 'data': {'dispatch_mode': 'open'}})
    assert late.status_code == 422 and '已过，不能再通过' in late.get_json()['errors']['decision'][0]
    assert open_task(station, inst['id'])['id'] == task['id'], 'still waiting for a decision'
    complete(station, task, decision='reject', reason='开始时间已过，请改期')


def test_the_same_order_published_again_is_refused_naming_the_first(api, login, row_counts):
    """Back after 发布 showed the filled-in form, and 发布 again made a second, identical order."""
    so = approved_object(api)
    station = api('station_xicun')
    day, next_day = (date.today() + timedelta(days=n) for n in (3, 4))
    at = {'start_at': f'{day}T09:00', 'end_at': f'{day}T11:00'}  # to the minute, as the form's time boxes send
    first = publish(station, so, **at)
    first_id = int(first['business_key'].split(':')[1])
    before = row_counts()
    again = station.post('/processes/v_order/instances', json={'data': order_data(
        [so], **at)})
    assert again.status_code == 422
    assert again.get_json()['errors']['title'] == [
        f'您已发布过相同的订单（订单号 #{first_id}，待审核），请勿重复发布；确需再发布一张，请修改标题或时间']
    assert row_counts() == before, 'nothing stored'
    # another time, or another title, is another order; a cancelled one may be published again
    publish(station, so, start_at=f'{next_day}T09:00', end_at=f'{next_day}T11:00')
    publish(station, so, title='陪陈伯复诊（二）', **at)
    assert station.post(f'/orders/{first_id}/cancel', json={'reason': '重复发布'}).status_code == 200
    publish(station, so, **at)
