"""The back office's V-order list (订单管理): the orders of a unit's area (the rule of `v_orders.oversees`), with
status, search and service-date filters; the list page, its API and the V-order exports read it."""
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, false, func, or_, select

from app.extensions import db
from app.models import OrgUnit, VOrder, VOrderVolunteer
from app.models.base import utcnow
from app.services import paged
from app.services.errors import Forbidden, ValidationFailed
from app.services.jurisdiction import path_range
from app.services.v_orders import BEIJING, ORDER_LIST_ROLES, STATUS_LABELS, beijing, list_scope
from app.services.validators import half_width, typed_day

_ORDER_NUMBER = re.compile(r'#?\s*([0-9]{1,9})')
# the status filter: the statuses users see, plus 认证已逾期
LIST_FILTERS = {**{k: STATUS_LABELS[k] for k in (
    'pending_review', 'first_approved', 'rejected', 'open', 'awaiting_dispatch', 'in_progress', 'to_rate', 'to_certify',
    'certifying')},
    'overdue': _l('认证已逾期'),
    **{k: STATUS_LABELS[k] for k in ('done', 'cancelled', 'expired', 'aborted', 'abandoned')}}


def _listed(user):
    """SQL condition of `oversees`: one range of street paths per unit, or the provider's own orders."""
    paths, providers = list_scope(user)
    ranges = [and_(OrgUnit.path >= lo, OrgUnit.path < hi) for lo, hi in sorted({path_range(p) for p in paths})]
    clauses = [VOrder.street_id.in_(select(OrgUnit.id).where(or_(*ranges)))] if ranges else []
    if providers:
        clauses.append(VOrder.provider_id.in_(providers))
    return or_(*clauses) if clauses else false()


def may_list_orders(user) -> bool:
    """Whether the user has the back office's order list (a role of ORDER_LIST_ROLES); volunteers do not."""
    return any(m.role in ORDER_LIST_ROLES for m in user.memberships)


def _status_clause(status: str, now: datetime):
    """待评价 is an order in progress whose service has ended; 进行中 is then only the ones still under way."""
    if status == 'to_rate':
        return and_(VOrder.status == 'in_progress', VOrder.end_at <= now)
    if status == 'in_progress':
        return and_(VOrder.status == 'in_progress', or_(VOrder.end_at.is_(None), VOrder.end_at > now))
    if status == 'overdue':
        return VOrder.overdue.is_(True)
    return VOrder.status == status


def _beijing_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), BEIJING).astimezone(UTC)


def _filter_problems(status, start_from, start_to, errors: dict) -> dict:
    if status and status not in LIST_FILTERS:
        errors['status'] = [_l('订单状态无效')]
    if start_from and start_to and start_from > start_to:
        errors.setdefault('from', []).append(_l('开始日期不能晚于结束日期'))
    return errors


def orders_query(user, status=None, q=None, start_from=None, start_to=None) -> Select:
    """Select of the V-orders the user's order list shows (`oversees`), filtered, newest first. `status` is a key of
    LIST_FILTERS; `q` is searched in title and address; `start_from`/`start_to` are Beijing calendar days of the
    service start, inclusive."""
    if not may_list_orders(user):
        raise Forbidden()
    errors = _filter_problems(status, start_from, start_to, {})
    if errors:
        raise ValidationFailed(errors)
    cond = [_listed(user)]
    if status:
        cond.append(_status_clause(status, utcnow()))
    term = (q or '').strip()[:50]
    if term:
        number = _ORDER_NUMBER.fullmatch(half_width(term))  # 订单号 as the list shows it (#12), or just 12
        cond.append(or_(VOrder.title.contains(term, autoescape=True), VOrder.address.contains(term, autoescape=True),
                        *([VOrder.id == int(number.group(1))] if number else [])))
    if start_from and start_from > date.min:
        cond.append(VOrder.start_at >= _beijing_midnight(start_from))
    if start_to and start_to < date.max:
        cond.append(VOrder.start_at < _beijing_midnight(start_to + timedelta(days=1)))
    return select(VOrder).where(*cond).order_by(VOrder.id.desc())


def list_orders(user, status=None, q=None, start_from=None, start_to=None, page=1, per_page=20):
    """(rows, total) of one page of `orders_query`."""
    return paged(orders_query(user, status, q, start_from, start_to), page, per_page)


def search_orders(user, args: Mapping, page=1, per_page=20):
    """`list_orders` from a list's query arguments as typed (status, q, from, to as YYYY-MM-DD); every bad filter
    is refused at once with field messages."""
    if not may_list_orders(user):
        raise Forbidden()
    errors: dict = {}
    start_from, start_to = typed_day(args.get('from'), 'from', errors), typed_day(args.get('to'), 'to', errors)
    status = args.get('status') or None
    if _filter_problems(status, start_from, start_to, errors):
        raise ValidationFailed(errors)
    return list_orders(user, status, args.get('q'), start_from, start_to, page, per_page)


def volunteer_counts(orders) -> dict[int, dict[str, int]]:
    """{order id: {'approved': volunteers the station approved, 'pending': acceptors waiting for its review}} for a
    page of orders, in one query (an order with neither is left out)."""
    ids = [o.id for o in orders]
    counts: dict[int, dict[str, int]] = {}
    if ids:
        for order_id, status, n in db.session.execute(
                select(VOrderVolunteer.order_id, VOrderVolunteer.status, func.count())
                .where(VOrderVolunteer.order_id.in_(ids), VOrderVolunteer.status.in_(('approved', 'pending')))
                .group_by(VOrderVolunteer.order_id, VOrderVolunteer.status)):
            counts.setdefault(order_id, {'approved': 0, 'pending': 0})[status] = n
    return counts


def service_period(order: VOrder) -> str:
    """'2026-12-01 09:00–12:00' in Beijing time (both dates when the service runs past midnight)."""
    start, end = beijing(order.start_at), beijing(order.end_at)
    if not end:
        return start
    return f'{start}–{end[11:]}' if start[:10] == end[:10] else f'{start} – {end}'
