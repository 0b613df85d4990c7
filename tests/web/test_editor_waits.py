"""A step that waits for a message or signal nobody sends would stop every case there for good: the editor refuses
it with a Chinese message on that element, and publishing is refused; one sent by a step of the same diagram is fine."""
import pytest

from tests.web.test_editor_fixes import publish, versions
from tests.web.test_process_admin import BASE, draft

START_FLOW = b'<bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="submit"/>'


@pytest.fixture
def admin(api):
    return api('admin')


DEFS = b'<bpmn:message id="msg_receipt" name="receipt"/><bpmn:signal id="sig_go" name="go"/><bpmndi:BPMNDiagram'


def waiting(element: str) -> bytes:
    """The shipped entry diagram with `element` (id `wait`) between its start event and the submit step."""
    assert START_FLOW in BASE
    xml = BASE.replace(START_FLOW, (
        '<bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="wait"/>'
        '<bpmn:sequenceFlow id="flow_waited" sourceRef="wait" targetRef="submit"/>' + element).encode())
    assert xml.count(b'<bpmndi:BPMNDiagram') == 1
    return xml.replace(b'<bpmndi:BPMNDiagram', DEFS)


@pytest.mark.parametrize('element,said', [
    ('<bpmn:intermediateCatchEvent id="wait" name="等回执"><bpmn:messageEventDefinition id="d1" '
     'messageRef="msg_receipt"/></bpmn:intermediateCatchEvent>', '事件“等回执”在等待消息“receipt”'),
    ('<bpmn:intermediateCatchEvent id="wait" name="等通知"><bpmn:messageEventDefinition id="d1"/>'
     '</bpmn:intermediateCatchEvent>', '事件“等通知”在等待消息，'),
    ('<bpmn:intermediateCatchEvent id="wait" name="等信号"><bpmn:signalEventDefinition id="d1" signalRef="sig_go"/>'
     '</bpmn:intermediateCatchEvent>', '事件“等信号”在等待信号“go”'),
    ('<bpmn:receiveTask id="wait" name="收回执" messageRef="msg_receipt"/>', '接收任务“收回执”在等待消息“receipt”'),
])
def test_a_step_waiting_for_what_nobody_sends_is_refused(admin, element, said):
    resp = draft(admin, waiting(element))
    assert resp.status_code == 201, resp.get_json()
    problems = resp.get_json()['problems']
    assert [p['element_id'] for p in problems] == ['wait'], problems
    assert said in problems[0]['message'] and '永远停在这里' in problems[0]['message'], problems
    assert problems[0]['line']
    assert publish(admin, resp.get_json()['draft_id']).status_code == 422
    assert versions(admin) == [1]


def test_an_event_gateway_needs_an_event_that_can_happen(admin):
    gateway = ('<bpmn:eventBasedGateway id="wait" name="等回复"/>'
               '<bpmn:intermediateCatchEvent id="reply" name="回复"><bpmn:messageEventDefinition id="d1" '
               'messageRef="msg_receipt"/></bpmn:intermediateCatchEvent>'
               '<bpmn:sequenceFlow id="flow_reply" sourceRef="wait" targetRef="reply"/>'
               '<bpmn:sequenceFlow id="flow_replied" sourceRef="reply" targetRef="submit"/>')
    xml = waiting(gateway).replace(b'<bpmn:sequenceFlow id="flow_waited" sourceRef="wait" targetRef="submit"/>', b'')
    problems = draft(admin, xml).get_json()['problems']
    assert [p['element_id'] for p in problems] == ['wait'], problems
    assert '事件网关' in problems[0]['message']
    # with a timer beside it the gateway can move on: the message is one way out, not the only one
    timer = ('<bpmn:intermediateCatchEvent id="late" name="三天后"><bpmn:timerEventDefinition id="t1">'
             '<bpmn:timeDuration>"P3D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
             '<bpmn:sequenceFlow id="flow_late" sourceRef="wait" targetRef="late"/>'
             '<bpmn:sequenceFlow id="flow_late_on" sourceRef="late" targetRef="submit"/>')
    xml = xml.replace(b'</bpmn:process>', timer.encode() + b'</bpmn:process>', 1)
    resp = draft(admin, xml)
    assert resp.get_json()['problems'] == [], resp.get_json()
    assert publish(admin, resp.get_json()['draft_id']).status_code == 201
