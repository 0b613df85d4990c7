"""V-order lifecycle through the API: publish → review → dispatch/accept → rate → certify → points."""
from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import VOrder
from app.services.v_orders import street_centres
from tests.helpers import served_day, start_entry, upload_png


def approved_object(api, **overrides) -> int:
    vol, station, street = api('vol_zhang'), api('station_xicun'), api('street_xicun')
    inst = start_entry(vol, **overrides).get_json()['instance']
    for reviewer in (station, street):
        task = next(t for t in reviewer.get('/tasks').get_json()['items'] if t['instance_id'] == inst['id'])
        assert reviewer.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    return station.get('/service-objects?view=approved').get_json()['items'][0]['id']


def order_data(object_ids, **overrides):
    start = datetime.now(UTC) + timedelta(hours=2)
    data = {'title': '陪陈伯复诊', 'demand_type': 'others', 'service_object_ids': object_ids, 'category': 'general',
            'service_item': 'escort', 'street': 'xicun', 'location': {'lat': 23.13, 'lng': 113.25},
            'address': '荔湾区西村街 1 号', 'start_at': start.isoformat(), 'end_at': (start + timedelta(hours=3)).isoformat(),
            'volunteers_needed': 1, 'needs': '陪同到医院复诊，协助挂号取药'}
    if 'street' in overrides and 'location' not in overrides and overrides['street'] in street_centres():
        data['location'] = dict(street_centres()[overrides['street']])  # a point in the order's own street
    data.update(overrides)
    return data


def order_of(client, inst):
    order_id = int(inst['business_key'].split(':')[1])
    return client.get(f'/orders/{order_id}').get_json()


def open_task(client, instance_id, bpmn_title=None):
    items = client.get('/tasks?state=open').get_json()['items']
    return next(t for t in items if t['instance_id'] == instance_id and (bpmn_title is None or t['title'] == bpmn_title))


def complete(client, task, **body):
    resp = client.post(f'/tasks/{task["id"]}/complete', json=body)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def travel_past_service(instance_id):
    order = db.session.scalar(db.select(VOrder).where(VOrder.instance_id == instance_id))
    order.end_at -= timedelta(hours=6)  # ended an hour ago (served_day)
    order.start_at = order.end_at - timedelta(hours=10)  # long enough for every certification the tests make
    db.session.commit()


def test_provider_lifecycle_awards_points_once(api):
    so = approved_object(api)
    vol_zhang, station, provider, vol_li, gzva = (api(u) for u in ('vol_zhang', 'station_xicun', 'provider_a', 'vol_li', 'gzva'))
    resp = vol_zhang.post('/processes/v_order/instances', json={'data': order_data([so])})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()['instance']
    order = order_of(vol_zhang, inst)
    assert order['status_label'] == '待审核'
    complete(station, open_task(station, inst['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    assert order_of(vol_zhang, inst)['status_label'] == '待派单'
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    assert order_of(vol_zhang, inst)['status_label'] == '进行中'
    travel_past_service(inst['id'])
    assert order_of(vol_zhang, inst)['status_label'] == '待评价'
    ratings = {k: 5 for k in ('rating_overall', 'rating_arrangement', 'rating_effect', 'rating_attitude', 'rating_skill',
                              'rating_efficiency')}
    complete(vol_zhang, open_task(vol_zhang, inst['id']), data=ratings)
    assert order_of(vol_zhang, inst)['status_label'] == '待认证'
    photo = upload_png(station)
    today = served_day()
    cert = {'service_start_date': today, 'service_end_date': today, 'person_times': 1, 'object_count': 1,
            'volunteer_count': 1, 'service_hours': 3.5, 'summary': '陪同复诊顺利', 'results': '长者满意', 'photos': [photo]}
    complete(station, open_task(station, inst['id']), data=cert)
    body = complete(gzva, open_task(gzva, inst['id']), decision='approve')
    assert body['instance']['status'] == 'completed'
    assert order_of(vol_zhang, inst)['status_label'] == '已完成'
    points = vol_li.get('/me/points').get_json()
    assert points['balance'] == 3 and points['available'] == 3


def test_bad_orders_store_nothing(api):
    so = approved_object(api)
    vol = api('vol_zhang')
    cases = [
        (order_data([so], end_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat()), 'end_at'),
        (order_data([so], volunteers_needed=0), 'volunteers_needed'),
        (order_data([so], category='professional', service_item='bathing'), 'qualification_files'),
        (order_data([999]), 'service_object_ids'),
    ]
    for data, field in cases:
        resp = vol.post('/processes/v_order/instances', json={'data': data})
        assert resp.status_code == 422 and field in resp.get_json()['errors'], (field, resp.get_json())
    assert db.session.scalar(db.select(db.func.count()).select_from(VOrder)) == 0
    outsider = api('station_shipai')
    resp = outsider.post('/processes/v_order/instances', json={'data': order_data([so], street='shipai')})
    assert resp.status_code == 422 and '不在您的服务区域' in resp.get_json()['errors']['service_object_ids'][0]
