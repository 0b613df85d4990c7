"""Who may act on which human task: lane = role and a scope unit at or below the member's unit."""
from sqlalchemy import and_, exists, false, or_, select, union

from app.models import HumanTask, HumanTaskScope


def path_range(path: str):
    """Bounds [lo, hi) covering every path that starts with `path` (paths end with '/')."""
    return path, path[:-1] + chr(ord(path[-1]) + 1)


def memberships_by_role(user) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for m in user.memberships:
        grouped.setdefault(m.role, []).append(m)
    return grouped


def open_task_ids(user):
    """SQL subquery (id, created_at) of the open tasks this user may act on: their own submitter tasks,
    plus one range scan of the partial index ix_scope_open per (role, unit) membership. UNION removes
    a task found through two scopes (household and residence street under one district)."""
    parts = [select(HumanTask.id.label('id'), HumanTask.created_at.label('created_at'))
             .where(HumanTask.assignee_id == user.id, HumanTask.status == 'open')]
    for role, members in memberships_by_role(user).items():
        for lo, hi in sorted({path_range(m.org_unit.path) for m in members}):
            parts.append(select(HumanTaskScope.human_task_id, HumanTaskScope.created_at).where(
                HumanTaskScope.is_open, HumanTaskScope.lane == role, HumanTaskScope.path >= lo, HumanTaskScope.path < hi))
    return union(*parts).subquery('open_ids')


def jurisdiction_clause(user):
    """SQL condition: tasks in this user's lanes and scope in any state, and their own submitter tasks."""
    clauses = [HumanTask.assignee_id == user.id]
    for role, members in memberships_by_role(user).items():
        ranges = [and_(HumanTaskScope.path >= lo, HumanTaskScope.path < hi)
                  for lo, hi in (path_range(m.org_unit.path) for m in members)]
        clauses.append(and_(HumanTask.lane == role, exists(
            select(HumanTaskScope.id).where(HumanTaskScope.human_task_id == HumanTask.id, or_(*ranges)))))
    return or_(*clauses) if clauses else false()


def seen_task_clause(user):
    """SQL condition: tasks in this user's jurisdiction in any state, or completed by them."""
    return or_(jurisdiction_clause(user), HumanTask.completed_by_id == user.id)


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
