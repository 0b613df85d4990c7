"""Inbox use cases: start a case, list / open / claim / complete tasks, batch decisions."""
import json
import re
from collections import Counter

from flask_babel import lazy_gettext as _l
from sqlalchemy import ARRAY, Integer, and_, any_, bindparam, case, func, literal, or_, select, update
from sqlalchemy.orm import contains_eager, joinedload

from app.extensions import db
from app.models import Decision, HumanTask, OrgUnit, User, WorkflowInstance, WorkflowVersion
from app.models.base import utcnow
from app.services import forms, in_chinese, messages, paged, resubmission, row_id, transaction
from app.services.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationFailed
from app.services.hooks import hooks_for, may_start_any
from app.services.instances import (
    id_search_key,
    is_new,
    latest_version,
    load_run,
    mark_new,
    new_run,
    open_rows_saved,
    record_decision,
    run_step,
    save_run,
    searchable,
)
from app.services.jurisdiction import (
    can_act,
    in_lane,
    matching_membership,
    may_see_task,
    open_task_ids,
    seen_task_clause,
)
from app.services.step_names import step_name
from app.services.validators import normalize_id, reason_too_long

_FULL_ID = re.compile(r'[0-9]{17}[0-9X]')


def is_review(task: HumanTask) -> bool:
    return forms.is_review_form(task.form_key)


def is_resubmission(task: HumanTask) -> bool:
    """The submitter's own form, returned to them with a rejection (bpmn id 'submit' after the first round)."""
    return task.bpmn_id == 'submit' and task.assignee_id is not None


def start_instance(user, process_key: str, data: dict, present=None):
    """Start a case and complete its submission form in one transaction; 422 leaves nothing behind.

    `present(instance)`, when given, renders the result inside the transaction (see complete_task)."""
    hooks = hooks_for(process_key)
    if not hooks.can_start(user):
        raise Forbidden(_l('您的账号不能发起此流程'))
    with transaction():
        version = latest_version(process_key)
        instance = WorkflowInstance(version_id=version.id, version=version, process_key=process_key,
                                    submitter_id=user.id, status='running', created_at=utcnow())
        db.session.add(instance)
        db.session.flush()
        mark_new(instance)
        run = new_run(instance, {'instance_id': instance.id})
        first = save_run(instance, run, fresh=True)
        submit = next((t for t in first if t.assignee_id == user.id), None)
        if submit is None:
            raise ServiceError(_l('流程的第一步不是提交表单'))
        _complete(user, submit, instance, run, data)
        return present(instance) if present else instance


def _complete(user, task: HumanTask, instance, run, payload: dict) -> None:
    clean, errors = forms.validate(forms.get_form(task.form_key), payload)
    if errors:
        valid = {k: v for k, v in clean.items() if k not in errors}
        more = hooks_for(instance.process_key).problems(user, instance, task, task.form_key, valid)
        raise ValidationFailed({**more, **errors})
    # taken first: nothing is pending yet, so this UPDATE flushes nothing and what the hook changes below goes to
    # the database with the step's own flush (one UPDATE of the instance)
    grabbed = db.session.execute(
        update(HumanTask).where(HumanTask.id == task.id, HumanTask.status == 'open')
        .values(status='completed', completed_by_id=user.id, completed_at=utcnow(),
                decision=clean.get('decision') or 'submit')
        .execution_options(synchronize_session='fetch')).rowcount
    if grabbed != 1:
        raise Conflict()
    # what the reviewer saw and decided on: read before the hook and the engine act on the decision (and before
    # anything is pending, so these reads flush nothing)
    audit = _audit_data(instance, task, clean, run)
    engine_data = hooks_for(instance.process_key).prepare(user, instance, task, task.form_key, clean)
    ready_before = run.ready_guids()
    run_step(run, task.task_guid, engine_data)
    decision = record_decision(instance, task, user, _acting_membership(user, task, instance),
                               clean.get('decision') or 'submit', clean.get('reason'), audit)
    if (named := hooks_for(instance.process_key).audit_step(task, clean)) is not None:  # e.g. 服务商退回订单
        decision.task_title, decision.reason = in_chinese(named[0]), named[1]
    created = save_run(instance, run, ready_before=ready_before, completed=task.task_guid, notify=False)
    # the decision first (it supersedes a resubmit task's message to the same person), then the new tasks;
    # the recipients' lookup must not flush the first message alone: both go in one INSERT with the next read
    with db.session.no_autoflush:
        if not is_new(instance):  # a case started in this use case has told nobody about its first form yet
            # after the step: an accept task's offer moves on to the successor the step opened, if any
            messages.settle_task_messages(task, created, handled_by=user.id)
        messages.notify_decision(instance, decision, created)
        messages.notify_new_tasks(created, decided=True)


def _acting_membership(user, task, instance):
    """The (role, unit) the user acted in: the one that put a review in their inbox; for their own submission
    form, the membership that may start this process (a volunteer of 西村街, a station account...)."""
    found = matching_membership(user, task)
    if found is None and task.assignee_id == user.id:
        roles = hooks_for(instance.process_key).start_roles
        found = next((m for m in user.memberships if roles is None or m.role in roles), None)
    return found


def _audit_data(instance, task, clean, run) -> dict:
    if is_review(task):
        return {'form': clean, 'subject': hooks_for(instance.process_key).task_display(task, run)}
    return clean


def _visible_task(user, task_id, *, for_action=False, lock=False) -> HumanTask:
    """The task if the user may see it (`may_see_task`), or with for_action may try to act on it (`in_lane`: a
    task done a moment ago is then 409, the order they published refused by its own rule); NotFound otherwise.
    `lock`: its instance row is locked for this transaction and loaded with its engine state in the same round trip."""
    if row_id(task_id) is None:
        raise NotFound()
    if lock:
        task = db.session.scalars(
            select(HumanTask).join(HumanTask.instance).where(HumanTask.id == row_id(task_id))
            .options(joinedload(HumanTask.scopes),
                     contains_eager(HumanTask.instance).undefer(WorkflowInstance.state_json))
            .with_for_update(of=WorkflowInstance).execution_options(populate_existing=True)).unique().first()
    else:
        task = db.session.get(HumanTask, row_id(task_id), options=[joinedload(HumanTask.scopes)])
    if task is None:
        raise NotFound()
    if in_lane(user, task) if for_action else may_see_task(user, task):
        return task
    raise NotFound()


class NotBatchable(ServiceError):
    status = 422
    code = 'not_a_review'


def complete_task(user, task_id, decision=None, reason=None, data=None, present=None, reviews_only=False):
    """Complete a task the user may act on; the loser of a race gets Conflict (409).

    `reviews_only` (batches): a task that is a form of its own (accept an order, rate, certify) is refused, since
    an approve/reject decision would be dropped and the form completed anyway.
    Returns the instance, or `present(instance)` rendered inside the transaction: the rows of the step are all
    loaded then, while after the commit every one of them would be read again."""
    with transaction():
        task = _visible_task(user, task_id, for_action=True, lock=True)
        if task.status != 'open':
            raise not_open(task)
        if reviews_only and not is_review(task):
            raise NotBatchable(_l('“%(step)s”不是审核，不能批量处理，请打开任务单独办理', step=step_name(task.title)))
        if task.claimed_by_id and task.claimed_by_id != user.id:
            raise _claimed_by_other()
        payload = dict(data or {})
        if is_review(task):
            payload.update(decision=decision, reason=reason)
        _complete(user, task, task.instance, load_run(task.instance), payload)
        instance = task.instance
        return present(instance) if present else instance


def _named(task: HumanTask | None) -> dict:
    """What a batch result says about a task: its case and the step with whom it is about (接单人审核（李晓敏）)."""
    if task is None:
        return {'title': None, 'step': None, 'subject': None}
    return {'title': task.instance.title, 'step': task.title, 'subject': task.subject}


def _seen_task(user, task_id) -> HumanTask | None:
    """The task if the user may see it, for the batch report; None for a forged or foreign id."""
    try:
        return _visible_task(user, task_id)
    except NotFound:
        return None


def batch_decide(user, task_ids, decision, reason=None, data=None) -> list[dict]:
    """Each task is decided in its own transaction; one failure does not undo the others. Each result names
    the case and the step (when the user may see them) and says what was done (`done`: 已通过，开放给志愿者接单)
    or, for a failure, the reason in words.

    `data`: more of each review's form (e.g. {'dispatch_mode': 'open'}) on top of what its process fills in for a
    batch (`batch_defaults`), checked against each task's own form; a form without such a field ignores it.
    A reason longer than the review forms take is refused for the whole batch (ValidationFailed on `reason`)
    before anything is decided: every item would fail on it, and nothing is ever cut short."""
    _check_batch_reason(reason)
    results = []
    for task_id in _first_come_first(list(dict.fromkeys(task_ids or []))[:200]):
        try:
            # the completed task is still in the session inside the transaction: named without another query
            named = complete_task(user, task_id, decision=decision, reason=reason, reviews_only=True,
                                  data=_batch_data(task_id, decision, data),
                                  present=lambda _instance, tid=task_id: _batch_done(
                                      db.session.get(HumanTask, row_id(tid)), decision))
            results.append({'task_id': task_id, 'ok': True, 'error': None, **named})
        except ServiceError as exc:
            task = _seen_task(user, task_id)
            results.append({'task_id': task_id, 'ok': False, 'error': _failure_text(exc, task), 'code': exc.code,
                            'done': None, **_named(task)})
    return results


def _first_come_first(task_ids: list) -> list:
    """A batch decides the oldest tasks first, whatever order they were ticked or listed in (the inbox lists the
    newest first): where places run out (an activity's last places), those who asked first get them. Ids that are
    no task keep their place at the end, to be reported as such."""
    ids = [row_id(t) for t in task_ids]
    known = [i for i in ids if i is not None]
    order = {tid: n for n, tid in enumerate(db.session.scalars(
        select(HumanTask.id).where(HumanTask.id.in_(known)).order_by(HumanTask.created_at, HumanTask.id)))} \
        if known else {}
    return sorted(task_ids, key=lambda t: order.get(row_id(t), len(order)))


def _check_batch_reason(reason) -> None:
    """ValidationFailed when a batch's reason is longer than a review's form takes (the maxLength of
    forms/review.json and v_order_review.json, counted as the form counts)."""
    message = reason_too_long(reason)
    if message:
        raise ValidationFailed({'reason': [message]})


def _batch_data(task_id, decision, data) -> dict:
    """The form data a batch decides one task with: its process's batch defaults, then the request's `data`.
    Read before the task is locked and checked: complete_task refuses a task the user may not act on."""
    task = db.session.get(HumanTask, row_id(task_id)) if row_id(task_id) is not None else None
    defaults = hooks_for(task.process_key).batch_defaults(task, decision) if task is not None else {}
    return {**defaults, **(data or {})}


def _batch_done(task: HumanTask, decision) -> dict:
    """A decided task of a batch: its names and what was done."""
    done = hooks_for(task.process_key).batch_done(task, decision)
    return {**_named(task), 'done': done or str(_l('已通过') if decision == 'approve' else _l('未通过'))}


def batch_hints(rows) -> list[str]:
    """What the inbox's batch bar says about the open reviews listed (each text once), e.g. that V-orders
    approved in a batch are opened to volunteers."""
    hints: list[str] = []
    for task in rows:
        if task.status == 'open' and is_review(task):
            hint = hooks_for(task.process_key).batch_hint(task)
            if hint and hint not in hints:
                hints.append(hint)
    return hints


def _failure_text(exc: ServiceError, task: HumanTask | None) -> str:
    """Why one item of a batch failed, in words; a field's message names the field (意见：此项为必填项)."""
    errors = getattr(exc, 'errors', None)
    if not errors:
        return str(exc.message)
    form = forms.get_form(task.form_key) if task is not None and task.form_key else {}
    fields = form.get('properties', {})
    return str(_l('；')).join(str(_l('%(field)s：%(message)s', field=forms.label(fields[k]), message=m))
                              if k in fields and forms.label(fields[k]) else str(m)
                              for k, msgs in errors.items() for m in msgs)


def _claimed_by_other() -> Conflict:
    return Conflict(_l('该任务已被其他审核人认领，请等对方办理或取消认领后再处理'), code='claimed_by_other')


def _not_claimable(task) -> Conflict | None:
    if task.bpmn_id == 'accept':  # an open order goes to whoever accepts first: holding it would lock others out
        return Conflict(_l('接单任务不能认领，请直接接单'), code='not_claimable')
    return None


def not_open(task: HumanTask) -> Conflict:
    """The 409 for a task that is no longer open: decided by someone (该任务已被处理), or closed without a decision
    because its case moved on without it (cancelled, expired, withdrawn, reset or ended by an administrator)."""
    if task.status == 'cancelled':
        return Conflict(_l('该任务已关闭：案件已取消、结束或退回到其他步骤，无需再处理，请刷新后查看'))
    return Conflict()


def _why_not_claimed(user, task_id, *, unclaiming=False) -> Conflict:
    """Why a claim's (an unclaim's) conditional UPDATE changed nothing: the task was handled meanwhile, someone
    else holds it, or (unclaiming) nobody does."""
    row = db.session.get(HumanTask, task_id, populate_existing=True)
    status, holder = row.status, row.claimed_by_id
    if status != 'open':
        return not_open(row)
    if not unclaiming:
        return _claimed_by_other()
    if holder is not None:
        return Conflict(_l('该任务由其他审核人认领，只有认领人本人可以取消认领'), code='not_claimed_by_you')
    return Conflict(_l('您没有认领该任务，无需取消认领'), code='not_claimed_by_you')


def claim(user, task_id) -> HumanTask:
    """Take a task so other reviewers see it is being handled."""
    with transaction():
        task = _visible_task(user, task_id, for_action=True)
        if (refused := _not_claimable(task)) is not None:
            raise refused
        n = db.session.execute(update(HumanTask).where(
            HumanTask.id == task.id, HumanTask.status == 'open',
            or_(HumanTask.claimed_by_id.is_(None), HumanTask.claimed_by_id == user.id))
            .values(claimed_by_id=user.id, claimed_at=utcnow())
            .execution_options(synchronize_session='fetch')).rowcount
        if n != 1:
            raise _why_not_claimed(user, task.id)
    return task


def unclaim(user, task_id) -> HumanTask:
    with transaction():
        task = _visible_task(user, task_id, for_action=True)
        if (refused := _not_claimable(task)) is not None:
            raise refused
        n = db.session.execute(update(HumanTask).where(
            HumanTask.id == task.id, HumanTask.status == 'open', HumanTask.claimed_by_id == user.id)
            .values(claimed_by_id=None, claimed_at=None).execution_options(synchronize_session='fetch')).rowcount
        if n != 1:
            raise _why_not_claimed(user, task.id, unclaiming=True)
    return task


def _reviewed_clause(user, decision):
    return (HumanTask.completed_by_id == user.id) & (HumanTask.decision == decision)


REVIEW_DECISIONS = ('approve', 'reject')


def _not_own_case():
    return func.coalesce(HumanTask.lane, 'submitter') != 'submitter'


def decided_clause(user, state):
    """Tasks the user decided: all of them ('done'), those approved / rejected ('approve' / 'reject'), or the other
    steps they handled, which carry no approve/reject result ('handled': a provider's dispatch, a station's
    certification or re-dispatch, a volunteer's acceptance). Their own forms as a submitter (an order they
    published, its rating) are their cases, not work on others' cases."""
    if state in REVIEW_DECISIONS:
        return _reviewed_clause(user, state)
    if state == 'handled':
        return ((HumanTask.completed_by_id == user.id) & HumanTask.decision.not_in(REVIEW_DECISIONS)
                & _not_own_case())
    return (HumanTask.completed_by_id == user.id) & _not_own_case()


def _rows_in_order(page_ids) -> list[HumanTask]:
    found = {t.id: t for t in db.session.scalars(select(HumanTask).where(HumanTask.id.in_(page_ids)))}
    return [found[i] for i in page_ids if i in found]


def _id_in(ids):
    """`id IN ids` as one array parameter on PostgreSQL (thousands of bind parameters cost more than the query)."""
    if db.session.get_bind().dialect.name == 'postgresql':
        return HumanTask.id == any_(bindparam('open_ids', list(ids), type_=ARRAY(Integer)))
    return HumanTask.id.in_(ids)


def full_id_number(q) -> str | None:
    """The search text as a full 18-character ID number (spaces and dashes dropped, full-width digits read, x
    upper-cased), None when it is not one."""
    compact = normalize_id(q)
    return compact if _FULL_ID.fullmatch(compact) else None


def partial_id_number(q) -> bool:
    """A search for 5 to 17 digits: the start or the middle of an ID number, which the lists never match (they show
    only its last 4 characters), so the page says to type all 18 or the last 4."""
    compact = normalize_id(q)
    return bool(re.fullmatch(r'[0-9]{5,17}X?', compact)) and not full_id_number(compact)


def filter_tasks(stmt, process, q):
    """The process filter and the search: a full ID number matches the case about that person exactly (by the hash
    in `id_key`, an index lookup); any other text is looked for in the case title and subject, in which a masked ID
    number stands as its last 4 characters (so 2499 finds 4401**********2499, and 4401 or * does not find them all)."""
    if process:
        stmt = stmt.where(HumanTask.process_key == process)
    if q and q.strip():
        if (number := full_id_number(q)) is not None:
            return stmt.where(HumanTask.id_key == id_search_key(number))
        stmt = stmt.where(HumanTask.search_text.contains(searchable(q.strip())[:50], autoescape=True))
    return stmt


SORTS = ('newest', 'oldest')  # an inbox list's order (?sort=): the newest first (the default) or the oldest first


def sort_order(created, ident, sort='newest') -> tuple:
    """ORDER BY of an inbox list on its time column: the newest first, or (sort='oldest') the oldest first (a done
    tab reads ix_human_task_done the other way; the open tab sorts its ids either way)."""
    if sort == 'oldest':
        return created.asc(), ident.asc()
    return created.desc(), ident.desc()


def list_tasks(user, state='open', process=None, q=None, page=1, per_page=20, sort='newest'):
    """(rows, total): open = actionable by the user, by arrival; approved/rejected/done = decided by the user, by
    the time they did it; newest first or (sort='oldest') oldest first.

    Open tasks come from the inbox index (ix_scope_open) alone. With a search or process filter the
    user's open task ids are fetched first and the filter runs on exactly those rows by primary key: a
    join would let PostgreSQL misjudge `LIKE '%q%'` and scan every task."""
    if state == 'open':
        rows, total, _by_process = _open_list(user, process, q, page, per_page, sort)
        return rows, total
    return _decided_list(user, state, process, q, page, per_page, sort)


def _open_list(user, process, q, page, per_page, sort, by_process=False):
    """(rows, total, {process key: open tasks} or None): the open tab's page; `by_process`: also how many of the
    user's open tasks (with the search, whatever the process filter) each process has, for the 类型 choice."""
    offset = (max(page, 1) - 1) * per_page
    ids = open_task_ids(user)
    if not q:
        # the page and the total in one pass over the user's open tasks (count(*) OVER () sees them all); the
        # process filter too reads the index alone
        chosen = (ids.c.process_key == process,) if process else ()
        page = db.session.execute(select(ids.c.id, func.count().over().label('total')).where(*chosen)
                                  .order_by(*sort_order(ids.c.created_at, ids.c.id, sort))
                                  .limit(per_page).offset(offset)).all()
        total = page[0].total if page else db.session.scalar(select(func.count()).select_from(ids).where(*chosen))
        counted = None
        if by_process:  # the same index range again: each scope row carries its task's process
            counted = dict(db.session.execute(select(ids.c.process_key, func.count())
                                              .group_by(ids.c.process_key)).all())
        return _rows_in_order([r.id for r in page]), total, counted
    mine = db.session.scalars(select(ids.c.id)).all()
    # with by_process the rows of every process come back (id and process key only) and are counted here: the
    # process filter and the choice's counts from one query
    found = db.session.execute(filter_tasks(select(HumanTask.id, HumanTask.process_key).where(
        _id_in(mine), HumanTask.status == 'open'), None if by_process else process, q)
        .order_by(*sort_order(HumanTask.created_at, HumanTask.id, sort))).all()
    matches = [i for i, key in found if not process or key == process]
    counted = dict(Counter(key for _i, key in found)) if by_process else None
    return _rows_in_order(matches[offset:offset + per_page]), len(matches), counted


def _decided_list(user, state, process, q, page, per_page, sort):
    """(rows, total) of a done tab, by the time the user decided (ix_human_task_done, read either way)."""
    base = filter_tasks(select(HumanTask).where(decided_clause(user, state)), process, q)
    total = db.session.scalar(select(func.count()).select_from(base.with_only_columns(HumanTask.id).subquery()))
    rows = db.session.scalars(base.order_by(*sort_order(HumanTask.completed_at, HumanTask.id, sort))
                              .limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return rows, total


INBOX_PER_PAGE = 20


def inbox_page(user, state='open', process=None, q=None, page=1, sort='newest', per_page=INBOX_PER_PAGE) -> dict:
    """The inbox page's list: one tab's `rows` and `total`, how many tasks each tab lists with the same filter
    (`counts`) and the processes the shown tab has tasks of with the search (`processes`: the 类型 choice, each
    {key, name, n}; the chosen one always among them)."""
    if state == 'open':
        rows, total, by_process = _open_list(user, process, q, page, per_page, sort, by_process=True)
    else:
        (rows, total), by_process = _decided_list(user, state, process, q, page, per_page, sort), None
    counts, decided_by_process = _tab_counts(user, state, total, process, q)
    return {'rows': rows, 'total': total, 'counts': counts,
            'processes': process_choices(by_process if state == 'open' else decided_by_process, process)}


def _tab_counts(user, state, total, process=None, q=None) -> tuple[dict, dict]:
    """How many tasks each inbox tab ('open', 'approve', 'reject', 'handled') lists with the same filter (the shown
    tab's is `total`), and {process key: tasks} of the shown tab when it is a done one. The done ones come from one
    COUNT over the tasks the user completed (ix_human_task_done), grouped by tab (a review by its decision, any
    other step (not their own case's) as 'handled') and process."""
    counts = {'open': 0, 'approve': 0, 'reject': 0, 'handled': 0, state: total}
    tab = case((HumanTask.decision.in_(REVIEW_DECISIONS), HumanTask.decision), else_='handled')
    decided = filter_tasks(select(tab.label('tab'), HumanTask.process_key, func.count()).where(
        HumanTask.completed_by_id == user.id, or_(HumanTask.decision.in_(REVIEW_DECISIONS), _not_own_case())),
        None, q)
    by_process: dict = {}
    for key, process_key, n in db.session.execute(decided.group_by(tab, HumanTask.process_key)):
        if key == state:
            by_process[process_key] = n
        elif not process or process_key == process:
            counts[key] += n
    if state != 'open':
        counts['open'] = list_tasks(user, 'open', process, q, per_page=1)[1]
    return counts, by_process


def process_choices(by_process: dict, chosen=None) -> list[dict]:
    """The 类型 choice of an inbox tab: each process it has tasks of as {key, name (the latest version's), n}, by
    name; the chosen process too when none of its tasks is listed (n 0): the page shows what it filters by."""
    counted = {k: n for k, n in (by_process or {}).items() if k}
    if chosen and chosen not in counted:
        counted[chosen] = 0
    if not counted:
        return []
    names = dict(db.session.execute(select(WorkflowVersion.process_key, WorkflowVersion.name)
                                    .where(WorkflowVersion.process_key.in_(list(counted)))
                                    .order_by(WorkflowVersion.version)).all())  # the latest version's name wins
    return sorted(({'key': k, 'name': names.get(k) or k, 'n': n} for k, n in counted.items()),
                  key=lambda p: (p['name'], p['key']))


def next_open_task(user, process=None, q=None, after=None, sort='newest') -> int | None:
    """The id of the task to do next in the user's open list with the same filter and order: the first one listed
    after task `after` (the one just decided), else the first of the list. Tasks another reviewer claimed and the
    user's own submission forms are skipped: they are not a review the user can do now."""
    ids = open_task_ids(user)
    mine = db.session.scalars(select(ids.c.id)).all()
    stmt = filter_tasks(select(HumanTask.id).where(
        _id_in(mine), HumanTask.status == 'open', HumanTask.assignee_id.is_(None),
        or_(HumanTask.claimed_by_id.is_(None), HumanTask.claimed_by_id == user.id)), process, q)
    stmt = stmt.order_by(*sort_order(HumanTask.created_at, HumanTask.id, sort)).limit(1)
    done = db.session.get(HumanTask, row_id(after)) if row_id(after) is not None else None
    if done is not None:
        if sort == 'oldest':
            listed_after = or_(HumanTask.created_at > done.created_at, and_(
                HumanTask.created_at == done.created_at, HumanTask.id > done.id))
        else:
            listed_after = or_(HumanTask.created_at < done.created_at, and_(
                HumanTask.created_at == done.created_at, HumanTask.id < done.id))
        later = db.session.scalar(stmt.where(listed_after))
        if later is not None:
            return later
    return db.session.scalar(stmt)


def typed_input(form: dict | None, values: dict) -> list[tuple[str, str]]:
    """(field label, text) of what a reviewer typed or chose in a task's form that was not submitted (the task was
    handled meanwhile), in the form's order; choices by their labels (不通过), files and empty fields left out."""
    props = (form or {}).get('properties', {})
    shown = []
    for name in forms.field_order(form) if form else []:
        prop, value = props.get(name), values.get(name)
        if prop is None or 'x-file' in prop or isinstance(value, dict):
            continue
        picked = value if isinstance(value, list) else [value]
        picked = [str(v).strip() for v in picked if v is not None and str(v).strip()]
        if not picked:
            continue
        names = dict(forms.option_list(prop)) if ('enum' in prop or 'x-options' in prop) else {}
        shown.append((forms.label(prop) or name, str(_l('、')).join(str(names.get(v, v)) for v in picked)))
    return shown


def named_tasks(user, task_ids) -> dict[int, dict]:
    """{task id: its case and step (`_named`)} for the tasks of a batch result the user may see (one query)."""
    ids = [i for i in (row_id(t) for t in task_ids) if i is not None]
    rows = db.session.scalars(select(HumanTask).where(HumanTask.id.in_(ids))).all() if ids else []
    return {t.id: _named(t) for t in rows if may_see_task(user, t)}


def task_detail(user, task_id) -> dict:
    """Task, its form, the data to review, every earlier decision, why it is in this inbox and, on the review of a
    resubmission, what the submitter changed since the version sent back (`changes`: None on a first round)."""
    task = _visible_task(user, task_id)
    hooks = hooks_for(task.process_key)
    membership = matching_membership(user, task)
    mine = membership.org_unit.path if membership else None
    scope = [s.org_unit.name for s in task.scopes if mine and s.path.startswith(mine)]
    shown_form, history = display_form(task.process_key), instance_history(task.instance_id)
    return {'task': task, 'form': forms.get_form(task.form_key) if task.form_key else None,
            'data': hooks.task_display(task, page=True) if task.status == 'open' else hooks.display(task.instance),
            'display_form': shown_form, 'history': history,
            # the step as its history row names it (服务商派单（派给志愿者：李晓敏）, 服务商退回订单), once it is done
            'done_step': db.session.scalar(select(Decision.task_title).where(Decision.human_task_id == task.id)
                                           .order_by(Decision.id.desc()).limit(1)) if task.status == 'completed' else None,
            'changes': resubmission.changes_for_task(task, history, shown_form),
            'why': {'role': task.lane, 'scope': scope or ([user.display_name] if task.assignee_id else [])},
            'can_act': task.status == 'open' and can_act(user, task),
            'options': hooks.form_options(user, task.form_key, task=task) if task.form_key else {},
            'reason_hint': hooks.reason_hint(task),
            'values': hooks.task_values(task.instance, task.form_key) if task.status == 'open' else {}}


def instance_history(instance_id, with_data=True) -> list[dict]:
    """Every decision of the case, oldest first, as plain rows (one query, no entity loading). `resubmitted`: the
    row is the submitter's own form sent again (the case's first step completed a second or later time), which the
    history calls 重新提交（修改后） rather than a second plain 提交. `with_data=False`: each row's `data` (what was
    submitted or approved, the bulk of a case's history) is left out, for the API's case views that do not show it."""
    data_column = Decision.data_json if with_data else literal(None).label('data_json')
    rows = db.session.execute(
        select(Decision.task_title, Decision.subject, Decision.bpmn_id, Decision.lane, Decision.role,
               User.display_name, OrgUnit.name, Decision.decision, Decision.reason, Decision.at, data_column,
               Decision.version)
        .outerjoin(User, User.id == Decision.actor_id).outerjoin(OrgUnit, OrgUnit.id == Decision.org_unit_id)
        .where(Decision.instance_id == instance_id).order_by(Decision.id))
    history = [{'task': title, 'subject': subject, 'bpmn_id': bpmn_id, 'lane': lane, 'role': role, 'actor': actor,
                'org_unit': unit, 'decision': decision, 'reason': reason, 'at': at,
                'data': json.loads(data or '{}') if with_data else {},
                'version': version, 'resubmitted': False}
               for title, subject, bpmn_id, lane, role, actor, unit, decision, reason, at, data, version in rows]
    first = next((h['bpmn_id'] for h in history if h['decision'] == 'submit' and h['bpmn_id']), None)
    for h in [h for h in history if h['decision'] == 'submit' and h['bpmn_id'] == first][1:]:
        h['resubmitted'] = True
    return history


def visible_instance(user, instance_id) -> WorkflowInstance:
    """The case if the user submitted it, holds/held one of its tasks (`seen_task_clause`: a reviewer's unit in any
    state, a volunteer's offer only while it is open or when they took it), or the process lets them see it (a
    volunteer a provider dispatched a V-order to); NotFound otherwise."""
    instance = db.session.get(WorkflowInstance, row_id(instance_id)) if row_id(instance_id) else None
    if instance is None:
        raise NotFound()
    if instance.submitter_id == user.id:
        return instance
    seen = db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.instance_id == instance.id, seen_task_clause(user)))
    if not seen and not hooks_for(instance.process_key).may_view(user, instance):
        raise NotFound()
    return instance


def open_tasks(instance_id) -> list[HumanTask]:
    known = open_rows_saved(instance_id)  # this use case just saved the instance: its open rows are at hand
    if known is not None:
        return known
    return list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.status == 'open')))


def may_submit(user) -> bool:
    """The user may start a process, or has started one (their 我的提交 lists it): one indexed lookup at most."""
    return may_start_any(user) or db.session.scalar(
        select(WorkflowInstance.id).where(WorkflowInstance.submitter_id == user.id).limit(1)) is not None


def my_instances(user, process=None, page=1, per_page=20):
    cond = WorkflowInstance.submitter_id == user.id
    if process:
        cond = cond & (WorkflowInstance.process_key == process)
    return paged(select(WorkflowInstance).where(cond).order_by(WorkflowInstance.id.desc()), page, per_page)


def display_form(process_key) -> dict | None:
    """The definition that labels a case's submitted data."""
    key = hooks_for(process_key).display_form
    return forms.get_form(key) if key else None


def case_view(user, instance_id) -> dict:
    """A case page: the case, its open tasks, history and submitted data."""
    inst = visible_instance(user, instance_id)
    return {'inst': inst, 'open_tasks': open_tasks(inst.id), 'history': instance_history(inst.id),
            'data': hooks_for(inst.process_key).display(inst), 'display_form': display_form(inst.process_key)}
