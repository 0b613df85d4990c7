"""Service tasks of the v_order diagram, and the withdraw/abort actions outside the diagram."""
import json
import math

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    AuditLog,
    HumanTask,
    LedgerEntry,
    Membership,
    OrgUnit,
    User,
    VOrder,
    VOrderVolunteer,
    WorkflowInstance,
)
from app.models.base import utcnow
from app.services import in_chinese, ledger, messages, org_cache, transaction
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.instances import load_run, lock_instance, record_decision, run_step, save_run
from app.services.v_orders import (
    RETURN_STEPS,
    acceptance_label,
    approved_count,
    beijing,
    returnable,
    settle_offers,
    staffed,
    status_label,
    visible_order,
)
from app.services.validators import clean_text, reason_too_long
from workflows import service_tasks

REMINDERS = {'day7': _l('V订单「%(title)s」服务已结束 7 天，请尽快完成时数认证（须在 10 个工作日内完成）'),
             'day12': _l('V订单「%(title)s」服务已结束 12 天，时数认证即将逾期，请在 2 天内完成'),
             'overdue': _l('V订单「%(title)s」时数认证已逾期（超过 14 天），已上报广志协')}


def _tell_acceptor(order: VOrder, row: VOrderVolunteer, reason) -> None:
    """The volunteer who accepted (or was dispatched) learns the station's decision on them; so does the provider
    that dispatched them (its administrators), with the reason of a refusal."""
    def title():
        if row.status == 'approved':
            return _('接单人审核通过：您已确定为V订单「%(title)s」的服务志愿者', title=order.title)
        text = _('接单人审核未通过：V订单「%(title)s」', title=order.title)
        return text + _('，原因：%(reason)s', reason=reason) if reason else text
    messages.send([row.user_id], kind='decision', title=title, body=reason or '', link=f'/orders/{order.id}')
    provider = db.session.get(OrgUnit, row.via_provider_id) if row.via_provider_id else None
    if provider is None:
        return
    name = row.user.display_name

    def told_provider():
        if row.status == 'approved':
            return _('接单人审核通过：您派单的志愿者%(name)s已确定为V订单「%(title)s」的服务志愿者', name=name, title=order.title)
        text = _('接单人审核未通过：社工站未通过您派单的志愿者%(name)s（V订单「%(title)s」）', name=name, title=order.title)
        return text + _('，原因：%(reason)s', reason=reason) if reason else text
    admins = messages.users_in_scope('provider_admin', [provider.path])
    messages.send([u for u in admins if u != row.user_id], kind='decision', title=told_provider, body=reason or '',
                  link=f'/orders/{order.id}')


def _order(data) -> VOrder:
    return db.session.get(VOrder, data['order_id'])


def _finish(order: VOrder, status: str) -> None:
    order.status = status
    order.instance.outcome = status
    order.updated_at = utcnow()


@service_tasks.register('order.reject')
def _reject(data, params):
    _order(data).status = 'rejected'
    return {'status': 'rejected'}


@service_tasks.register('order.abandon')
def _abandon(data, params):
    _finish(_order(data), 'abandoned')
    return {'status': 'abandoned'}


@service_tasks.register('order.open')
def _open(data, params):
    order = _order(data)
    order.status = 'awaiting_dispatch' if data.get('dispatch_mode') == 'provider' else 'open'
    return {'status': order.status}


MAX_ACCEPTORS = 60  # acceptors one order may see, rejected ones included: no endless accept → reject loop


def _inviting(order: VOrder) -> bool:
    """An accept or provider-dispatch task of the order is open, or the station's re-dispatch of an order a provider
    returned (the projection is current: each engine step of the order's locked instance ends by writing it)."""
    return db.session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == order.instance_id, HumanTask.status == 'open',
        HumanTask.bpmn_id.in_(('accept', 'provider_dispatch', 'redispatch'))).limit(1)) is not None


def _may_reopen(order: VOrder) -> bool:
    """Another volunteer may still take a place: places left after the approved and the waiting acceptors, the
    service not yet started, and the order not worn out by rejections."""
    taken = sum(v.status in ('pending', 'approved') for v in order.volunteers)
    return taken < order.volunteers_needed and order.start_at > utcnow() and len(order.volunteers) < MAX_ACCEPTORS


@service_tasks.register('order.acceptor_added')
def _acceptor_added(data, params):
    """An acceptor waits for the station's review; meanwhile the order stays open while places are left, so
    several volunteers can accept and be reviewed at the same time."""
    return {'more': _may_reopen(_order(data))}


@service_tasks.register('order.acceptor_decided')
def _acceptor_decided(data, params):
    """Records the station's decision on one acceptor and says how this branch goes on: `staffed` (start the
    service), `reopen` (a rejection freed a place nobody offers now), `settle` (nothing more can happen: the
    start time passed or the order is worn out; start with whoever was approved or expire) or `wait` (another
    branch decides: an acceptance is open or other acceptors wait for review)."""
    order = _order(data)
    row = next(v for v in order.volunteers if v.user_id == data['acceptor_id'])
    # 'withdraw': the volunteer withdrew (withdraw_acceptance ended the row); `recheck`: an approval decided again
    # because another volunteer gave up a place of a staffed order (nobody is told it twice)
    if data.get('decision') != 'withdraw' and data.get('recheck') != row.user_id:
        row.status = 'approved' if data.get('decision') == 'approve' else 'rejected'
        row.decided_at = utcnow()
        _tell_acceptor(order, row, data.get('reason'))
    if staffed(order):
        step = 'staffed'
    elif _inviting(order):
        step = 'wait'
    elif _may_reopen(order):
        step = 'reopen'
    elif any(v.status == 'pending' for v in order.volunteers):
        step = 'wait'
    else:
        step = 'settle'
    return {'next': step, 'staffed': step == 'staffed', 'rounds': len(order.volunteers)}


@service_tasks.register('order.expire_check')
def _expire_check(data, params):
    """Start time reached (or nothing more can happen) while staffing: start with whoever was approved, wait for
    acceptors still under review, or expire and tell the publisher."""
    from app.services import messages
    order = _order(data)
    if any(v.status == 'pending' for v in order.volunteers):
        return {'next': 'wait', 'staffed_any': False}
    staffed_any = approved_count(order) > 0
    if not staffed_any:
        _finish(order, 'expired')
        order.closed_reason = in_chinese(_l('开始时间已到仍无人接单，订单自动过期'))
        row = _history_row(order.instance, None, 'auto', in_chinese(_l('订单过期')), order.closed_reason)
        row.bpmn_id = 'expire_check'
        db.session.add(row)
        messages.send([order.publisher_id], kind='info', link=f'/orders/{order.id}',
                      title=_l('您发布的V订单「%(title)s」已过期：%(reason)s', title=order.title,
                               reason=_l('开始时间已到仍无人接单，订单自动过期')))
    return {'next': 'start' if staffed_any else 'expired', 'staffed_any': staffed_any}


@service_tasks.register('order.start')
def _start(data, params):
    _order(data).status = 'in_progress'
    return {'status': 'in_progress'}


@service_tasks.register('order.rated')
def _rated(data, params):
    _order(data).status = 'to_certify'
    return {'status': 'to_certify'}


@service_tasks.register('order.certify_rejected')
def _certify_rejected(data, params):
    return {'status': 'to_certify'}


def _users_in(role: str, unit_path: str) -> list[int]:
    """Users holding `role` at `unit_path` or above it (the units whose jurisdiction covers it)."""
    rows = db.session.execute(select(User.id, OrgUnit.path).join(Membership, Membership.user_id == User.id)
                              .join(OrgUnit, OrgUnit.id == Membership.org_unit_id).where(Membership.role == role))
    return [uid for uid, path in rows if unit_path.startswith(path)]


@service_tasks.register('order.remind')
def _remind(data, params):
    """Certification reminders (day 7, 12) and the overdue escalation (day 14); once each per order."""
    from app.services import messages
    order, kind = _order(data), params.get('kind', 'day7')
    sent = json.loads(order.reminders_json or '[]')
    if kind in sent or order.status in ('done', 'cancelled', 'aborted', 'expired'):
        return {'sent': False}
    station = org_cache.by_code(f'{order.street.code}_station')
    recipients = _users_in('station_admin', station.path)
    if kind == 'overdue':
        order.overdue = True
        recipients += _users_in('association_admin', station.path)
    messages.send(recipients, kind='reminder', title=lambda: str(REMINDERS[kind]) % {'title': order.title},
                  link=f'/orders/{order.id}')
    order.reminders_json = json.dumps(sent + [kind])
    return {'sent': True}


@service_tasks.register('order.award')
def _award(data, params):
    """Record each approved volunteer's hours and award 1 elderly time point per whole hour, once.

    Running again (an operator reset) pays nothing more; a corrected certification (reset to 时数认证 with
    other hours) settles the difference: more hours add an award, fewer reverse the earlier award(s)."""
    order = _order(data)
    cert = json.loads(order.certification_json or '{}')
    hours = float(cert.get('service_hours') or 0)
    points = math.floor(hours)
    approved = [v for v in order.volunteers if v.status == 'approved']
    reason = _l('V订单「%(title)s」服务时数认证：%(h)s 小时', title=order.title, h=hours)  # stored in both languages
    paid = award_history(order)
    first, no_points, corrected = [], [], []
    for v in approved:
        before = v.hours
        told = before == hours  # a repeated run with the same hours (an operator reset) tells nobody again
        v.hours, v.points_awarded = hours, points
        entries = paid.get(v.user_id, [])
        if not entries:
            if points > 0:
                first.append((v.user, points, award_key(order.id, v.user_id)))
            elif not told:
                no_points.append(v.user_id)
            continue
        change = _settle(order, v, points, entries, reason)
        if not told or change:
            corrected.append((v.user_id, before, change))
    if first:
        ledger.award_many(first, reason=reason, business_ref=f'v_order:{order.id}')
        # a repeated run pays nothing and sends nothing
        messages.send([u.id for u, _n, _k in first], kind='info', link='/m/points',
                      title=_l('养老时间积分到账：+%(points)s 分（V订单「%(title)s」，%(hours)s 小时）', points=points,
                               title=order.title, hours=f'{hours:g}'))
    # under 1 hour: the hours are recorded, but no point is paid (1 point per whole hour); the volunteer is told so
    messages.send(no_points, kind='info', link=f'/orders/{order.id}',
                  title=_l('服务时数已记录：V订单「%(title)s」%(hours)s 小时。积分按整小时发放（每满 1 小时 1 分），'
                           '本次不足 1 小时，积分为 0', title=order.title, hours=f'{hours:g}'))
    _tell_corrections(order, hours, corrected)
    _finish(order, 'done')
    return {'awarded': points, 'volunteers': len(approved)}


def award_key(order_id: int, user_id: int, n: int = 1) -> str:
    """Idempotency key of the n-th award of one order to one volunteer (n > 1 only after a correction)."""
    base = f'award:v_order:{order_id}:{user_id}'
    return base if n == 1 else f'{base}:{n}'


def award_history(order) -> dict[int, list[tuple[LedgerEntry, bool]]]:
    """{volunteer id: [(award entry, reversed?), ...]} of this order, oldest first (one query when none)."""
    prefix = f'award:v_order:{order.id}:'
    entries = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.idempotency_key.startswith(prefix))
                                      .order_by(LedgerEntry.id)))
    if not entries:
        return {}
    reversed_ids = set(db.session.scalars(select(LedgerEntry.reverses_entry_id).where(
        LedgerEntry.reverses_entry_id.in_([e.id for e in entries]))))
    found: dict[int, list] = {}
    for e in entries:
        user_id = int(e.idempotency_key[len(prefix):].split(':')[0])
        found.setdefault(user_id, []).append((e, e.id in reversed_ids))
    return found


def _amount(entry: LedgerEntry) -> int:
    return max(p.amount for p in entry.postings)


def _tell_corrections(order, hours, corrected) -> None:
    """A corrected certification tells each volunteer the new hours, the old ones and what it did to the points
    (added, taken back, or nothing when both round to the same whole hours)."""
    from app.services import messages
    for user_id, before, change in corrected:
        was = f'{before:g}' if before is not None else '—'
        if change > 0:
            title = _l('V订单「%(title)s」服务时数已更正为 %(hours)s 小时（原 %(was)s 小时），补发积分 +%(n)s 分',
                       title=order.title, hours=f'{hours:g}', was=was, n=change)
        elif change < 0:
            title = _l('V订单「%(title)s」服务时数已更正为 %(hours)s 小时（原 %(was)s 小时），扣回积分 %(n)s 分',
                       title=order.title, hours=f'{hours:g}', was=was, n=-change)
        else:
            title = _l('V订单「%(title)s」服务时数已更正为 %(hours)s 小时（原 %(was)s 小时），积分不变',
                       title=order.title, hours=f'{hours:g}', was=was)
        messages.send([user_id], kind='info', link='/m/points' if change else f'/orders/{order.id}', title=title)


def _settle(order, v, points, entries, reason) -> int:
    """Make the points this order paid to `v` equal `points` with new entries only (never edits one); returns
    the change (points added, or taken back as a negative number)."""
    active = [e for e, was_reversed in entries if not was_reversed]
    paid = sum(_amount(e) for e in active)
    if paid == points:
        return 0
    if points > paid:
        ledger.award(v.user, points - paid, key=award_key(order.id, v.user_id, len(entries) + 1), reason=reason,
                     business_ref=f'v_order:{order.id}')
        return points - paid
    for e in active:
        ledger.reverse(e.id, reason=_l('V订单「%(title)s」时数认证更正', title=order.title))
    if points > 0:
        ledger.award(v.user, points, key=award_key(order.id, v.user_id, len(entries) + 1), reason=reason,
                     business_ref=f'v_order:{order.id}')
    return points - paid


def check_correction(order, hours: float) -> None:
    """Refuse (before the engine runs) a corrected certification that would take back points already spent."""
    points = math.floor(hours)
    for user_id, entries in award_history(order).items():
        paid = sum(_amount(e) for e, was_reversed in entries if not was_reversed)
        if points >= paid:
            continue
        volunteer = db.session.get(User, user_id)
        if ledger.account_for(volunteer).available < paid:
            raise Conflict(_l('志愿者%(name)s已使用本订单发放的积分，无法按更正后的时数扣回，请联系广志协处理',
                              name=volunteer.display_name))


WITHDRAWABLE = {'pending_review', 'first_approved', 'rejected', 'open', 'awaiting_dispatch'}
ENDED = {'done', 'cancelled', 'expired', 'aborted', 'abandoned'}  # nothing is left to cancel or abort


def may_manage(user, order) -> bool:
    if order.publisher_id == user.id:
        return True
    return any(m.role == 'station_admin' and order.street.path.startswith(m.org_unit.parent.path)
               for m in user.memberships if m.org_unit.parent is not None)


def close_order(user, order_id: int, action: str, reason: str) -> VOrder:
    """取消 before anyone is approved, 中止 while in progress; ends the instance and records who and why."""
    if not (reason or '').strip():
        raise ValidationFailed({'reason': [_l('请填写原因')]})
    if reason_too_long(reason):  # refused, never cut: the publisher and the volunteers read all of it
        raise ValidationFailed({'reason': [reason_too_long(reason)]})
    with transaction():
        order = db.session.get(VOrder, order_id)
        if order is None or not may_manage(user, order):
            raise NotFound()
        instance = lock_instance(order.instance_id)
        db.session.refresh(order)
        if order.status in ENDED:
            raise Conflict(_l('订单已结束（%(status)s），不能取消', status=status_label(order)) if action == 'cancel'
                           else _l('订单已结束（%(status)s），不能中止', status=status_label(order)))
        if action == 'cancel' and (order.status not in WITHDRAWABLE or approved_count(order)):
            raise Conflict(_l('订单已有志愿者或已开始，不能取消；进行中的订单请使用“中止”'))
        if action == 'abort' and order.status not in ('in_progress',):
            raise Conflict(_l('只有进行中的订单可以中止'))
        if action not in ('cancel', 'abort'):
            raise Forbidden()
        waiting = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                             HumanTask.status == 'open')).all()
        run = load_run(instance)
        run.cancel()
        save_run(instance, run)
        status = 'cancelled' if action == 'cancel' else 'aborted'
        instance.status = 'cancelled'
        _finish(order, status)
        order.closed_reason = reason.strip()
        step = {'cancel': _l('取消订单'), 'abort': _l('中止订单')}[action]
        db.session.add(_history_row(instance, user, action, in_chinese(step), reason.strip()))
        for task in waiting:  # its 新待办 (接单, 审核...) lead nowhere now
            messages.settle_task_messages(task)
        # the offers volunteers read before (an acceptance took the last place) now say what became of the order
        settle_offers(instance, skip=[t.id for t in waiting])
        _tell_closed(order, user, action, reason.strip())
    return order


def station_membership(user, order: VOrder):
    """The user's 社工站 membership over the order's street (the station that dispatches it), or None."""
    return next((m for m in user.memberships if m.role == 'station_admin' and m.org_unit.parent is not None
                 and order.street.path.startswith(m.org_unit.parent.path)), None)


def may_take_back(user, order: VOrder) -> bool:
    """The order waits for its provider's dispatch and the user is the street's station, on a diagram version that
    lets the station take it back (the order page offers 收回派单)."""
    return (order.status == 'awaiting_dispatch' and station_membership(user, order) is not None
            and returnable(order.instance) and _waiting_dispatch(order) is not None)


def _waiting_dispatch(order: VOrder) -> HumanTask | None:
    return db.session.scalar(select(HumanTask).where(
        HumanTask.instance_id == order.instance_id, HumanTask.bpmn_id == 'provider_dispatch',
        HumanTask.status == 'open').order_by(HumanTask.id).limit(1))


def take_back(user, order_id: int, reason) -> int | None:
    """收回派单: the street's station takes back an order its provider has not dispatched (the provider does not
    answer, or cannot serve); the provider's 服务商派单 ends as a return by the station and the station dispatches the
    order again (社工站重新派单). The provider learns it, with the reason. Returns the new task's id."""
    reason = reason.strip() if isinstance(reason, str) else ''
    if not reason:
        raise ValidationFailed({'reason': [_l('请填写收回原因')]})
    if reason_too_long(reason):
        raise ValidationFailed({'reason': [reason_too_long(reason)]})
    with transaction():
        order = visible_order(user, order_id)  # NotFound for those who may not see it
        membership = station_membership(user, order)
        if membership is None:
            raise Forbidden(_l('只有订单服务街道的社工站可以收回派单'))
        instance = lock_instance(order.instance_id)
        db.session.refresh(order)
        task = _waiting_dispatch(order)
        if task is None:
            raise Conflict(_l('该订单已不在等待服务商派单（%(status)s），不能收回', status=status_label(order)))
        if not returnable(instance):
            raise Conflict(_l('该订单按旧版流程办理，不能收回派单；如服务商无法派单，可取消订单'))
        if order.start_at is not None and order.start_at <= utcnow():
            raise Conflict(_l('订单的开始时间已过，不能再收回派单；没有确定志愿者的订单会自动过期'))
        provider = order.provider
        grabbed = db.session.execute(
            update(HumanTask).where(HumanTask.id == task.id, HumanTask.status == 'open')
            .values(status='completed', completed_by_id=user.id, completed_at=utcnow(), decision='submit')
            .execution_options(synchronize_session='fetch')).rowcount
        if grabbed != 1:
            raise Conflict()
        run = load_run(instance)
        ready_before = run.ready_guids()
        data = {'provider_action': 'return', 'return_reason': reason, 'returned_by': 'station'}
        run_step(run, task.task_guid, data)
        row = record_decision(instance, task, user, membership, 'submit', reason, data)
        row.task_title = in_chinese(RETURN_STEPS['station'])
        created = save_run(instance, run, ready_before=ready_before, completed=task.task_guid, notify=False)
        with db.session.no_autoflush:
            messages.settle_task_messages(task)
            if provider is not None:
                admins = messages.users_in_scope('provider_admin', [provider.path])
                messages.send(admins, kind='info', body=reason, link=f'/orders/{order.id}', title=lambda: _(
                    '社工站已收回V订单「%(title)s」的派单，不再由您派单，原因：%(reason)s', title=order.title, reason=reason))
            messages.notify_new_tasks(created, decided=True)
        again = next((t for t in created if t.bpmn_id == 'redispatch'), None)
        return again.id if again is not None else None


def _tell_closed(order: VOrder, user, action: str, reason: str) -> None:
    """The volunteers on the order (accepted or confirmed) and its publisher learn that it was cancelled or
    aborted, by whom and why; the one who did it is not told."""
    def title():
        who = user.display_name if user is not None else _('系统')
        if action == 'cancel':
            return _('V订单「%(title)s」已被%(who)s取消，原因：%(reason)s', title=order.title, who=who, reason=reason)
        return _('V订单「%(title)s」已被%(who)s中止，原因：%(reason)s', title=order.title, who=who, reason=reason)
    people = [v.user_id for v in order.volunteers if v.status in ('pending', 'approved')] + [order.publisher_id]
    messages.send([u for u in people if user is None or u != user.id], kind='info', title=title, body=reason,
                  link=f'/orders/{order.id}')


def _history_row(instance: WorkflowInstance, user, decision, title, reason):
    from app.models import Decision
    return Decision(instance_id=instance.id, bpmn_id=decision, task_title=title, lane=None,
                    actor_id=user.id if user else None,
                    role=next((m.role for m in user.memberships), None) if user else 'system',
                    decision=decision, reason=reason,
                    data_json='{}', version=instance.version.version, at=utcnow())


WITHDRAW_REASON_MAX = 200
# what the volunteer's row becomes, and the history row's step: declining a provider's dispatch the station has not
# yet decided on (拒绝派单), or giving up an acceptance (放弃接单)
WITHDRAW_STEPS = {'declined': _l('志愿者拒绝派单'), 'withdrawn': _l('志愿者放弃接单')}


def _my_row(user, order: VOrder) -> VOrderVolunteer | None:
    return next((v for v in order.volunteers if v.user_id == user.id), None)


def withdraw_kind(user, order: VOrder) -> str | None:
    """'declined' (拒绝派单: a provider's dispatch the station has not yet decided on), 'withdrawn' (放弃接单) or None:
    what the volunteer may still do with their place on the order, before the service starts."""
    row = _my_row(user, order)
    if row is None or row.status not in ('pending', 'approved') or order.status in ENDED | {'rejected'}:
        return None
    if order.start_at is None or order.start_at <= utcnow():
        return None
    return 'declined' if row.status == 'pending' and row.via_provider_id else 'withdrawn'


def _own_review(instance, run, user_id) -> HumanTask | None:
    """The station's open 接单人审核 of this volunteer's acceptance, if any."""
    for task in db.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.bpmn_id == 'acceptor_review', HumanTask.status == 'open')):
        try:
            if run.ready_value(task.task_guid, 'acceptor_id') == user_id:
                return task
        except Exception:  # noqa: BLE001 - a row the engine no longer has READY is not the one
            continue
    return None


def _dispatch_data(order: VOrder) -> dict:
    """How a freed place is offered again (gw_dispatch): as the order is dispatched now."""
    return {'dispatch_mode': order.dispatch_mode or 'open',
            'provider_scope': [order.provider.code] if order.provider is not None else []}


def withdraw_acceptance(user, order_id: int, reason) -> VOrder:
    """拒绝派单 / 放弃接单: a volunteer on the order ends their own acceptance before the service starts, with a reason.

    Only their row ends (others on the order keep theirs). The place is offered again where the order is staffed:
    an acceptance still under review ends that review (the review's own branch reopens the order to volunteers or
    to the provider's dispatch); a confirmed one of an order already staffed rewinds the review that staffed it
    and decides it again without them (the order goes back to 待接单 / 待派单); a confirmed one of an order still
    being staffed frees a place the open offer or a later review fills. The station, the dispatching provider and
    the publisher learn it with the reason; the case history and the audit log record it."""
    reason = reason.strip() if isinstance(reason, str) else ''
    if not reason:
        raise ValidationFailed({'reason': [_l('请填写原因')]})
    if (n := len(clean_text(reason, multiline=True))) > WITHDRAW_REASON_MAX:
        raise ValidationFailed({'reason': [_l('原因不能超过 %(max)s 个字（现有 %(n)s 个字），请删减后再提交',
                                              max=WITHDRAW_REASON_MAX, n=n)]})
    with transaction():
        order = visible_order(user, order_id)
        instance = lock_instance(order.instance_id)
        db.session.refresh(order)
        row = _my_row(user, order)
        if row is None:
            raise Forbidden(_l('只有接单的志愿者本人可以放弃接单'))
        if row.status not in ('pending', 'approved') or order.status in ENDED | {'rejected'}:
            raise Conflict(_l('您在该订单的接单状态为“%(state)s”（订单%(status)s），无需再放弃',
                              state=acceptance_label(order, row.status), status=status_label(order)))
        if order.start_at is None or order.start_at <= utcnow():
            raise Conflict(_l('服务已于 %(at)s 开始，不能再放弃接单或拒绝派单；如无法到场，请尽快联系社工站',
                              at=beijing(order.start_at)), code='service_started')
        kind = withdraw_kind(user, order)
        run = load_run(instance)
        ready_before = run.ready_guids()
        was_open = list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                                   HumanTask.status == 'open')))
        review = _own_review(instance, run, user.id) if row.status == 'pending' else None
        row.status, row.decided_at = kind, utcnow()
        completed = None
        if review is not None:  # the station no longer decides on them: the review's branch goes on without them
            review.status, review.decision, review.completed_at = 'cancelled', 'withdraw', utcnow()
            run_step(run, review.task_guid, {'decision': 'withdraw', 'reason': reason, **_dispatch_data(order)})
            completed = review.task_guid
        elif 'confirm' in run.ready_bpmn_ids():  # staffed: the review that staffed the order is decided again
            run.reset_to('acceptor_review')
            again = next(t for t in run.ready_tasks() if t.bpmn_id == 'acceptor_review')
            mine = again.data.get('acceptor_id') == user.id
            run_step(run, again.guid, {'decision': 'withdraw' if mine else 'approve', 'reason': '',
                                       'recheck': again.data.get('acceptor_id'), **_dispatch_data(order)})
        if completed is not None or run.ready_guids() != ready_before:
            created = save_run(instance, run, ready_before=ready_before if completed else None, completed=completed,
                               notify=False)
        else:
            created = []
        now = utcnow()
        for task in was_open:
            if task.status == 'cancelled':  # withdrawn with the acceptance (its review, or the staffed order's 确认完成)
                task.decision, task.completed_at = 'withdraw', now
                messages.settle_task_messages(task)
        step = in_chinese(WITHDRAW_STEPS[kind])
        history = _history_row(instance, user, 'withdraw', step, reason)
        history.role = 'volunteer'
        db.session.add(history)
        db.session.add(AuditLog(actor_id=user.id, action=f'v_order.{kind}', target=f'v_order:{order.id}', at=now,
                                detail_json=json.dumps({'order_id': order.id, 'reason': reason,
                                                        'via_provider_id': row.via_provider_id}, ensure_ascii=False)))
        order.updated_at = now
        _tell_withdrawn(order, row, kind, reason)
        messages.notify_new_tasks(created)
    return order


def _tell_withdrawn(order: VOrder, row: VOrderVolunteer, kind: str, reason: str) -> None:
    """The street's station, the provider that dispatched the volunteer and the publisher learn it, with the reason
    and where the order stands now."""
    name = row.user.display_name
    station = org_cache.by_code(f'{order.street.code}_station')
    people = messages.users_in_scope('station_admin', [station.path]) if station is not None else []
    provider = db.session.get(OrgUnit, row.via_provider_id) if row.via_provider_id else None
    if provider is not None:
        people += messages.users_in_scope('provider_admin', [provider.path])
    people.append(order.publisher_id)

    def title():
        if kind == 'declined':
            text = _('志愿者%(name)s拒绝了派单：V订单「%(title)s」，原因：%(reason)s', name=name, title=order.title,
                     reason=reason)
        else:
            text = _('志愿者%(name)s放弃了接单：V订单「%(title)s」，原因：%(reason)s', name=name, title=order.title,
                     reason=reason)
        return text + _('。订单现为“%(status)s”', status=status_label(order))
    messages.send([u for u in dict.fromkeys(people) if u != row.user_id], kind='info', title=title, body=reason,
                  link=f'/orders/{order.id}')


__all__ = ["close_order", "take_back", "withdraw_acceptance"]
