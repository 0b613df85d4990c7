"""Run BPMN instances: start, load/dump (split from the spec), complete tasks, fire timers."""

import copy
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from workflows.engine import SCRIPT_ENGINE, SERIALIZER, dumps
from workflows.errors import EngineError, TaskNotReady

__all__ = ["EngineError", "InstanceRun", "ReadyTask", "TaskNotReady"]

SPEC_CACHE_SIZE = 64
_TIMER_TYPES = ("DurationTimerEventDefinition", "TimeDateEventDefinition", "CycleTimerEventDefinition")


@dataclass
class ReadyTask:
    """A READY human task as the app sees it."""

    guid: str
    bpmn_id: str
    name: str
    lane: str | None
    form: str | None
    scope_var: str | None
    due_at: datetime | None
    data: dict


class _SpecCache:
    """LRU of restored spec objects; specs are only read by workflows, never mutated."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, spec_json: str, cache_key: str | None):
        if cache_key is None:
            return _restore_specs(spec_json)
        key = (cache_key, hash(spec_json))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        specs = _restore_specs(spec_json)
        with self._lock:
            self._items[key] = specs
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return specs

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _restore_specs(spec_json: str):
    dct = json.loads(spec_json)
    subs = {k: SERIALIZER.from_dict(v) for k, v in dct.get("subprocess_specs", {}).items()}
    return SERIALIZER.from_dict(dct["spec"]), subs


SPEC_CACHE = _SpecCache(SPEC_CACHE_SIZE)


def _to_utc(value) -> datetime | None:
    if isinstance(value, dict):
        value = value.get("next")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC)


def _check_reserved(value, path="data") -> None:
    """Refuse keys the serializer cannot round-trip (a dict key 'typename' breaks deserialization)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "typename":
                raise EngineError(f"{path} uses the reserved key 'typename'")
            _check_reserved(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_reserved(item, f"{path}[{index}]")


def _describe(exc: BaseException) -> str:
    parts = [str(exc)]
    task = getattr(exc, "task", None)
    if task is not None and getattr(task.task_spec, "bpmn_id", None):
        parts.insert(0, f"[{task.task_spec.bpmn_id}]")
    return " ".join(p for p in parts if p)


class InstanceRun:
    """One BPMN instance in memory; never shared between threads."""

    def __init__(self, workflow: BpmnWorkflow):
        self.workflow = workflow
        self.workflow.script_engine = SCRIPT_ENGINE

    @classmethod
    def start(cls, spec_json: str, data: dict, cache_key: str | None = None) -> "InstanceRun":
        """Create an instance with initial data and run it up to its first wait state."""
        _check_reserved(data)
        spec, subs = SPEC_CACHE.get(spec_json, cache_key)
        run = cls(BpmnWorkflow(spec, dict(subs), script_engine=SCRIPT_ENGINE))
        run.workflow.task_tree.set_data(**copy.deepcopy(data or {}))
        run._advance()
        return run

    @classmethod
    def load(cls, spec_json: str, state_json: str, cache_key: str | None = None) -> "InstanceRun":
        """Restore an instance from state saved by dump() and its version's spec JSON."""
        dct = json.loads(state_json)
        if dct.get(SERIALIZER.VERSION_KEY) == SERIALIZER.VERSION:
            dct.pop(SERIALIZER.VERSION_KEY)
            spec, subs = SPEC_CACHE.get(spec_json, cache_key)
            dct["spec"], dct["subprocess_specs"] = spec, dict(subs)
        else:
            dct.update(json.loads(spec_json))
            SERIALIZER.migrate(dct)
        return cls(SERIALIZER.from_dict(dct))

    def dump(self) -> str:
        """Serialize the instance state without its spec."""
        dct = SERIALIZER.to_dict(self.workflow)
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)
        dct[SERIALIZER.VERSION_KEY] = SERIALIZER.VERSION
        return dumps(dct)

    def _advance(self, action=None) -> None:
        try:
            if action is not None:
                action()
            self.workflow.do_engine_steps()
        except EngineError:
            raise
        except SpiffWorkflowException as exc:
            raise EngineError(_describe(exc)) from exc

    def ready_tasks(self) -> list[ReadyTask]:
        """Return READY human tasks, including those inside subprocesses."""
        return [self._ready_task(t) for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)]

    def ready_guids(self) -> set[str]:
        """The ids of the READY human tasks (cheap: no data copied)."""
        return {str(t.id) for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)}

    def _ready_task(self, task) -> ReadyTask:
        spec = task.task_spec
        props = (spec.extensions or {}).get("properties", {})
        return ReadyTask(guid=str(task.id), bpmn_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id,
                         lane=spec.lane, form=props.get("formJsonSchemaFilename"), scope_var=props.get("scope"),
                         due_at=self._due_at(task, props.get("deadline")), data=copy.deepcopy(task.data))

    @staticmethod
    def _due_at(task, deadline: str | None = None) -> datetime | None:
        """When the task is due: the boundary timer its `deadline` property names (e.g. the day-14 overdue
        timer, not the day-7 reminder), else its earliest waiting boundary timer."""
        if task.parent is None:
            return None
        due = []
        for sibling in task.parent.children:
            spec = sibling.task_spec
            if sibling is task or not isinstance(spec, BoundaryEvent):
                continue
            if deadline and spec.bpmn_id != deadline:
                continue
            if isinstance(spec.event_definition, TimerEventDefinition) and sibling.state == TaskState.WAITING:
                when = _to_utc(spec.event_definition.details(sibling).value)
                if when is not None:
                    due.append(when)
        return min(due, default=None)

    def _find_ready(self, task_guid: str):
        try:
            task = self.workflow.get_task_from_id(UUID(str(task_guid)))
        except (ValueError, TaskNotFoundException):
            raise TaskNotReady(f"task {task_guid} not found") from None
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(f"task {task_guid} ({task.task_spec.bpmn_id}) is {TaskState.get_name(task.state)},"
                               " not a READY human task")
        return task

    def ready_value(self, task_guid: str, key: str):
        """One value of a READY human task's data (a copy), without copying the rest; None when absent."""
        return copy.deepcopy(self._find_ready(task_guid).data.get(key))

    def complete(self, task_guid: str, data: dict) -> None:
        """Merge form data into a READY human task, complete it and run the engine."""
        task = self._find_ready(task_guid)
        _check_reserved(data)

        def run():
            task.set_data(**copy.deepcopy(data or {}))
            task.run()

        self._advance(run)

    def fire_timers(self) -> None:
        """Fire due timers and run whatever they unblock."""
        self._advance(self.workflow.refresh_timers)

    def next_timer_at(self) -> datetime | None:
        """Return the earliest pending timer due time (aware UTC), if any."""
        times = [_to_utc(ev.value) for ev in self.workflow.waiting_events() if ev.event_type in _TIMER_TYPES]
        return min((t for t in times if t is not None), default=None)

    def is_completed(self) -> bool:
        """Return True when the process has finished."""
        return self.workflow.is_completed()

    @property
    def data(self) -> dict:
        """Return a copy of the workflow data (final data once completed)."""
        if self.workflow.is_completed():
            return copy.deepcopy(self.workflow.data)
        last = self.workflow.last_task or self.workflow.task_tree
        return copy.deepcopy(last.data)

    def _completed(self, bpmn_id: str | None = None) -> list:
        tasks = [t for t in self.workflow.get_tasks(state=TaskState.COMPLETED)
                 if getattr(t.task_spec, "bpmn_id", None) and (bpmn_id is None or t.task_spec.bpmn_id == bpmn_id)]
        return sorted(tasks, key=lambda t: t.last_state_change)

    def completed_bpmn_ids(self) -> list[str]:
        """Return the BPMN ids of completed tasks in completion order."""
        return [t.task_spec.bpmn_id for t in self._completed()]

    def completed_values(self, bpmn_id: str, key: str) -> list:
        """The `key` values of the completed `bpmn_id` tasks' data (copies), in completion order; absent ones left out."""
        return [copy.deepcopy(t.data[key]) for t in self._completed(bpmn_id) if key in t.data]

    def ready_bpmn_ids(self) -> list[str]:
        """Return the BPMN ids of READY human tasks."""
        return [t.bpmn_id for t in self.ready_tasks()]

    def reset_to(self, bpmn_id: str) -> None:
        """Rewind to the latest completed task with `bpmn_id`, making it READY again.

        Any failure is an EngineError (the caller rolls back). Two gaps of SpiffWorkflow 3.2.0's
        `reset_from_task_id` are closed here: the tasks it removes stay registered as waiting events (a timer
        of a branch cut off by the reset, e.g. the start-time timer of an accept task in a parallel branch,
        whose parent is gone: the next `refresh_timers` fails on it), and a finished workflow keeps
        `completed` set, so it would still read as finished and skip its waiting-task updates."""
        done = self._completed(bpmn_id)
        if not done:
            raise TaskNotReady(f"no completed task {bpmn_id} to reset to")

        def reset():
            self.workflow.reset_from_task_id(done[-1].id)
            self._forget_removed_events()
            self._reopen()

        try:
            self._advance(reset)
        except EngineError:
            raise
        except Exception as exc:  # a library error here must not reach the user as a crash
            raise EngineError(f"[{bpmn_id}] {type(exc).__name__}: {exc}") from exc

    def _forget_removed_events(self) -> None:
        """Unregister waiting event tasks that are no longer in their workflow's task tree."""
        manager = self.workflow.event_manager
        live = {id(self.workflow)} | {id(sp) for sp in self.workflow.subprocesses.values()}
        for task_id, task in list(manager.tasks.items()):
            if id(task.workflow) not in live or task.workflow.tasks.get(task_id) is not task:
                manager.tasks.pop(task_id, None)

    def _reopen(self) -> None:
        """Mark the workflow and its subprocesses unfinished again where a reset left tasks to do."""
        for workflow in (self.workflow, *self.workflow.subprocesses.values()):
            if workflow.completed:
                workflow.completed = False
                workflow.is_completed()  # recomputed: set again only when nothing is left to do

    def cancel(self) -> None:
        """Cancel every open task and end the instance (withdraw, abort)."""
        self.workflow.cancel()

    def advance_clock(self, delta: timedelta) -> int:
        """Move every waiting timer `delta` closer (tests, operators' "fire now"); returns how many moved."""
        moved = 0
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            value = task.internal_data.get("event_value") if isinstance(definition, TimerEventDefinition) else None
            when = _to_utc(value)
            if when is None:
                continue
            if isinstance(value, dict):
                value["next"] = (when - delta).isoformat()
            else:
                task.internal_data["event_value"] = (when - delta).isoformat()
            moved += 1
        return moved
