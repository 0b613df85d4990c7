"""Small BPMN documents for lint and engine tests."""

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="Collab"><bpmn:participant id="Part" processRef="p"/></bpmn:collaboration>
"""

USER_TASK = """<bpmn:userTask id="task" name="Task">
      <bpmn:extensionElements>{extensions}</bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>"""

FORM = """<spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/>
        </spiffworkflow:properties>"""

SCRIPT_TASK = """<bpmn:scriptTask id="task" name="Script">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>x = 1</bpmn:script>
    </bpmn:scriptTask>"""

SERVICE_TASK = """<bpmn:serviceTask id="task" name="Service">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="out">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="p1" type="str" value="{param}"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>"""


def diagram(task: str | None = None, *, lane: str = "submitter", form: str = "f.json", extra_ext: str = "",
            cond_a: str = "x == 1", cond_b: str | None = None, default: bool = True, extra: str = "",
            start: bool = True, process_id: str = "p") -> bytes:
    """Build start -> task -> gateway -> (flow_a: end_a | flow_b: end_b) in one lane."""
    if task is None:
        task = USER_TASK.format(extensions=(FORM.format(form=form) if form else "") + extra_ext)
    cond_b_xml = f"<bpmn:conditionExpression>{cond_b}</bpmn:conditionExpression>" if cond_b else ""
    start_xml = '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>' if start else ""
    default_attr = ' default="flow_b"' if default else ""
    body = f"""  <bpmn:process id="{process_id}" name="Sample" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="lane1" name="{lane}">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>task</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>gw</bpmn:flowNodeRef><bpmn:flowNodeRef>end_a</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end_b</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    {start_xml}
    {task}
    <bpmn:exclusiveGateway id="gw"{default_attr}>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>flow_a</bpmn:outgoing><bpmn:outgoing>flow_b</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_a"><bpmn:incoming>flow_a</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_b"><bpmn:incoming>flow_b</bpmn:incoming></bpmn:endEvent>
    {extra}
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task"/>
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="gw"/>
    <bpmn:sequenceFlow id="flow_a" sourceRef="gw" targetRef="end_a">
      <bpmn:conditionExpression>{cond_a}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="flow_b" sourceRef="gw" targetRef="end_b">{cond_b_xml}</bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>
"""
    return (HEAD + body).encode("utf-8")


TIMER_BOUNDARY = """<bpmn:boundaryEvent id="deadline" attachedToRef="task">
      <bpmn:outgoing>flow_late</bpmn:outgoing>
      <bpmn:timerEventDefinition id="deadline_def">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{expr}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="end_late"><bpmn:incoming>flow_late</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="flow_late" sourceRef="deadline" targetRef="end_late"/>"""
