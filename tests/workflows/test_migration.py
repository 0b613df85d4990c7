"""Version diff and instance migration on the engine alone (no database)."""

import pytest

from tests.workflows.conftest import FORMS, PROCESS_KEY
from workflows import InstanceRun, compile_diagram
from workflows.migration import MigrationUnsafe, diff_versions, diff_xml, migrate_state

ROLES = {"submitter", "station_admin", "street_admin", "association_admin"}
START_DATA = {"revision": 0, "station_scope": ["xicun_station"], "street_scope": ["xicun"]}


def _compile(xml: bytes):
    return compile_diagram(xml, PROCESS_KEY, roles=ROLES, forms=FORMS)


def _street_to_association(xml: bytes) -> bytes:
    return xml.replace(b'id="Lane_street_admin" name="street_admin"', b'id="Lane_street_admin" name="association_admin"')


def _renamed_station(xml: bytes) -> bytes:
    return xml.replace('name="社工站初审"'.encode(), 'name="社工站审核"'.encode())


@pytest.fixture
def versions(calls, diagram_xml):
    return _compile(diagram_xml), _compile(_street_to_association(diagram_xml))


def _advance(run, spec_json, *bpmn_ids):
    for bpmn_id in bpmn_ids:
        ready = run.ready_tasks()
        assert [t.bpmn_id for t in ready] == [bpmn_id]
        run.complete(ready[0].guid, {"decision": "approve", "revision": 1})
        run = InstanceRun.load(spec_json, run.dump())
    return run


def test_diff_lists_changed_lane(versions):
    v1, v2 = versions
    diff = diff_versions(v1.spec_json, v2.spec_json)
    changed = {c["id"]: c["fields"] for c in diff["changed"]}
    assert "lane" in changed["street_review"]
    assert diff["added"] == [] and diff["removed"] == []
    assert diff_versions(v1.spec_json, v1.spec_json) == {"added": [], "removed": [], "changed": []}


def _with_legal_review(xml: bytes) -> bytes:
    """v2 inserts a user task legal_review between the station gateway and street_review."""
    task = ('<bpmn:userTask id="legal_review" name="法务审核"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="formJsonSchemaFilename" value="review.json"/>'
            '<spiffworkflow:property name="scope" value="street_scope"/></spiffworkflow:properties>'
            '</bpmn:extensionElements></bpmn:userTask>'
            '<bpmn:sequenceFlow id="flow_legal_done" sourceRef="legal_review" targetRef="street_review"/>')
    return (xml.replace(b'sourceRef="gw_station" targetRef="street_review"', b'sourceRef="gw_station" targetRef="legal_review"')
            .replace(b"<bpmn:flowNodeRef>street_review</bpmn:flowNodeRef>",
                     b"<bpmn:flowNodeRef>street_review</bpmn:flowNodeRef><bpmn:flowNodeRef>legal_review</bpmn:flowNodeRef>")
            .replace(b"</bpmn:process>", task.encode() + b"</bpmn:process>"))


def test_diff_added_and_removed(calls, diagram_xml):
    v1, v2 = _compile(diagram_xml), _compile(_with_legal_review(diagram_xml))
    forward = diff_versions(v1.spec_json, v2.spec_json)
    assert [a["id"] for a in forward["added"]] == ["legal_review"]
    assert "gw_station" in [c["id"] for c in forward["changed"]]
    assert [r["id"] for r in diff_versions(v2.spec_json, v1.spec_json)["removed"]] == ["legal_review"]


def test_inserted_step_is_followed_after_migration(calls, diagram_xml):
    v1, v2 = _compile(diagram_xml), _compile(_with_legal_review(diagram_xml))
    run = _advance(InstanceRun.start(v1.spec_json, START_DATA), v1.spec_json, "submit")
    moved = InstanceRun.load(v2.spec_json, migrate_state(run.dump(), v1.spec_json, v2.spec_json))
    _advance(moved, v2.spec_json, "station_review", "legal_review", "street_review")


def test_waiting_before_changed_step_moves_and_follows_new_lane(versions):
    v1, v2 = versions
    run = InstanceRun.start(v1.spec_json, START_DATA)
    run = _advance(run, v1.spec_json, "submit")
    ready_guid = run.ready_tasks()[0].guid
    new_state = migrate_state(run.dump(), v1.spec_json, v2.spec_json)
    moved = InstanceRun.load(v2.spec_json, new_state)
    assert [t.guid for t in moved.ready_tasks()] == [ready_guid]
    moved = _advance(moved, v2.spec_json, "station_review")
    assert [(t.bpmn_id, t.lane) for t in moved.ready_tasks()] == [("street_review", "association_admin")]


def test_ready_at_changed_step_is_reprojected(versions):
    v1, v2 = versions
    run = _advance(InstanceRun.start(v1.spec_json, START_DATA), v1.spec_json, "submit", "station_review")
    moved = InstanceRun.load(v2.spec_json, migrate_state(run.dump(), v1.spec_json, v2.spec_json))
    assert [(t.bpmn_id, t.lane) for t in moved.ready_tasks()] == [("street_review", "association_admin")]


def test_completed_changed_step_is_refused(calls, diagram_xml):
    v1 = _compile(diagram_xml)
    v2 = _compile(_renamed_station(diagram_xml))
    run = _advance(InstanceRun.start(v1.spec_json, START_DATA), v1.spec_json, "submit", "station_review")
    with pytest.raises(MigrationUnsafe) as exc:
        migrate_state(run.dump(), v1.spec_json, v2.spec_json)
    assert "station_review" in exc.value.element_ids
    assert "station_review" in exc.value.reason


def test_diff_xml_ignores_layout_and_sees_edits(diagram_xml):
    moved = diagram_xml.replace(b'<dc:Bounds x="920" y="520"', b'<dc:Bounds x="940" y="520"')
    assert diff_xml(diagram_xml, moved) == {"added": [], "removed": [], "changed": []}
    diff = diff_xml(diagram_xml, _street_to_association(diagram_xml))
    assert [c["id"] for c in diff["changed"]] == ["Lane_street_admin"]
    assert len(diff_xml(None, diagram_xml)["added"]) > 20
