"""Drive the service_object_entry diagram on the engine alone, round-tripping state every step."""

import json

import pytest
from SpiffWorkflow.util.task import TaskState

from workflows import (
    EngineError,
    InstanceRun,
    ServiceTaskError,
    TaskNotReady,
    project,
    scope_codes,
    service_tasks,
)
from workflows.engine import SERIALIZER
from workflows.runner import SPEC_CACHE

START_DATA = {"revision": 0, "station_scope": ["xicun_station"], "street_scope": ["xicun"]}


def roundtrip(run: InstanceRun, spec_json: str) -> InstanceRun:
    return InstanceRun.load(spec_json, run.dump(), cache_key="v1")


def step(run, spec_json, bpmn_id, data):
    """Complete the single READY task (which must be `bpmn_id`) and reload from JSON."""
    ready = run.ready_tasks()
    assert [t.bpmn_id for t in ready] == [bpmn_id]
    run.complete(ready[0].guid, data)
    return roundtrip(run, spec_json)


def start(compiled, data=None):
    run = InstanceRun.start(compiled.spec_json, dict(START_DATA, **(data or {})), cache_key="v1")
    return roundtrip(run, compiled.spec_json)


def names(calls):
    return [name for name, _, _ in calls]


def test_happy_path_completes_and_approves_once(compiled, calls):
    spec = compiled.spec_json
    run = start(compiled)
    run = step(run, spec, "submit", {"name": "张三", "revision": 1})
    run = step(run, spec, "station_review", {"decision": "approve"})
    run = step(run, spec, "street_review", {"decision": "approve"})
    assert run.is_completed()
    assert run.ready_tasks() == []
    assert names(calls) == ["service_object.approve"]
    assert run.data["approve_result"] == {"ok": True, "operator": "service_object.approve"}
    assert "mutated_by_handler" not in run.data
    assert run.completed_bpmn_ids()[-3:] == ["gw_street", "approve", "end_approved"]


def test_station_reject_returns_to_submitter(compiled, calls):
    spec = compiled.spec_json
    run = start(compiled)
    run = step(run, spec, "submit", {"name": "张三", "revision": 1})
    run = step(run, spec, "station_review", {"decision": "reject", "comment": "缺少身份证"})
    [task] = run.ready_tasks()
    assert (task.bpmn_id, task.lane) == ("submit", "submitter")
    assert names(calls) == ["service_object.reject"]
    assert calls[0][2] == {"stage": "station"}
    assert calls[0][1]["comment"] == "缺少身份证"
    run = step(run, spec, "submit", {"name": "张三", "revision": 2})
    run = step(run, spec, "station_review", {"decision": "approve"})
    run = step(run, spec, "street_review", {"decision": "approve"})
    assert run.is_completed()
    assert names(calls) == ["service_object.reject", "service_object.approve"]


def test_street_reject_returns_to_submitter(compiled, calls):
    spec = compiled.spec_json
    run = start(compiled)
    run = step(run, spec, "submit", {"revision": 1})
    run = step(run, spec, "station_review", {"decision": "approve"})
    run = step(run, spec, "street_review", {"decision": "reject"})
    assert run.ready_bpmn_ids() == ["submit"]
    assert calls[-1][0] == "service_object.reject" and calls[-1][2] == {"stage": "street"}
    assert run.data["street_reject_result"]["ok"] is True
    run = step(run, spec, "submit", {"revision": 2})
    assert run.ready_bpmn_ids() == ["station_review"]


def test_revision_cap_abandons(compiled, calls):
    run = start(compiled)
    run = step(run, compiled.spec_json, "submit", {"revision": 21})
    assert run.is_completed()
    assert names(calls) == ["service_object.abandon"]
    assert "end_abandoned" in run.completed_bpmn_ids()
    assert "station_review" not in run.completed_bpmn_ids()


def test_missing_revision_is_a_readable_engine_error(compiled, calls):
    run = InstanceRun.start(compiled.spec_json, {}, cache_key="v1")
    [task] = run.ready_tasks()
    with pytest.raises(EngineError, match="revision"):
        run.complete(task.guid, {"name": "x"})


def test_complete_refuses_tasks_that_are_not_ready(compiled, calls):
    run = start(compiled)
    [submit] = run.ready_tasks()
    predicted = run.workflow.get_tasks(state=TaskState.PREDICTED_MASK, spec_name="station_review")
    assert predicted
    for guid in ("not-a-uuid", "00000000-0000-0000-0000-000000000000", str(predicted[0].id)):
        with pytest.raises(TaskNotReady):
            run.complete(guid, {})
    run.complete(submit.guid, {"revision": 1})
    with pytest.raises(TaskNotReady):
        run.complete(submit.guid, {"revision": 2})
    gateway = run.workflow.get_tasks(spec_name="gw_revision")[0]
    with pytest.raises(TaskNotReady):
        run.complete(str(gateway.id), {})


def test_ready_task_fields_and_scope(compiled, calls):
    run = step(start(compiled), compiled.spec_json, "submit", {"revision": 1})
    [task] = run.ready_tasks()
    assert task.name == "社工站初审"
    assert (task.lane, task.form, task.scope_var, task.due_at) == ("station_admin", "review.json", "station_scope", None)
    assert scope_codes(task) == ["xicun_station"]
    assert project(run) == run.ready_tasks()
    task.data["station_scope"].append("forged")
    assert scope_codes(run.ready_tasks()[0]) == ["xicun_station"]
    [submit_task] = InstanceRun.start(compiled.spec_json, START_DATA).ready_tasks()
    assert submit_task.scope_var is None and scope_codes(submit_task) == []


def test_service_task_error_carries_original_message(compiled, calls):
    @service_tasks.register("service_object.reject")
    def broken(data, params):
        raise ValueError("notification backend down")

    run = step(start(compiled), compiled.spec_json, "submit", {"revision": 1})
    [task] = run.ready_tasks()
    with pytest.raises(ServiceTaskError, match="notification backend down") as info:
        run.complete(task.guid, {"decision": "reject"})
    assert isinstance(info.value, EngineError)
    assert isinstance(info.value.original, ValueError)


def test_cached_spec_instances_are_independent(compiled, calls):
    spec = compiled.spec_json
    spec_before = SERIALIZER.to_dict(SPEC_CACHE.get(spec, "v1")[0])
    first, second = start(compiled), start(compiled)
    assert first.workflow.spec is second.workflow.spec
    first = step(first, spec, "submit", {"revision": 1})
    first = step(first, spec, "station_review", {"decision": "reject"})
    first = step(first, spec, "submit", {"revision": 2})
    first = step(first, spec, "station_review", {"decision": "approve"})
    first = step(first, spec, "street_review", {"decision": "approve"})
    assert first.is_completed()
    assert second.ready_bpmn_ids() == ["submit"] and not second.is_completed()
    assert "decision" not in second.ready_tasks()[0].data
    assert SERIALIZER.to_dict(SPEC_CACHE.get(spec, "v1")[0]) == spec_before


def test_dump_has_no_spec_and_uncached_load_works(compiled, calls):
    run = start(compiled)
    state = run.dump()
    keys = set(json.loads(state))
    assert "spec" not in keys and "subprocess_specs" not in keys
    assert json.loads(state)["serializer_version"] == SERIALIZER.VERSION
    restored = InstanceRun.load(compiled.spec_json, state)
    assert restored.ready_bpmn_ids() == ["submit"]


def test_reset_to_reopens_review(compiled, calls):
    spec = compiled.spec_json
    run = step(start(compiled), spec, "submit", {"revision": 1})
    run = step(run, spec, "station_review", {"decision": "reject"})
    run.reset_to("station_review")
    assert run.ready_bpmn_ids() == ["station_review"]
    with pytest.raises(TaskNotReady):
        run.reset_to("street_review")
