"""A provider dispatches a V-order to one of its volunteers: the volunteer is told by 站内信 with a link to
the order, may open the order and its certification photos, and strangers still get 404."""

from tests.helpers import served_day, upload_png
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data, order_of, travel_past_service

RATINGS = {k: 5 for k in ('rating_overall', 'rating_arrangement', 'rating_effect', 'rating_attitude', 'rating_skill',
                          'rating_efficiency')}


def _dispatched_order(api):
    so = approved_object(api)
    publisher, station, provider = api('vol_zhang'), api('station_xicun'), api('provider_a')
    resp = publisher.post('/processes/v_order/instances', json={'data': order_data([so], title='陪陈伯复诊（派单）')})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()['instance']
    order_id = int(inst['business_key'].split(':')[1])
    complete(station, open_task(station, inst['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    return inst, order_id, provider


def _order_messages(client, order_id):
    return [m for m in client.get('/messages').get_json()['items'] if m['link'] == f'/orders/{order_id}']


def test_dispatched_volunteer_gets_a_message_linking_to_the_order(api, login):
    inst, order_id, provider = _dispatched_order(api)
    vol_li = api('vol_li')
    assert _order_messages(vol_li, order_id) == []
    complete(provider, open_task(provider, inst['id']),
             data={'provider_action': 'dispatch', 'volunteer': 'vol_li', 'note': '李晓敏熟悉路线'})

    [msg] = _order_messages(vol_li, order_id)
    assert msg['kind'] == 'info' and not msg['read']  # for their information: the station decides next, not them
    assert '陪陈伯复诊（派单）' in msg['title'] and '颐康居家养老服务中心' in msg['title'] and '派' in msg['title']
    # the message opens the order page (the phone's message list redirects to the link)
    page = login('vol_li')
    resp = page.get(f'/messages/{msg["id"]}')
    assert resp.status_code == 302 and resp.headers['Location'].endswith(f'/orders/{order_id}')
    html = page.get(f'/orders/{order_id}').get_data(as_text=True)
    assert '陪陈伯复诊（派单）' in html and '李晓敏（待社工站审核）' in html
    # nobody else was told about this dispatch
    for other in ('vol_wang', 'vol_zhang'):
        assert _order_messages(api(other), order_id) == [], other


def test_dispatched_volunteer_sees_the_certification_photos_strangers_do_not(api, login):
    inst, order_id, provider = _dispatched_order(api)
    station, gzva = api('station_xicun'), api('gzva')
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    travel_past_service(inst['id'])
    complete(api('vol_zhang'), open_task(api('vol_zhang'), inst['id']), data=RATINGS)
    photo = upload_png(station, 'service-photo.png')
    today = served_day()
    complete(station, open_task(station, inst['id']),
             data={'service_start_date': today, 'service_end_date': today, 'person_times': 1, 'object_count': 1,
                   'volunteer_count': 1, 'service_hours': 2, 'summary': '顺利', 'results': '满意', 'photos': [photo]})
    complete(gzva, open_task(gzva, inst['id']), decision='approve')

    vol_li = api('vol_li')
    assert vol_li.get(f'/orders/{order_id}').status_code == 200
    resp = vol_li.get(f'/files/{photo}')
    assert resp.status_code == 200 and resp.headers['Content-Type'] == 'image/png'
    page = login('vol_li')
    html = page.get(f'/orders/{order_id}').get_data(as_text=True)
    assert f'/files/{photo}' in html
    assert page.get(f'/files/{photo}').status_code == 200

    # strangers: a volunteer of the same street who is not on the order, another street's station
    for username in ('vol_wang', 'station_shipai'):
        assert api(username).get(f'/orders/{order_id}').status_code == 404, username
        assert api(username).get(f'/files/{photo}').status_code == 404, username
        assert login(username).get(f'/files/{photo}').status_code == 404, username


def test_acceptor_is_told_the_station_decision_and_a_dispatched_volunteer_sees_the_case(api):
    inst, order_id, provider = _dispatched_order(api)
    station, vol_li = api('station_xicun'), api('vol_li')
    assert vol_li.get(f'/instances/{inst["id"]}').status_code == 404  # not on the order yet
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    case = vol_li.get(f'/instances/{inst["id"]}')
    assert case.status_code == 200 and case.get_json()['status_label'] == '待接单'  # dispatched, not 待派单 any more
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='reject', reason='该时段已有其他服务安排')
    [told] = [m for m in _order_messages(vol_li, order_id) if m['kind'] == 'decision']
    assert '接单人审核未通过' in told['title'] and '该时段已有其他服务安排' in told['title']
    assert api('provider_a').get(f'/instances/{inst["id"]}').get_json()['status_label'] == '待派单'  # back to the provider
    assert api('station_shipai').get(f'/instances/{inst["id"]}').status_code == 404

    so = order_of(station, inst)['service_objects'][0]['id']
    second = api('vol_zhang').post('/processes/v_order/instances', json={'data': order_data([so], title='陪陈伯复诊（派单）')})
    second = second.get_json()['instance']
    second_id = int(second['business_key'].split(':')[1])
    complete(station, open_task(station, second['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    complete(provider, open_task(provider, second['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    complete(station, open_task(station, second['id'], '接单人审核'), decision='approve')
    [approved] = [m['title'] for m in _order_messages(vol_li, second_id) if m['kind'] == 'decision']
    assert '接单人审核通过' in approved and '陪陈伯复诊（派单）' in approved
