"""Lint and compile uploaded BPMN diagrams into immutable, serialized versions."""

import ast
import hashlib
import threading
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.mixins.service_task import ServiceTask

from workflows import service_tasks
from workflows.engine import SERIALIZER, check_expression, dumps, parse_xml
from workflows.errors import DeploymentError, Problem

__all__ = ["CompiledVersion", "DeploymentError", "Problem", "compile_diagram", "lint"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
FORM_PROPERTY = "formJsonSchemaFilename"
MAX_XSD_PROBLEMS = 20
# VALIDATOR is a module-global XMLSchema whose error_log is shared state; serialize its use.
_VALIDATOR_LOCK = threading.Lock()


@dataclass
class CompiledVersion:
    """A linted diagram ready to be stored as an immutable version."""

    process_key: str
    name: str
    bpmn_xml: bytes
    sha256: str
    spec_json: str
    user_tasks: list[dict]


class _Parsed:
    """Result of parsing: the lxml tree, the specs and lookup tables over the XML."""

    def __init__(self, root, spec, subprocess_specs):
        self.root = root
        self.spec = spec
        self.subprocess_specs = subprocess_specs
        self.lines = {el.get("id"): el.sourceline for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
        self.process_ids = {spec.name for spec in self.all_specs()}
        self.flows = {}
        for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            self.flows.setdefault((flow.get("sourceRef"), flow.get("targetRef")), flow.get("id"))

    def problem(self, element_id, message):
        return Problem(element_id, message, self.lines.get(element_id))

    def all_specs(self):
        return [self.spec, *self.subprocess_specs.values()]


def _parse(xml: bytes, process_key: str) -> _Parsed:
    root = parse_xml(xml)
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        with _VALIDATOR_LOCK:
            VALIDATOR.preprocess(root)
            xsd_ok = VALIDATOR.validator.validate(root)
            xsd_errors = list(VALIDATOR.validator.error_log)
        if not xsd_ok:
            raise DeploymentError([Problem(None, f"schema error: {e.message}", e.line)
                                   for e in xsd_errors[:MAX_XSD_PROBLEMS]])
        parser.add_bpmn_xml(etree.ElementTree(root), filename=f"{process_key}.bpmn")
        spec = parser.get_spec(process_key)
        subprocess_specs = parser.get_subprocess_specs(process_key)
    except ValidationException as exc:
        line = exc.line_number if isinstance(exc.line_number, int) else None
        # "we found two items, perhaps a form has the same ID": a flow to or from a step that is not there
        dangling = _check_flow_ends(root) if "found two items" in str(exc) else []
        raise DeploymentError(dangling or [Problem(exc.id or None, _validation_text(exc), line)]) from exc
    except DeploymentError:
        raise
    except Exception as exc:  # the parser raises assorted errors (KeyError, ValueError) on odd input
        raise DeploymentError([Problem(None, f"cannot parse diagram: {type(exc).__name__}: {exc}", None)]) from exc
    return _Parsed(root, spec, subprocess_specs)


def _validation_text(exc: ValidationException) -> str:
    """The parser's message and its notes, without the trailing '. ' its str() adds."""
    text = str(exc.args[0]) if exc.args else ""
    notes = [str(note) for note in getattr(exc, "notes", None) or [] if note]
    return " ".join([text.strip(), *notes]).strip() or type(exc).__name__


def _check_flow_ends(root) -> list[Problem]:
    """Each sequence flow whose source or target is not a step of its own process (deleted, or a typo in an uploaded
    file), of which the engine's parser only says "we found two items, perhaps a form has the same ID", about the
    step before it."""
    found = []
    for container in root.iter(f"{{{BPMN_NS}}}process", f"{{{BPMN_NS}}}subProcess", f"{{{BPMN_NS}}}transaction"):
        ids = {el.get("id") for el in container if isinstance(el.tag, str) and el.get("id")}
        for flow in container.iterchildren(f"{{{BPMN_NS}}}sequenceFlow"):
            for end, ref in (("source", flow.get("sourceRef")), ("target", flow.get("targetRef"))):
                if ref not in ids or ref == flow.get("id"):
                    found.append(Problem(flow.get("id"), f"sequence flow {flow.get('id')} has no {end} element"
                                                         f" {ref or ''} in its process", flow.sourceline))
    return found


def lint(xml: bytes, process_key: str, *, roles: set[str], forms: set[str],
         known_vars: set[str] | None = None, task_rule=None) -> list[Problem]:
    """Return every problem that keeps the diagram from being published (empty list = OK).

    `task_rule`: the application's own rules for a user task, called with each one's dict (bpmn_id, name, lane,
    form, scope: see _user_tasks) and returning the messages of what is wrong with it (e.g. a scope variable the
    process never provides); each message becomes a problem of that task."""
    try:
        parsed = _parse(xml, process_key)
    except DeploymentError as exc:
        return exc.problems
    return _lint_parsed(parsed, roles, forms, known_vars, task_rule)


def _lint_parsed(parsed: _Parsed, roles, forms, known_vars, task_rule=None) -> list[Problem]:
    problems: list[Problem] = []
    if parsed.spec.start is None or not parsed.spec.start.outputs:
        problems.append(parsed.problem(parsed.spec.name, "process has no start event"))
    lane_problems, bad_lanes = _check_lanes(parsed, roles)
    problems.extend(lane_problems)
    operators = service_tasks.registered_names()
    parsed_ids = set()
    for spec in parsed.all_specs():
        for ts in spec.task_specs.values():
            bpmn_id = getattr(ts, "bpmn_id", None)
            if bpmn_id is None:
                continue
            parsed_ids.add(bpmn_id)
            problems.extend(_check_task(parsed, spec, ts, roles, forms, known_vars, operators, bad_lanes))
    if task_rule is not None:
        for task in _user_tasks(parsed):
            problems.extend(parsed.problem(task["bpmn_id"], message) for message in task_rule(task))
    problems.extend(_check_unreachable(parsed, parsed_ids))
    problems.extend(_check_dead_ends(parsed, parsed_ids))
    problems.extend(_check_waits(parsed, parsed_ids))
    return problems


_FLOW_NODES = {"task", "userTask", "serviceTask", "scriptTask", "manualTask", "sendTask", "receiveTask",
               "businessRuleTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
               "inclusiveGateway", "eventBasedGateway", "complexGateway", "startEvent", "endEvent",
               "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}


def _check_unreachable(parsed: _Parsed, parsed_ids: set[str]) -> list[Problem]:
    """The engine only reads what the start event leads to: a step left unconnected would silently never run,
    and a script task must not sit in the file even there."""
    found = []
    for el in parsed.root.iter(*(f"{{{BPMN_NS}}}{tag}" for tag in _FLOW_NODES)):
        el_id = el.get("id")
        if el_id in parsed_ids or el.getparent().get("id") not in parsed.process_ids:
            continue
        tag = el.tag.split("}")[-1]
        if tag == "scriptTask":
            found.append(parsed.problem(el_id, f"script task {el_id} is not allowed; use a service task"))
        else:
            found.append(parsed.problem(el_id, f"{tag} {el_id} cannot be reached from the start event"))
    return found


def _check_dead_ends(parsed: _Parsed, parsed_ids: set[str]) -> list[Problem]:
    """Every process needs an end event and every step other than an end event a way out: a step whose
    outgoing flow was deleted (with the end event it led to) would end its branch silently."""
    found = []
    containers = [el for el in parsed.root.iter(f"{{{BPMN_NS}}}process", f"{{{BPMN_NS}}}subProcess")
                  if el.get("id") in parsed.process_ids or el.get("id") in parsed_ids]
    for container in containers:
        nodes = [el for el in container if isinstance(el.tag, str) and el.tag.split("}")[-1] in _FLOW_NODES]
        if not nodes:
            continue
        if not any(el.tag == f"{{{BPMN_NS}}}endEvent" for el in nodes):
            found.append(parsed.problem(container.get("id"), f"process {container.get('id')} has no end event"))
        sources = {flow.get("sourceRef") for flow in container.iter(f"{{{BPMN_NS}}}sequenceFlow")}
        for el in nodes:
            el_id, tag = el.get("id"), el.tag.split("}")[-1]
            if tag == "endEvent" or el_id in sources or el_id not in parsed_ids:  # unreachable: reported already
                continue
            if tag == "subProcess" and el.get("triggeredByEvent") == "true":  # an event subprocess has no flows
                continue
            if tag == "boundaryEvent" and el.find(f"{{{BPMN_NS}}}compensateEventDefinition") is not None:
                continue
            found.append(parsed.problem(el_id, f"{tag} {el_id} has no outgoing sequence flow; name: {el.get('name') or ''}"))
    return found


_THROWERS = ("intermediateThrowEvent", "endEvent", "sendTask")
_WAIT_KINDS = {"messageEventDefinition": ("message", "messageRef"), "signalEventDefinition": ("signal", "signalRef")}


def _awaited(el, names: dict) -> list[tuple[str, str | None]]:
    """(kind, name) of each message or signal an element catches or throws; the name is None when none is set."""
    found = []
    if el.tag == f"{{{BPMN_NS}}}receiveTask" or el.tag == f"{{{BPMN_NS}}}sendTask":
        ref = el.get("messageRef")
        found.append(("message", names.get(ref, ref) if ref else None))
    for child in el:
        kind = _WAIT_KINDS.get(child.tag.split("}")[-1]) if isinstance(child.tag, str) else None
        if kind:
            ref = child.get(kind[1])
            found.append((kind[0], names.get(ref, ref) if ref else None))
    return found


def _check_waits(parsed: _Parsed, parsed_ids: set[str]) -> list[Problem]:
    """A step that waits for a message or signal stops its case for good unless a step of the same diagram sends
    it: nothing outside the diagram ever sends one in this system (the engine's parser lets both through). A catch
    behind an event-based gateway only stops the case when none of the gateway's other events can happen."""
    root = parsed.root
    names = {el.get("id"): el.get("name") or el.get("id")
             for el in root.iter(f"{{{BPMN_NS}}}message", f"{{{BPMN_NS}}}signal")}
    sent = {pair for el in root.iter(*(f"{{{BPMN_NS}}}{t}" for t in _THROWERS)) for pair in _awaited(el, names)
            if pair[1] is not None}
    by_id = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    sources = {}
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        sources.setdefault(flow.get("targetRef"), []).append(by_id.get(flow.get("sourceRef")))

    def stuck(el) -> list[tuple[str, str | None]]:
        waits = _awaited(el, names)
        return [w for w in waits if w not in sent] if waits else []

    def behind_gateway(el) -> bool:
        froms = sources.get(el.get("id")) or []
        return bool(froms) and all(s is not None and s.tag == f"{{{BPMN_NS}}}eventBasedGateway" for s in froms)

    found = []
    catchers = root.iter(f"{{{BPMN_NS}}}intermediateCatchEvent", f"{{{BPMN_NS}}}receiveTask",
                         f"{{{BPMN_NS}}}startEvent")
    for el in catchers:
        el_id, tag = el.get("id"), el.tag.split("}")[-1]
        if el_id not in parsed_ids or behind_gateway(el):
            continue
        if tag == "startEvent" and el.getparent().get("id") not in parsed.process_ids:
            continue  # an event subprocess's start is like a boundary event: it waits beside the case, not in it
        for kind, name in stuck(el):
            what = f"{kind} {name}" if name else kind
            found.append(parsed.problem(el_id, f"{tag} {el_id} waits for a {what} that nothing sends;"
                                               f" name: {el.get('name') or ''}"))
    for gateway in root.iter(f"{{{BPMN_NS}}}eventBasedGateway"):
        gw_id = gateway.get("id")
        targets = [by_id.get(flow.get("targetRef")) for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow")
                   if flow.get("sourceRef") == gw_id]
        targets = [t for t in targets if t is not None]
        if gw_id in parsed_ids and targets and all(_awaited(t, names) and stuck(t) for t in targets):
            found.append(parsed.problem(gw_id, f"event-based gateway {gw_id} waits only for messages or signals"
                                               f" that nothing sends"))
    return found


def _check_lanes(parsed: _Parsed, roles) -> tuple[list[Problem], set[str]]:
    """Every innermost lane must be named after a role key (the lane is who gets the tasks in it)."""
    found, bad_names = [], set()
    for lane in parsed.root.iter(f"{{{BPMN_NS}}}lane"):
        if lane.find(f"{{{BPMN_NS}}}childLaneSet") is not None:
            continue
        name = (lane.get("name") or "").strip()
        if name in roles:
            continue
        bad_names.add(name)
        lane_id = lane.get("id")
        if name:
            found.append(parsed.problem(lane_id, f"lane {lane_id} is named {name!r}, which is not a role;"
                                                 f" expected one of {sorted(roles)}"))
        else:
            found.append(parsed.problem(lane_id, f"lane {lane_id} has no role; expected one of {sorted(roles)}"))
    return found, bad_names


def _check_task(parsed, spec, ts, roles, forms, known_vars, operators, bad_lanes=frozenset()) -> list[Problem]:
    found = []
    bpmn_id = ts.bpmn_id
    if isinstance(ts, ScriptTask):
        found.append(parsed.problem(bpmn_id, f"script task {bpmn_id} is not allowed; use a service task"))
    for kind in ("prescript", "postscript"):
        if (getattr(ts, kind, None) or "").strip():
            found.append(parsed.problem(bpmn_id, f"{kind} on {bpmn_id} is not allowed"))
    if ts.manual:
        if ts.lane not in roles and (ts.lane or "") not in bad_lanes:  # a bad lane is reported on the lane
            where = f"lane {ts.lane!r}" if ts.lane else "no lane"
            found.append(parsed.problem(bpmn_id, f"user task {bpmn_id} is in {where}; expected one of the roles"
                                                 f" {sorted(roles)}"))
        form = ts.extensions.get("properties", {}).get(FORM_PROPERTY)
        if not form:
            found.append(parsed.problem(bpmn_id, f"user task {bpmn_id} names no form ({FORM_PROPERTY})"))
        elif form not in forms:
            found.append(parsed.problem(bpmn_id, f"user task {bpmn_id} uses unknown form {form!r}"))
    if isinstance(ts, ServiceTask):
        if ts.operation_name not in operators:
            found.append(parsed.problem(bpmn_id, f"service task {bpmn_id} calls unregistered operator"
                                                 f" {ts.operation_name!r}"))
        for param_id, param in ts.operation_params.items():
            message = check_expression(param.get("value"), known_vars)
            if message:
                found.append(parsed.problem(bpmn_id, f"service task {bpmn_id} parameter {param_id}: {message}"))
    found.extend(_check_flows(parsed, spec, ts, known_vars))
    event_definition = getattr(ts, "event_definition", None)
    if isinstance(event_definition, TimerEventDefinition):
        message = check_expression(event_definition.expression, known_vars)
        if message:
            found.append(parsed.problem(bpmn_id, f"timer on {bpmn_id}: {message}"))
    return found


def _check_flows(parsed, spec, ts, known_vars) -> list[Problem]:
    found = []
    conditions = getattr(ts, "cond_task_specs", None) or []
    for cond, target_name in conditions:
        if cond is None:
            continue
        target = spec.task_specs.get(target_name)
        target_id = getattr(target, "bpmn_id", None)
        flow_id = parsed.flows.get((ts.bpmn_id, target_id)) or ts.bpmn_id
        message = check_expression(cond.args[0], known_vars)
        if message:
            found.append(parsed.problem(flow_id, f"condition on {flow_id}: {message}"))
    if isinstance(ts, (ExclusiveGateway, InclusiveGateway)) and conditions \
            and getattr(ts, "default_task_spec", None) is None and all(cond is not None for cond, _ in conditions) \
            and not _exhaustive([cond.args[0] for cond, _ in conditions]):
        kind = "exclusive" if isinstance(ts, ExclusiveGateway) else "inclusive"
        found.append(parsed.problem(ts.bpmn_id, f"{kind} gateway {ts.bpmn_id} has no default flow"))
    return found


_COMPLEMENT = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE,
               ast.LtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}


def _negation(node) -> str | None:
    """The ast dump of `not node` in its plainest form, or None when there is none."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ast.dump(node.operand)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPLEMENT:
        flipped = ast.Compare(left=node.left, ops=[_COMPLEMENT[type(node.ops[0])]()], comparators=node.comparators)
        return ast.dump(flipped)
    return ast.dump(ast.UnaryOp(op=ast.Not(), operand=node))


def _exhaustive(expressions) -> bool:
    """True when some condition always holds or two conditions are each other's negation."""
    trees = []
    for expr in expressions:
        try:
            node = ast.parse(str(expr).strip(), mode="eval").body
        except SyntaxError:
            return False
        if isinstance(node, ast.Constant) and node.value is True:
            return True
        trees.append(node)
    dumps_ = {ast.dump(node) for node in trees}
    return any(_negation(node) in dumps_ for node in trees)


def _user_tasks(parsed: _Parsed) -> list[dict]:
    tasks = []
    for spec in parsed.all_specs():
        for ts in spec.task_specs.values():
            if getattr(ts, "bpmn_id", None) and ts.manual:
                props = ts.extensions.get("properties", {})
                tasks.append({"bpmn_id": ts.bpmn_id, "name": ts.bpmn_name or ts.bpmn_id, "lane": ts.lane,
                              "form": props.get(FORM_PROPERTY), "scope": props.get("scope")})
    return tasks


def compile_diagram(xml: bytes, process_key: str, *, roles: set[str], forms: set[str],
                    known_vars: set[str] | None = None) -> CompiledVersion:
    """Lint, then serialize the spec; raise DeploymentError listing every problem."""
    parsed = _parse(xml, process_key)
    problems = _lint_parsed(parsed, roles, forms, known_vars)
    if problems:
        raise DeploymentError(problems)
    spec_json = dumps({
        "spec": SERIALIZER.to_dict(parsed.spec),
        "subprocess_specs": {k: SERIALIZER.to_dict(v) for k, v in parsed.subprocess_specs.items()},
    })
    process_el = next((el for el in parsed.root.iter(f"{{{BPMN_NS}}}process") if el.get("id") == process_key), None)
    name = (process_el.get("name") if process_el is not None else None) or process_key
    return CompiledVersion(process_key=process_key, name=name, bpmn_xml=xml,
                           sha256=hashlib.sha256(xml).hexdigest(), spec_json=spec_json,
                           user_tasks=_user_tasks(parsed))
