"""Fixtures for engine-only workflow tests."""

from pathlib import Path

import pytest

from tests.workflows.support import operators
from workflows import compile_diagram
from workflows.runner import SPEC_CACHE

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / "bpmn" / "service_object_entry.bpmn"
PROCESS_KEY = "service_object_entry"
ROLES = {"submitter", "station_admin", "street_admin"}
FORMS = {"service_object_entry.json", "review.json"}
OPERATORS = ("service_object.approve", "service_object.reject", "service_object.abandon")


@pytest.fixture
def calls():
    """Register recording dummy handlers for the diagram's operators."""
    recorded: list[tuple[str, dict, dict]] = []

    def make(name):
        def handler(data, params):
            recorded.append((name, data, params))
            data["mutated_by_handler"] = True
            return {"ok": True, "operator": name}
        return handler

    with operators({name: make(name) for name in OPERATORS}):
        yield recorded


@pytest.fixture
def diagram_xml() -> bytes:
    """The shipped service_object_entry diagram."""
    return DIAGRAM.read_bytes()


@pytest.fixture
def compiled(calls, diagram_xml):
    """The shipped diagram compiled into a version."""
    SPEC_CACHE.clear()
    return compile_diagram(diagram_xml, PROCESS_KEY, roles=ROLES, forms=FORMS)
