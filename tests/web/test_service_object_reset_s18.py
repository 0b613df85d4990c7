"""An operator sends a service-object case under review back to its submitter (回退到 提交服务对象信息): the volunteer
corrects it and resubmits, the corrected version goes to the station, and the withdrawn version is kept as history.
It was a 500: the withdrawn version stayed pending and the corrected one hit the one-live-version-per-ID rule."""
from sqlalchemy import select

from app.extensions import db
from app.models import ServiceObject
from tests.helpers import entry_data, upload_png
from tests.web.conftest import open_task, submit


def test_a_case_sent_back_to_its_submitter_can_be_resubmitted(api, login):
    vol = api('vol_zhang')
    inst = submit(vol, 5)
    reset = login('admin').post(f'/admin/instances/{inst}/reset',
                                data={'bpmn_id': 'submit', 'reason': '地址填错了，请核对后重新提交', 'confirm': '1'})
    assert reset.status_code == 302
    task = open_task(vol, inst)
    assert task['title'] == '提交服务对象信息'
    fid = upload_png(vol)
    resp = vol.post(f'/tasks/{task["id"]}/complete',
                    json={'data': entry_data([fid], name='长者〇五号', address='西村街道 18 号')})
    assert resp.status_code == 200, resp.get_json()
    assert open_task(api('station_xicun'), inst)['title'] == '社工站初审'
    db.session.expire_all()
    versions = db.session.execute(select(ServiceObject.version, ServiceObject.status)
                                  .where(ServiceObject.instance_id == inst).order_by(ServiceObject.version)).all()
    assert [tuple(v) for v in versions] == [(1, 'withdrawn'), (2, 'pending')]
    page = login('vol_zhang').get(f'/m/cases/{inst}').get_data(as_text=True)
    assert '待社工站初审' in page or '社工站初审' in page
