"""Process administration through the API and the editor's session endpoints: validation of broken
diagrams, bad input, publish, versions, diff, migration, audit, instance viewer, permissions."""
import json
import re
from pathlib import Path

import pytest

from app.extensions import db
from app.models import AuditLog, HumanTask, User, WorkflowDraft, WorkflowInstance, WorkflowVersion
from tests.web.conftest import open_task, submit

ROOT = Path(__file__).resolve().parents[2]
BASE = (ROOT / 'bpmn' / 'service_object_entry.bpmn').read_bytes()
KEY = 'service_object_entry'
XML = {'Content-Type': 'application/xml'}


def street_to_association(xml=BASE) -> bytes:
    return xml.replace(b'id="Lane_street_admin" name="street_admin"', b'id="Lane_street_admin" name="association_admin"')


def _replace_element(xml: bytes, tag: str, el_id: str, new: str) -> bytes:
    pattern = rf'<bpmn:{tag} id="{el_id}".*?</bpmn:{tag}>'.encode()
    out, n = re.subn(pattern, new.encode(), xml, flags=re.S)
    assert n == 1
    return out


BROKEN = {
    'missing_start': (_replace_element(BASE, 'startEvent', 'start', '')
                      .replace(b'<bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="submit"/>', b'')
                      .replace(b'<bpmn:incoming>flow_start</bpmn:incoming>', b''), KEY),
    'lane_not_role': (BASE.replace(b'name="street_admin"', b'name="street_boss"'), 'Lane_street_admin'),
    'unknown_form': (BASE.replace(b'value="review.json"/>\n          <spiffworkflow:property name="scope" value="street_scope"',
                                  b'value="nope.json"/>\n          <spiffworkflow:property name="scope" value="street_scope"'),
                     'street_review'),
    'condition_syntax': (BASE.replace(b'>decision == "reject"</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>\n'
                                      b'    <bpmn:sequenceFlow id="flow_street_back"',
                                      b'>decision ==</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>\n'
                                      b'    <bpmn:sequenceFlow id="flow_street_back"'), 'flow_street_reject'),
    'condition_unknown_variable': (BASE.replace(b'revision &gt; 20', b'revisoin &gt; 20'), 'flow_too_many'),
    'condition_unsafe': (BASE.replace(b'revision &gt; 20', b"__import__('os').system('id')"), 'flow_too_many'),
    'script_task': (_replace_element(BASE, 'serviceTask', 'approve',
                                     '<bpmn:scriptTask id="approve" name="入库"><bpmn:incoming>flow_to_approve</bpmn:incoming>'
                                     '<bpmn:outgoing>flow_approved</bpmn:outgoing><bpmn:script>x = 1</bpmn:script>'
                                     '</bpmn:scriptTask>'), 'approve'),
    'gateway_without_default': (BASE.replace('name="终审结果" default="flow_to_approve"'.encode(), 'name="终审结果"'.encode())
                                .replace('<bpmn:sequenceFlow id="flow_to_approve" name="通过" sourceRef="gw_street" '
                                         'targetRef="approve"/>'.encode(),
                                         '<bpmn:sequenceFlow id="flow_to_approve" name="通过" sourceRef="gw_street" '
                                         'targetRef="approve"><bpmn:conditionExpression>decision == "approve"'
                                         '</bpmn:conditionExpression></bpmn:sequenceFlow>'.encode()), 'gw_street'),
    'process_id_clash': (BASE.replace(b'id="service_object_entry"', b'id="v_order"')
                         .replace(b'processRef="service_object_entry"', b'processRef="v_order"'), 'v_order'),
}


@pytest.fixture
def admin(api):
    return api('admin')


def draft(client, xml, key=KEY):
    return client.client.post(f'/api/v1/processes/{key}/drafts', data=xml, headers={**client.headers, **XML})


@pytest.mark.parametrize('case', sorted(BROKEN))
def test_broken_diagram_problem_points_at_element(admin, case):
    xml, element_id = BROKEN[case]
    resp = draft(admin, xml)
    assert resp.status_code == 201, resp.get_json()
    problems = resp.get_json()['problems']
    assert {p['element_id'] for p in problems} == {element_id}, problems
    assert all(p['message'] and p['line'] for p in problems)
    publish = admin.post(f'/processes/{KEY}/drafts/{resp.get_json()["draft_id"]}/publish')
    assert publish.status_code == 422
    assert publish.get_json()['problems']
    assert [v['version'] for v in admin.get(f'/processes/{KEY}/versions').get_json()] == [1]


def test_xsd_error_carries_line_and_element(admin):
    xml = BASE.replace(b'<bpmn:startEvent id="start"', b'<bpmn:fooBar id="bogus"/>\n    <bpmn:startEvent id="start"')
    problems = draft(admin, xml).get_json()['problems']
    assert problems and problems[0]['line'] == 37
    assert problems[0]['element_id'] == 'bogus'
    assert 'BPMN' in problems[0]['message']


def test_condition_messages_are_clear(admin):
    by_case = {}
    for case in ('condition_unsafe', 'condition_unknown_variable', 'lane_not_role'):
        by_case[case] = ' '.join(p['message'] for p in draft(admin, BROKEN[case][0]).get_json()['problems'])
    assert '不允许' in by_case['condition_unsafe']
    assert 'revisoin' in by_case['condition_unknown_variable']
    assert 'street_boss' in by_case['lane_not_role']


@pytest.mark.parametrize('body, status, words', [
    (b'<bpmn:definitions', 422, 'XML'),
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><lolz>&lol2;</lolz>',
     422, 'ENTITY'),
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>', 422, 'ENTITY'),
])
def test_unreadable_xml_is_refused_and_not_stored(admin, body, status, words):
    resp = draft(admin, body)
    assert resp.status_code == status
    assert words in json.dumps(resp.get_json(), ensure_ascii=False)
    assert WorkflowDraft.query.count() == 0


def test_oversize_upload_is_413(admin):
    big = BASE.replace(b'</bpmn:definitions>', b'<!--' + b'x' * (20 * 1024 * 1024) + b'--></bpmn:definitions>')
    resp = draft(admin, big)
    assert resp.status_code == 413
    assert 'MB' in resp.get_json()['message']
    assert WorkflowDraft.query.count() == 0


def test_non_admins_get_403(api, login):
    station = api('station_xicun')
    assert station.get(f'/processes/{KEY}/bpmn').status_code == 403
    assert draft(station, BASE).status_code == 403
    assert station.post(f'/processes/{KEY}/migrations', json={'from_version': 1, 'to_version': 1}).status_code == 403
    assert login('gzva').get(f'/admin/processes/{KEY}').status_code == 403
    assert login('gzva').post(f'/admin/api/processes/{KEY}/drafts', data=BASE, headers=XML).status_code == 403


def test_get_bpmn_and_versions(admin):
    resp = admin.get(f'/processes/{KEY}/bpmn')
    assert resp.status_code == 200 and resp.mimetype == 'application/xml'
    assert resp.data == BASE
    assert admin.get(f'/processes/{KEY}/bpmn?version=9').status_code == 404
    versions = admin.get(f'/processes/{KEY}/versions').get_json()
    assert versions[0]['version'] == 1 and versions[0]['running_instances'] == 0
    assert admin.get('/processes/nope/versions').status_code == 404


def test_bpmn_io_and_camunda_uploads(admin):
    bpmn_io = BASE.replace(b'exporter="hand-written" exporterVersion="1.0"',
                           b'exporter="bpmn-js (https://demo.bpmn.io)" exporterVersion="18.6.1"')
    assert draft(admin, bpmn_io).get_json()['problems'] == []
    camunda = (BASE.replace(b'xmlns:spiffworkflow=', b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
                            b'xmlns:modeler="http://camunda.org/schema/modeler/1.0" modeler:executionPlatform="Camunda Platform" '
                            b'xmlns:spiffworkflow='))
    camunda = _replace_element(camunda, 'userTask', 'street_review',
                               '<bpmn:userTask id="street_review" name="镇街终审" camunda:formKey="review">'
                               '<bpmn:incoming>flow_to_street</bpmn:incoming><bpmn:outgoing>flow_street_done</bpmn:outgoing>'
                               '</bpmn:userTask>')
    problems = draft(admin, camunda).get_json()['problems']
    # a Camunda task keeps neither our form nor our scope variable: both are named, on the task
    assert [p['element_id'] for p in problems] == ['street_review', 'street_review']
    assert '表单' in problems[0]['message'] and '没有设置管辖范围变量' in problems[1]['message']


def camunda_modeler_export(xml=BASE) -> bytes:
    """What Camunda Modeler 5 writes when it saves one of our diagrams (it keeps unknown extensions)."""
    return (xml.replace(b'exporter="hand-written" exporterVersion="1.0"',
                        b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
                        b'xmlns:modeler="http://camunda.org/schema/modeler/1.0" exporter="Camunda Modeler" '
                        b'exporterVersion="5.17.0" modeler:executionPlatform="Camunda Platform" '
                        b'modeler:executionPlatformVersion="7.20.0"')
            .replace(b'isExecutable="true">', b'isExecutable="true" camunda:historyTimeToLive="180">')
            .replace(b'<bpmn:userTask id="street_review" name="',
                     b'<bpmn:userTask id="street_review" camunda:candidateGroups="street" name="'))


def test_camunda_modeler_file_accepted_when_valid_and_published(admin):
    xml = street_to_association(camunda_modeler_export())
    assert b'Camunda Modeler' in xml and b'camunda:historyTimeToLive' in xml
    resp = draft(admin, xml)
    assert resp.status_code == 201 and resp.get_json()['problems'] == []
    assert admin.post(f'/processes/{KEY}/drafts/{resp.get_json()["draft_id"]}/publish').get_json() == {'version': 2}
    assert admin.get(f'/processes/{KEY}/bpmn?version=2').data == xml


def test_camunda_modeler_juel_condition_refused_with_reason(admin):
    xml = camunda_modeler_export().replace(b'>revision &gt; 20<', b'>${revision &gt; 20}<')
    problems = draft(admin, xml).get_json()['problems']
    assert [p['element_id'] for p in problems] == ['flow_too_many']
    assert '语法错误' in problems[0]['message']


@pytest.mark.parametrize('encoding', ['utf-16', 'utf-32'])
def test_wide_encodings_refused_and_not_stored(admin, encoding):
    bomb = (f'<?xml version="1.0" encoding="{encoding.upper()}"?><!DOCTYPE r [<!ENTITY xxe SYSTEM '
            '"file:///etc/passwd">]><r>&xxe;</r>').encode(encoding)
    resp = draft(admin, bomb)
    assert resp.status_code == 422 and 'ENTITY' in resp.get_json()['problems'][0]['message']
    valid = BASE.decode().replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"').encode(encoding)
    resp = draft(admin, valid)
    assert resp.status_code == 422 and 'UTF-8' in resp.get_json()['problems'][0]['message']
    assert WorkflowDraft.query.count() == 0


def test_refused_uploads_publish_nothing_and_v1_keeps_serving(api, admin, login):
    web = login('admin')
    big = BASE + b'<!--' + b'x' * (20 * 1024 * 1024) + b'-->'
    up = web.post(f'/admin/api/processes/{KEY}/drafts', data={'file': (__import__('io').BytesIO(big), 'big.bpmn')},
                  content_type='multipart/form-data', headers={'Accept': 'application/json'})
    assert up.status_code == 413 and 'MB' in up.get_json()['message']
    for case in ('process_id_clash', 'condition_unsafe'):
        resp = draft(admin, BROKEN[case][0])
        assert admin.post(f'/processes/{KEY}/drafts/{resp.get_json()["draft_id"]}/publish').status_code == 422
    assert [v['version'] for v in admin.get(f'/processes/{KEY}/versions').get_json()] == [1]
    assert [v['version'] for v in admin.get('/processes/v_order/versions').get_json()] == [1]
    case = submit(api('vol_zhang'), 7)
    assert version_of(case) == 1
    assert open_task(api('station_xicun'), case) is not None


def test_live_condition_check_knows_result_variables_of_the_edited_diagram(login):
    web = login('admin')
    url = f'/admin/api/processes/{KEY}/check-expression'
    assert web.post(url, json={'expression': 'checked_ok == True'}).get_json()['ok'] is False
    xml = BASE.replace(b'resultVariable="', b'resultVariable="checked_ok" data-was="').decode()
    assert web.post(url, json={'expression': 'checked_ok == True', 'xml': xml}).get_json() == {'ok': True, 'message': ''}


def test_publish_new_chain_and_migrate(api, admin):
    vol, station, gzva, street = api('vol_zhang'), api('station_xicun'), api('gzva'), api('street_xicun')
    at_station = submit(vol, 1)            # waits at the station: can move to v2
    at_street = submit(vol, 2)             # station approved: waits at street_review (READY, changed) -> can move
    task = open_task(station, at_street)
    assert station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    past = submit(vol, 3)                  # street rejected once: street_review COMPLETED -> blocked
    task = open_task(station, past)
    station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'})
    task = open_task(street, past)
    assert street.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject', 'reason': '材料不全'}).status_code == 200

    resp = draft(admin, street_to_association())
    assert resp.status_code == 201 and resp.get_json()['problems'] == []
    pub = admin.post(f'/processes/{KEY}/drafts/{resp.get_json()["draft_id"]}/publish')
    assert pub.status_code == 201 and pub.get_json() == {'version': 2}
    again = admin.post(f'/processes/{KEY}/drafts/{resp.get_json()["draft_id"]}/publish')
    assert again.status_code == 409

    versions = {v['version']: v for v in admin.get(f'/processes/{KEY}/versions').get_json()}
    assert versions[1]['running_instances'] == 3 and versions[2]['running_instances'] == 0
    steps = {s['bpmn_id']: s['count'] for s in versions[1]['steps']}
    assert steps == {'station_review': 1, 'street_review': 1, 'submit': 1}

    diff = admin.get(f'/processes/{KEY}/diff?a=1&b=2').get_json()
    changed = {c['id']: c['fields'] for c in diff['changed']}
    assert 'lane' in changed['street_review'] and 'submit' not in changed and diff['added'] == []

    new_case = submit(vol, 4)
    assert version_of(new_case) == 2
    task = open_task(station, new_case)
    station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'})
    assert open_task(gzva, new_case) is not None
    assert open_task(street, new_case) is None
    assert open_task(street, at_street) is not None       # running instances stay on v1

    dry = admin.post(f'/processes/{KEY}/migrations', json={'from_version': 1, 'to_version': 2, 'dry_run': True})
    assert dry.status_code == 200
    body = dry.get_json()
    assert sorted(body['movable']) == sorted([at_station, at_street])
    assert [b['instance_id'] for b in body['blocked']] == [past]
    assert '镇街终审' in body['blocked'][0]['reason'] and 'street_review' not in body['blocked'][0]['reason']
    assert version_of(at_station) == 1      # dry run changed nothing

    applied = admin.post(f'/processes/{KEY}/migrations', json={'from_version': 1, 'to_version': 2, 'dry_run': False})
    assert sorted(applied.get_json()['movable']) == sorted([at_station, at_street])
    # the applied result names what moved and what stayed behind, with why
    assert applied.get_json()['dry_run'] is False and 'moved' not in body
    assert sorted(applied.get_json()['moved']) == sorted([at_station, at_street])
    [stayed] = applied.get_json()['blocked']
    assert stayed['instance_id'] == past and '镇街终审' in stayed['reason'] and 'street_review' not in stayed['reason']
    assert version_of(at_station) == 2
    assert version_of(past) == 1
    # the READY street task of the migrated case moved to the association's inbox
    assert open_task(street, at_street) is None
    task = open_task(gzva, at_street)
    assert task is not None and task['lane'] == 'association_admin'
    assert gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    history = admin_history(api, at_station)
    assert any(h['decision'] == 'migrate' for h in history)

    actions = [a.action for a in AuditLog.query.order_by(AuditLog.id)]
    assert {'process.draft', 'process.publish', 'process.migrate'} <= set(actions)
    publish_audit = AuditLog.query.filter_by(action='process.publish').one()
    detail = json.loads(publish_audit.detail_json)
    assert detail['diff']['changed'][0]['id'] == 'Lane_street_admin'
    admin_id = User.query.filter_by(username='admin').one().id
    for action in ('process.draft', 'process.publish', 'process.migrate'):
        row = AuditLog.query.filter_by(action=action).one()
        assert row.actor_id == admin_id
        diff = json.loads(row.detail_json)['diff']
        assert 'Lane_street_admin' in [c['id'] for c in diff['changed']] or 'street_review' in [
            c['id'] for c in diff['changed']], (action, diff)
    migrate_detail = json.loads(AuditLog.query.filter_by(action='process.migrate').one().detail_json)
    assert sorted(migrate_detail['moved']) == sorted([at_station, at_street])
    assert [b['instance_id'] for b in migrate_detail['blocked']] == [past]


def version_of(instance_id):
    db.session.expire_all()
    return db.session.get(WorkflowInstance, instance_id).version.version


def admin_history(api, instance_id):
    from app.services.tasks import instance_history
    return instance_history(instance_id)


def test_publish_refused_keeps_serving_running_version(api, admin):
    vol = api('vol_zhang')
    resp = draft(admin, BROKEN['condition_unsafe'][0])
    assert admin.post(f'/processes/{KEY}/drafts/{resp.get_json()["draft_id"]}/publish').status_code == 422
    assert WorkflowVersion.query.filter_by(process_key=KEY).count() == 1
    submit(vol, 5)


def test_editor_pages_and_session_endpoints(api, login):
    vol, station = api('vol_zhang'), api('station_xicun')
    inst = submit(vol, 6)
    web = login('admin')
    page = web.get('/admin/processes')
    assert page.status_code == 200 and '服务对象录入' in page.get_data(as_text=True)
    editor = web.get(f'/admin/processes/{KEY}').get_data(as_text=True)
    assert 'bpmn-modeler.production.min.js' in editor and 'association_admin' in editor and 'review.json' in editor
    check = web.post(f'/admin/api/processes/{KEY}/check-expression', json={'expression': 'decision == "reject"'})
    assert check.get_json() == {'ok': True, 'message': ''}
    bad = web.post(f'/admin/api/processes/{KEY}/check-expression', json={'expression': "__import__('os').system('id')"})
    assert bad.get_json()['ok'] is False and bad.get_json()['message']
    assert web.post(f'/admin/api/processes/{KEY}/check-expression', json={'expression': 'decsion == 1'}).get_json()['ok'] is False
    up = web.post(f'/admin/api/processes/{KEY}/drafts', data={'file': (__import__('io').BytesIO(BASE), 'x.bpmn')},
                  content_type='multipart/form-data')
    assert up.status_code == 201 and up.get_json()['problems'] == []
    dl = web.get(f'/admin/api/processes/{KEY}/bpmn?version=1&download=1')
    assert 'attachment' in dl.headers['Content-Disposition'] and dl.data == BASE
    viewer = web.get(f'/admin/instances/{inst}').get_data(as_text=True)
    assert '"current": ["station_review"]' in viewer and '"submit"' in viewer
    history = viewer.split('<ol class="history">')[1].split('</ol>')[0]  # who submitted, on which diagram version
    assert '张建国' in history and '西村街' in history and '提交' in history and 'v1' in history
    assert web.get(f'/admin/api/processes/{KEY}/versions/1/instances').get_json()[0]['id'] == inst
    assert station.get(f'/instances/{inst}').status_code in (200, 404)
    assert HumanTask.query.filter_by(instance_id=inst, status='open').count() == 1
