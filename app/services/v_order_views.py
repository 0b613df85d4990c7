"""What V-order pages show about people and offers beyond the order itself: the acceptor a station reviews
(接单人情况), whom a dispatch sent the order to (its history row), and what became of an offer a volunteer was sent
(the 新待办 of an order cancelled, expired or taken)."""
import json

from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import Decision, HumanTask, LedgerAccount, User, VOrder, VOrderVolunteer
from app.models.base import utcnow
from app.services import in_chinese, org_cache, row_id
from app.services.errors import NotFound
from app.services.jurisdiction import can_act, in_lane
from app.services.ledger import volunteer_key
from app.services.step_names import OPEN_CHOICE, PROVIDER_CHOICE, STEP_WITH_CHOICE, VOLUNTEER_CHOICE, step_name
from app.services.v_orders import BEIJING, ENDED_STATUSES, PROCESS_KEY, order_for, status_label, status_tone
from app.services.validators import age_on, mask_phone


def acceptor_profile(user: User, order: VOrder) -> dict:
    """What the station deciding on an acceptor sees of them, from what the system holds (nothing of another case
    beyond counts): where they belong, their phone masked, age (a minor's guardian by name), certified elderly-care
    hours, elderly time points, how their other orders went, and other orders they are confirmed for that overlap
    this one's time. The volunteer's own qualifications are not recorded: for a 专业类 order, the number of
    专业类 orders they completed is the fact there is."""
    today = utcnow().astimezone(BEIJING).date()
    try:
        age = age_on(user.id_number, today) if user.id_number else None
    except (TypeError, ValueError):  # an ID number the system could not read a birth date from
        age = None
    guardian = json.loads(user.guardian_json) if user.guardian_json and age is not None and age < 18 else None
    home = user.home_unit
    units = sorted({m.org_unit for m in user.memberships if m.role == 'volunteer' and m.org_unit_id != user.home_unit_id},
                   key=lambda u: u.path)
    counts: dict = {}
    for order_status, category, row_status, n, hours in db.session.execute(
            select(VOrder.status, VOrder.category, VOrderVolunteer.status, func.count(), func.sum(VOrderVolunteer.hours))
            .join(VOrder, VOrder.id == VOrderVolunteer.order_id)
            .where(VOrderVolunteer.user_id == user.id, VOrderVolunteer.order_id != order.id)
            .group_by(VOrder.status, VOrder.category, VOrderVolunteer.status)):
        key = ('refused' if row_status == 'rejected' else order_status if row_status == 'approved' else None, category)
        counts[key] = [a + b for a, b in zip(counts.get(key, [0, 0.0]), [n, hours or 0.0], strict=True)]

    def total(status, index=0, category=None):
        return sum(v[index] for (s, c), v in counts.items() if s == status and category in (None, c))
    overlapping = db.session.scalar(select(func.count()).select_from(VOrderVolunteer).join(
        VOrder, VOrder.id == VOrderVolunteer.order_id).where(
        VOrderVolunteer.user_id == user.id, VOrderVolunteer.status == 'approved', VOrder.id != order.id,
        VOrder.status.not_in(ENDED_STATUSES), VOrder.start_at < order.end_at, VOrder.end_at > order.start_at))
    points = db.session.scalar(select(LedgerAccount.balance).where(LedgerAccount.key == volunteer_key(user)))
    return {'name': user.display_name, 'username': user.username, 'phone': mask_phone(user.phone),
            'age': age, 'minor': age is not None and age < 18,
            'guardian': {'name': guardian.get('name'), 'relation': guardian.get('relation')} if guardian else None,
            'street': (f'{home.parent.name} · {home.name}' if home.parent is not None and home.kind == 'street'
                       else home.name) if home is not None else None,
            'units': [u.name for u in units],
            'certified_hours': round(total('done', 1), 2), 'elderly_points': points or 0,
            'orders_completed': total('done'), 'orders_aborted': total('aborted'),
            'acceptances_refused': total('refused'), 'overlapping_orders': overlapping or 0,
            'professional_completed': total('done', category='professional') if order.category == 'professional' else None}


# the forms whose completion decides whom the order goes to: the station's publish review and re-dispatch, the provider's
# dispatch to one of its volunteers
_DISPATCH_FORMS = ('v_order_review.json', 'v_order_redispatch.json')
_VOLUNTEER_FORM = 'v_order_dispatch.json'


def dispatch_choice(mode, provider_code=None):
    """'派给服务商：颐康居家养老服务中心' / '开放给志愿者接单': how the station dispatched an order, in the reader's language;
    None for a provider it does not know."""
    if mode == 'open':
        return _l(OPEN_CHOICE)
    provider = org_cache.unit(provider_code) if mode == 'provider' else None
    return _l(PROVIDER_CHOICE, name=provider.name) if provider is not None else None


def _volunteer_choice(username):
    name = db.session.scalar(select(User.display_name).where(User.username == username)) if username else None
    return _l(VOLUNTEER_CHOICE, name=name) if name else None


def step_with_choice(task: HumanTask, values: dict):
    """The step of a completed dispatch, naming whom it sent the order to: '社工站发布审核（派给服务商：颐康居家养老服务中心）',
    '社工站重新派单（开放给志愿者接单）', '服务商派单（派给志愿者：李晓敏）' (the history row's step, stored in Chinese, and the
    result the reviewer is shown in their language; step_names.step_name reads the stored row back in the reader's
    language); None for other steps and outcomes (a rejection, a return).
    `values`: the form's data as decided (recorded unchanged in the row's data)."""
    choice = None
    if task.form_key in _DISPATCH_FORMS and values.get('decision', 'approve') == 'approve':
        choice = dispatch_choice(values.get('dispatch_mode'), values.get('provider'))
    elif task.form_key == _VOLUNTEER_FORM and values.get('provider_action', 'dispatch') == 'dispatch':
        choice = _volunteer_choice(values.get('volunteer'))
    if choice is None:
        return None
    named = _l(STEP_WITH_CHOICE, step=LazyString(step_name, task.title), subject=choice)
    # a very long step and unit name would not fit the row: it keeps the step's own name (the data names the choice)
    return named if len(in_chinese(named)) <= Decision.__table__.c.task_title.type.length else None


def offer_outcome(user, task_id) -> tuple[str | None, dict]:
    """(where to go, or None and what the page shows) for a volunteer's offer of a V-order (an accept task they were
    offered, `in_lane`): while the order takes acceptors, its current offer on the list of open orders; an order
    they are on or published, its page; otherwise what became of it — cancelled or expired by whom, when and why,
    or taken by others. NotFound for anyone it was not offered to."""
    task = db.session.get(HumanTask, row_id(task_id)) if row_id(task_id) else None
    if task is None or task.process_key != PROCESS_KEY or task.bpmn_id != 'accept' or not in_lane(user, task):
        raise NotFound()
    order = order_for(task.instance)
    if order is None:
        raise NotFound()
    if order.publisher_id == user.id or any(v.user_id == user.id for v in order.volunteers):
        return f'/orders/{order.id}', {}
    current = db.session.scalar(select(HumanTask).where(
        HumanTask.instance_id == order.instance_id, HumanTask.bpmn_id == 'accept', HumanTask.status == 'open')
        .order_by(HumanTask.id.desc()).limit(1))
    if current is not None and can_act(user, current):
        return f'/m/orders/open#task-{current.id}', {}
    closing = db.session.scalar(select(Decision).where(
        Decision.instance_id == order.instance_id,
        or_(Decision.decision.in_(('cancel', 'abort')), Decision.bpmn_id == 'expire_check'))
        .order_by(Decision.id.desc()).limit(1)) if order.status in ENDED_STATUSES else None
    return None, {'order': order, 'status_label': status_label(order), 'tone': status_tone(order),
                  'closing': closing, 'who': _closed_by(order, closing), 'reason': order.closed_reason,
                  'note': _offer_note(order)}


def _closed_by(order: VOrder, closing) -> str | None:
    """Who closed the order, as the volunteers it was offered to are told: a station by its name, a volunteer who
    published it as 发布人 (not by their name), 系统 for an expiry."""
    if closing is None:
        return None
    if closing.actor_id is None:
        return gettext('系统')
    actor = db.session.get(User, closing.actor_id)
    station = next((m.org_unit.name for m in actor.memberships if m.role == 'station_admin'), None)
    if station is not None:
        return station
    return gettext('发布人') if closing.actor_id == order.publisher_id else actor.display_name


def _offer_note(order: VOrder) -> str:
    """What became of an offer that is over, in words."""
    if order.status == 'cancelled':
        return gettext('该订单已取消，不再接单')
    if order.status == 'expired':
        return gettext('该订单已过期，不再接单')
    if order.status in ENDED_STATUSES:
        return gettext('该订单%(status)s，不再接单', status=status_label(order))
    if order.status == 'open':
        return gettext('该订单的名额已被接满，正在等待社工站审核接单人；如有名额空出，您会再收到消息')
    if order.status in ('in_progress', 'to_certify', 'certifying', 'done'):
        return gettext('该订单已有其他志愿者接单服务，不再接单')
    return gettext('该订单目前不接单（%(status)s）', status=status_label(order))
