"""Lint and compile checks on uploaded diagrams."""

import json

import pytest

from tests.workflows.bpmn_samples import HEAD, SCRIPT_TASK, SERVICE_TASK, TIMER_BOUNDARY, diagram
from workflows import DeploymentError, InstanceRun, compile_diagram, lint, service_tasks

ROLES = {"submitter", "station_admin", "street_admin"}
FORMS = {"f.json"}


def problems_for(xml: bytes, process_key: str = "p", known_vars=frozenset({"x"})):
    return lint(xml, process_key, roles=ROLES, forms=FORMS, known_vars=set(known_vars))


def only(problems):
    assert len(problems) == 1, problems
    return problems[0]


@pytest.fixture
def echo_operator():
    service_tasks.register("test.echo")(lambda data, params: params)
    yield "test.echo"
    service_tasks.unregister("test.echo")


def test_sample_is_clean():
    assert problems_for(diagram()) == []


def test_shipped_diagram_lints_clean(calls, diagram_xml):
    assert lint(diagram_xml, "service_object_entry", roles=ROLES,
                forms={"service_object_entry.json", "review.json"}, known_vars={"revision", "decision"}) == []


def test_shipped_diagram_compiles(compiled, diagram_xml):
    assert compiled.name == "服务对象录入"
    assert compiled.process_key == "service_object_entry"
    assert len(compiled.sha256) == 64 and compiled.bpmn_xml == diagram_xml
    assert set(json.loads(compiled.spec_json)) == {"spec", "subprocess_specs"}
    assert [(t["bpmn_id"], t["lane"], t["form"], t["scope"]) for t in compiled.user_tasks] == [
        ("submit", "submitter", "service_object_entry.json", None),
        ("station_review", "station_admin", "review.json", "station_scope"),
        ("street_review", "street_admin", "review.json", "street_scope"),
    ]


def test_script_task_refused():
    problem = only(problems_for(diagram(SCRIPT_TASK)))
    assert problem.element_id == "task" and "script" in problem.message
    assert problem.line is not None


def test_unconnected_script_task_refused_too():
    xml = diagram(extra='<bpmn:scriptTask id="orphan"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>')
    problem = only(problems_for(xml))
    assert problem.element_id == "orphan" and "script" in problem.message and problem.line is not None


def test_step_not_connected_to_start_is_reported():
    xml = diagram(extra='<bpmn:userTask id="forgotten" name="New review"/>')
    problem = only(problems_for(xml))
    assert problem.element_id == "forgotten" and "cannot be reached" in problem.message


def test_prescript_refused():
    problems = problems_for(diagram(extra_ext="<spiffworkflow:preScript>x = 1</spiffworkflow:preScript>"))
    assert only(problems).element_id == "task" and "prescript" in problems[0].message


def test_lane_not_a_role_points_at_the_lane():
    problem = only(problems_for(diagram(lane="hacker")))
    assert problem.element_id == "lane1" and "hacker" in problem.message and problem.line is not None


def test_lane_without_role_points_at_the_lane():
    problem = only(problems_for(diagram(lane="")))
    assert problem.element_id == "lane1" and "no role" in problem.message


def test_empty_lane_must_still_be_a_role():
    extra_lane = b'</bpmn:lane><bpmn:lane id="lane2" name="Lane"></bpmn:lane></bpmn:laneSet>'
    xml = diagram().replace(b"</bpmn:lane></bpmn:laneSet>", extra_lane)
    assert only(problems_for(xml)).element_id == "lane2"


def test_user_task_outside_every_lane():
    xml = diagram().replace(b"<bpmn:flowNodeRef>task</bpmn:flowNodeRef>", b"")
    problem = only(problems_for(xml))
    assert problem.element_id == "task" and "no lane" in problem.message


def test_missing_form():
    problem = only(problems_for(diagram(form="")))
    assert problem.element_id == "task" and "formJsonSchemaFilename" in problem.message


def test_unknown_form():
    problem = only(problems_for(diagram(form="other.json")))
    assert problem.element_id == "task" and "other.json" in problem.message


@pytest.mark.parametrize("condition, fragment", [
    ("__import__('os').system('id')", "not allowed"),
    ("x.__class__", "not allowed"),
    ("x ==", "syntax error"),
    ("y == 1", "unknown variable(s): y"),
])
def test_bad_condition_points_at_flow(condition, fragment):
    problem = only(problems_for(diagram(cond_a=condition)))
    assert problem.element_id == "flow_a"
    assert fragment in problem.message


def test_builtins_are_known_names():
    assert problems_for(diagram(cond_a="len(str(x)) > 1 and max(x, 2) == 2")) == []


def test_gateway_without_default_flow():
    problem = only(problems_for(diagram(cond_b="x == 2", default=False)))
    assert problem.element_id == "gw" and "no default flow" in problem.message


def test_inclusive_gateway_without_default_flow():
    xml = diagram(cond_b="x == 2", default=False).replace(b"exclusiveGateway", b"inclusiveGateway")
    problem = only(problems_for(xml))
    assert problem.element_id == "gw" and "no default flow" in problem.message


@pytest.mark.parametrize("cond_a, cond_b", [
    ("x == 1", "x != 1"),
    ("x &gt; 1", "x &lt;= 1"),
    ("x", "not x"),
    ("x in (1, 2)", "x not in (1, 2)"),
    ("x == 1", "True"),
])
def test_gateway_whose_conditions_always_match_one_needs_no_default(cond_a, cond_b):
    assert problems_for(diagram(cond_a=cond_a, cond_b=cond_b, default=False)) == []


@pytest.mark.parametrize("cond_a, cond_b", [("x == 1", "x == 2"), ("x &gt; 1", "x &lt; 1"), ("x", "not x == 1")])
def test_gateway_whose_conditions_may_all_fail_needs_a_default(cond_a, cond_b):
    assert only(problems_for(diagram(cond_a=cond_a, cond_b=cond_b, default=False))).element_id == "gw"


def test_unregistered_service_operator():
    problem = only(problems_for(diagram(SERVICE_TASK.format(operator="os.system", param="x"))))
    assert problem.element_id == "task" and "os.system" in problem.message


def test_service_parameter_expression_checked(echo_operator):
    assert problems_for(diagram(SERVICE_TASK.format(operator=echo_operator, param="x"))) == []
    problem = only(problems_for(diagram(SERVICE_TASK.format(operator=echo_operator, param="open"))))
    assert problem.element_id == "task" and "p1" in problem.message


def test_timer_expression_checked():
    assert problems_for(diagram(extra=TIMER_BOUNDARY.format(expr='"P14D"'))) == []
    problem = only(problems_for(diagram(extra=TIMER_BOUNDARY.format(expr="__import__('os')"))))
    assert problem.element_id == "deadline"


def test_malformed_xml():
    problem = only(problems_for(b"<bpmn:definitions><oops"))
    assert problem.element_id is None and "malformed XML" in problem.message


def test_entity_bomb_refused():
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<lolz>&lol2;</lolz>"""
    assert "DOCTYPE" in only(problems_for(bomb)).message


def test_external_entity_refused():
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>'
    assert "DOCTYPE" in only(problems_for(xxe)).message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_doctype_in_wide_encodings_refused(encoding):
    bomb = (f'<?xml version="1.0" encoding="{encoding.upper()}"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>').encode(encoding)
    xxe = (f'<?xml version="1.0" encoding="{encoding.upper()}"?>'
           '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>').encode(encoding)
    assert b"<!DOCTYPE" not in bomb.upper()
    for xml in (bomb, xxe):
        assert "DOCTYPE" in only(problems_for(xml)).message


def test_oversized_input_refused():
    assert "5 MB" in only(problems_for(b" " * (5 * 1024 * 1024 + 1))).message


def test_wrong_process_id():
    problem = only(problems_for(diagram(), process_key="nope"))
    assert "nope" in problem.message


def test_missing_start_event():
    problem = only(problems_for(diagram(start=False)))
    assert problem.element_id == "p" and "start" in problem.message.lower()


def test_schema_error_has_line():
    xml = diagram(extra="<bpmn:fooBar id='bad'/>")
    problem = only(problems_for(xml))
    assert problem.line is not None and "fooBar" in problem.message


def test_compile_raises_with_every_problem():
    with pytest.raises(DeploymentError) as info:
        compile_diagram(diagram(lane="hacker", form=""), "p", roles=ROLES, forms=FORMS)
    assert [p.element_id for p in info.value.problems] == ["lane1", "task"]
    assert "hacker" in info.value.problems[0].message and "formJsonSchemaFilename" in info.value.problems[1].message
    assert info.value.problems[1].to_dict()["element_id"] == "task"


def _parallel_send_and_wait(kind: str, sent: bool = True) -> bytes:
    """start -> fork -> (wait for `kind` | send it, or do nothing when not `sent`) -> ends."""
    ref = 'messageEventDefinition id="d{n}" messageRef="m1"' if kind == "message" \
        else 'signalEventDefinition id="d{n}" signalRef="s1"'
    sender = f'<bpmn:{ref.format(n=2)}/>' if sent else ""
    return (HEAD + f"""  <bpmn:process id="p" name="S" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:intermediateCatchEvent id="catch" name="wait"><bpmn:{ref.format(n=1)}/></bpmn:intermediateCatchEvent>
    <bpmn:intermediateThrowEvent id="throw" name="send">{sender}</bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="end1"/><bpmn:endEvent id="end2"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="fork"/>
    <bpmn:sequenceFlow id="fa" sourceRef="fork" targetRef="catch"/>
    <bpmn:sequenceFlow id="fb" sourceRef="fork" targetRef="throw"/>
    <bpmn:sequenceFlow id="fa2" sourceRef="catch" targetRef="end1"/>
    <bpmn:sequenceFlow id="fb2" sourceRef="throw" targetRef="end2"/>
  </bpmn:process>
  <bpmn:message id="m1" name="receipt"/><bpmn:signal id="s1" name="go"/>
</bpmn:definitions>""").encode()


@pytest.mark.parametrize("kind", ["message", "signal"])
def test_a_wait_for_what_the_diagram_itself_sends_passes_and_finishes(kind):
    xml = _parallel_send_and_wait(kind)
    assert lint(xml, "p", roles=ROLES, forms=FORMS, known_vars=set()) == []
    run = InstanceRun.start(compile_diagram(xml, "p", roles=ROLES, forms=FORMS, known_vars=set()).spec_json, {})
    assert run.is_completed()


@pytest.mark.parametrize("kind", ["message", "signal"])
def test_a_wait_for_what_nothing_sends_is_a_problem(kind):
    problem = only(lint(_parallel_send_and_wait(kind, sent=False), "p", roles=ROLES, forms=FORMS, known_vars=set()))
    assert problem.element_id == "catch" and "nothing sends" in problem.message and problem.line
