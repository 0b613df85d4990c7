"""Projection of engine state onto the app's human-task inbox."""

from workflows.runner import InstanceRun, ReadyTask


def project(run: InstanceRun) -> list[ReadyTask]:
    """Return the READY human tasks the inbox should show for this instance."""
    return run.ready_tasks()


def scope_codes(task: ReadyTask) -> list[str]:
    """Return the org-unit codes allowed to act on `task` ([] when the task has no scope)."""
    if not task.scope_var:
        return []
    value = task.data.get(task.scope_var)
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [str(value)]
    return [str(v) for v in value]
