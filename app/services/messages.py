"""In-app messages (站内信): new tasks to the lane's users, decisions to the submitter, reminders.

Messages are rows added inside the caller's transaction: a rolled-back decision leaves no message.
The recipient's language is not known when the row is written, so a text built by the app is stored in both:
Chinese in `title`/`body`, English in `title_en`/`body_en`; pages and the API show the reader's language. A
caller passes such a text as a function that builds it in the current language (`lambda: _('…', ...)`) or as a
lazy string; a plain string (a reviewer's reason) is the same in both languages."""
from collections.abc import Callable

from flask_babel import LazyString, force_locale, gettext, pgettext
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Decision, HumanTask, Membership, Message, OrgUnit, User, WorkflowInstance
from app.models.base import utcnow
from app.services import paged, row_id, transaction
from app.services.errors import NotFound
from app.services.hooks import hooks_for
from app.services.step_names import step_name, step_with_subject, stored_text
from workflows import service_tasks

KINDS = ('task', 'decision', 'reminder', 'info')
TITLE_MAX = 200  # message.title

Text = str | LazyString | Callable[[], str] | tuple  # see the module's docstring; a tuple is (Chinese, English)


def in_both(text: Text | None) -> tuple[str, str | None]:
    """(Chinese, English or None when it reads the same) of a message text."""
    if text is None:
        return '', None
    if isinstance(text, tuple):
        zh, en = text
        return str(zh or ''), (str(en) if en and str(en) != str(zh) else None)
    if isinstance(text, LazyString) or callable(text):
        build = text if callable(text) and not isinstance(text, LazyString) else text.__str__
        with force_locale('zh'):
            zh = str(build())
        with force_locale('en'):
            en = str(build())
        return zh, (en if en != zh else None)
    return str(text), None


def _sent() -> dict:
    """{(user_id, link): message} of the messages added in the current transaction."""
    session = db.session()
    info, tx = session.info, session.get_transaction()
    if tx is None:
        return {}
    if info.get('_messages_tx') is not tx:
        info['_messages_tx'], info['_messages_sent'], info['_messages_rejections'] = tx, {}, set()
        info['_messages_carried'] = set()
    return info['_messages_sent']


def _rejections() -> set:
    """(user_id, link) pairs of this transaction whose message tells of a rejection."""
    _sent()
    return db.session().info.get('_messages_rejections', set())


def _cut(text: str | None) -> str | None:
    return text[:TITLE_MAX] if text else text


def send(user_ids, *, kind: str, title: Text, body: Text = '', link: str = '') -> list[Message]:
    """Add one message per distinct user (no commit); a user gets one message per link per transaction (a later
    reminder with the same link replaces the earlier one's text)."""
    if kind not in KINDS:
        raise ValueError(f'unknown message kind {kind!r}')
    users = list(dict.fromkeys(u for u in user_ids if u is not None))
    if not users:
        return []
    (title, title_en), (body, body_en) = in_both(title), in_both(body)
    title, title_en = _cut(title), _cut(title_en)
    sent, now, rows = _sent(), utcnow(), []
    for uid in users:
        earlier = sent.get((uid, link)) if link else None
        if earlier is not None:
            if kind == 'reminder' and earlier.kind == 'reminder':
                # reminders that fire together (day 7, day 12, overdue after an idle night) are one message
                # naming the latest of them: an earlier, milder one must not hide that the deadline has passed
                earlier.title, earlier.title_en, earlier.body, earlier.body_en = title, title_en, body, body_en
            continue
        row = Message(user_id=uid, kind=kind, title=title, title_en=title_en, body=body, body_en=body_en,
                      link=link or '', created_at=now)
        sent[(uid, link)] = row
        db.session.add(row)
        rows.append(row)
    return rows


def _joined(first: str, second: str, glue: str = '；') -> str:
    """'first；second' within a title's length, shortening the first part rather than losing the second."""
    room = TITLE_MAX - len(second) - len(glue)
    if len(first) > room:
        first = first[:max(room - 1, 0)] + '…'
    return f'{first}{glue}{second}'[:TITLE_MAX]


def _announce_on_decision(user_ids, link: str, todo: tuple[str, str | None]) -> tuple[set[int], int]:
    """A reviewer's decision that hands the case back to its submitter (接单人审核 approved -> 确认完成并评价) has
    already messaged them with this link in this transaction, and a user gets one message per link: that message
    now also says what there is to do, and counts as the to-do (read once the task is handled). A rejection's
    message stays as it is: it already asks for the corrected submission.

    Returns (the users who already have a decision message with this link, how many of those now announce the task)."""
    sent, rejected, told, merged = _sent(), _rejections(), set(), 0
    for uid in user_ids:
        row = sent.get((uid, link))
        if row is None or row.kind != 'decision':
            continue
        told.add(uid)
        if (uid, link) not in rejected:
            row.kind, row.title = 'task', _joined(row.title, todo[0])
            if row.title_en or todo[1]:
                row.title_en = _joined(row.title_en or row.title, todo[1] or todo[0], '; ')
            merged += 1
    return told, merged


def _ancestor_paths(paths) -> set[str]:
    """Every org-unit path that is a prefix of one of `paths` ('/gz/liwan/' -> '/gz/', '/gz/liwan/')."""
    found = set()
    for path in paths:
        parts = [p for p in path.split('/') if p]
        found.update('/' + '/'.join(parts[:i]) + '/' for i in range(1, len(parts) + 1))
    return found


def users_in_scope(role: str, scope_paths) -> list[int]:
    """Active users holding `role` at or above one of the scope units (the inbox predicate)."""
    prefixes = _ancestor_paths(scope_paths)
    if not role or not prefixes:
        return []
    return list(db.session.scalars(
        select(Membership.user_id).join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == role, OrgUnit.path.in_(prefixes), User.active.is_(True))
        .distinct().order_by(Membership.user_id)))


def recipients_for_task(task: HumanTask) -> list[int]:
    """Users who see `task` in their inbox: its assignee, or lane role within one of its scope units."""
    if task.assignee_id is not None:
        return [task.assignee_id]
    return users_in_scope(task.lane, [s.path for s in task.scopes])


def task_link(task: HumanTask) -> str:
    """Where a 新待办 message leads: where its process offers the task to many people (ProcessHooks.offer_link,
    e.g. a V-order's phone list of open orders), else a submitter's case or the task page."""
    offer = hooks_for(task.process_key).offer_link(task)
    if offer:
        return offer
    if task.assignee_id is not None:
        return f'/m/cases/{task.instance_id}'
    return f'/inbox/tasks/{task.id}'


def _carried_over() -> set:
    """Ids of this transaction's new tasks whose offer was carried over from the task they replace."""
    _sent()
    return db.session().info.get('_messages_carried', set())


def settle_task_messages(task: HumanTask, successors=(), handled_by: int | None = None) -> None:
    """The task is handled: its unread 新待办 messages are marked read for everyone who got them (the unread badge
    counts what still waits for the reader, not what a colleague already did).

    A standing offer that the same step replaced by its successor (`successors`: the tasks the step opened) is
    not over: its unread messages now lead to the successor and stay unread, and notify_new_tasks tells nobody
    again; only the one who handled it (`handled_by`, the acceptor) has theirs marked read. The acceptor's own
    message leads on to what they took on where the process names it (`settled_link`: the order), read or not:
    the list of open orders no longer shows it. An offer withdrawn without anyone taking it (no `handled_by`: the
    case was cancelled, expired or reset) leads everyone, read or not, where the process says what became of it
    (`settled_link(task, taken=False)`), when it names such a place."""
    hooks = hooks_for(task.process_key)
    offered = (Message.link == task_link(task), Message.kind == 'task')
    standing = successors and hooks.standing_offer(task)
    successor = next((t for t in successors if t.instance_id == task.instance_id and t.bpmn_id == task.bpmn_id
                      and t.id is not None), None) if standing else None
    after = hooks.settled_link(task) if handled_by is not None else None
    if handled_by is not None and (successor is not None or after):
        db.session.execute(update(Message).where(*offered, Message.user_id == handled_by)
                           .values(read_at=func.coalesce(Message.read_at, utcnow()), **({'link': after} if after else {}))
                           .execution_options(synchronize_session=False))
    if successor is None:
        gone = hooks.settled_link(task, taken=False) if handled_by is None else None
        if gone:
            db.session.execute(update(Message).where(*offered)
                               .values(read_at=func.coalesce(Message.read_at, utcnow()), link=gone)
                               .execution_options(synchronize_session=False))
            return
        db.session.execute(update(Message).where(*offered, Message.read_at.is_(None))
                           .values(read_at=utcnow()).execution_options(synchronize_session=False))
        return
    db.session.execute(update(Message).where(*offered, Message.read_at.is_(None))
                       .values(link=task_link(successor)).execution_options(synchronize_session=False))
    _carried_over().add(successor.id)


def _has_decisions(instance_id: int) -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(Decision)
                                  .where(Decision.instance_id == instance_id)))


def notify_new_tasks(tasks, decided: bool | None = None) -> int:
    """Tell everyone who may act on each new task (新待办：<step> · <case>, or in their words where the process has
    them: ProcessHooks.task_title); returns how many messages were added or now also announce the task.
    `decided`: whether the case has any decision yet, when the caller knows (None: ask the database)."""
    count, carried = 0, _carried_over()
    for task in tasks:
        if task.id in carried:  # its offer was already made, and now leads here (settle_task_messages)
            continue
        instance = db.session.get(WorkflowInstance, task.instance_id)
        # the first submit form is being filled in by its submitter right now: nothing to announce
        if task.assignee_id is not None and not (_has_decisions(task.instance_id) if decided is None else decided):
            continue
        # the case's title in each language (a title the app built, 赠予…：…, reads in English too)
        subject = in_both(lambda i=instance: stored_text(i.title)) if instance is not None and instance.title else ('', None)
        hooks = hooks_for(task.process_key)
        # in the words of those it goes to, where the process has them (a V-order offered to volunteers)
        own = hooks.task_title(task)
        todo = in_both(own if own is not None else
                       lambda t=task: gettext('新待办：%(step)s', step=step_with_subject(t.title, t.subject)))
        skip = hooks.already_on_it(instance, task) if instance is not None else set()
        link = task_link(task)
        users = [u for u in recipients_for_task(task) if u not in skip]
        told, merged = _announce_on_decision(users, link, todo)
        title = todo if own is not None else _about(todo, subject)
        rest = [u for u in users if u not in told]
        # why the task came (a V-order a provider returned: by whom and why), when the process says
        note = (hooks.task_notice(task) or '') if rest else ''
        count += merged + len(send(rest, kind='task', title=title, body=note, link=link))
    return count


def _about(text: tuple, subject: tuple) -> tuple:
    """('新待办：… · 赠予李大爷：…', 'New task: … · Gift to 李大爷: …'): a text and the case it is about, each a
    (Chinese, English or None) pair of `in_both`."""
    return tuple(f'{t} · {s}' if s and t else t for t, s in zip((text[0], text[1] or text[0]),
                                                                (subject[0], subject[1] or subject[0]), strict=True))


def notify_decision(instance: WorkflowInstance, decision: Decision, created=()) -> int:
    """Tell the submitter about a reviewer's decision (never about their own actions); an acceptor review names
    its acceptor (接单人审核（李晓敏）), so two decisions on one order can be told apart. Whoever else must act
    on what a rejection sent back (ProcessHooks.decision_audience) learns the reason with the returned step: their
    message leads to that task and, announcing it as well, is read once the task is handled. The submitter of an
    approved case also learns what comes next: the steps the decision opened (`created`) for others, or that the
    review is complete (their own new step is announced with the message already: 新待办). A process may word the
    submitter's message itself (ProcessHooks.decision_text: 报名成功：您已被录取参加「…」（when, where）)."""
    if decision.decision == 'submit':
        return 0
    after = []
    if decision.decision == 'approve':
        after = ['done'] if instance.status == 'completed' else list(dict.fromkeys(
            t.title for t in created if t.assignee_id is None or t.assignee_id != instance.submitter_id))
    audience = {uid: link for uid, link in hooks_for(instance.process_key).decision_audience(instance, decision).items()
                if uid is not None and uid != decision.actor_id}
    subject = instance.title or instance.process_key
    # the submitter's message in their own words, where the process has them (a sign-up: 报名成功：您已被录取参加…)
    worded = hooks_for(instance.process_key).decision_text(instance, decision) \
        if instance.submitter_id in audience else None
    count = 0
    for uid, link in audience.items():
        own = uid == instance.submitter_id
        title = in_both(worded if own and worded is not None else
                        lambda own=own: _decision_title(decision, subject, own, after if own else ()))
        rows = send([uid], kind='decision', title=title, body=decision.reason or '', link=link)
        # the submitter's rejection asks for their corrected submission; anyone else's message is merged with
        # the 新待办 of the returned task (notify_new_tasks), so that it counts as that to-do
        if decision.decision == 'reject' and uid == instance.submitter_id and link == f'/m/cases/{instance.id}':
            _rejections().update((row.user_id, link) for row in rows)
        count += len(rows)
    return count


def _decision_title(decision: Decision, subject: str, own: bool, after=()) -> str:
    """'您的提交「…」社工站初审：不通过，原因：…' or '…：已通过，下一步：镇街终审' in the current language."""
    values = {'subject': stored_text(subject), 'step': step_with_subject(decision.task_title, decision.subject),
              'word': {'approve': pgettext('decision', '已通过'),
                       'reject': pgettext('decision', '不通过')}.get(decision.decision, decision.decision)}
    title = (gettext('您的提交「%(subject)s」%(step)s：%(word)s', **values) if own
             else gettext('「%(subject)s」%(step)s：%(word)s', **values))
    if decision.decision == 'reject' and decision.reason:
        title += gettext('，原因：%(reason)s', reason=decision.reason)
    if list(after) == ['done']:
        title += gettext('，审核已全部完成')
    elif after:
        title += gettext('，下一步：%(steps)s', steps=gettext('、').join(step_name(t) for t in after))
    return title


def unread_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Message).where(
        Message.user_id == user.id, Message.read_at.is_(None))) or 0


def list_for(user, page: int = 1, per_page: int = 20, unread_only: bool = False):
    """(rows, total) of the user's messages, newest first."""
    cond = Message.user_id == user.id
    if unread_only:
        cond = cond & Message.read_at.is_(None)
    return paged(select(Message).where(cond).order_by(Message.created_at.desc(), Message.id.desc()), page, per_page)


def unread_reminders(user, limit: int = 3):
    """(newest unread reminders, how many there are) for the after-login notice."""
    cond = (Message.user_id == user.id) & Message.read_at.is_(None) & (Message.kind == 'reminder')
    total = db.session.scalar(select(func.count()).select_from(Message).where(cond)) or 0
    rows = db.session.scalars(select(Message).where(cond).order_by(Message.created_at.desc(), Message.id.desc())
                              .limit(limit)).all() if total else []
    return rows, total


def _own(user, message_id) -> Message:
    row = db.session.get(Message, row_id(message_id)) if row_id(message_id) else None
    if row is None or row.user_id != user.id:
        raise NotFound()
    return row


def open_message(user, message_id) -> str:
    """Mark the user's message read and return where it points ('' when nowhere)."""
    with transaction():
        row = _own(user, message_id)
        if row.read_at is None:
            row.read_at = utcnow()
        link = row.link
    return link


def mark_read(user, message_id) -> Message:
    with transaction():
        row = _own(user, message_id)
        if row.read_at is None:
            row.read_at = utcnow()
    return row


def mark_all_read(user) -> int:
    with transaction():
        return db.session.execute(update(Message).where(Message.user_id == user.id, Message.read_at.is_(None))
                                  .values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def _scope_codes(data: dict, params: dict) -> list[str]:
    value = params.get('scope')
    if value is None and params.get('scope_var'):
        value = data.get(params['scope_var'])
    if value is None:
        return []
    return [str(value)] if isinstance(value, (str, int)) else [str(v) for v in value]


@service_tasks.register('messages.remind')
def remind(data: dict, params: dict) -> dict:
    """Service task: a reminder to every user of `role` in the scope (org-unit codes in `scope` or in the
    data variable named by `scope_var`); links to the instance's open task of that role."""
    role, codes = params.get('role'), _scope_codes(data, params)
    paths = list(db.session.scalars(select(OrgUnit.path).where(OrgUnit.code.in_(codes)))) if codes else []
    instance_id = data.get('instance_id')
    task = db.session.scalar(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.lane == role, HumanTask.status == 'open')
        .order_by(HumanTask.id.desc()).limit(1)) if instance_id else None
    link = f'/inbox/tasks/{task.id}' if task else (f'/cases/{instance_id}' if instance_id else '')
    subject = db.session.scalar(select(WorkflowInstance.title).where(WorkflowInstance.id == instance_id)) \
        if instance_id else None
    def title():  # a title typed in the diagram reads in English where the catalogue knows it
        text = gettext(str(params.get('title'))) if params.get('title') else gettext('提醒')
        return f'{text} · {stored_text(subject)}' if subject else text
    body = (lambda: gettext(str(params['body']))) if params.get('body') else ''
    sent = send(users_in_scope(role, paths), kind='reminder', title=title, body=body, link=link)
    return {'sent': len(sent)}
