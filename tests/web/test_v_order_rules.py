"""V-order rules a user or operator would notice: versions, exactly-once points, closing, bad input."""
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.extensions import db
from app.models import LedgerEntry, User, VOrder
from app.services import transaction
from app.services.instances import reset_instance
from tests.helpers import served_day, upload_png
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data, order_of, travel_past_service

ROOT = Path(__file__).resolve().parents[2]
RATINGS = {k: 4 for k in ('rating_overall', 'rating_arrangement', 'rating_effect', 'rating_attitude', 'rating_skill',
                          'rating_efficiency')}


def publish(client, so, **overrides):
    resp = client.post('/processes/v_order/instances', json={'data': order_data([so], **overrides)})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()['instance']


def staffed_order(api, needed=1):
    """An order of vol_zhang's, open to volunteers, with its acceptors (李晓敏, then 王小明) approved by the station:
    it is 进行中 and the publisher's 确认完成并评价 is open. Returns the instance."""
    so = approved_object(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    inst = publish(publisher, so, volunteers_needed=needed)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    for volunteer in ('vol_li', 'vol_wang')[:needed]:
        client = api(volunteer)
        complete(client, open_task(client, inst['id']))
    for _ in range(needed):
        complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    return inst


def certification(client, **overrides):
    today = served_day()
    data = {'service_start_date': today, 'service_end_date': today, 'person_times': 1, 'object_count': 1,
            'volunteer_count': 1, 'service_hours': 2.9, 'summary': '服务顺利', 'results': '长者满意',
            'photos': [upload_png(client)]}
    data.update(overrides)
    return data


def association_on_xml() -> bytes:
    """The shipped diagram with the association's publish review switched on (the edit an admin makes)."""
    shipped = (ROOT / 'bpmn' / 'v_order.bpmn').read_bytes()
    off = 'name="广志协终审（开关）"'.encode()
    assert shipped.count(b'tFormalExpression">False</bpmn:conditionExpression>') == 1 and off in shipped
    return shipped.replace(b'xsi:type="bpmn:tFormalExpression">False</bpmn:conditionExpression>',
                           b'xsi:type="bpmn:tFormalExpression">True</bpmn:conditionExpression>')


def deploy_association_on(admin):
    """Deploy the edited diagram through the admin API (validate as a draft, then publish)."""
    draft = admin.client.post('/api/v1/processes/v_order/drafts', data=association_on_xml(),
                              headers={**admin.headers, 'Content-Type': 'application/xml'})
    assert draft.status_code == 201 and draft.get_json()['problems'] == [], draft.get_json()
    published = admin.post(f'/processes/v_order/drafts/{draft.get_json()["draft_id"]}/publish')
    assert published.status_code == 201, published.get_json()
    return published.get_json()['version']


def test_seven_users_with_association_switched_on_while_an_older_order_runs(api):
    so = approved_object(api)  # vol_zhang enters the elder, station_xicun and street_xicun approve
    publisher, station, gzva, provider, vol_li, vol_wang = (
        api(u) for u in ('vol_zhang', 'station_xicun', 'gzva', 'provider_a', 'vol_li', 'vol_wang'))
    older = publish(publisher, so, title='旧版订单')
    complete(station, open_task(station, older['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    assert order_of(publisher, older)['status_label'] == '待派单', 'v1: the station review is final'
    assert deploy_association_on(api('admin')) == 2
    versions = {v['version']: v['running_instances'] for v in api('admin').get('/processes/v_order/versions').get_json()}
    assert versions == {1: 1, 2: 0}

    newer = publish(publisher, so, title='新版订单', volunteers_needed=2)
    assert (older['version'], newer['version']) == (1, 2)
    complete(station, open_task(station, newer['id']), decision='approve', data={'dispatch_mode': 'open'})
    assert order_of(publisher, newer)['status_label'] == '初审已通过'
    assert not [t for t in vol_li.get('/tasks').get_json()['items'] if t['instance_id'] == newer['id']]
    complete(gzva, open_task(gzva, newer['id']), decision='approve')
    assert order_of(publisher, newer)['status_label'] == '待接单'
    for volunteer in (vol_li, vol_wang):
        complete(volunteer, open_task(volunteer, newer['id']), data={'note': '我可以'})
        complete(station, open_task(station, newer['id'], '接单人审核'), decision='approve')
    view = order_of(publisher, newer)
    assert view['status_label'] == '进行中' and view['volunteers_approved'] == 2
    assert not [t for t in vol_li.get('/tasks').get_json()['items'] if t['instance_id'] == newer['id']]
    travel_past_service(newer['id'])
    complete(publisher, open_task(publisher, newer['id']), data=RATINGS)
    complete(station, open_task(station, newer['id']), data=certification(station))
    complete(gzva, open_task(gzva, newer['id']), decision='approve')
    assert order_of(publisher, newer)['status_label'] == '已完成'
    assert vol_li.get('/me/points').get_json()['balance'] == 2
    assert vol_wang.get('/me/points').get_json()['balance'] == 2

    # the older order finishes on version 1: no association publish review, the provider dispatches
    complete(provider, open_task(provider, older['id']),
             data={'provider_action': 'dispatch', 'volunteer': 'vol_li', 'note': '李晓敏负责'})
    complete(station, open_task(station, older['id'], '接单人审核'), decision='approve')
    travel_past_service(older['id'])
    complete(publisher, open_task(publisher, older['id']), data=RATINGS)
    complete(station, open_task(station, older['id']), data=certification(station, service_hours=3))
    complete(gzva, open_task(gzva, older['id']), decision='approve')
    body = publisher.get(f'/instances/{older["id"]}').get_json()
    assert body['version'] == 1 and body['status'] == 'completed'
    assert '广志协终审' not in [h['task'] for h in body['history']]
    assert order_of(publisher, older)['status_label'] == '已完成'
    assert vol_li.get('/me/points').get_json()['balance'] == 5
    actors = {h['actor'] for inst in (older, newer) for h in publisher.get(f'/instances/{inst["id"]}').get_json()['history']}
    assert len(actors) == 6, actors  # with street_xicun, who approved the elder, seven users took part
    assert provider.get('/tasks').get_json()['total'] == 0


def certified(api, hours):
    """An order served by vol_li, certified with `hours` and approved by gzva; returns the instance."""
    so = approved_object(api)
    publisher, station, gzva, vol_li = (api(u) for u in ('vol_zhang', 'station_xicun', 'gzva', 'vol_li'))
    inst = publish(publisher, so)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    complete(vol_li, open_task(vol_li, inst['id']))
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    travel_past_service(inst['id'])
    complete(publisher, open_task(publisher, inst['id']), data=RATINGS)
    complete(station, open_task(station, inst['id']), data=certification(station, service_hours=hours))
    complete(gzva, open_task(gzva, inst['id']), decision='approve')
    return inst


def test_points_awarded_once_even_when_the_award_step_runs_again(api):
    inst = certified(api, 5.99)
    publisher, gzva, vol_li = api('vol_zhang'), api('gzva'), api('vol_li')
    assert vol_li.get('/me/points').get_json()['balance'] == 5
    admin = db.session.scalar(db.select(User).where(User.username == 'admin'))
    reset_instance(admin, inst['id'], 'certify_review', '复核认证')
    complete(gzva, open_task(gzva, inst['id']), decision='approve')
    assert vol_li.get('/me/points').get_json()['balance'] == 5
    assert db.session.scalar(db.select(db.func.count()).select_from(LedgerEntry)) == 1
    history = publisher.get(f'/instances/{inst["id"]}').get_json()['history']
    assert [h['decision'] for h in history].count('reset') == 1


def test_cancel_abort_and_refusals(api):
    so = approved_object(api)
    publisher, station, vol_li, vol_wang = (api(u) for u in ('vol_zhang', 'station_xicun', 'vol_li', 'vol_wang'))
    inst = publish(publisher, so)
    order_id = order_of(publisher, inst)['id']
    assert publisher.post(f'/orders/{order_id}/cancel', json={}).status_code == 422
    assert vol_li.post(f'/orders/{order_id}/cancel', json={'reason': 'x'}).status_code == 404
    resp = publisher.post(f'/orders/{order_id}/cancel', json={'reason': '长者已住院，暂不需要'})
    assert resp.status_code == 200 and resp.get_json()['status_label'] == '已取消'
    history = publisher.get(f'/instances/{inst["id"]}').get_json()['history']
    assert history[-1]['decision'] == 'cancel' and history[-1]['reason'] == '长者已住院，暂不需要'
    assert station.get('/tasks').get_json()['total'] == 0

    inst = publish(publisher, so)
    order_id = order_of(publisher, inst)['id']
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    accept = open_task(vol_li, inst['id'])
    complete(vol_li, accept)
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    full = vol_wang.post(f'/tasks/{accept["id"]}/complete', json={'data': {}})
    assert full.status_code in (404, 409)
    assert publisher.post(f'/orders/{order_id}/cancel', json={'reason': '不要了'}).status_code == 409
    confirm = open_task(publisher, inst['id'])
    bad = publisher.post(f'/tasks/{confirm["id"]}/complete', json={'data': {**RATINGS, 'rating_skill': 6}})
    assert bad.status_code == 422 and 'rating_skill' in bad.get_json()['errors']
    resp = publisher.post(f'/orders/{order_id}/abort', json={'reason': '长者临时外出'})
    assert resp.status_code == 200 and resp.get_json()['status_label'] == '已中止'
    assert publisher.get(f'/instances/{inst["id"]}').get_json()['open_tasks'] == []


def test_certification_bad_input_stores_nothing(api):
    so = approved_object(api)
    publisher, station, vol_li = (api(u) for u in ('vol_zhang', 'station_xicun', 'vol_li'))
    inst = publish(publisher, so)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    complete(vol_li, open_task(vol_li, inst['id']))
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    travel_past_service(inst['id'])
    complete(publisher, open_task(publisher, inst['id']), data=RATINGS)
    task = open_task(station, inst['id'])
    zero = station.post(f'/tasks/{task["id"]}/complete', json={'data': certification(station, service_hours=0)})
    assert zero.status_code == 422 and 'service_hours' in zero.get_json()['errors']
    ten = certification(station, photos=[upload_png(station) for _ in range(10)])
    resp = station.post(f'/tasks/{task["id"]}/complete', json={'data': ten})
    assert resp.status_code == 422 and 'photos' in resp.get_json()['errors']
    order = db.session.scalar(db.select(VOrder).where(VOrder.instance_id == inst['id']))
    assert order.certification_json is None and order.status == 'to_certify'
    assert open_task(station, inst['id'])['id'] == task['id']


def test_start_time_passes_with_nobody_accepting_expires(api):
    so = approved_object(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    inst = publish(publisher, so, start_at=(datetime.now(UTC) + timedelta(seconds=2)).isoformat())
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    import time

    from app.services.instances import load_run, lock_instance, save_run
    time.sleep(2.2)
    with transaction():
        instance = lock_instance(inst['id'])
        run = load_run(instance)
        run.fire_timers()
        save_run(instance, run)
    assert order_of(publisher, inst)['status_label'] == '已过期'


def test_an_order_outside_the_publishers_street_is_refused_and_not_offered(api, login):
    from sqlalchemy import func, select
    so = approved_object(api)
    station = api('station_xicun')
    before = db.session.scalar(select(func.count()).select_from(VOrder))
    resp = station.post('/processes/v_order/instances', json={'data': order_data([so], street='shipai')})
    assert resp.status_code == 422
    assert resp.get_json()['errors']['street'] == ['服务街道须在您的服务区域内，或是所选服务对象的户籍或居住街道']
    assert db.session.scalar(select(func.count()).select_from(VOrder)) == before, 'nothing stored'
    form = login('vol_zhang').get('/m/orders/new').get_data(as_text=True)
    assert 'value="xicun"' in form and 'value="shipai"' not in form
    assert form.index('value="xicun"') < form.index('value="xinshi"'), "the publisher's own street comes first"
    assert 'value="xinshi"' in form, "the elder lives on 新市街: an order may go there"
    lives = station.post('/processes/v_order/instances', json={'data': order_data([so], street='xinshi')})
    assert lives.status_code == 201, lives.get_json()
