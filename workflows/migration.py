"""Compare diagram versions and move running instances between them (SpiffWorkflow's diff tools)."""

from lxml import etree
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from workflows.engine import REGISTRY, parse_xml
from workflows.errors import EngineError
from workflows.runner import InstanceRun, _restore_specs

__all__ = ["MigrationUnsafe", "diff_versions", "diff_xml", "migrate_state"]

# the docs' safety rule: a task that already ran (or is running) must not change under it
_UNSAFE_STATES = TaskState.COMPLETED | TaskState.STARTED
_DI_NS = ("http://www.omg.org/spec/BPMN/20100524/DI", "http://www.omg.org/spec/DD/20100524/DC",
          "http://www.omg.org/spec/DD/20100524/DI")


class MigrationUnsafe(EngineError):
    """The instance cannot move to the new version; `reason` says why, `element_ids` where."""

    def __init__(self, reason: str, element_ids: list[str] | None = None):
        self.reason = reason
        self.element_ids = list(element_ids or [])
        super().__init__(reason)


def _describe_spec(ts) -> dict:
    return {"id": ts.bpmn_id, "name": ts.bpmn_name or ts.bpmn_id, "type": type(ts).__name__}


def _spec_diff(old_spec, new_spec) -> dict:
    diff = SpecDiff(REGISTRY, old_spec, new_spec)
    added = [_describe_spec(ts) for ts in diff.added if getattr(ts, "bpmn_id", None)]
    removed = [_describe_spec(ts) for ts in diff.removed if getattr(ts, "bpmn_id", None)]
    changed = [{**_describe_spec(ts), "fields": sorted(fields)}
               for ts, fields in diff.changed.items() if getattr(ts, "bpmn_id", None)]
    return {"added": added, "removed": removed, "changed": changed}


def diff_versions(spec_json_a: str, spec_json_b: str) -> dict:
    """Elements added, removed and changed from frozen spec A to frozen spec B (BPMN ids)."""
    spec_a, subs_a = _restore_specs(spec_json_a)
    spec_b, subs_b = _restore_specs(spec_json_b)
    result = _spec_diff(spec_a, spec_b)
    for name, sub_a in subs_a.items():
        if name in subs_b:
            sub = _spec_diff(sub_a, subs_b[name])
            for key in result:
                result[key].extend(sub[key])
    for key in result:
        result[key].sort(key=lambda item: item["id"])
    return result


def migrate_state(state_json: str, old_spec_json: str, new_spec_json: str) -> str:
    """Move one instance's state onto a new spec; raise MigrationUnsafe when that is not safe."""
    run = InstanceRun.load(old_spec_json, state_json)
    workflow = run.workflow
    if workflow.is_completed():
        raise MigrationUnsafe("instance is already completed")
    new_spec, new_subs = _restore_specs(new_spec_json)
    top_diff, sub_diffs = diff_workflow(REGISTRY, workflow, new_spec, new_subs)
    _check_safe(top_diff, sub_diffs)
    migrate_workflow(top_diff, workflow, new_spec)
    for sub_id, sub_diff in sub_diffs.items():
        migrate_workflow(sub_diff, workflow.subprocesses[sub_id], new_subs[workflow.subprocesses[sub_id].spec.name])
    workflow.subprocess_specs = dict(new_subs)
    migrated = InstanceRun(workflow)
    migrated._advance()
    return migrated.dump()


def _check_safe(top_diff, sub_diffs) -> None:
    if any(d is None for d in sub_diffs.values()):
        raise MigrationUnsafe("a subprocess the instance is running was removed")
    for diff in [top_diff, *sub_diffs.values()]:
        touched = [(t, "removed") for t in diff.removed] + [(t, "changed") for t in diff.changed]
        unsafe = [(t, how) for t, how in touched if t.state & _UNSAFE_STATES and getattr(t.task_spec, "bpmn_id", None)]
        if unsafe:
            ids = sorted({t.task_spec.bpmn_id for t, _ in unsafe})
            parts = [f"{t.task_spec.bpmn_id} ({how}, {TaskState.get_name(t.state)})" for t, how in unsafe]
            raise MigrationUnsafe("already passed steps that differ in the new version: "
                                  + ", ".join(sorted(set(parts))), ids)


def _element_signature(el) -> str:
    """An element's own XML without nested elements that carry their own id and without DI; indentation (text
    that is only white space, which the editor rewrites on every save) does not count as a change."""
    clone = etree.fromstring(etree.tostring(el, with_tail=False))
    for child in list(clone):
        if isinstance(child.tag, str) and child.get("id") and child.tag.split("}")[-1] != "conditionExpression":
            clone.remove(child)
    for node in clone.iter():
        if node.text is not None and not node.text.strip():
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None
    return etree.tostring(clone, method="c14n")


def _elements(xml: bytes) -> dict:
    root = parse_xml(xml)
    found = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or not el.get("id"):
            continue
        ns = el.tag[1:].split("}")[0] if el.tag.startswith("{") else ""
        if ns in _DI_NS:
            continue
        found[el.get("id")] = (el.tag.split("}")[-1], el.get("name") or "", _element_signature(el))
    return found


def diff_xml(old_xml: bytes | None, new_xml: bytes) -> dict:
    """Element-level diff of two diagrams by id, ignoring layout; works for drafts that do not compile."""
    old = _elements(old_xml) if old_xml else {}
    new = _elements(new_xml)

    def item(el_id, entry):
        return {"id": el_id, "name": entry[1] or el_id, "type": entry[0]}

    return {
        "added": [item(i, new[i]) for i in sorted(set(new) - set(old))],
        "removed": [item(i, old[i]) for i in sorted(set(old) - set(new))],
        "changed": [item(i, new[i]) for i in sorted(set(old) & set(new)) if old[i][2] != new[i][2]],
    }

