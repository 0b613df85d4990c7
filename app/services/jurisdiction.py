"""Who may act on which human task: lane = role and a scope unit at or below the member's unit.

Two kinds of lane. A reviewer lane (社工站, 镇街, 区民政局, 广志协, 服务商…) belongs to an org unit: whoever holds that
role over the task's scope acts for the unit, and keeps seeing the case after the task is done (their colleagues'
decisions, the 已通过 / 未通过 tabs, the history). A candidate lane (`CANDIDATE_LANES`: 志愿者, roles bound to a
person) offers one task to many people so that one of them takes it: it is theirs to see only while it is open and
offered to them, or when they themselves took it. A volunteer of the street does not read every order one of their
neighbours accepted."""
from sqlalchemy import and_, exists, false, or_, select, union

from app.models import HumanTask, HumanTaskScope, WorkflowInstance

# lanes whose task is offered to many people for one of them to take (SPEC §1: roles bound to a person)
CANDIDATE_LANES = frozenset({'volunteer'})


def path_range(path: str):
    """Bounds [lo, hi) covering every path that starts with `path` (paths end with '/')."""
    return path, path[:-1] + chr(ord(path[-1]) + 1)


def memberships_by_role(user) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for m in user.memberships:
        grouped.setdefault(m.role, []).append(m)
    return grouped


def _not_own_case(user, role):
    """A candidate task is not offered to the case's own submitter (nobody accepts the order they published): the
    ids of the open tasks of this lane in the user's own cases, found through ix_instance_submitter."""
    own = (select(HumanTask.id).join(WorkflowInstance, WorkflowInstance.id == HumanTask.instance_id)
           .where(WorkflowInstance.submitter_id == user.id, HumanTask.lane == role, HumanTask.status == 'open'))
    return HumanTaskScope.human_task_id.not_in(own)


def open_task_ids(user):
    """SQL subquery (id, created_at, process_key) of the open tasks this user may act on: their own submitter
    tasks, plus one range scan of the partial index ix_scope_open per (role, unit) membership (the index holds
    all three columns). UNION removes a task found through two scopes (household and residence street under one
    district)."""
    parts = [select(HumanTask.id.label('id'), HumanTask.created_at.label('created_at'),
                    HumanTask.process_key.label('process_key'))
             .where(HumanTask.assignee_id == user.id, HumanTask.status == 'open')]
    for role, members in memberships_by_role(user).items():
        for lo, hi in sorted({path_range(m.org_unit.path) for m in members}):
            part = select(HumanTaskScope.human_task_id, HumanTaskScope.created_at, HumanTaskScope.process_key).where(
                HumanTaskScope.is_open, HumanTaskScope.lane == role, HumanTaskScope.path >= lo, HumanTaskScope.path < hi)
            parts.append(part.where(_not_own_case(user, role)) if role in CANDIDATE_LANES else part)
    return union(*parts).subquery('open_ids')


def seen_task_clause(user):
    """SQL condition: the tasks that let this user see their case. Their own: assigned to, completed or claimed by
    them, in any state; a reviewer lane's task in their jurisdiction in any state; a candidate lane's task in their
    jurisdiction while it is open (offered to them)."""
    clauses = [HumanTask.assignee_id == user.id, HumanTask.completed_by_id == user.id,
               HumanTask.claimed_by_id == user.id]
    for role, members in memberships_by_role(user).items():
        ranges = [and_(HumanTaskScope.path >= lo, HumanTaskScope.path < hi)
                  for lo, hi in (path_range(m.org_unit.path) for m in members)]
        in_scope = exists(select(HumanTaskScope.id).where(HumanTaskScope.human_task_id == HumanTask.id, or_(*ranges)))
        if role in CANDIDATE_LANES:
            clauses.append(and_(HumanTask.lane == role, HumanTask.status == 'open', in_scope))
        else:
            clauses.append(and_(HumanTask.lane == role, in_scope))
    return or_(*clauses) if clauses else false()


def matching_membership(user, task):
    """The membership that puts `task` in this user's inbox, or None."""
    for m in user.memberships:
        if m.role != task.lane:
            continue
        if any(s.path.startswith(m.org_unit.path) for s in task.scopes):
            return m
    return None


def in_lane(user, task) -> bool:
    """The task is assigned to the user, or its lane and scope match one of their memberships, whatever its state:
    whether they may try to act on it (a task done a moment ago is then 409 already handled, not 404)."""
    if task.assignee_id is not None:
        return task.assignee_id == user.id
    return matching_membership(user, task) is not None


def own_candidate_task(user, task) -> bool:
    """A candidate task of the user's own case (the order they published): never offered to them."""
    return task.lane in CANDIDATE_LANES and task.instance.submitter_id == user.id


def can_act(user, task) -> bool:
    """The task is offered to the user (lists, 去处理 links, the task page's form): in their lane and scope, and not a
    candidate task of their own case."""
    return in_lane(user, task) and not own_candidate_task(user, task)


def may_see_task(user, task) -> bool:
    """The task page's rule, `seen_task_clause` for one task: their own (assigned, completed, claimed), a reviewer
    lane's task of their jurisdiction in any state, a candidate lane's task of their jurisdiction while open."""
    if user.id in (task.assignee_id, task.completed_by_id, task.claimed_by_id):
        return True
    if not in_lane(user, task):
        return False
    return task.lane not in CANDIDATE_LANES or task.status == 'open'
