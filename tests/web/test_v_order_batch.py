"""Publishing: one (batch) order for several approved service objects; 通用型 / 专业类 with the proof upload."""
from app.extensions import db
from app.models import InstanceFile, VOrder, VOrderObject, WorkflowInstance
from tests.helpers import name_no, upload_png
from tests.web.conftest import submit
from tests.web.test_v_order_lifecycle import complete, open_task, order_data, order_of


def approve_entry(api, instance_id):
    for reviewer in (api('station_xicun'), api('street_xicun')):
        complete(reviewer, open_task(reviewer, instance_id), decision='approve')


def objects(api, n_approved, n_pending=0):
    """ids of n approved and m still-pending service objects of xicun, in that order."""
    vol = api('vol_zhang')
    started = [submit(vol, i) for i in range(n_approved + n_pending)]
    for inst_id in started[:n_approved]:
        approve_entry(api, inst_id)
    items = api('station_xicun').get('/service-objects?view=all').get_json()['items']
    by_name = {o['name']: o for o in items}
    names = [f'长者{name_no(i)}号' for i in range(n_approved + n_pending)]
    assert [by_name[n]['status'] for n in names] == ['approved'] * n_approved + ['pending'] * n_pending
    return [by_name[n]['id'] for n in names]


def counts():
    db.session.expire_all()
    return tuple(db.session.scalar(db.select(db.func.count()).select_from(m)) for m in (VOrder, VOrderObject,
                                                                                          InstanceFile))


def test_one_order_for_three_approved_objects(api, login):
    ids = objects(api, 3)
    station = api('station_xicun')
    resp = station.post('/processes/v_order/instances', json={'data': order_data(ids, title='三位长者助餐',
                                                                                     service_item='meals')})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()['instance']
    view = order_of(station, inst)
    assert sorted(o['name'] for o in view['service_objects']) == ['长者〇〇号', '长者〇一号', '长者〇二号']
    assert view['category'] == 'general' and view['status_label'] == '待审核'
    page = login('station_xicun').get(f'/orders/{view["id"]}').get_data(as_text=True)
    assert '长者〇〇号、长者〇一号、长者〇二号' in page
    review = open_task(station, inst['id'])
    detail = station.get(f'/tasks/{review["id"]}').get_json()
    assert '长者〇〇号' in str(detail['data']) and '长者〇二号' in str(detail['data'])


def test_a_batch_with_one_unapproved_object_is_refused_whole(api):
    ids = objects(api, 2, n_pending=1)
    vol = api('vol_zhang')
    before = counts()
    resp = vol.post('/processes/v_order/instances', json={'data': order_data(ids)})
    assert resp.status_code == 422
    assert resp.get_json()['errors']['service_object_ids'] == ['以下服务对象尚未审核通过入库：长者〇二号']
    assert counts() == before and db.session.scalar(db.select(db.func.count()).select_from(WorkflowInstance).where(
        WorkflowInstance.process_key == 'v_order')) == 0


def test_professional_service_needs_a_proof_and_keeps_it(api, login):
    ids = objects(api, 1)
    vol = api('vol_zhang')
    before = counts()
    for files in (None, []):
        data = order_data(ids, category='professional', service_item='bathing')
        if files is not None:
            data['qualification_files'] = files
        resp = vol.post('/processes/v_order/instances', json={'data': data})
        assert resp.status_code == 422 and 'qualification_files' in resp.get_json()['errors'], resp.get_json()
    mismatch = vol.post('/processes/v_order/instances', json={'data': order_data(
        ids, category='general', service_item='bathing')})
    assert mismatch.get_json()['errors']['service_item'] == ['该服务项目属于专业类养老志愿服务，请选择“专业类”']
    assert counts() == before
    proof = upload_png(vol, 'nurse-cert.png')
    resp = vol.post('/processes/v_order/instances', json={'data': order_data(
        ids, category='professional', service_item='bathing', qualification_files=[proof])})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()['instance']
    assert order_of(vol, inst)['category'] == 'professional'
    assert db.session.scalar(db.select(InstanceFile.file_id).where(InstanceFile.instance_id == inst['id'])) == proof
    station = login('station_xicun')  # the reviewer sees the proof on the review page and can open it
    task = open_task(api('station_xicun'), inst['id'])
    html = station.get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    assert '专业资质证明' in html and f'/files/{proof}' in html
    assert station.get(f'/files/{proof}').status_code == 200
