"""统计 (district statistics, SPEC §1): per street of a district, or of the city, the figures of a period of Beijing
calendar days (inclusive), for the district civil affairs bureau (its own district), the association and the process
admin (the city, or one district they pick).

Read-only; a fixed handful of grouped statements whatever the number of streets. Where each figure comes from:
- service objects: the approved versions (the library's rule) under their household and their residence street (the
  streets that review them; once in the total); new ones by their approval time, the library as at the period's end;
- V-orders by the order's street: published = submitted in the period; done / cancelled / expired / aborted by the
  time of the decision that ended them (the association's certification approval, the 取消 / 中止 row, the expiry);
- hours and volunteers: the approved volunteers of the orders certified (done) in the period, at the hours of the
  certification that stands (a corrected one replaces the hours, it does not add to them);
- points: the ledger's award and reversal entries of the orders posted in the period, net, on the volunteers'
  accounts: a reversed award and its reversal cancel out, so a corrected certification is never counted twice;
- relative gifts: requests approved in the period, by the volunteer's home street."""
from calendar import monthrange
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, case, cast, exists, func, literal, null, or_, select, union, union_all
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import (
    Decision,
    GiftRequest,
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    OrgUnit,
    ServiceObject,
    User,
    VOrder,
    VOrderVolunteer,
)
from app.models.base import utcnow
from app.services.errors import NotFound, ValidationFailed
from app.services.jurisdiction import memberships_by_role
from app.services.v_orders import BEIJING
from app.services.validators import typed_day

CITY_ROLES = {'association_admin', 'process_admin'}
STATS_ROLES = CITY_ROLES | {'district_admin'}
CLOSED = ('done', 'cancelled', 'expired', 'aborted')
FIGURES = ('objects_approved', 'objects_total', 'orders_published', 'orders_done', 'orders_cancelled',
           'orders_expired', 'orders_aborted', 'hours', 'points', 'volunteers', 'gifts_approved')


def may_see_stats(user) -> bool:
    return any(m.role in STATS_ROLES for m in user.memberships)


def district_choices(user) -> list[OrgUnit]:
    """The districts whose figures the user may read: every one for the city roles, the own one(s) for a district
    bureau; 404 for everybody else (the page does not exist for them)."""
    roles = memberships_by_role(user)
    areas = ['/'] if CITY_ROLES & set(roles) else [m.org_unit.path for m in roles.get('district_admin', [])]
    if not areas:
        raise NotFound()
    districts = db.session.scalars(select(OrgUnit).where(OrgUnit.kind == 'district').order_by(OrgUnit.id)).all()
    return [d for d in districts if any(d.path.startswith(a) for a in areas)]


def _midnight(day: date) -> datetime:
    """Beijing midnight starting `day`, in UTC; the calendar's very ends (0001-01-01, 9999-12-31 typed into a filter)
    are kept a day inside it, where the shift to UTC and the day after still exist."""
    day = min(max(day, date.min + timedelta(days=1)), date.max - timedelta(days=1))
    return datetime.combine(day, time(), BEIJING).astimezone(UTC)


def current_month() -> tuple[date, date]:
    today = utcnow().astimezone(BEIJING).date()
    return today.replace(day=1), today.replace(day=monthrange(today.year, today.month)[1])


def _by_street(stmt) -> dict:
    return {row[0]: row[1:] for row in db.session.execute(stmt)}


def _ended_orders(street_ids, lo, hi):
    """Subquery (order id, street id, status) of the orders that ended in [lo, hi): the time of the last decision
    that ended each (a reset and re-certification moves it to the new approval)."""
    ending = or_(and_(Decision.bpmn_id == 'certify_review', Decision.decision == 'approve'),
                 Decision.bpmn_id.in_(('cancel', 'abort', 'expire_check')))
    candidates = select(VOrder.instance_id).where(VOrder.street_id.in_(street_ids), VOrder.status.in_(CLOSED))
    # a decision before `lo` cannot be the last one of an order that ended in the period: leave them out early
    ended_at = (select(Decision.instance_id, func.max(Decision.at).label('at'))
                .where(ending, Decision.at >= lo, Decision.instance_id.in_(candidates))
                .group_by(Decision.instance_id).subquery())
    return (select(VOrder.id, VOrder.street_id, VOrder.status).join(ended_at, ended_at.c.instance_id == VOrder.instance_id)
            .where(VOrder.street_id.in_(street_ids), VOrder.status.in_(CLOSED), ended_at.c.at < hi).subquery())


def _objects(street_ids, lo, hi) -> tuple[dict, dict]:
    """Per street and in all: the library's objects as it stood at `hi`, and those approved in [lo, hi). An object
    counts for its household and its residence street (either street's admins review it), once in the total."""
    newer = aliased(ServiceObject)
    in_library = and_(ServiceObject.status == 'approved', ServiceObject.decided_at < hi, ~exists(select(newer.id).where(
        newer.id_number == ServiceObject.id_number, newer.status == 'approved', newer.version > ServiceObject.version,
        newer.decided_at < hi)))
    # a CTE read twice (per street, and the total) is computed once: the library is the costly part
    pairs = union(*(select(column.label('street_id'), ServiceObject.id.label('id'), ServiceObject.decided_at.label('at'))
                    .where(in_library, column.in_(street_ids))
                    for column in (ServiceObject.household_street_id, ServiceObject.residence_street_id))).cte('pairs')
    new = case((pairs.c.at >= lo, pairs.c.id))
    rows = db.session.execute(union_all(
        select(pairs.c.street_id, func.count(new), func.count()).group_by(pairs.c.street_id),
        select(null(), func.count(new.distinct()), func.count(pairs.c.id.distinct())))).all()
    per_street = {row[0]: row[1:] for row in rows if row[0] is not None}
    new_total, total = next(row[1:] for row in rows if row[0] is None)
    return per_street, {'objects_approved': new_total, 'objects_total': total}


def _points(street_ids, lo, hi) -> dict:
    """Net points the volunteers' accounts received from the orders' award entries and their reversals."""
    ref = literal('v_order:') + cast(VOrder.id, String)
    return _by_street(select(VOrder.street_id, func.sum(LedgerPosting.amount))
                      .select_from(LedgerEntry).join(LedgerPosting, LedgerPosting.entry_id == LedgerEntry.id)
                      .join(LedgerAccount, and_(LedgerAccount.id == LedgerPosting.account_id,
                                                LedgerAccount.kind == 'volunteer'))
                      .join(VOrder, LedgerEntry.business_ref == ref)
                      .where(LedgerEntry.kind.in_(('award', 'reversal')), LedgerEntry.business_ref.startswith('v_order:'),
                             LedgerEntry.created_at >= lo, LedgerEntry.created_at < hi, VOrder.street_id.in_(street_ids))
                      .group_by(VOrder.street_id))


def _figures(street_ids, lo, hi) -> tuple[dict, dict]:
    """{street id: {figure: value}}, and the figures of all those streets together that are not the sum of the
    streets' (an object of two streets, a volunteer who served in two streets)."""
    found = {sid: {**dict.fromkeys(FIGURES, 0), 'hours': 0.0} for sid in street_ids}
    per_street, distinct = _objects(street_ids, lo, hi)
    for sid, (new, total) in per_street.items():
        found[sid].update(objects_approved=new, objects_total=total)
    for sid, (n,) in _by_street(select(VOrder.street_id, func.count()).where(
            VOrder.street_id.in_(street_ids), VOrder.created_at >= lo, VOrder.created_at < hi)
            .group_by(VOrder.street_id)).items():
        found[sid]['orders_published'] = n
    ended = _ended_orders(street_ids, lo, hi)
    for sid, status, n in db.session.execute(select(ended.c.street_id, ended.c.status, func.count())
                                             .group_by(ended.c.street_id, ended.c.status)):
        found[sid][f'orders_{status}'] = n
    served = (select(ended.c.street_id, VOrderVolunteer.user_id, VOrderVolunteer.hours)
              .join(VOrderVolunteer, VOrderVolunteer.order_id == ended.c.id)
              .where(ended.c.status == 'done', VOrderVolunteer.status == 'approved').subquery())
    for sid, (hours, people) in _by_street(select(served.c.street_id, func.sum(served.c.hours),
                                                  func.count(served.c.user_id.distinct()))
                                           .group_by(served.c.street_id)).items():
        found[sid].update(hours=round(float(hours or 0), 2), volunteers=people)
    for sid, (points,) in _points(street_ids, lo, hi).items():
        found[sid]['points'] = int(points or 0)
    for sid, (n,) in _by_street(select(User.home_unit_id, func.count()).select_from(GiftRequest)
                                .join(User, User.id == GiftRequest.volunteer_id)
                                .where(GiftRequest.status == 'approved', GiftRequest.decided_at >= lo,
                                       GiftRequest.decided_at < hi, User.home_unit_id.in_(street_ids))
                                .group_by(User.home_unit_id)).items():
        found[sid]['gifts_approved'] = n
    distinct['volunteers'] = db.session.scalar(select(func.count(served.c.user_id.distinct()))) or 0
    return found, distinct


def district_stats(user, date_from: date, date_to: date, district: str | None = None) -> dict:
    """The figures per street of the user's jurisdiction (or of the one district picked) for the Beijing days
    date_from..date_to, with a total row."""
    choices = district_choices(user)
    scope = choices
    if district:
        scope = [d for d in choices if d.code == district]
        if not scope:
            raise NotFound()
    if date_from > date_to:
        raise ValidationFailed({'from': [_l('开始日期不能晚于结束日期')]})
    by_id = {d.id: d for d in scope}
    streets = db.session.scalars(select(OrgUnit).where(OrgUnit.kind == 'street', OrgUnit.parent_id.in_(by_id))
                                 .order_by(OrgUnit.parent_id, OrgUnit.id)).all()
    lo, hi = _midnight(date_from), _midnight(min(date_to, date.max - timedelta(days=1)) + timedelta(days=1))
    found, distinct = _figures([s.id for s in streets], lo, hi) if streets else ({}, {})
    rows = [{'street': s.code, 'street_name': s.name, 'district': by_id[s.parent_id].code,
             'district_name': by_id[s.parent_id].name, **found[s.id]} for s in streets]
    total = {k: sum(r[k] for r in rows) for k in FIGURES}
    total.update(hours=round(total['hours'], 2), **distinct)
    return {'from': date_from.isoformat(), 'to': date_to.isoformat(), 'district': district or None,
            'districts': [{'code': d.code, 'name': d.name} for d in choices], 'city_wide': len(choices) > 1,
            'rows': rows, 'total': total}


def stats_from_args(user, args: Mapping) -> dict:
    """`district_stats` from a request's filters as typed (from, to: YYYY-MM-DD; district: a district's code)."""
    return district_stats(user, *period_from_args(user, args))


def period_from_args(user, args: Mapping) -> tuple[date, date, str | None]:
    """(from, to, district code or None) of a request's filters. Left out, the period is the current month, or the
    month of the one day given; bad dates are refused with field messages (after the access check: others get 404
    whatever they typed)."""
    if not may_see_stats(user):
        raise NotFound()
    errors: dict = {}
    date_from, date_to = typed_day(args.get('from'), 'from', errors), typed_day(args.get('to'), 'to', errors)
    if errors:
        raise ValidationFailed(errors)
    if date_from is None and date_to is None:
        date_from, date_to = current_month()
    elif date_from is None:
        date_from = date_to.replace(day=1)
    elif date_to is None:
        date_to = date_from.replace(day=monthrange(date_from.year, date_from.month)[1])
    return date_from, date_to, (args.get('district') or '').strip() or None
