"""Who may act on which human task: lane = role and a scope unit at or below the member's unit."""
from sqlalchemy import and_, exists, false, or_, select

from app.models import HumanTask, HumanTaskScope


def path_range(path: str):
    """Bounds [lo, hi) covering every path that starts with `path` (paths end with '/')."""
    return path, path[:-1] + chr(ord(path[-1]) + 1)


def memberships_by_role(user) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for m in user.memberships:
        grouped.setdefault(m.role, []).append(m)
    return grouped


def open_task_clause(user):
    """SQL condition: tasks this user may act on (own submitter tasks or lane+scope)."""
    clauses = [HumanTask.assignee_id == user.id]
    for role, members in memberships_by_role(user).items():
        ranges = [and_(HumanTaskScope.path >= lo, HumanTaskScope.path < hi)
                  for lo, hi in (path_range(m.org_unit.path) for m in members)]
        clauses.append(and_(HumanTask.lane == role, exists(
            select(HumanTaskScope.id).where(HumanTaskScope.human_task_id == HumanTask.id, or_(*ranges)))))
    return or_(*clauses) if clauses else false()


def seen_task_clause(user):
    """SQL condition: tasks in this user's jurisdiction in any state, or completed by them."""
    return or_(open_task_clause(user), HumanTask.completed_by_id == user.id)


def matching_membership(user, task):
    """The membership that puts `task` in this user's inbox, or None."""
    for m in user.memberships:
        if m.role != task.lane:
            continue
        if any(s.path.startswith(m.org_unit.path) for s in task.scopes):
            return m
    return None


def can_act(user, task) -> bool:
    if task.assignee_id is not None:
        return task.assignee_id == user.id
    return matching_membership(user, task) is not None
