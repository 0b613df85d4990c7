"""SpiffWorkflow engine adapter: pure engine code, no Flask or database imports."""

from workflows import service_tasks
from workflows.deployment import CompiledVersion, compile_diagram, lint
from workflows.engine import SCRIPT_ENGINE, SERIALIZER, check_expression, parse_xml
from workflows.errors import (
    DeploymentError,
    EngineError,
    Problem,
    ServiceTaskError,
    TaskNotReady,
)
from workflows.projection import project, scope_codes
from workflows.runner import InstanceRun, ReadyTask
from workflows.service_tasks import register, registered_names

__all__ = [
    "SCRIPT_ENGINE", "SERIALIZER", "CompiledVersion", "DeploymentError", "EngineError", "InstanceRun",
    "Problem", "ReadyTask", "ServiceTaskError", "TaskNotReady", "check_expression", "compile_diagram",
    "lint", "parse_xml", "project", "register", "registered_names", "scope_codes", "service_tasks",
]
