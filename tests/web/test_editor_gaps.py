"""Editor gaps: a saved draft can be discarded (from the editor's JSON call and from the processes list: confirmed,
audited, CSRF-protected; a published version never goes), the canvas toolbar's buttons are on the page, and the
problems a user can cause on 检查 / 发布 read as Chinese sentences that name the element, the parser's own English
kept as the technical detail."""
import json
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, WorkflowDraft, WorkflowVersion
from tests.web.test_process_admin import BASE, KEY, XML, _replace_element, draft

ADMIN_API = f'/admin/api/processes/{KEY}'


@pytest.fixture
def admin(api):
    return api('admin')


def renamed(name='社工站初审（新）', xml=BASE) -> bytes:
    return xml.replace('name="社工站初审"'.encode(), f'name="{name}"'.encode())


def saved_draft(web, xml=None) -> int:
    resp = web.post(f'{ADMIN_API}/drafts', data=xml or renamed(), headers=XML)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()['draft_id']


def drafts():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(WorkflowDraft))


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


# ---------------------------------------------------------------- 1. 放弃草稿

def test_the_editor_discards_its_draft_with_an_audit_row(login):
    web = login('admin')
    draft_id = saved_draft(web)
    page = web.get(f'/admin/processes/{KEY}').get_data(as_text=True)
    assert 'id="btn-discard"' in page and '放弃草稿' in page
    resp = web.post(f'{ADMIN_API}/drafts/{draft_id}/discard', json={'confirm': True})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()['discarded'] == draft_id
    assert drafts() == 0
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == 'process.draft_discard'))
    assert row.target == f'{KEY} draft {draft_id}'
    detail = json.loads(row.detail_json)
    assert detail['draft_id'] == draft_id and detail['base_version'] == 1 and detail['problems'] == 0
    assert detail['diff']['changed'], 'what the draft changed is on record'
    assert f'已放弃草稿 #{draft_id}' in resp.get_json()['message']
    # the editor opens the published version again (its status line says so: tests/browser/test_editor_s18d.py);
    # the list counts no draft
    page = web.get(f'/admin/processes/{KEY}?published=1&discarded={draft_id}').get_data(as_text=True)
    assert '正在编辑：已发布版本 v1' in page and 'id="open-draft"' not in page
    assert f'打开草稿 #{draft_id}' not in web.get('/admin/processes').get_data(as_text=True)


def test_discarding_asks_for_a_confirmation_first(login):
    web = login('admin')
    draft_id = saved_draft(web)
    resp = web.post(f'{ADMIN_API}/drafts/{draft_id}/discard', json={})
    assert resp.status_code == 422
    assert '确认' in json.dumps(resp.get_json(), ensure_ascii=False)
    assert drafts() == 1
    assert AuditLog.query.filter_by(action='process.draft_discard').count() == 0


def test_the_processes_list_offers_discard_with_a_confirmation_and_csrf(login, app, monkeypatch):
    web = login('admin')
    draft_id = saved_draft(web)
    monkeypatch.setitem(app.config, 'WTF_CSRF_ENABLED', True)
    page = web.get('/admin/processes').get_data(as_text=True)
    action = f'/admin/processes/{KEY}/drafts/{draft_id}/discard'
    form = re.search(rf'<form[^>]*action="{re.escape(action)}".*?</form>', page, re.S)
    assert form, 'the row of the draft carries the discard form'
    assert 'name="csrf_token"' in form.group(0) and 'name="confirm"' in form.group(0)
    assert '确定放弃' in form.group(0)
    # without the token: refused, nothing deleted (the editor's JSON call too)
    assert web.post(action, data={'confirm': '1'}).status_code == 400
    assert web.post(f'{ADMIN_API}/drafts/{draft_id}/discard', json={'confirm': True}).status_code == 400
    assert drafts() == 1
    # without the confirmation: the list again, with why
    resp = web.post(action, data={'csrf_token': csrf_of(page)})
    assert resp.status_code == 422
    assert '请确认' in resp.get_data(as_text=True) and drafts() == 1
    resp = web.post(action, data={'csrf_token': csrf_of(page), 'confirm': '1'})
    assert resp.status_code == 302 and resp.headers['Location'].endswith('/admin/processes')
    assert drafts() == 0
    assert f'已放弃草稿 #{draft_id}' in web.get('/admin/processes').get_data(as_text=True)
    assert AuditLog.query.filter_by(action='process.draft_discard').count() == 1


def test_a_published_version_is_never_discarded(login, admin):
    web = login('admin')
    draft_id = saved_draft(web)
    assert admin.post(f'/processes/{KEY}/drafts/{draft_id}/publish').status_code == 201
    resp = web.post(f'{ADMIN_API}/drafts/{draft_id}/discard', json={'confirm': True})
    assert resp.status_code == 409
    assert '已发布' in resp.get_json()['message']
    resp = web.post(f'/admin/processes/{KEY}/drafts/{draft_id}/discard', data={'confirm': '1'})
    assert resp.status_code == 302
    assert '已发布' in web.get('/admin/processes').get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(WorkflowDraft, draft_id) is not None
    assert [v.version for v in WorkflowVersion.query.filter_by(process_key=KEY).order_by(WorkflowVersion.version)] == [1, 2]
    assert AuditLog.query.filter_by(action='process.draft_discard').count() == 0


def test_discard_is_for_process_admins_and_the_drafts_own_process(login):
    draft_id = saved_draft(login('admin'))
    assert login('gzva').post(f'{ADMIN_API}/drafts/{draft_id}/discard', json={'confirm': True}).status_code == 403
    web = login('admin')
    assert web.post(f'/admin/api/processes/v_order/drafts/{draft_id}/discard', json={'confirm': True}).status_code == 404
    assert web.post(f'{ADMIN_API}/drafts/999999/discard', json={'confirm': True}).status_code == 404
    assert drafts() == 1


# ---------------------------------------------------------------- 2. the canvas toolbar on the page

def test_the_editor_page_has_undo_redo_and_zoom_buttons(login):
    page = login('admin').get(f'/admin/processes/{KEY}').get_data(as_text=True)
    for button_id, visible, label in (('btn-undo', '撤销', '撤销上一步修改'), ('btn-redo', '重做', '重做刚撤销的修改'),
                                      ('btn-zoom-in', '放大', '放大流程图'), ('btn-zoom-out', '缩小', '缩小流程图'),
                                      ('btn-zoom-fit', '适合窗口', '缩放流程图以适合窗口')):
        tag = re.search(rf'<button[^>]*id="{button_id}"[^>]*>.*?</button>', page, re.S)
        assert tag, button_id
        assert f'aria-label="{label}"' in tag.group(0) and visible in tag.group(0) and 'type="button"' in tag.group(0)
    for button_id in ('btn-undo', 'btn-redo'):  # nothing to undo or redo on a freshly opened diagram
        assert re.search(rf'<button[^>]*id="{button_id}"[^>]*\sdisabled', page)


# ---------------------------------------------------------------- 3. problems in Chinese, naming the element

def _r(xml: bytes, old, new) -> bytes:
    old, new = (s.encode() if isinstance(s, str) else s for s in (old, new))
    assert old in xml, old
    return xml.replace(old, new, 1)


def _between(element: str) -> bytes:
    """`element` (id X1) between 入库 and its end event."""
    xml = _r(BASE, '<bpmn:sequenceFlow id="flow_approved" sourceRef="approve" targetRef="end_approved"/>',
             '<bpmn:sequenceFlow id="flow_approved" sourceRef="approve" targetRef="X1"/>'
             '<bpmn:sequenceFlow id="flow_x" sourceRef="X1" targetRef="end_approved"/>')
    return _r(xml, '<bpmn:endEvent id="end_approved"', element + '\n    <bpmn:endEvent id="end_approved"')


NO_START = _r(_r(_replace_element(BASE, 'startEvent', 'start', ''),
                 '<bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="submit"/>', ''),
              '<bpmn:incoming>flow_start</bpmn:incoming>', '')
GATEWAY_NO_DEFAULT = _r(_r(BASE, 'name="终审结果" default="flow_to_approve"', 'name="终审结果"'),
                        '<bpmn:sequenceFlow id="flow_to_approve" name="通过" sourceRef="gw_street" targetRef="approve"/>',
                        '<bpmn:sequenceFlow id="flow_to_approve" name="通过" sourceRef="gw_street" targetRef="approve">'
                        '<bpmn:conditionExpression>decision == "approve"</bpmn:conditionExpression></bpmn:sequenceFlow>')
TIMER = ('<bpmn:boundaryEvent id="timer1" name="超时" attachedToRef="street_review"><bpmn:outgoing>flow_t</bpmn:outgoing>'
         '{definition}</bpmn:boundaryEvent>'
         '<bpmn:sequenceFlow id="flow_t" sourceRef="timer1" targetRef="end_approved"/>\n    <bpmn:endEvent id="end_approved"')

# case: (diagram, element id, words the message must hold (the element's name first), words of the raw detail)
CASES = {
    'missing start event': (NO_START, KEY, ['服务对象录入', '开始事件'], 'No start event'),
    'flow to a deleted element': (_r(BASE, 'sourceRef="approve" targetRef="end_approved"',
                                     'sourceRef="approve" targetRef="end_gone"'),
                                  'flow_approved', ['入库', 'end_gone', '不存在'], 'end_gone'),
    'step not connected': (_r(BASE, '<bpmn:endEvent id="end_approved"',
                              '<bpmn:userTask id="Activity_1x" name="复核"/><bpmn:endEvent id="end_approved"'),
                           'Activity_1x', ['复核', '开始事件'], 'cannot be reached'),
    'unnamed step not connected': (_r(BASE, '<bpmn:endEvent id="end_approved"',
                                      '<bpmn:task id="Activity_0ab"/><bpmn:endEvent id="end_approved"'),
                                   'Activity_0ab', ['Activity_0ab', '开始事件'], 'cannot be reached'),
    'condition does not compile': (_r(BASE, 'revision &gt; 20', 'revision &gt;'),
                                   'flow_too_many', ['超过20次', '语法错误'], 'invalid syntax'),
    'condition with Chinese quotes': (_r(BASE, 'revision &gt; 20', 'decision == “reject”'),
                                      'flow_too_many', ['超过20次', '语法错误', '半角'], 'invalid character'),
    'condition with one =': (_r(BASE, 'revision &gt; 20', 'revision = 20'),
                             'flow_too_many', ['超过20次', '=='], 'invalid syntax'),
    'condition calling the system': (_r(BASE, 'revision &gt; 20', "__import__('os')"),
                                     'flow_too_many', ['超过20次', '不允许', '__import__'], 'invalid variable name'),
    'gateway without a default': (GATEWAY_NO_DEFAULT, 'gw_street', ['终审结果', '默认路径'], 'no default flow'),
    'gateway flow without a condition': (_r(BASE, 'name="终审结果" default="flow_to_approve"', 'name="终审结果"'),
                                         'flow_to_approve', ['终审结果', '通过', '默认路径'], 'without condition'),
    'script task': (_replace_element(BASE, 'serviceTask', 'approve',
                                     '<bpmn:scriptTask id="approve" name="入库"><bpmn:incoming>flow_to_approve'
                                     '</bpmn:incoming><bpmn:outgoing>flow_approved</bpmn:outgoing><bpmn:script>x = 1'
                                     '</bpmn:script></bpmn:scriptTask>'), 'approve', ['入库', '脚本'], 'script task'),
    'system step without an operation': (_r(BASE, '<spiffworkflow:serviceTaskOperator id="service_object.approve" '
                                              'resultVariable="approve_result">\n          <spiffworkflow:parameters/>\n'
                                              '        </spiffworkflow:serviceTaskOperator>', ''),
                                         'approve', ['入库', '系统操作'], 'must have an operator'),
    'timer without a time': (_r(BASE, '<bpmn:endEvent id="end_approved"',
                                TIMER.format(definition='<bpmn:timerEventDefinition/>')),
                             'timer1', ['超时', '时间'], 'Time Specification'),
    'unquoted timer': (_r(BASE, '<bpmn:endEvent id="end_approved"', TIMER.format(
        definition='<bpmn:timerEventDefinition><bpmn:timeDuration>P2D</bpmn:timeDuration></bpmn:timerEventDefinition>')),
                       'timer1', ['超时', '"P2D"', '引号'], 'unknown variable'),
    'empty subprocess': (_between('<bpmn:subProcess id="X1" name="子流程甲"/>'), 'X1', ['子流程甲', '开始事件'],
                         'start event'),
    'call activity calling nothing': (_between('<bpmn:callActivity id="X1" name="调用乙"/>'), 'X1', ['调用乙'],
                                      'calledElement'),
    'unsupported gateway': (_between('<bpmn:complexGateway id="X1" name="复杂分支"/>'), 'X1', ['复杂分支', '不支持'],
                            'no support'),
    'multi-instance step': (_between('<bpmn:userTask id="X1" name="会签"><bpmn:multiInstanceLoopCharacteristics/>'
                                     '</bpmn:userTask>'), 'X1', ['会签', '多实例'], 'cardinality'),
    'duplicate id': (_r(BASE, '<bpmn:serviceTask id="approve"', '<bpmn:serviceTask id="submit"'),
                     'submit', ['submit', 'BPMN'], 'xs:ID'),
    'unknown element': (_r(BASE, '<bpmn:startEvent id="start"', '<bpmn:fooBar id="bogus"/>\n    <bpmn:startEvent id="start"'),
                        'bogus', ['bpmn:fooBar', 'BPMN'], 'not expected'),
}
# three English words in a row: a sentence the parser wrote, not a name or an expression
ENGLISH = re.compile(r'[A-Za-z]{2,}[ ,.:;]+[A-Za-z]{2,}[ ,.:;]+[A-Za-z]{2,}')


@pytest.mark.parametrize('case', sorted(CASES))
def test_a_problem_a_user_can_cause_is_a_chinese_sentence_naming_the_element(admin, case):
    xml, element_id, words, raw = CASES[case]
    resp = draft(admin, xml)
    assert resp.status_code == 201, resp.get_json()
    problems = [p for p in resp.get_json()['problems'] if p['element_id'] == element_id]
    assert problems, resp.get_json()['problems']
    problem = problems[0]
    message = problem['message']
    assert re.search('[\u4e00-\u9fff]', message), message
    assert not ENGLISH.search(message), message
    for word in words:
        assert word in message, (word, message)
    assert raw in problem['detail'], problem['detail']  # the parser's own text stays for the technical detail


@pytest.mark.parametrize('body, words, raw', [
    (BASE[:-30], ['XML 格式错误', '行', '列'], "expected '>'"),
    (b'<bpmn:definitions><oops', ['XML 格式错误', '命名空间'], 'Namespace prefix'),
    (b'<bpmn:definitions xmlns:bpmn="x"><oops/>', ['XML 格式错误', '<definitions>', '没有结束'], 'Premature end'),
    (b'hello', ['XML 格式错误', '不是 XML'], "Start tag expected"),
    (b'', ['XML 格式错误', '空'], 'Document is empty'),
])
def test_unreadable_xml_is_explained_in_chinese(admin, body, words, raw):
    resp = draft(admin, body)
    assert resp.status_code == 422
    problem = resp.get_json()['problems'][0]
    assert not ENGLISH.search(problem['message']), problem['message']
    for word in words:
        assert word in problem['message'], (word, problem['message'])
    assert raw in problem['detail']


def test_the_live_condition_check_speaks_chinese_and_keeps_the_detail(login):
    resp = login('admin').post(f'{ADMIN_API}/check-expression', json={'expression': 'decision = "reject"'})
    body = resp.get_json()
    assert body['ok'] is False and '==' in body['message'] and not ENGLISH.search(body['message'])
    assert 'invalid syntax' in body['detail']
