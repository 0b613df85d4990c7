"""Restricted script engine, serializer registry, expression checks and hardened XML parsing."""

import ast
import datetime
import json
import threading
from decimal import Decimal

from lxml import etree
from RestrictedPython import compile_restricted_eval
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG as SPIFF_CONFIG

from workflows import service_tasks
from workflows.errors import DeploymentError, Problem

MAX_XML_BYTES = 5 * 1024 * 1024

SAFE_BUILTINS = {
    "len": len, "min": min, "max": max, "sum": sum, "any": any, "all": all,
    "int": int, "str": str, "bool": bool, "abs": abs, "round": round, "sorted": sorted,
    "True": True, "False": False, "None": None,
}

_GUARDS = {
    "__builtins__": SAFE_BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
}


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates expressions with RestrictedPython; refuses scripts; dispatches service tasks."""

    def __init__(self):
        super().__init__({})
        self._compiled: dict[str, object] = {}
        self._lock = threading.Lock()

    def compile(self, expression: str):
        """Compile an expression in restricted mode, caching the code object."""
        code = self._compiled.get(expression)
        if code is None:
            result = compile_restricted_eval(expression)
            if result.errors:
                raise PermissionError("; ".join(result.errors))
            code = result.code
            with self._lock:
                self._compiled[expression] = code
        return code

    def evaluate(self, expression, context, external_context=None):
        """Evaluate `expression` against the task data with safe builtins only."""
        code = self.compile(expression)
        namespace = dict(external_context or {})
        namespace.update(context)
        namespace.update(_GUARDS)
        return eval(code, namespace)

    def execute(self, script, context, external_context=None):
        """Scripts are banned in our diagrams."""
        raise PermissionError("scripts are not allowed")

    def call_service(self, context, operation_name=None, operation_params=None, task_data=None, **kwargs):
        """Dispatch a service task to the registry; returns a JSON string."""
        return service_tasks.call_service_json(context, operation_name, operation_params)


class AdapterScriptEngine(PythonScriptEngine):
    """PythonScriptEngine whose call_service lets the real error through (library bug, notes §6)."""

    def call_service(self, task, **kwargs):
        """Call the environment without the library's broken error wrapping."""
        return self.environment.call_service(task.data, **kwargs)


ENVIRONMENT = RestrictedEnvironment()
SCRIPT_ENGINE = AdapterScriptEngine(environment=ENVIRONMENT)

REGISTRY = BpmnWorkflowSerializer.configure(dict(SPIFF_CONFIG))
REGISTRY.register(
    datetime.date,
    lambda d: {"value": d.isoformat()},
    lambda d: datetime.date.fromisoformat(d["value"]),
)
REGISTRY.register(Decimal, lambda d: {"value": str(d)}, lambda d: Decimal(d["value"]))
SERIALIZER = BpmnWorkflowSerializer(REGISTRY)
# to_dict() leaves task data unconverted in 3.2.0 (serialize_json relies on this encoder), so every
# json.dumps of serializer output must use it. Never call SERIALIZER.serialize_json: it flips a
# registry-wide flag (_encoder_mode) that is not thread-safe.
JSON_ENCODER = create_encoder(REGISTRY)


def dumps(dct: dict) -> str:
    """JSON-encode serializer output, converting registered types (date, Decimal, UUID...)."""
    return json.dumps(dct, cls=JSON_ENCODER)


def check_expression(expr: str, known_names: set[str] | None = None) -> str | None:
    """Return None if `expr` is a safe, valid expression, else a message saying why not."""
    if expr is None or not str(expr).strip():
        return "empty expression"
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        return f"syntax error in expression {expr!r}: {exc.msg}"
    result = compile_restricted_eval(expr.strip())
    if result.errors:
        return f"expression {expr!r} is not allowed: " + "; ".join(result.errors)
    if known_names is not None:
        unknown = sorted(_free_names(tree) - set(known_names) - set(SAFE_BUILTINS))
        if unknown:
            return f"expression {expr!r} uses unknown variable(s): {', '.join(unknown)}"
    return None


def _free_names(tree: ast.AST) -> set[str]:
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
    return loaded - bound


def parse_xml(xml: bytes):
    """Parse untrusted BPMN XML with a hardened lxml parser; raise DeploymentError on bad input."""
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    if len(xml) > MAX_XML_BYTES:
        raise DeploymentError([Problem(None, f"diagram is larger than {MAX_XML_BYTES // (1024 * 1024)} MB", None)])
    upper = xml.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise DeploymentError([Problem(None, "DOCTYPE and ENTITY declarations are not allowed", None)])
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
    )
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        raise DeploymentError([Problem(None, f"malformed XML: {exc.msg}", line)]) from exc
    # the byte check above misses a DOCTYPE in UTF-16/UTF-32 input; the parsed tree does not
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise DeploymentError([Problem(None, "DOCTYPE and ENTITY declarations are not allowed", None)])
    return root
