"""Activity sign-ups (活动报名): a volunteer signs up to a published activity, its publishing unit reviews.

Chain (bpmn/activity_signup.bpmn): submit -> the publishing team's admins (team_admin) or, for an activity a station
published, the station's (station_admin) -> approve (录取) | reject with a reason. The places are counted under a
lock of the activity row, at sign-up and again at approval, so two reviewers cannot fill more than the recruit
count; a volunteer holds at most one pending or approved sign-up per activity (a partial unique index).
"""
import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Activity, ActivitySignup, AuditLog, Decision, HumanTask
from app.models.activity_signup import ACTIVE_STATUSES
from app.models.base import utcnow
from app.services import in_chinese, messages, row_id, tasks, transaction
from app.services.activities import beijing
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.hooks import CaseVariable, ProcessHooks, register
from app.services.instances import cancel_run, lock_instance
from app.services.step_names import SIGNUP_TITLE
from app.services.validators import clean_text, reason_too_long
from workflows import service_tasks

PROCESS_KEY = 'activity_signup'
FORM_KEY = 'activity_signup.json'
VIEW_KEY = 'activity_signup_view.json'
# the kind of the publishing unit -> the role whose admins review its sign-ups (the diagram's lanes)
REVIEW_ROLES = {'team': 'team_admin', 'station': 'station_admin'}
CANCEL_REASON_MAX = 200  # activity_signup.cancel_reason
STATUS_LABELS = {'pending': _l('待审核'), 'approved': _l('已录取'), 'rejected': _l('未通过'), 'cancelled': _l('已取消'),
                 'expired': _l('已过期'), 'withdrawn': _l('活动已撤销')}
CANCEL_TITLE = '志愿者取消报名'
WITHDRAWN_TITLE = '活动撤销，报名结束'  # the history row of a sign-up its activity's withdrawal ended


def is_volunteer(user) -> bool:
    return any(m.role == 'volunteer' for m in user.memberships)


def approved_count(activity_id) -> int:
    return db.session.scalar(select(func.count()).select_from(ActivitySignup).where(
        ActivitySignup.activity_id == activity_id, ActivitySignup.status == 'approved')) or 0


def approved_counts(activity_ids) -> dict[int, int]:
    """{activity id: approved sign-ups} for a page of activities (one query; an activity without any is absent)."""
    if not activity_ids:
        return {}
    return dict(db.session.execute(select(ActivitySignup.activity_id, func.count()).where(
        ActivitySignup.activity_id.in_(list(activity_ids)), ActivitySignup.status == 'approved')
        .group_by(ActivitySignup.activity_id)).all())


def _lock_activity(activity_id) -> Activity | None:
    """The activity row, locked for this transaction: sign-ups and approvals of one activity go one at a time."""
    return db.session.scalar(select(Activity).where(Activity.id == activity_id).with_for_update(of=Activity)
                             .execution_options(populate_existing=True))


def _active(user_id, activity_id) -> ActivitySignup | None:
    return db.session.scalar(select(ActivitySignup).where(
        ActivitySignup.activity_id == activity_id, ActivitySignup.volunteer_id == user_id,
        ActivitySignup.status.in_(ACTIVE_STATUSES)).limit(1))


def _full(act: Activity, approved: int) -> Conflict:
    return Conflict(_l('活动名额已满（已录取 %(n)s / 招募 %(total)s）', n=approved, total=act.recruit_count), code='full')


def not_published(act: Activity):
    """Why a sign-up to an activity that is not published now is refused: one sent back for review again (it was
    published, it may be again) waits; any other is not open."""
    if act.status == 'pending' and act.published_at is not None:
        return _l('该活动已退回重新审核，审核期间暂停报名；审核通过重新发布后可以报名')
    if act.published_at is not None:
        return _l('该活动已撤销，不能报名')
    return _l('该活动未发布，不能报名')


def _check_open(user, act: Activity | None) -> None:
    """Refuse a sign-up to an activity that is not open to it, with the reason in words."""
    if act is None:
        raise Conflict(_l('该活动未发布，不能报名'), code='not_published')
    if act.status != 'published':
        raise Conflict(not_published(act), code='under_review' if act.status == 'pending' else 'not_published')
    if act.start_at is not None and act.start_at <= utcnow():
        raise Conflict(_l('活动已开始或已结束，不能报名'), code='started')
    earlier = _active(user.id, act.id)
    if earlier is not None:
        raise Conflict(_l('您已报名该活动（%(status)s），请勿重复报名', status=STATUS_LABELS[earlier.status]),
                       code='already_signed_up')
    approved = approved_count(act.id)
    if approved >= act.recruit_count:
        raise _full(act, approved)


class SignupHooks(ProcessHooks):
    process_key = PROCESS_KEY
    start_roles = {'volunteer'}
    display_form = VIEW_KEY
    scope_variables = {
        'team_scope': CaseVariable(_l('发布活动的团队'), 'team'),
        'station_scope': CaseVariable(_l('发布活动的社工站'), 'station'),
    }
    data_variables = {
        'activity_id': CaseVariable(_l('活动记录的编号')),
        'signup_id': CaseVariable(_l('报名记录的编号')),
        'publisher_kind': CaseVariable(_l('发布单位的类型（team：团队，station：社工站）')),
        'publisher_unit': CaseVariable(_l('发布单位的编码')),
        'expire_at': CaseVariable(_l('活动的开始时间（到时仍未审核的报名自动结束）')),
    }
    unkept_forms = frozenset({FORM_KEY})

    def prepare(self, user, instance, task, form_key, clean):
        if form_key == FORM_KEY:
            return _start(user, instance, clean)
        if clean.get('decision') == 'approve':
            _check_approvable(for_instance(instance.id))
        return clean

    def display(self, instance):
        signup = for_instance(instance.id)
        return as_display(signup) if signup else {}

    def reason_hint(self, task):
        return str(_l('不通过的原因会显示给报名的志愿者。'))

    def decision_text(self, instance, decision):
        """The volunteer's result in their words: 报名成功 with when and where, or 报名未通过 with the reason."""
        signup = for_instance(instance.id)
        if signup is None or decision.decision not in ('approve', 'reject'):
            return None
        act = signup.activity
        if decision.decision == 'approve':
            return _l('报名成功：您已被录取参加「%(title)s」（%(when)s，%(place)s）', title=act.title,
                      when=beijing(act.start_at), place=act.place)
        if decision.reason:
            return _l('报名未通过：「%(title)s」，原因：%(reason)s', title=act.title, reason=decision.reason)
        return _l('报名未通过：「%(title)s」', title=act.title)

    def may_view(self, user, instance):
        signup = for_instance(instance.id)
        return signup is not None and may_manage(user, signup.activity)

    def status_label(self, instance):
        signup = for_instance(instance.id)
        if signup is None or signup.status == 'pending':
            return None
        return str(STATUS_LABELS[signup.status])


register(SignupHooks())


def _start(user, instance, clean) -> dict:
    """The submit step: check the activity under its lock, store the sign-up, hand the engine its routing."""
    act = _lock_activity(clean['activity_id'])
    _check_open(user, act)
    signup = ActivitySignup(activity_id=act.id, volunteer_id=user.id, instance_id=instance.id, status='pending',
                            phone=clean['phone'], note=(clean.get('note') or '').strip() or None, created_at=utcnow())
    db.session.add(signup)
    try:
        db.session.flush()
    except IntegrityError as exc:  # a second tap that raced past the check: the unique index refuses it
        raise Conflict(_l('您已报名该活动，请勿重复报名'), code='already_signed_up') from exc
    instance.title = (SIGNUP_TITLE % {'name': user.display_name, 'title': act.title})[:200]  # shown: stored_text
    instance.business_key = f'signup:{signup.id}'
    unit = act.team
    return {'activity_id': act.id, 'signup_id': signup.id, 'publisher_kind': unit.kind, 'publisher_unit': unit.code,
            'team_scope': [unit.code], 'station_scope': [unit.code], 'expire_at': act.start_at.isoformat()}


def _check_approvable(signup: ActivitySignup | None) -> None:
    """An approval takes a place: refused once the activity has started or every place is taken (counted under the
    activity's lock, so two reviewers approving at once cannot over-fill it)."""
    if signup is None or signup.status != 'pending':
        raise Conflict()
    act = _lock_activity(signup.activity_id)
    if act.status != 'published':  # back in review: its sign-ups wait; withdrawn: they were closed with it
        raise Conflict(_l('该活动已退回重新审核，重新发布前不能录取；可等审核通过后再录取，或选择“不通过”并说明原因')
                       if act.status == 'pending' else _l('该活动已撤销，不能录取'), code='not_published')
    if act.start_at is not None and act.start_at <= utcnow():
        raise Conflict(_l('活动已开始，不能再录取，请选择“不通过”并说明原因'), code='started')
    approved = approved_count(act.id)
    if approved >= act.recruit_count:
        raise Conflict(_l('活动名额已满（已录取 %(n)s / 招募 %(total)s），不能再录取，请选择“不通过”并说明原因',
                          n=approved, total=act.recruit_count), code='full')


def for_instance(instance_id) -> ActivitySignup | None:
    return db.session.scalar(select(ActivitySignup).where(ActivitySignup.instance_id == instance_id))


def places_text(act: Activity, approved: int | None = None) -> str:
    approved = approved_count(act.id) if approved is None else approved
    return str(_l('已录取 %(n)s / 招募 %(total)s', n=approved, total=act.recruit_count))


def as_display(signup: ActivitySignup) -> dict:
    """The fields of forms/activity_signup_view.json (what the reviewer and the volunteer read)."""
    act = signup.activity
    return {'activity_title': act.title, 'activity_time': f'{beijing(act.start_at)} – {beijing(act.end_at)}',
            'activity_place': f'{act.street.name} · {act.place}', 'publisher_name': act.team.name,
            'volunteer_name': signup.volunteer.display_name, 'phone': signup.phone, 'note': signup.note,
            'places': places_text(act), 'status_label': str(STATUS_LABELS[signup.status])}


def as_dict(signup: ActivitySignup) -> dict:
    """JSON view (API)."""
    iso = lambda dt: dt.isoformat() if dt else None  # noqa: E731
    return {'id': signup.id, 'activity_id': signup.activity_id, 'activity_title': signup.activity.title,
            'instance_id': signup.instance_id, 'volunteer': signup.volunteer.username,
            'volunteer_name': signup.volunteer.display_name, 'phone': signup.phone, 'note': signup.note,
            'status': signup.status, 'status_label': str(STATUS_LABELS[signup.status]), 'reason': signup.reason,
            'cancel_reason': signup.cancel_reason, 'created_at': iso(signup.created_at),
            'decided_at': iso(signup.decided_at), 'cancelled_at': iso(signup.cancelled_at)}


# ---- service tasks -------------------------------------------------------------------------------

def _signup(data) -> ActivitySignup:
    return db.session.get(ActivitySignup, data['signup_id'])


@service_tasks.register('signup.approve')
def _approve(data, params):
    """录取: the place is taken (the review step checked it under the activity's lock; checked again here in case an
    edited diagram reaches this step another way)."""
    signup = _signup(data)
    act = _lock_activity(signup.activity_id)
    if signup.status != 'pending':
        return {'status': signup.status}
    if act.status != 'published':
        raise RuntimeError('活动未发布，不能录取')
    if approved_count(act.id) >= act.recruit_count:
        raise RuntimeError('活动名额已满，不能再录取')
    signup.status, signup.decided_at = 'approved', utcnow()
    signup.instance.outcome = 'approved'
    return {'status': 'approved'}


@service_tasks.register('signup.reject')
def _reject(data, params):
    signup = _signup(data)
    if signup.status != 'pending':
        return {'status': signup.status}
    signup.status, signup.decided_at, signup.reason = 'rejected', utcnow(), data.get('reason')
    signup.instance.outcome = 'rejected'
    return {'status': 'rejected'}


@service_tasks.register('signup.expire')
def _expire(data, params):
    """The activity started while the sign-up still waited for review: it ends unreviewed (a place can no longer be
    given), the history says so and the volunteer is told."""
    signup = _signup(data)
    if signup.status != 'pending':
        return {'status': signup.status}
    signup.status, signup.decided_at = 'expired', utcnow()
    instance = signup.instance
    instance.outcome = 'expired'
    why = in_chinese(_l('活动开始时仍未审核，报名自动结束'))
    # a history row's reason is kept in Chinese, like every system row's (gifts: 广志协审核（逾期）)
    db.session.add(Decision(instance_id=instance.id, bpmn_id='expire', task_title='报名审核（逾期）',
                            lane=None, role='system', decision='auto', reason=why,
                            version=instance.version.version, data_json=json.dumps({'signup_id': signup.id}),
                            at=utcnow()))
    messages.send([signup.volunteer_id], kind='decision', link=f'/activities/{signup.activity_id}',
                  title=_l('您报名的活动「%(title)s」已开始，报名未获审核，已自动结束', title=signup.activity.title))
    return {'status': 'expired'}


# ---- use cases -------------------------------------------------------------------------------------

def open_activity(activity_id) -> Activity:
    """An activity that is or was published (404 for one never published: nobody's to sign up to); one that is not
    published now is refused by _check_open, saying why."""
    act = db.session.get(Activity, row_id(activity_id)) if row_id(activity_id) else None
    if act is None or (act.status != 'published' and act.published_at is None):
        raise NotFound()
    return act


def sign_up(user, activity_id, values: dict) -> ActivitySignup:
    """Start a sign-up (one transaction); a refusal says why in words and stores nothing."""
    if not is_volunteer(user):
        raise Forbidden(_l('只有志愿者可以报名参加志愿活动'))
    act = open_activity(activity_id)
    data = {'activity_id': act.id, 'phone': values.get('phone'), 'note': values.get('note')}
    instance = tasks.start_instance(user, PROCESS_KEY, data)
    return for_instance(instance.id)


def may_manage(user, act: Activity) -> bool:
    """The publishing unit's admins (or a unit above it, in the role that reviews its sign-ups) and the publisher."""
    role = REVIEW_ROLES.get(act.team.kind)
    return act.submitted_by_id == user.id or any(
        m.role == role and act.team.path.startswith(m.org_unit.path) for m in user.memberships)


def own_signup(user, act: Activity) -> ActivitySignup | None:
    """The user's latest sign-up to this activity (any state), for the activity's page."""
    return db.session.scalar(select(ActivitySignup).where(
        ActivitySignup.activity_id == act.id, ActivitySignup.volunteer_id == user.id)
        .order_by(ActivitySignup.id.desc()).limit(1))


def signup_state(user, act: Activity) -> dict:
    """What the activity's page offers about signing up: the count, the user's own sign-up, whether they may sign up
    (and if not, why), and whether they manage its sign-ups."""
    approved = approved_count(act.id)
    mine = own_signup(user, act) if user.is_authenticated else None
    why_not = None
    if act.status != 'published':
        why_not = not_published(act)
    elif act.start_at is not None and act.start_at <= utcnow():
        why_not = _l('活动已开始或已结束，报名已截止')
    elif approved >= act.recruit_count:
        why_not = _l('名额已满')
    elif user.is_authenticated and not is_volunteer(user):
        why_not = _l('只有志愿者可以报名参加志愿活动')
    active = mine is not None and mine.status in ACTIVE_STATUSES
    return {'approved': approved, 'places': places_text(act, approved), 'mine': mine, 'why_not': why_not,
            'can_sign_up': why_not is None and not active,
            'manages': user.is_authenticated and may_manage(user, act)}


def for_activity(user, activity_id) -> dict:
    """The sign-ups of an activity: all of them for its publishing unit's admins, the user's own for anyone else."""
    act = db.session.get(Activity, row_id(activity_id)) if row_id(activity_id) else None
    if act is None:
        raise NotFound()
    manages = may_manage(user, act)
    if not manages and act.status != 'published' and act.published_at is None:
        raise NotFound()
    stmt = select(ActivitySignup).where(ActivitySignup.activity_id == act.id)
    if not manages:
        stmt = stmt.where(ActivitySignup.volunteer_id == user.id)
    rows = list(db.session.scalars(stmt.order_by(ActivitySignup.id)))
    open_ids = dict(db.session.execute(select(HumanTask.instance_id, HumanTask.id).where(
        HumanTask.instance_id.in_([r.instance_id for r in rows]), HumanTask.status == 'open')).all()) if rows else {}
    approved = approved_count(act.id)
    return {'activity': act, 'rows': rows, 'manages': manages, 'approved': approved,
            'places': places_text(act, approved), 'open_tasks': open_ids}


def mine(user, limit: int = 100) -> list[ActivitySignup]:
    """我的报名, newest first."""
    return list(db.session.scalars(select(ActivitySignup).where(ActivitySignup.volunteer_id == user.id)
                                   .order_by(ActivitySignup.id.desc()).limit(limit)))


def visible_signup(user, signup_id) -> ActivitySignup:
    signup = db.session.get(ActivitySignup, row_id(signup_id)) if row_id(signup_id) else None
    if signup is None or signup.volunteer_id != user.id:
        raise NotFound()
    return signup


def cancel(user, signup_id, reason=None) -> ActivitySignup:
    """取消报名: the volunteer's own pending or approved sign-up, before the activity starts. Ends the review if it is
    still open, frees the place, writes the case's history and the audit log, and tells the publishing unit when an
    approved place was freed."""
    message = reason_too_long(reason, CANCEL_REASON_MAX)
    if message:  # refused, never cut
        raise ValidationFailed({'reason': [message]})
    reason = clean_text(reason or '', multiline=True) or None
    with transaction():
        signup = visible_signup(user, signup_id)
        instance = lock_instance(signup.instance_id)
        db.session.refresh(signup)
        if signup.status not in ACTIVE_STATUSES:
            raise Conflict(_l('该报名%(status)s，无需取消', status=STATUS_LABELS[signup.status]), code='not_active')
        act = _lock_activity(signup.activity_id)
        if act.start_at is not None and act.start_at <= utcnow():
            raise Conflict(_l('活动已开始，不能取消报名'), code='started')
        was = signup.status
        if instance.status == 'running':  # the open review leaves the inbox, its 新待办 settled
            cancel_run(instance, 'cancelled')
        instance.outcome = 'cancelled'
        signup.status, signup.cancelled_at, signup.cancel_reason = 'cancelled', utcnow(), reason
        db.session.add(Decision(instance_id=instance.id, bpmn_id='signup_cancel', task_title=CANCEL_TITLE,
                                lane='submitter', actor_id=user.id, role='volunteer', decision='withdraw',
                                reason=reason, data_json=json.dumps({'signup_id': signup.id, 'was': was}),
                                version=instance.version.version, at=utcnow()))
        db.session.add(AuditLog(actor_id=user.id, action='activity_signup.cancel', target=f'activity_signup:{signup.id}',
                                detail_json=json.dumps({'activity_id': act.id, 'was': was, 'reason': reason},
                                                       ensure_ascii=False), at=utcnow()))
        if was == 'approved':
            role = REVIEW_ROLES.get(act.team.kind)
            messages.send(messages.users_in_scope(role, [act.team.path]), kind='info', link=f'/activities/{act.id}/signups',
                          title=_l('%(name)s取消了「%(title)s」的报名，空出 1 个名额', name=user.display_name,
                                   title=act.title))
    return signup


def close_for_activity(act: Activity, why, told) -> list[ActivitySignup]:
    """The activity is no longer published (its review rejected it, or it went back to its unit to be changed): its
    pending and approved sign-ups end as 活动已撤销. An open review leaves the inbox (the instance is cancelled, as
    a volunteer's cancellation does); each case's history says why (`why`), the audit log keeps it, and each
    volunteer gets one message (`told`: its title). Runs inside the caller's transaction."""
    db.session.flush()  # the caller's change of the activity's status, before the lock reloads the row
    _lock_activity(act.id)  # a sign-up or an approval under way finishes first, or sees the activity withdrawn
    rows = db.session.scalars(select(ActivitySignup).where(ActivitySignup.activity_id == act.id,
                                                           ActivitySignup.status.in_(ACTIVE_STATUSES))
                              .order_by(ActivitySignup.id)).all()
    why, closed = in_chinese(why), []
    for signup in rows:
        instance = lock_instance(signup.instance_id)
        db.session.refresh(signup)
        if signup.status not in ACTIVE_STATUSES:
            continue
        was = signup.status
        if instance.status == 'running':  # the open review leaves the inbox, its 新待办 settled
            cancel_run(instance, 'withdrawn')
        instance.outcome = 'withdrawn'
        signup.status, signup.decided_at, signup.reason = 'withdrawn', utcnow(), why
        detail = {'signup_id': signup.id, 'activity_id': act.id, 'was': was}
        db.session.add(Decision(instance_id=instance.id, bpmn_id='activity_withdrawn', task_title=WITHDRAWN_TITLE,
                                lane=None, role='system', decision='auto', reason=why, data_json=json.dumps(detail),
                                version=instance.version.version, at=utcnow()))
        db.session.add(AuditLog(actor_id=None, action='activity_signup.withdrawn', target=f'activity_signup:{signup.id}',
                                detail_json=json.dumps({**detail, 'reason': why}, ensure_ascii=False), at=utcnow()))
        closed.append(signup)
    messages.send([signup.volunteer_id for signup in closed], kind='decision', link=f'/activities/{act.id}', title=told)
    return closed


__all__ = ['cancel', 'close_for_activity', 'for_activity', 'mine', 'sign_up', 'signup_state']
