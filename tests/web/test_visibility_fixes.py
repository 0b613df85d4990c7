"""Who sees a V-order's case: a volunteer offered an order sees it while the offer is open, not once a neighbour
took it; the publisher is never offered their own order to accept; claim conflicts say what went wrong."""
from tests.helpers import upload_png
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, travel_past_service
from tests.web.test_v_order_rules import RATINGS, certification, publish


def _order_id(inst) -> int:
    return int(inst['business_key'].split(':')[1])


def _open_order(api, **overrides):
    """vol_zhang's order, approved by the station and open to the street's volunteers: (instance, accept task)."""
    so = approved_object(api)
    inst = publish(api('vol_zhang'), so, **overrides)
    station = api('station_xicun')
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    return inst, open_task(api('vol_wang'), inst['id'], '志愿者接单')


def _api_statuses(client, inst, task_id, file_id=None) -> dict:
    urls = {'instance': f'/instances/{inst["id"]}', 'order': f'/orders/{_order_id(inst)}', 'task': f'/tasks/{task_id}'}
    if file_id is not None:
        urls['file'] = f'/files/{file_id}'
    return {k: client.get(u).status_code for k, u in urls.items()}


def _page_statuses(page, inst, task_id, file_id=None) -> dict:
    urls = {'order': f'/orders/{_order_id(inst)}', 'task': f'/inbox/tasks/{task_id}', 'case': f'/cases/{inst["id"]}',
            'phone case': f'/m/cases/{inst["id"]}'}
    if file_id is not None:
        urls['file'] = f'/files/{file_id}'
    return {k: page.get(u).status_code for k, u in urls.items()}


def _all(status, keys) -> dict:
    return dict.fromkeys(keys, status)


def test_a_volunteer_who_did_not_take_an_order_no_longer_sees_it(api, login):
    inst, accept = _open_order(api)
    wang, li = api('vol_wang'), api('vol_li')
    assert _api_statuses(wang, inst, accept['id']) == _all(200, ('instance', 'order', 'task')), 'offered: visible'
    complete(li, open_task(li, inst['id'], '志愿者接单'), data={'note': ''})
    assert _api_statuses(wang, inst, accept['id']) == _all(404, ('instance', 'order', 'task')), \
        'vol_li took the only place: vol_wang never touched the order'
    assert _page_statuses(login('vol_wang'), inst, accept['id']) == _all(404, ('order', 'task', 'case', 'phone case'))

    station, gzva = api('station_xicun'), api('gzva')
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    travel_past_service(inst['id'])
    complete(api('vol_zhang'), open_task(api('vol_zhang'), inst['id']), data=RATINGS)
    cert = certification(station)
    photo = cert['photos'][0]
    complete(station, open_task(station, inst['id']), data=cert)
    assert complete(gzva, open_task(gzva, inst['id']), decision='approve')['instance']['status'] == 'completed'

    keys = ('instance', 'order', 'task', 'file')
    assert _api_statuses(wang, inst, accept['id'], photo) == _all(404, keys), 'done: still none of his business'
    assert _page_statuses(login('vol_wang'), inst, accept['id'], photo) == _all(
        404, ('order', 'task', 'case', 'phone case', 'file'))
    assert _api_statuses(li, inst, accept['id'], photo) == _all(200, keys), 'the acceptor keeps all of it'
    for username in ('vol_zhang', 'station_xicun', 'gzva'):  # the publisher and the reviewers: the case and its files
        statuses = _api_statuses(api(username), inst, accept['id'], photo)
        assert {k: statuses[k] for k in ('instance', 'order', 'file')} == _all(200, ('instance', 'order', 'file')), username
    body = li.get(f'/instances/{inst["id"]}').get_json()
    assert any(h['decision'] == 'approve' for h in body['history']), 'the acceptor reads the history'
    page = login('vol_li')
    assert _page_statuses(page, inst, accept['id'], photo) == _all(200, ('order', 'task', 'case', 'phone case', 'file'))
    # the station's done tabs keep the acceptor review it decided
    done = station.get('/tasks?state=done').get_json()['items']
    assert any(t['instance_id'] == inst['id'] and t['title'] == '接单人审核' for t in done)


def test_a_rejected_acceptor_keeps_sight_and_others_still_offered_see_it(api):
    inst, accept = _open_order(api)
    wang, li, station = api('vol_wang'), api('vol_li'), api('station_xicun')
    complete(wang, accept, data={'note': ''})
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='reject', reason='年龄未满 18 岁')
    again = open_task(li, inst['id'], '志愿者接单')
    assert _api_statuses(li, inst, again['id']) == _all(200, ('instance', 'order', 'task')), 'offered again'
    assert _api_statuses(wang, inst, accept['id']) == _all(200, ('instance', 'order', 'task')), \
        'the rejected acceptor sees what became of his acceptance'
    complete(li, again, data={'note': ''})
    assert _api_statuses(wang, inst, accept['id'])['instance'] == 200
    assert wang.get(f'/tasks/{again["id"]}').status_code == 404, "vol_li's acceptance is not his"


def test_acting_on_a_task_someone_else_took_is_still_409(api):
    """Not 404: the phone list shown a moment ago named it, and accepting it then takes the order's next offer."""
    inst, accept = _open_order(api, volunteers_needed=2)
    li, wang = api('vol_li'), api('vol_wang')
    complete(li, accept, data={'note': ''})
    resp = wang.post(f'/tasks/{accept["id"]}/complete', json={'data': {'note': ''}})
    assert resp.status_code == 409 and resp.get_json()['error'] == 'already_handled'


def test_the_publisher_is_not_offered_their_own_order(api, login):
    inst, accept = _open_order(api)
    zhang = api('vol_zhang')
    assert not [t for t in zhang.get('/tasks').get_json()['items'] if t['instance_id'] == inst['id']]
    assert zhang.get('/tasks?q=陪陈伯').get_json()['total'] == 0, 'nor counted when searched'
    assert zhang.get(f'/tasks/{accept["id"]}').get_json()['can_act'] is False, 'nothing for him to do on it'
    page = login('vol_zhang')
    assert f'/inbox/tasks/{accept["id"]}' not in page.get('/inbox').get_data(as_text=True)
    phone = page.get('/m/orders/open').get_data(as_text=True)
    assert f'task-{accept["id"]}' not in phone and '暂时没有可接的订单' in phone
    assert '去处理：志愿者接单' not in page.get(f'/orders/{_order_id(inst)}').get_data(as_text=True)
    resp = zhang.post(f'/tasks/{accept["id"]}/complete', json={'data': {'note': ''}})
    assert resp.status_code == 422 and '不能接自己发布的订单' in str(resp.get_json()['errors'])
    # the other volunteers of the street are offered it
    assert open_task(api('vol_li'), inst['id'], '志愿者接单')['id'] == accept['id']
    assert f'task-{accept["id"]}' in login('vol_li').get('/m/orders/open').get_data(as_text=True)


def test_claim_conflicts_have_their_own_codes(api, case_at_street):
    inst_id, tid = case_at_street()
    xicun, xinshi = api('street_xicun'), api('street_xinshi')
    r = xinshi.post(f'/tasks/{tid}/unclaim')
    assert (r.status_code, r.get_json()['error']) == (409, 'not_claimed_by_you')
    assert '无需取消认领' in r.get_json()['message']
    assert xicun.post(f'/tasks/{tid}/claim').status_code == 200
    for action in ('claim', 'complete'):
        r = xinshi.post(f'/tasks/{tid}/{action}', json={'decision': 'approve'})
        assert (r.status_code, r.get_json()['error']) == (409, 'claimed_by_other'), action
    r = xinshi.post(f'/tasks/{tid}/unclaim')
    assert (r.status_code, r.get_json()['error']) == (409, 'not_claimed_by_you')
    assert '只有认领人本人可以取消认领' in r.get_json()['message']
    assert xicun.post(f'/tasks/{tid}/complete', json={'decision': 'approve'}).status_code == 200
    for action in ('claim', 'unclaim', 'complete'):
        r = xicun.post(f'/tasks/{tid}/{action}', json={'decision': 'approve'})
        assert (r.status_code, r.get_json()['error']) == (409, 'already_handled'), action


def test_an_accept_task_cannot_be_claimed(api):
    inst, accept = _open_order(api)
    for action in ('claim', 'unclaim'):
        r = api('vol_li').post(f'/tasks/{accept["id"]}/{action}')
        assert (r.status_code, r.get_json()['error']) == (409, 'not_claimable'), action


def test_a_file_of_an_open_offer_is_visible_to_the_volunteers_offered_it(api):
    """A professional order's qualification proof: a volunteer offered the order may read it, until it is taken."""
    so = approved_object(api)
    zhang = api('vol_zhang')
    proof = upload_png(zhang)
    inst = publish(zhang, so, category='professional', service_item='bathing', qualification_files=[proof])
    station = api('station_xicun')
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    wang = api('vol_wang')
    assert wang.get(f'/files/{proof}').status_code == 200
    complete(api('vol_li'), open_task(api('vol_li'), inst['id'], '志愿者接单'), data={'note': ''})
    assert wang.get(f'/files/{proof}').status_code == 404
    assert api('vol_li').get(f'/files/{proof}').status_code == 200
