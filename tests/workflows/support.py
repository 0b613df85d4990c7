"""Helpers for engine-only diagram tests."""
from contextlib import contextmanager

from workflows import service_tasks


@contextmanager
def operators(handlers: dict):
    """Register {operator name: handler} for the duration of a test, then restore what was registered."""
    previous = {name: service_tasks._REGISTRY.get(name) for name in handlers}
    for name, fn in handlers.items():
        service_tasks.register(name)(fn)
    try:
        yield
    finally:
        for name, fn in previous.items():
            if fn is None:
                service_tasks.unregister(name)
            else:
                service_tasks.register(name)(fn)


CACHE_KEY = 'engine-test'  # the spec cache keys by (key, hash of the spec JSON): one key serves every diagram


def compiled_spec(path, key: str, roles: set, forms: set) -> str:
    """A shipped diagram's spec JSON, compiled afresh (and the spec cache emptied, so no test sees another's)."""
    from workflows import compile_diagram
    from workflows.runner import SPEC_CACHE
    SPEC_CACHE.clear()
    return compile_diagram(path.read_bytes(), key, roles=roles, forms=forms).spec_json


def reload(run, spec: str):
    """The instance after a round trip through its saved state, as every request of the app loads it."""
    from workflows import InstanceRun
    return InstanceRun.load(spec, run.dump(), cache_key=CACHE_KEY)


def started(spec: str, data: dict):
    """A new instance with `data`, run to its first wait and reloaded from its saved state."""
    from workflows import InstanceRun
    return reload(InstanceRun.start(spec, dict(data), cache_key=CACHE_KEY), spec)


def step(run, spec: str, bpmn_id: str, data: dict):
    """Complete the single READY task (which must be `bpmn_id`) and reload from the saved state."""
    ready = run.ready_tasks()
    assert [t.bpmn_id for t in ready] == [bpmn_id]
    run.complete(ready[0].guid, data)
    return reload(run, spec)


@contextmanager
def recording(names):
    """Register each operator in `names` as a stub that records (name, a copy of the task data) and returns
    {'ok': True}; yields the list of what ran, in order."""
    seen: list[tuple[str, dict]] = []

    def stub(name):
        def run(data, params):
            seen.append((name, dict(data)))
            return {'ok': True}
        return run
    with operators({n: stub(n) for n in names}):
        yield seen


def assert_shipped_diagram_clean(path, key: str, roles: set, forms: set, min_shapes: int) -> None:
    """A shipped diagram lints clean, is drawn (at least `min_shapes` shapes) and has no script task."""
    from workflows import lint
    xml = path.read_bytes()
    assert lint(xml, key, roles=roles, forms=forms) == []
    assert b'<bpmndi:BPMNDiagram' in xml and xml.count(b'<bpmndi:BPMNShape') >= min_shapes
    assert b'scriptTask' not in xml
