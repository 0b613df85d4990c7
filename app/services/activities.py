"""Activity publishing (志愿活动发布): domain rules, service tasks and the public list.

Chain (bpmn/activity_publish.bpmn): submit -> classify (white/black list, veterans) -> 广志协 review
unless whitelisted and not blacklisted -> 退役军人事务局 final review for veterans' activities -> publish.
"""
import json
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import case as sql_case
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Activity, Decision, HumanTask, OrgUnit, WorkflowInstance
from app.models.base import utcnow
from app.services import forms, org_cache, paged, sensitive_words, tasks, unit_lists
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.hooks import CaseVariable, ProcessHooks, register
from app.services.step_names import WHITELIST_REASON
from workflows import service_tasks

PROCESS_KEY = 'activity_publish'
FORM_KEY = 'activity_publish.json'
VIEW_KEY = 'activity_publish_view.json'  # the same fields plus team and list status, all read-only
PUBLISHER_ROLES = {'team_admin', 'station_admin'}
VETERANS_TAG = 'veterans'
BEIJING = ZoneInfo('Asia/Shanghai')
CHECKED_FIELDS = ('title', 'description', 'place', 'tags')
MAX_TAGS, MAX_TAG_LEN = 10, 16
STATUS_LABELS = {'pending': _l('审核中'), 'published': _l('已发布'), 'rejected': _l('未通过'), 'abandoned': _l('已终止'),
                 'withdrawn': _l('已退回修改')}
SKIP_TITLE, SKIP_REASON = '广志协审核（白名单免审）', WHITELIST_REASON  # in Chinese; shown: step_name, stored_text
_TOKEN = re.compile(r"[^\s,，、;；\[\]'\"]+")
_DEFERRED = 'activity_deferred_decisions'


def tag_labels(english=False) -> dict[str, str]:
    prop = forms.get_form(FORM_KEY)['properties']['tags']
    return prop['x-tags_en' if english else 'x-tags']


def parse_tags(raw) -> tuple[list[str], list[str]]:
    """(tags, problems): a list, a comma-separated string or labels -> known keys plus free tags. Only texts are tags:
    a number, true/false or null among them is refused, never kept as "1" or "None"."""
    if isinstance(raw, list):
        if not all(isinstance(t, str) for t in raw):
            return [], [str(_l('应为文字列表'))]
        raw = ','.join(raw)
    elif raw is not None and not isinstance(raw, str):
        return [], [str(_l('应为文字列表'))]
    by_label = {}
    for english in (False, True):
        by_label.update({v.lower(): k for k, v in tag_labels(english).items()})
    tags, problems = [], []
    for token in _TOKEN.findall(raw or ''):
        key = token if token in tag_labels() else by_label.get(token.lower(), token)
        if len(key) > MAX_TAG_LEN:
            problems.append(str(_l('标签“%(t)s”太长（不超过 %(n)s 个字）', t=key, n=MAX_TAG_LEN)))
        elif key not in tags:
            tags.append(key)
    if len(tags) > MAX_TAGS:
        problems.append(str(_l('最多 %(n)s 个标签', n=MAX_TAGS)))
    return tags, problems


def parse_time(value: str) -> datetime:
    """An ISO time from the form; without an offset it is Beijing time. Returned in UTC."""
    dt = datetime.fromisoformat(value)
    return (dt if dt.tzinfo else dt.replace(tzinfo=BEIJING)).astimezone(UTC)


def beijing(dt) -> str:
    return dt.astimezone(BEIJING).strftime('%Y-%m-%d %H:%M') if dt else ''


def publishing_unit(user) -> OrgUnit | None:
    """The team (or station) a publisher acts for: their first team/station admin membership."""
    return next((m.org_unit for m in user.memberships if m.role in PUBLISHER_ROLES), None)


def can_publish(user) -> bool:
    """Only team and station administrators publish activities (the chain's start_roles)."""
    return any(m.role in PUBLISHER_ROLES for m in user.memberships)


def _root_code() -> str:
    return db.session.scalar(select(OrgUnit.code).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id).limit(1))


def _problems(clean: dict) -> tuple[dict, dict]:
    """(errors, times) of the domain rules for the fields present in `clean` (a field that failed the form's own
    checks is left out), so one refused submission names every problem at once. Writes nothing."""
    errors: dict = {}
    clean['tags'], problems = parse_tags(clean.get('tags'))
    if problems:
        errors['tags'] = problems
    times = {}
    for name, key in (('start_at', 'start'), ('end_at', 'end')):
        try:
            times[key] = parse_time(clean[name]) if clean.get(name) else None
        except (TypeError, ValueError):
            times[key] = None
    start, end = times['start'], times['end']
    if start and end and end <= start:
        errors['end_at'] = [str(_l('结束时间须晚于开始时间'))]
    if start and start < utcnow():
        errors['start_at'] = [str(_l('开始时间不能早于现在'))]
    try:
        sensitive_words.check_fields(clean, [f for f in CHECKED_FIELDS if f in clean])
    except ValidationFailed as exc:
        for name, msgs in exc.errors.items():
            errors.setdefault(name, []).extend(msgs)
    return errors, times


def _check(clean: dict) -> dict:
    errors, times = _problems(clean)
    if errors:
        raise ValidationFailed(errors)
    return times


class ActivityHooks(ProcessHooks):
    process_key = PROCESS_KEY
    start_roles = PUBLISHER_ROLES
    display_form = VIEW_KEY
    # what prepare puts into the case data besides the form's fields
    scope_variables = {
        'review_scope': CaseVariable(_l('全市（广志协）'), 'city'),
        'veterans_scope': CaseVariable(_l('全市（退役军人事务局）'), 'city'),
    }
    data_variables = {
        'activity_id': CaseVariable(_l('活动记录的编号')),
        'revision': CaseVariable(_l('第几次提交（退回后再提交加 1）')),
        'team_unit': CaseVariable(_l('发布团队的单位编码')),
    }

    def prepare(self, user, instance, task, form_key, clean):
        if form_key != FORM_KEY:
            return clean
        times = _check(clean)
        team = publishing_unit(user) or db.session.get(OrgUnit, latest(instance.id).team_id)
        street = org_cache.by_code(clean['street'])
        previous = db.session.scalar(select(func.max(Activity.version)).where(Activity.instance_id == instance.id)) or 0
        act = Activity(instance_id=instance.id, version=previous + 1, status='pending', title=clean['title'],
                       service_field=clean['service_field'], tags_json=json.dumps(clean['tags'], ensure_ascii=False),
                       street_id=street.id, place=clean['place'], start_at=times['start'], end_at=times['end'],
                       recruit_count=clean['recruit_count'], description=clean['description'], team_id=team.id,
                       is_veterans=VETERANS_TAG in clean['tags'] or team.is_veterans, submitted_by_id=user.id)
        db.session.add(act)
        db.session.flush()
        instance.title = clean['title'][:200]
        instance.business_key = f'activity:{act.id}'
        root = _root_code()
        return {**clean, 'activity_id': act.id, 'revision': act.version, 'team_unit': team.code,
                'review_scope': [root], 'veterans_scope': [root]}

    def problems(self, user, instance, task, form_key, valid):
        return _problems(dict(valid))[0] if form_key == FORM_KEY else {}

    def display(self, instance):
        act = latest(instance.id)
        return as_display(act) if act else {}

    def resubmit_values(self, instance):
        act = latest(instance.id)
        return {**form_values(act), 'tags': '，'.join(tags_of(act))} if act else {}

    def on_reset(self, instance, run, step, reason):
        """An activity the operator sends back is not public meanwhile. Back in review it waits (its sign-ups kept,
        none admitted) until the review publishes it again or rejects it (which ends them, see _reject). Back with
        the team to be changed, a corrected version is a new activity: this one is withdrawn, its sign-ups end."""
        act = db.session.scalar(select(Activity).where(Activity.instance_id == instance.id)  # its sign-ups wait
                                .order_by(Activity.version.desc()).limit(1).with_for_update(of=Activity)
                                .execution_options(populate_existing=True))
        if act is None:
            return
        if 'submit' not in run.ready_bpmn_ids():
            act.status = 'pending'
        elif act.status in ('pending', 'published'):
            act.status = 'withdrawn'
            if act.published_at is not None:
                _end_signups(act, _l('活动已被管理员退回发布单位修改，原发布已撤销，报名随之结束；活动修改后重新发布时可再报名'),
                             _l('您报名的活动「%(title)s」已退回发布单位修改，原发布已撤销，您的报名已结束；活动重新发布后可再报名',
                                title=act.title))


register(ActivityHooks())


def latest(instance_id) -> Activity | None:
    return db.session.scalar(select(Activity).where(Activity.instance_id == instance_id)
                             .order_by(Activity.version.desc()).limit(1))


def tags_of(act: Activity) -> list[str]:
    return json.loads(act.tags_json or '[]')


def as_display(act: Activity) -> dict:
    """The fields of forms/activity_publish_view.json as a reviewer reads them."""
    labels = tag_labels(forms.is_english())
    on = unit_lists.flags(act.team_id)
    listed = _l('黑名单（不可免审）') if on['black'] else _l('白名单') if on['white'] else None
    return {'title': act.title, 'service_field': act.service_field, 'street': act.street.code, 'place': act.place,
            'tags': str(_l('、')).join(labels.get(t, t) for t in tags_of(act)), 'start_at': beijing(act.start_at),
            'end_at': beijing(act.end_at), 'recruit_count': act.recruit_count, 'description': act.description,
            'team_name': act.team.name,
            # shown once: the tag already says it; the row only for a veterans' team's activity without the tag
            'veterans_label': str(_l('是')) if act.is_veterans and VETERANS_TAG not in tags_of(act) else None,
            'list_status': str(listed) if listed else None, 'activity_id': act.id, 'version': act.version,
            'status': act.status}


def public_view(act: Activity) -> dict:
    """What anyone may read about a published activity (no list status; the page's badge says it is a veterans'
    activity, so neither the tag nor the row repeats it)."""
    labels = tag_labels(forms.is_english())
    tags = str(_l('、')).join(labels.get(t, t) for t in tags_of(act) if t != VETERANS_TAG)
    return {**as_display(act), 'list_status': None, 'veterans_label': None, 'tags': tags}


def as_dict(act: Activity) -> dict:
    """JSON view (API)."""
    iso = lambda dt: dt.isoformat() if dt else None  # noqa: E731
    return {'id': act.id, 'instance_id': act.instance_id, 'version': act.version, 'status': act.status,
            'title': act.title, 'service_field': act.service_field, 'tags': tags_of(act), 'street': act.street.code,
            'street_name': act.street.name, 'place': act.place, 'start_at': iso(act.start_at), 'end_at': iso(act.end_at),
            'recruit_count': act.recruit_count, 'description': act.description,
            'team': {'code': act.team.code, 'name': act.team.name}, 'is_veterans': act.is_veterans,
            'published_at': iso(act.published_at), 'reject_reason': act.reject_reason}


def form_values(act: Activity) -> dict:
    """A stored version as values of the publish form (Beijing times for datetime-local inputs)."""
    local = lambda dt: dt.astimezone(BEIJING).strftime('%Y-%m-%dT%H:%M')  # noqa: E731
    return {'title': act.title, 'service_field': act.service_field, 'tags': tags_of(act), 'street': act.street.code,
            'place': act.place, 'start_at': local(act.start_at), 'end_at': local(act.end_at),
            'recruit_count': act.recruit_count, 'description': act.description}


# ---- service tasks -------------------------------------------------------------------------------

def _activity(data) -> Activity:
    return db.session.get(Activity, data['activity_id'])


@service_tasks.register('activity.classify')
def _classify(data, params):
    """Read the lists and the veterans flags now; the diagram's gateways decide on the result."""
    team = org_cache.by_code(data['team_unit'])
    on = unit_lists.flags(team.id)
    veterans = VETERANS_TAG in (data.get('tags') or []) or bool(team.is_veterans)
    act = _activity(data)
    act.is_veterans = act.is_veterans or veterans
    return {'whitelisted': on['white'], 'blacklisted': on['black'], 'veterans': veterans}


@service_tasks.register('activity.skip_review')
def _skip_review(data, params):
    """Write '白名单免审' into the history (after the submit row, see _flush_deferred). A blacklisted or
    no longer whitelisted team is refused here too, even if an edited diagram routed it this way."""
    team = org_cache.by_code(data['team_unit'])
    on = unit_lists.flags(team.id)
    if on['black'] or not on['white']:
        raise RuntimeError('只有白名单且不在黑名单中的单位可以免予广志协审核')
    instance = db.session.get(WorkflowInstance, data['instance_id'])
    db.session.info.setdefault(_DEFERRED, []).append(dict(
        instance_id=instance.id, bpmn_id='skip_review', task_title=SKIP_TITLE, lane='association_admin',
        role='association_admin', decision='auto', reason=SKIP_REASON, version=instance.version.version,
        data_json=json.dumps({'team_unit': data['team_unit'], 'classify_result': data.get('classify_result')},
                             ensure_ascii=False)))
    return {'skipped': True}


@event.listens_for(Session, 'before_commit')
def _flush_deferred(session):
    for kw in session.info.pop(_DEFERRED, []):
        session.add(Decision(at=utcnow(), **kw))


@event.listens_for(Session, 'after_soft_rollback')
def _drop_deferred(session, previous_transaction):
    session.info.pop(_DEFERRED, None)


def _end_signups(act: Activity, why, told) -> None:
    from app.services.activity_signups import close_for_activity  # it imports this module
    close_for_activity(act, why, told)


def _withdrawn(act: Activity) -> None:
    """A published activity that a review sent back again did not pass: its sign-ups end with it."""
    if act.published_at is not None:
        _end_signups(act, _l('活动重新审核未通过，已撤销发布，报名随之结束'),
                     _l('您报名的活动「%(title)s」重新审核未通过，已撤销发布，您的报名已结束', title=act.title))


@service_tasks.register('activity.reject')
def _reject(data, params):
    act = _activity(data)
    act.status, act.decided_at = 'rejected', utcnow()
    act.reject_stage, act.reject_reason = params.get('stage'), data.get('reason')
    _withdrawn(act)
    return {'status': 'rejected'}


def _bureau_approved(act: Activity) -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.instance_id == act.instance_id, HumanTask.lane == 'veterans_admin',
        HumanTask.status == 'completed', HumanTask.decision == 'approve', HumanTask.completed_at >= act.created_at)))


@service_tasks.register('activity.publish')
def _publish(data, params):
    """Publish; a veterans' activity without the bureau's approval of this version is refused."""
    act = _activity(data)
    if (act.is_veterans or (data.get('classify_result') or {}).get('veterans')) and not _bureau_approved(act):
        raise RuntimeError('退役军人志愿活动未经退役军人事务局终审，不能发布')
    act.status, act.decided_at, act.published_at = 'published', utcnow(), utcnow()
    act.instance.outcome = 'approved'
    return {'status': 'published'}


@service_tasks.register('activity.abandon')
def _abandon(data, params):
    act = _activity(data)
    act.status, act.decided_at = 'abandoned', utcnow()
    act.instance.outcome = 'abandoned'
    _withdrawn(act)
    return {'status': 'abandoned'}


# ---- use cases -------------------------------------------------------------------------------------

def published(q=None, page=1, per_page=20):
    """(rows, total) of published activities, no login needed: the ones still to come or under way first, soonest
    first; then the ended ones, most recent first."""
    cond = Activity.status == 'published'
    if q:
        cond = cond & Activity.title.contains(q.strip()[:50], autoescape=True)
    ended = Activity.end_at < utcnow()
    order = (sql_case((ended, 1), else_=0), sql_case((ended, None), else_=Activity.start_at), Activity.start_at.desc(),
             Activity.id.desc())
    return paged(select(Activity).where(cond).order_by(*order), page, per_page)


def public_detail(activity_id) -> Activity:
    """An activity that is published, or was (its page says it is under review again or withdrawn); 404 for one
    never published."""
    act = db.session.get(Activity, activity_id)
    if act is None or (act.status != 'published' and act.published_at is None):
        raise NotFound()
    return act


def public_state(act: Activity) -> str:
    """'published'; 'reviewing': sent back for review, not public until it is published again; 'withdrawn': no
    longer published (rejected, or replaced by a corrected version)."""
    if act.status == 'published':
        return 'published'
    return 'reviewing' if act.status == 'pending' else 'withdrawn'


def mine(user, page=1, per_page=20):
    """(latest version of each of the user's activities, total)."""
    newest = select(Activity.instance_id, func.max(Activity.version).label('v')).where(
        Activity.submitted_by_id == user.id).group_by(Activity.instance_id).subquery()
    base = select(Activity).join(newest, (Activity.instance_id == newest.c.instance_id) & (Activity.version == newest.c.v))
    return paged(base.order_by(Activity.id.desc()), page, per_page)


def publish(user, values: dict) -> WorkflowInstance:
    """Start the chain with the submitted form (422 and nothing stored on any problem)."""
    return tasks.start_instance(user, PROCESS_KEY, values)


def _own_case(user, instance_id):
    inst = tasks.visible_instance(user, instance_id)
    if inst.process_key != PROCESS_KEY or inst.submitter_id != user.id:
        raise NotFound()
    return inst


def resubmit_task(user, instance_id) -> HumanTask | None:
    inst = _own_case(user, instance_id)
    return next((t for t in tasks.open_tasks(inst.id) if t.assignee_id == user.id), None)


def case(user, instance_id) -> dict:
    """The team's view of one activity: status, history, the last rejection and whether it can be resubmitted."""
    inst = _own_case(user, instance_id)
    view = tasks.case_view(user, inst.id)
    # the white/black list is the association's review aid (SPEC: shown in review lists), not told to the team
    data = {k: v for k, v in (view['data'] or {}).items() if k != 'list_status'}
    return {**view, 'data': data, 'activity': latest(inst.id), 'resubmit': resubmit_task(user, inst.id)}


def returned_reason(view: dict) -> dict | None:
    """The review that sent the activity back (step, who, reason: a row of the case's history) while it waits for
    the team's corrected version; None otherwise."""
    if view.get('resubmit') is None:
        return None
    reviews = [h for h in view['history'] if h['decision'] in ('approve', 'reject')]
    return reviews[-1] if reviews and reviews[-1]['decision'] == 'reject' else None


def resubmit(user, instance_id, values: dict) -> WorkflowInstance:
    """Complete the returned form with the corrected activity (a new version)."""
    task = resubmit_task(user, instance_id)
    if task is None:
        raise Conflict(_l('该活动当前无需修改'))
    return tasks.complete_task(user, task.id, data=values)
