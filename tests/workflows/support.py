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
