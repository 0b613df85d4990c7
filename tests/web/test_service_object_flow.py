"""Service-object entry through the API: submit, station review, street final review, library."""
from tests.helpers import ELDER_ID, start_entry


def _open_task(client, instance_id):
    items = client.get('/tasks?state=open').get_json()['items']
    return next(t for t in items if t['instance_id'] == instance_id)


def test_full_approval_lands_in_library(api):
    vol, station, street = api('vol_zhang'), api('station_xicun'), api('street_xinshi')
    resp = start_entry(vol)
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()['instance']
    assert inst['status_label'] == '待社工站初审'
    task = _open_task(station, inst['id'])
    assert task['lane'] == 'station_admin'
    detail = station.get(f'/tasks/{task["id"]}').get_json()
    assert detail['data']['id_number'] == ELDER_ID and detail['data']['gender'] == 'male'
    assert detail['why']['role'] == 'station_admin' and detail['why']['scope'] == ['西村街社工站']
    r = station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'})
    assert r.status_code == 200, r.get_json()
    task2 = _open_task(street, inst['id'])
    assert task2['lane'] == 'street_admin' and set(task2['scope']) == {'xicun', 'xinshi'}
    r = street.post(f'/tasks/{task2["id"]}/complete', json={'decision': 'approve', 'reason': '材料齐全'})
    body = r.get_json()
    assert body['instance']['status'] == 'completed' and body['instance']['status_label'] == '已通过'
    history = vol.get(f'/instances/{inst["id"]}').get_json()['history']
    assert [h['decision'] for h in history] == ['submit', 'approve', 'approve']
    assert history[2]['org_unit'] == '新市街'
    lib = street.get('/service-objects?view=approved').get_json()
    assert lib['total'] == 1 and lib['items'][0]['status'] == 'approved'


def test_reject_then_resubmit_creates_new_version(api):
    vol, station = api('vol_zhang'), api('station_xicun')
    inst = start_entry(vol).get_json()['instance']
    task = _open_task(station, inst['id'])
    r = station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject', 'reason': '证明材料不清晰'})
    assert r.status_code == 200
    view = vol.get(f'/instances/{inst["id"]}').get_json()
    assert view['status_label'] == '审核不通过，待修改'
    assert view['history'][-1]['reason'] == '证明材料不清晰'
    mine = next(t for t in vol.get('/tasks').get_json()['items'] if t['instance_id'] == inst['id'])
    from tests.helpers import entry_data, upload_png
    fid = upload_png(vol)
    r = vol.post(f'/tasks/{mine["id"]}/complete', json={'data': entry_data([fid], name='陈阿伯')})
    assert r.status_code == 200, r.get_json()
    lib = station.get('/service-objects?view=all').get_json()
    assert sorted((o['version'], o['status']) for o in lib['items']) == [(1, 'rejected'), (2, 'pending')]


def test_every_audit_row_names_the_role_and_unit_the_user_acted_in(api):
    """The submission is audited like a review: a volunteer of 西村街 or the 西村街 station, not a bare 'submitter'."""
    from datetime import date

    from sqlalchemy import select

    from app.extensions import db
    from app.models import Decision
    from app.services.demo import make_id
    vol, station = api('vol_zhang'), api('station_xicun')
    by_vol = start_entry(vol).get_json()['instance']['id']
    by_station = start_entry(station, id_number=make_id('440103', date(1944, 2, 2), 55)).get_json()['instance']['id']
    r = station.post(f'/tasks/{_open_task(station, by_vol)["id"]}/complete', json={'decision': 'reject', 'reason': '照片不清'})
    assert r.status_code == 200, r.get_json()
    rows = {(d.instance_id, d.decision): d for d in db.session.scalars(select(Decision))}
    submitted = rows[(by_vol, 'submit')]
    assert (submitted.lane, submitted.role, submitted.org_unit.code) == ('submitter', 'volunteer', 'xicun')
    assert rows[(by_station, 'submit')].role == 'station_admin'
    assert rows[(by_station, 'submit')].org_unit.name == '西村街社工站'
    rejected = rows[(by_vol, 'reject')]
    assert (rejected.role, rejected.org_unit.name, rejected.reason) == ('station_admin', '西村街社工站', '照片不清')
    history = vol.get(f'/instances/{by_vol}').get_json()['history']
    assert history[0]['org_unit'] == '西村街'
