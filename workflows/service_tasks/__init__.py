"""Registry of whitelisted Python functions that BPMN service tasks may call."""

import copy
import json
from collections.abc import Callable

from workflows.errors import ServiceTaskError

ServiceFn = Callable[[dict, dict], dict | None]

_REGISTRY: dict[str, ServiceFn] = {}


def register(name: str) -> Callable[[ServiceFn], ServiceFn]:
    """Register `fn(data, params) -> dict | None` as the service task operator `name`."""

    def decorator(fn: ServiceFn) -> ServiceFn:
        _REGISTRY[name] = fn
        return fn

    return decorator


def unregister(name: str) -> None:
    """Remove an operator (used by tests)."""
    _REGISTRY.pop(name, None)


def registered_names() -> set[str]:
    """Return the names of all registered operators."""
    return set(_REGISTRY)


def call(name: str, data: dict, params: dict) -> dict | None:
    """Call operator `name` with a private copy of the task data and the evaluated params."""
    try:
        fn = _REGISTRY[name]
    except KeyError:
        raise LookupError(f"service task operator {name!r} is not registered") from None
    return fn(copy.deepcopy(data), params)


def call_service_json(data: dict, operation_name: str, operation_params: dict | None) -> str:
    """Dispatch a spiff service-task call and return its result as a JSON string."""
    params = {key: spec.get("value") if isinstance(spec, dict) else spec
              for key, spec in (operation_params or {}).items()}
    try:
        return json.dumps(call(operation_name, data, params) or {})
    except ServiceTaskError:
        raise
    except Exception as exc:  # any failure must surface with its real message
        raise ServiceTaskError(operation_name, exc) from exc
