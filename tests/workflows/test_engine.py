"""Restricted expression environment, serializer converters, timers and runtime refusals."""

import datetime
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from lxml import etree
from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from tests.workflows.bpmn_samples import SCRIPT_TASK, TIMER_BOUNDARY, diagram
from workflows import (
    SCRIPT_ENGINE,
    SERIALIZER,
    EngineError,
    InstanceRun,
    check_expression,
)
from workflows.engine import ENVIRONMENT, parse_xml


def spec_json_for(xml: bytes) -> str:
    """Serialize a diagram's spec without the lint (to test runtime guards)."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(etree.ElementTree(parse_xml(xml)), "t.bpmn")
    return json.dumps({"spec": SERIALIZER.to_dict(parser.get_spec("p")), "subprocess_specs": {}})


def test_evaluate_uses_task_data_and_safe_builtins():
    data = {"items": [3, 1, 2], "d": {"k": "v"}}
    assert ENVIRONMENT.evaluate("sorted(items)[0] + len(items)", data) == 4
    assert ENVIRONMENT.evaluate("d['k'] == 'v' and d.get('k') == 'v'", data) is True
    assert ENVIRONMENT.evaluate("any(i > 2 for i in items)", data) is True
    assert ENVIRONMENT.evaluate("[a for a, b in [(1, 2)]]", {}) == [1]


@pytest.mark.parametrize("expr", ["__import__('os')", "x.__class__", "open('/etc/passwd')"])
def test_evaluate_refuses_unsafe(expr):
    with pytest.raises((PermissionError, NameError)):
        ENVIRONMENT.evaluate(expr, {"x": 1})


def test_compiled_code_is_cached():
    ENVIRONMENT.evaluate("cached_probe + 1", {"cached_probe": 1})
    assert "cached_probe + 1" in ENVIRONMENT._compiled


def test_scripts_are_refused():
    with pytest.raises(PermissionError, match="scripts are not allowed"):
        ENVIRONMENT.execute("x = 1", {})


def test_script_task_fails_at_runtime_even_without_lint():
    run = InstanceRun.start(spec_json_for(diagram()), {})
    assert run.ready_bpmn_ids() == ["task"]
    with pytest.raises(EngineError, match="scripts are not allowed"):
        InstanceRun.start(spec_json_for(diagram(SCRIPT_TASK)), {})


def test_engine_is_reattached_after_load():
    spec = spec_json_for(diagram())
    run = InstanceRun.load(spec, InstanceRun.start(spec, {}).dump())
    assert run.workflow.script_engine is SCRIPT_ENGINE


def test_check_expression_accepts_known_and_builtin_names():
    assert check_expression("len(items) > 0 and ok", {"items", "ok"}) is None
    assert check_expression("[i for i in items if i]", {"items"}) is None
    assert check_expression("ok", None) is None
    assert "unknown" in check_expression("missing", {"ok"})
    assert check_expression("   ") == "empty expression"


def test_date_and_decimal_round_trip():
    spec = spec_json_for(diagram())
    data = {"born": datetime.date(1950, 5, 1), "amount": Decimal("12.50"),
            "at": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)}
    run = InstanceRun.load(spec, InstanceRun.start(spec, data).dump())
    assert run.ready_tasks()[0].data == data


def test_boundary_timer_due_at_and_firing():
    spec = spec_json_for(diagram(extra=TIMER_BOUNDARY.format(expr='"P14D"')))
    run = InstanceRun.load(spec, InstanceRun.start(spec, {}).dump())
    [task] = run.ready_tasks()
    expected = datetime.datetime.now(datetime.UTC) + timedelta(days=14)
    assert task.due_at is not None and task.due_at.tzinfo is not None
    assert abs(task.due_at - expected) < timedelta(minutes=1)
    assert run.next_timer_at() == task.due_at
    run.fire_timers()
    assert run.ready_bpmn_ids() == ["task"]
    timer = run.workflow.get_tasks(spec_name="deadline")[0]
    timer.internal_data["event_value"] = (datetime.datetime.now(datetime.UTC) - timedelta(seconds=1)).isoformat()
    run = InstanceRun.load(spec, run.dump())
    run.fire_timers()
    assert run.is_completed()
    assert "end_late" in run.completed_bpmn_ids()
    assert run.next_timer_at() is None


def test_reserved_typename_key_refused():
    spec = spec_json_for(diagram())
    with pytest.raises(EngineError, match="typename"):
        InstanceRun.start(spec, {"a": [{"typename": "x"}]})
    run = InstanceRun.start(spec, {})
    with pytest.raises(EngineError, match="typename"):
        run.complete(run.ready_tasks()[0].guid, {"typename": "x"})
    assert run.ready_bpmn_ids() == ["task"]
