"""Found walking the app as its users: a rejected V-order is corrected on the phone with its own form, an open
order cannot be locked by claiming its accept task, and nobody accepts an order whose service has started."""
import re
from datetime import timedelta

from app.extensions import db
from app.models import VOrder
from app.models.base import utcnow
from app.services.exports import BEIJING
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data


def _rejected_order(api):
    so = approved_object(api)
    vol, station = api('vol_zhang'), api('station_xicun')
    inst = vol.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='reject', reason='地址不完整')
    return so, inst


def test_a_rejected_order_is_corrected_on_its_own_form_with_what_was_sent(api, login):
    so, inst = _rejected_order(api)
    web = login('vol_zhang')
    task = open_task(api('vol_zhang'), inst['id'])
    r = web.get(f'/inbox/tasks/{task["id"]}')
    assert r.status_code == 302 and r.headers['Location'].endswith(f'/m/cases/{inst["id"]}/resubmit')
    page = web.get(f'/m/cases/{inst["id"]}/resubmit').get_data(as_text=True)
    assert 'name="title"' in page and 'value="陪陈伯复诊"' in page and 'id_number' not in page
    assert re.search(rf'<option value="{so}"[^>]*selected', page) or re.search(rf'value="{so}"[^>]*checked', page)
    values = order_data([so], address='荔湾区西村街 1 号 3 栋 201')
    form = {k: v for k, v in values.items() if k not in ('location', 'service_object_ids')}
    start = (utcnow() + timedelta(days=1)).astimezone(BEIJING)
    form.update({'service_object_ids': str(so), 'location.lat': '23.13', 'location.lng': '113.25',
                 'start_at': start.strftime('%Y-%m-%dT%H:%M'),
                 'end_at': (start + timedelta(hours=2)).strftime('%Y-%m-%dT%H:%M')})
    r = web.post(f'/m/cases/{inst["id"]}/resubmit', data=form)
    body = r.get_data(as_text=True)
    if r.status_code != 302:
        raise AssertionError(re.findall(r'class="field-error"[^>]*>(.*?)</p>', body)[:5])
    db.session.expire_all()
    order = db.session.scalar(db.select(VOrder).where(VOrder.instance_id == inst['id']))
    assert order.status == 'pending_review' and order.address == '荔湾区西村街 1 号 3 栋 201'


def test_an_accept_task_cannot_be_claimed(api):
    so = approved_object(api)
    vol, station, li = api('vol_zhang'), api('station_xicun'), api('vol_li')
    inst = vol.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    task = open_task(vol, inst['id'])
    r = vol.post(f'/tasks/{task["id"]}/claim')
    assert r.status_code == 409 and r.get_json()['message'] == '接单任务不能认领，请直接接单'
    complete(li, open_task(li, inst['id']), data={'note': '可以'})


def test_nobody_accepts_an_order_whose_service_has_started(api):
    so = approved_object(api)
    vol, station, li = api('vol_zhang'), api('station_xicun'), api('vol_li')
    inst = vol.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    order = db.session.scalar(db.select(VOrder).where(VOrder.instance_id == inst['id']))
    order.start_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    r = li.post(f'/tasks/{open_task(li, inst["id"])["id"]}/complete', json={'data': {'note': '可以'}})
    assert r.status_code == 422 and r.get_json()['errors']['note'] == ['该订单的服务已开始，不能再接单']
