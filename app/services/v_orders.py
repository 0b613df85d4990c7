"""V-order (耆望成真) domain rules: publishing, acceptance, rating and certification data."""
import json
import math
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, inspect, or_, select

from app.extensions import db
from app.models import (
    Decision,
    InstanceFile,
    Membership,
    OrgUnit,
    ServiceObject,
    User,
    VOrder,
    VOrderObject,
    VOrderVolunteer,
    WorkflowVersion,
)
from app.models.base import utcnow
from app.services import (
    files,
    forms,
    in_chinese,
    messages,
    org_cache,
    paged,
    request_tokens,
    row_id,
    submissions,
    use_case_memo,
)
from app.services.errors import Conflict, ValidationFailed
from app.services.hooks import CaseVariable, ProcessHooks, register
from app.services.instances import is_new
from app.services.jurisdiction import path_range
from app.services.step_names import step_name
from app.services.validators import normalize_id
from workflows import TaskNotReady

PROCESS_KEY = 'v_order'
BEIJING = ZoneInfo('Asia/Shanghai')
STATUS_LABELS = {'pending_review': _l('待审核'), 'first_approved': _l('初审已通过'), 'rejected': _l('审核不通过'),
                 'open': _l('待接单'), 'awaiting_dispatch': _l('待派单'), 'in_progress': _l('进行中'),
                 'to_rate': _l('待评价'), 'to_certify': _l('待认证'), 'certifying': _l('待认证（已提交，广志协审核中）'),
                 'done': _l('已完成'), 'cancelled': _l('已取消'),
                 'expired': _l('已过期'), 'aborted': _l('已中止'), 'abandoned': _l('已终止')}
# which waiting step shows which status while the order runs
READY_STATUS = {'publish_review': 'pending_review', 'association_review': 'first_approved', 'submit': 'rejected',
                'accept': 'open', 'acceptor_review': 'open', 'provider_dispatch': 'awaiting_dispatch', 'confirm': 'in_progress',
                'certify': 'to_certify', 'certify_review': 'certifying', 'redispatch': 'awaiting_dispatch'}
# the steps that decide who is offered the order: while one is open the order shows 待派单 (before 待接单 of acceptors
# under review)
DISPATCH_STEPS = ('provider_dispatch', 'redispatch')
ACCEPTANCE_LABELS = {'pending': _l('待社工站审核'), 'approved': _l('已确定'), 'rejected': _l('未通过'),
                     'withdrawn': _l('已放弃'), 'declined': _l('已拒绝派单')}
# an acceptance the station had not yet reviewed when the order ended: nobody will review it now (its volunteer was told)
ENDED_ACCEPTANCE_LABELS = {'cancelled': _l('已取消，订单已取消'), 'aborted': _l('已取消，订单已中止'),
                           'expired': _l('已取消，订单已过期'), 'abandoned': _l('已取消，订单已终止')}
CERTIFY_DAYS = 14
STREET_CENTRES = Path(__file__).resolve().parents[1] / 'data' / 'street_centres.json'
# how far ahead an order may be published, and how long it may run (also keeps date arithmetic far from year 9999)
MAX_LEAD = timedelta(days=366)
MAX_SPAN = timedelta(days=31)
REMINDER_DAYS = {'remind7_at': 7, 'remind12_at': 12, 'overdue_at': CERTIFY_DAYS}
# who has the back office's order list (订单管理, app.services.order_list)
ORDER_LIST_ROLES = frozenset({'station_admin', 'street_admin', 'district_admin', 'association_admin', 'provider_admin'})
# the statuses of orders before (or without) a station's approval: a provider is offered an order only once approved
NOT_OFFERED_YET = ('pending_review', 'first_approved', 'rejected', 'abandoned')


def acceptance_label(order: VOrder, status: str) -> str:
    """What became of one volunteer's acceptance of the order (待社工站审核, 已确定, 未通过); one still waiting for the
    station when the order was cancelled, aborted or expired reads 已取消，订单已取消, not 待社工站审核."""
    if status == 'pending' and order.status in ENDED_ACCEPTANCE_LABELS:
        return str(ENDED_ACCEPTANCE_LABELS[order.status])
    return str(ACCEPTANCE_LABELS.get(status, status))


def status_label(order: VOrder) -> str:
    """What users see: 进行中 becomes 待评价 once the service end has passed."""
    status = order.status
    if status == 'in_progress' and order.end_at and order.end_at <= utcnow():
        status = 'to_rate'
    return str(STATUS_LABELS.get(status, status))


def beijing(value: datetime | None) -> str:
    """'2026-11-24 02:20' in Beijing time, as users read times."""
    return value.astimezone(BEIJING).strftime('%Y-%m-%d %H:%M') if value else ''


def _paren(text, note) -> str:
    """'李晓敏（已确定）' / '李晓敏 (Confirmed)': built while a page is rendered, in its language (as the `paren` filter)."""
    return gettext('%(text)s（%(note)s）', text=text, note=note)


def _with_note(text, note) -> str:
    """'李晓敏（已确定）：我有空' / '李晓敏 (Confirmed): 我有空': what an acceptor wrote, after their name."""
    return gettext('%(label)s：', label=text) + note if note else text


def _parse_time(value: str) -> datetime:
    """Aware datetime; a time without offset is Beijing time (users type local times)."""
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=BEIJING)
    return dt


def area_paths(user) -> list[str]:
    """Where a publisher may order for: a station's street, a volunteer's street, wider units as they are."""
    paths = []
    for m in user.memberships:
        unit = m.org_unit
        if unit.kind in ('station', 'team', 'provider') and unit.parent is not None:
            unit = unit.parent
        paths.append(unit.path)
    return paths


def _check_objects(user, ids, errors) -> list[ServiceObject]:
    objects = list(db.session.scalars(select(ServiceObject).where(ServiceObject.id.in_(ids)))) if ids else []
    found = {o.id: o for o in objects}
    missing = [i for i in ids if i not in found]
    not_approved = [o.name for o in objects if o.status != 'approved']
    paths = area_paths(user)
    outside = [o.name for o in objects if not any(
        o.household_street.path.startswith(p) or o.residence_street.path.startswith(p) for p in paths)]
    if missing:
        errors.append(_l('服务对象不存在：%(ids)s', ids=', '.join(map(str, missing))))
    if not_approved:
        errors.append(_l('以下服务对象尚未审核通过入库：%(names)s', names=str(_l('、')).join(not_approved)))
    if outside:
        errors.append(_l('以下服务对象不在您的服务区域内：%(names)s', names=str(_l('、')).join(outside)))
    return objects


def _order_problems(user, instance, clean) -> tuple[dict, dict]:
    """({field: [messages]}, what was looked up) of the order's rules beyond its form, for the fields present in
    `clean` (all of them when publishing; only the valid ones when the form already refused others)."""
    errors: dict = {}
    start = _parse_time(clean['start_at']) if 'start_at' in clean else None
    end = _parse_time(clean['end_at']) if 'end_at' in clean else None
    if start and end and end <= start:
        errors['end_at'] = [_l('结束时间必须晚于开始时间')]
    elif start and end and end - start > MAX_SPAN:
        errors['end_at'] = [_l('服务时间跨度不能超过 31 天')]
    if start and start <= utcnow():
        errors['start_at'] = [_l('开始时间必须晚于当前时间')]
    elif start and start - utcnow() > MAX_LEAD:
        errors['start_at'] = [_l('开始时间不能晚于一年之后')]
    item, category = clean.get('service_item'), clean.get('category')
    # the items of each category, as the form lists them (its page offers only the chosen category's items)
    groups = forms.get_form('v_order.json')['properties']['service_item']['x-follows']['groups']
    if item in groups['professional'] and category == 'general':
        errors['service_item'] = [_l('该服务项目属于专业类养老志愿服务，请选择“专业类”')]
    if item in groups['general'] and category == 'professional':
        errors['service_item'] = [_l('该服务项目属于通用型养老志愿服务，请选择“通用型”')]
    objects: list = []
    own = None
    if clean.get('demand_type') == 'self':  # ordering for oneself: oneself is the service object
        field, problem, own = _self_order_problem(user, clean.get('service_object_ids'))
        if problem is not None:
            errors[field] = [problem]
        elif own is not None:
            objects = [own]
    elif 'service_object_ids' not in clean:  # required for 为他人下单 (the form's rule), named with the others
        errors['service_object_ids'] = [_l('此项为必填项')]
    if 'service_object_ids' in clean and own is None and 'service_object_ids' not in errors:
        obj_errors: list = []
        objects = _check_objects(user, clean['service_object_ids'], obj_errors)
        if obj_errors:
            errors['service_object_ids'] = obj_errors
    if 'location' in clean and _outside_city(clean['location']):
        errors['location'] = [_l('位置不在广州市范围内，请点“使用我的位置”或“使用所选街道的位置”')]
    street = org_cache.unit(clean.get('street'))
    if street is not None and street.id not in _area_street_ids(user) | _streets_of(objects):
        errors['street'] = [_l('服务街道须在您的服务区域内，或是所选服务对象的户籍或居住街道')]
    elsewhere = _point_elsewhere(clean.get('location'), street) if 'location' not in errors else None
    if elsewhere is not None:
        errors['location'] = [_l('地图位置在%(near)s附近（%(district)s），而服务街道%(street)s在%(own)s，'
                                 '请核对地图位置或服务街道', near=elsewhere.name, district=elsewhere.parent_name,
                                 street=street.name, own=street.parent_name)]
    if is_new(instance) and not errors and start and end and objects:
        twin = _same_order(user, clean.get('title'), start, end, {o.id for o in objects})
        # the same submission sent again (its request token) is answered with the first order, not refused
        if twin is not None and (twin.request_token is None
                                 or twin.request_token != request_tokens.cleaned(request_tokens.current())):
            errors['title'] = [_l('您已发布过相同的订单（订单号 #%(id)s，%(status)s），请勿重复发布；'
                                  '确需再发布一张，请修改标题或时间', id=twin.id, status=status_label(twin))]
    attached = set() if is_new(instance) else set(db.session.scalars(
        select(InstanceFile.file_id).where(InstanceFile.instance_id == instance.id)))
    try:
        files.check_owned(user, clean.get('qualification_files', []), attached, field='qualification_files')
    except ValidationFailed as exc:
        errors.update(exc.errors)
    return errors, {'start': start, 'end': end, 'objects': objects, 'attached': attached}


def may_order_for_self(user) -> bool:
    """Volunteers order for themselves; a station (or any other unit's account) orders for others only."""
    return any(m.role == 'volunteer' for m in user.memberships)


def own_service_object(user) -> ServiceObject | None:
    """The user's own approved service-object record: the one whose ID number is the account's ID number."""
    if not user.id_number:
        return None
    return db.session.scalar(select(ServiceObject).where(
        ServiceObject.id_number == normalize_id(user.id_number), ServiceObject.status == 'approved')
        .order_by(ServiceObject.version.desc()).limit(1))


def _self_order_problem(user, ids) -> tuple[str | None, object, ServiceObject | None]:
    """(field, message, or None when it is right; the user's own record) of an order for oneself (为自己下单):
    its only service object is the user's own approved record."""
    if not may_order_for_self(user):
        return 'demand_type', _l('机构账号只能为他人下单，请选择“为他人下单”'), None
    own = own_service_object(user)
    if own is None:
        return 'service_object_ids', _l('为自己下单需要您本人已登记为服务对象并通过审核。请先登记本人信息，'
                                        '或选择“为他人下单”。'), None
    if list(ids or []) != [own.id]:
        return 'service_object_ids', _l('为自己下单时，服务对象只能是您本人（%(name)s）；为别人下单请选择“为他人下单”',
                                        name=own.name), own
    return None, None, own


def _point_elsewhere(location, street):
    """The street near the map point when that street lies in another district than the order's street (a point
    picked for the wrong place); None when they agree, or when the point is near no street's centre."""
    if street is None or not isinstance(location, dict) or not {'lat', 'lng'} <= location.keys():
        return None
    near = _near_street(float(location['lat']), float(location['lng']))
    return near if near is not None and near.parent_id != street.parent_id else None


def _outside_city(location: dict) -> bool:
    """A map point outside the city's area (the form's x-bounds, by latitude and longitude)."""
    bounds = forms.get_form('v_order.json')['properties']['location']['x-bounds']
    return any(not b['minimum'] <= location[k] <= b['maximum'] for k, b in bounds.items() if k in location)


@cache
def street_centres() -> dict[str, dict]:
    """{street code: {'lat', 'lng'}}: the centre of each street (app/data/street_centres.json), which the order
    form's 使用所选街道的位置 fills in and order pages name points by."""
    data = json.loads(STREET_CENTRES.read_text(encoding='utf-8'))
    return {code: {'lat': float(p['lat']), 'lng': float(p['lng'])} for code, p in data.items()
            if not code.startswith('_')}


def _near_street(lat: float, lng: float, within_km=3.0):
    """The street (org_cache unit) whose centre is nearest the point, when it is within `within_km`; else None."""
    best, best_km = None, within_km
    for code, c in street_centres().items():
        km = math.hypot((lat - c['lat']) * 110.6, (lng - c['lng']) * 111.3 * math.cos(math.radians(lat)))
        if km <= best_km and org_cache.unit(code) is not None:
            best, best_km = org_cache.unit(code), km
    return best


def place_words(location) -> str:
    """A map point in words: '西村街附近' near a street's centre, else its coordinates; '' without one."""
    try:
        lat, lng = float(location['lat']), float(location['lng'])
    except (KeyError, TypeError, ValueError):
        return ''
    if not (math.isfinite(lat) and math.isfinite(lng)):
        return ''
    street = _near_street(lat, lng)
    if street is not None:
        return gettext('%(street)s附近', street=street.name)
    return gettext('纬度 %(lat)s，经度 %(lng)s', lat=f'{lat:g}', lng=f'{lng:g}')


def location_text(lat, lng) -> str:
    """'西村街附近（23.1483, 113.2467）': an order's map point as its pages show it (4 decimals each)."""
    if lat is None or lng is None:
        return ''
    street = _near_street(lat, lng)
    numbers = f'{lat:.4f}, {lng:.4f}'  # both to about 10 m, the same number of decimals
    return _paren(gettext('%(street)s附近', street=street.name), numbers) if street is not None else numbers


def order_form_context(user) -> dict:
    """What the order form shows beyond its fields' choices: the user's own record for 为自己下单 ((id, label), or
    None), whether they may order for themselves, and the streets' centres for 使用所选街道的位置."""
    from app.services.validators import mask_id
    own = own_service_object(user) if may_order_for_self(user) else None
    names = {u.code: u.name for u in org_cache.of_kind('street')}
    return {'self_allowed': may_order_for_self(user),
            'self_object': (own.id, _paren(own.name, mask_id(own.id_number))) if own is not None else None,
            'street_centres': {code: {**c, 'name': names[code]} for code, c in street_centres().items()
                               if code in names}}


def order_page_facts(order: VOrder) -> dict:
    """What the order page shows besides order_view: the map point in words and the uploaded 专业资质证明."""
    data = json.loads(order.data_json or '{}')
    return {'location': location_text(order.lat, order.lng),
            'qualification_files': [int(f) for f in data.get('qualification_files') or []]}


def _same_order(user, title, start, end, object_ids: set) -> VOrder | None:
    """The user's order still under way with the same title, times and service objects (published again by the
    browser's Back button and 发布, or twice by mistake), or None."""
    candidates = db.session.scalars(select(VOrder).where(
        VOrder.publisher_id == user.id, VOrder.title == title, VOrder.start_at == start, VOrder.end_at == end,
        VOrder.status.not_in(('cancelled', 'expired', 'aborted', 'abandoned')))).all()
    for order in candidates:
        if set(db.session.scalars(select(VOrderObject.service_object_id).where(
                VOrderObject.order_id == order.id))) == object_ids:
            return order
    return None


def _by_token(user, token) -> VOrder | None:
    """The user's order published with this request token, or None."""
    if not token:
        return None
    return db.session.scalar(select(VOrder).where(VOrder.publisher_id == user.id, VOrder.request_token == token))


def _first_of_token(user) -> str | None:
    """The token of the submission starting a new order, after refusing a repeat of one already published. The
    publisher's row is locked first, so that two copies of one submission arriving together are told apart."""
    token = request_tokens.cleaned(request_tokens.current())
    if token is None:
        return None
    db.session.scalar(select(User.id).where(User.id == user.id).with_for_update())
    earlier = _by_token(user, token)
    if earlier is not None:
        raise request_tokens.duplicate(earlier.instance_id, _l('该订单已提交（订单编号 %(id)s），请勿重复提交', id=earlier.id))
    return token


def publish(user, values: dict, new_files: list):
    """Publish an order from the phone page; (instance, created). A repeat of the same submission (its
    request_token) returns the first order's case instead of making a second order."""
    token = request_tokens.cleaned(values.get('request_token'))

    def earlier():
        order = _by_token(user, token)
        return order.instance if order is not None else None
    with request_tokens.carrying(token):
        return request_tokens.start_once(earlier, lambda: submissions.start_with_files(
            user, PROCESS_KEY, 'v_order.json', values, new_files))


def _validate_order(user, instance, clean) -> dict:
    errors, checked = _order_problems(user, instance, clean)
    if errors:
        raise ValidationFailed(errors)
    return checked


def _attach(instance, ids, attached) -> None:
    for fid in set(ids) - set(attached):
        db.session.add(InstanceFile(instance_id=instance.id, file_id=fid))


def order_for(instance) -> VOrder | None:
    """The order behind a case. Within one use case it is kept: one engine step asks for it from the hooks, the
    service tasks and the audit, and the session's weak identity map alone would let it be fetched again."""
    memo = use_case_memo()
    order = memo.get(('v_order', instance.id)) if memo is not None else None
    if order is None and is_new(instance):
        return None
    if order is None or not inspect(order).persistent:
        order = db.session.scalar(select(VOrder).where(VOrder.instance_id == instance.id))
        if order is not None:
            remember_order(instance, order)
    return order


def remember_order(instance, order: VOrder) -> None:
    memo = use_case_memo()
    if memo is not None:
        memo[('v_order', instance.id)] = order


def approved_count(order) -> int:
    return db.session.scalar(select(func.count()).select_from(VOrderVolunteer).where(
        VOrderVolunteer.order_id == order.id, VOrderVolunteer.status == 'approved'))


def staffed(order) -> bool:
    """Enough acceptors approved, counted in `order.volunteers`. For the steps of the order's locked instance,
    the only place its acceptors change, so the collection read after the lock is current."""
    return sum(v.status == 'approved' for v in order.volunteers) >= order.volunteers_needed


class VOrderHooks(ProcessHooks):
    process_key = PROCESS_KEY
    start_roles = {'volunteer', 'station_admin'}
    display_form = 'v_order_view.json'
    # what _publish (and the publish review, for a provider) put into the case data besides the forms' fields
    scope_variables = {
        'station_scope': CaseVariable(_l('订单服务街道的社工站'), 'station'),
        'street_scope': CaseVariable(_l('订单的服务街道'), 'street'),
        'review_scope': CaseVariable(_l('全市（广志协）'), 'city'),
        'provider_scope': CaseVariable(_l('社工站审核时选定的服务商（选择“派给服务商”时才有）'), 'provider'),
    }
    data_variables = {
        'order_id': CaseVariable(_l('订单编号')),
        'revision': CaseVariable(_l('第几次提交（退回后再提交加 1）')),
        'expire_at': CaseVariable(_l('订单的开始时间（到时仍无人接单则过期）')),
        'remind7_at': CaseVariable(_l('服务结束 7 天后（提醒认证时数）')),
        'remind12_at': CaseVariable(_l('服务结束 12 天后（再次提醒）')),
        'overdue_at': CaseVariable(_l('时数认证的截止时间')),
        'acceptor_id': CaseVariable(_l('最近接单的志愿者（用户编号）')),
    }

    def task_title(self, task):
        """Volunteers are offered an order they may take, not handed a back-office to-do."""
        if task.bpmn_id == 'accept':
            return _l('有新的订单可以接：%(title)s', title=task.instance.title)
        return None

    def offer_link(self, task):
        # volunteers accept from the phone list of open orders; the fragment names the task, so that the messages
        # of one offer can be told apart and follow it (standing_offer)
        return f'/m/orders/open#task-{task.id}' if task.bpmn_id == 'accept' else None

    def standing_offer(self, task):
        return task.bpmn_id == 'accept'

    def settled_link(self, task, taken=True):
        if task.bpmn_id != 'accept':
            return None
        if not taken:  # the order was cancelled or expired: the page that says so (offer_outcome)
            return f'/m/orders/offers/{task.id}'
        order = order_for(task.instance)
        return f'/orders/{order.id}' if order is not None else None

    def prepare(self, user, instance, task, form_key, clean):
        handler = {'v_order.json': self._publish, 'v_order_review.json': self._review,
                   'v_order_accept.json': self._accept, 'v_order_dispatch.json': self._dispatch,
                   'v_order_rate.json': self._rate, 'v_order_certify.json': self._certify,
                   'v_order_redispatch.json': self._redispatch}.get(form_key)
        if task.bpmn_id == 'certify_review' and clean.get('decision') == 'approve':
            self._check_award(instance)
        if task.bpmn_id == 'acceptor_review':
            return self._acceptor_review(instance, clean)
        return handler(user, instance, task, clean) if handler else clean

    def _acceptor_review(self, instance, clean):
        """The review's branch goes on with the order's dispatch as it is now (a rejection may offer the place
        again, by gw_dispatch): the station may have re-dispatched the order since this acceptor came (a provider
        returned it), and each branch keeps the case data it started with. Its reason is its own: an approval
        without one does not carry an earlier step's reason to the acceptor's message."""
        order = order_for(instance)
        return {**clean, 'reason': clean.get('reason', ''), 'recheck': None, 'dispatch_mode': order.dispatch_mode or 'open',
                'provider_scope': [order.provider.code] if order.provider is not None else []}

    def problems(self, user, instance, task, form_key, valid):
        if form_key == 'v_order.json':
            return _order_problems(user, instance, valid)[0]
        if form_key == 'v_order_certify.json':
            return _certify_problems(user, instance, valid)[0]
        return {}

    def batch_defaults(self, task, decision):
        """A publish review approved in a batch opens the order to volunteers: offering it to a service provider
        means choosing the provider, on the task's own page (or with `provider` in the batch's data)."""
        return {'dispatch_mode': 'open'} if task.bpmn_id == 'publish_review' and decision == 'approve' else {}

    def batch_done(self, task, decision):
        order = order_for(task.instance) if task.bpmn_id == 'publish_review' and decision == 'approve' else None
        if order is None:
            return None
        from app.services.v_order_views import dispatch_choice
        if order.status == 'open':
            return str(_l('已通过，%(choice)s', choice=dispatch_choice('open')))
        if order.status == 'awaiting_dispatch' and order.provider is not None:
            return str(_l('已通过，%(choice)s', choice=dispatch_choice('provider', order.provider.code)))
        return str(_l('已通过，订单状态：%(status)s', status=status_label(order)))

    def batch_hint(self, task):
        if task.bpmn_id == 'publish_review':
            return str(_l('批量通过的订单将开放给志愿者接单；需派给服务商的订单请单独办理'))
        return None

    def _check_award(self, instance):
        from app.services.v_order_steps import check_correction
        order = order_for(instance)
        check_correction(order, float(json.loads(order.certification_json or '{}').get('service_hours') or 0))

    def _publish(self, user, instance, task, clean):
        checked = _validate_order(user, instance, clean)
        street = org_cache.by_code(clean['street'])
        earlier = order_for(instance)  # a resubmission edits the order it made the first time
        order = earlier or VOrder(instance_id=instance.id, publisher_id=user.id, request_token=_first_of_token(user))
        start, end = checked['start'], checked['end']
        for name in ('title', 'demand_type', 'category', 'service_item', 'address', 'volunteers_needed', 'needs'):
            setattr(order, name, clean[name])
        order.special_notes = clean.get('special_notes', '')
        order.street, order.start_at, order.end_at = street, start, end
        order.lat, order.lng = clean['location']['lat'], clean['location']['lng']
        order.data_json, order.updated_at = json.dumps(clean, ensure_ascii=False), utcnow()
        db.session.add(order)
        db.session.flush()
        remember_order(instance, order)
        if earlier is not None:
            db.session.execute(VOrderObject.__table__.delete().where(VOrderObject.order_id == order.id))
        db.session.add_all(VOrderObject(order_id=order.id, service_object_id=o.id) for o in checked['objects'])
        _attach(instance, clean.get('qualification_files', []), checked['attached'])
        instance.title, instance.business_key = clean['title'], f'vo:{order.id}'
        revision = (task_revision(instance) or 0) + 1
        deadlines = {k: (end + timedelta(days=d)).isoformat() for k, d in REMINDER_DAYS.items()}
        return {**clean, **deadlines, 'order_id': order.id, 'revision': revision,
                'station_scope': [forms.station_code(street.code)], 'street_scope': [street.code], 'review_scope': ['gz'],
                'expire_at': start.isoformat(), 'volunteers_needed': order.volunteers_needed}

    def _review(self, user, instance, task, clean):
        if clean.get('decision') != 'approve':
            return clean
        order = order_for(instance)
        if order.start_at is not None and order.start_at <= utcnow():  # it would only expire at once
            raise ValidationFailed({'decision': [_l('订单的开始时间（%(at)s）已过，不能再通过；请选择不通过并说明原因，'
                                                    '发布人可改期后重新提交', at=beijing(order.start_at))]})
        order.dispatch_mode = clean['dispatch_mode']
        extra = {}
        if clean['dispatch_mode'] == 'provider':
            provider = org_cache.by_code(clean['provider'])
            order.provider_id = provider.id
            extra['provider_scope'] = [provider.code]
        return {**clean, **extra}

    def _add_acceptor(self, instance, volunteer, provider_id, note):
        order = order_for(instance)
        if staffed(order):
            raise Conflict(_l('该订单志愿者人数已满'))
        if sum(v.status in ('pending', 'approved') for v in order.volunteers) >= order.volunteers_needed:
            raise Conflict(_l('该订单的名额已被接满，正在等待社工站审核接单人'))
        if volunteer.id == order.publisher_id:
            raise ValidationFailed({'volunteer': [_l('不能接自己发布的订单')]})
        if any(v.user_id == volunteer.id for v in order.volunteers):
            raise ValidationFailed({'volunteer': [_l('%(name)s 已接过此订单', name=volunteer.display_name)]})
        order.volunteers.append(VOrderVolunteer(user_id=volunteer.id, status='pending', via_provider_id=provider_id,
                                                note=note or ''))
        return {'acceptor_id': volunteer.id}

    def _accept(self, user, instance, task, clean):
        order = order_for(instance)
        if order.start_at is not None and order.start_at <= utcnow():
            raise ValidationFailed({'note': [_l('该订单的服务已开始，不能再接单')]})
        return {**clean, **self._add_acceptor(instance, user, None, clean.get('note'))}

    def _dispatch(self, user, instance, task, clean):
        order = order_for(instance)
        if clean.get('provider_action') == 'return':
            return self._provider_return(instance, order, clean)
        if not clean.get('volunteer'):  # the form asks for one when 派给志愿者 is chosen; an API call may omit the choice
            raise ValidationFailed({'volunteer': [_l('此项为必填项')]})
        volunteer = db.session.scalar(select(User).where(User.username == clean['volunteer']))
        provider = order.provider
        if volunteer is None or not any(m.role == 'volunteer' and m.org_unit.path.startswith(provider.path)
                                        for m in volunteer.memberships):
            raise ValidationFailed({'volunteer': [_l('只能派给本服务商的志愿者')]})
        added = self._add_acceptor(instance, volunteer, provider.id, clean.get('note'))
        # the volunteer holds no task of the order: tell them (for their information: the station decides next)
        messages.send([volunteer.id], kind='info', link=f'/orders/{order.id}',
                      title=_l('服务商「%(provider)s」已为您派单：V订单「%(title)s」（%(start)s，%(street)s），等待社工站审核',
                               provider=provider.name, title=order.title, start=beijing(order.start_at),
                               street=order.street.name),
                      body=clean.get('note') or '')
        kept = {k: v for k, v in clean.items() if k != 'return_reason'}
        return {**kept, 'provider_action': 'dispatch', **added}

    def _provider_return(self, instance, order, clean):
        """The provider hands the order back (退回订单): the station dispatches it again (社工站重新派单)."""
        if not returnable(instance):
            raise ValidationFailed({'provider_action': [_l('该订单按旧版流程办理，不能退回；如无法派单，请联系社工站取消订单')]})
        if order.start_at is not None and order.start_at <= utcnow():
            late = _l('订单的开始时间（%(at)s）已过，不能再退回；没有确定志愿者的订单会自动过期', at=beijing(order.start_at))
            raise ValidationFailed({'provider_action': [late]})
        return {'provider_action': 'return', 'return_reason': clean['return_reason'], 'returned_by': 'provider'}

    def _redispatch(self, user, instance, task, clean):
        """The station dispatches a returned order again: open to volunteers, or offered to a provider that still
        has a volunteer to send (not one whose volunteers have all been on the order)."""
        order = order_for(instance)
        if order.start_at is not None and order.start_at <= utcnow():
            raise ValidationFailed({'dispatch_mode': [_l('订单的开始时间（%(at)s）已过，不能再派单；请在订单页面取消订单',
                                                         at=beijing(order.start_at))]})
        scope = []
        if clean['dispatch_mode'] == 'provider':
            provider = org_cache.by_code(clean['provider'])
            if not left_to_dispatch(order, provider):
                nobody = _l('服务商「%(name)s」已没有可派此订单的志愿者，请选择其他服务商或开放给志愿者接单', name=provider.name)
                raise ValidationFailed({'provider': [nobody]})
            order.provider_id, scope = provider.id, [provider.code]
        else:
            order.provider_id = None  # the order is no longer offered to a provider
        order.dispatch_mode, order.updated_at = clean['dispatch_mode'], utcnow()
        return {**clean, 'provider_scope': scope}

    def _rate(self, user, instance, task, clean):
        order = order_for(instance)
        if order.end_at > utcnow():  # about the order's date, not a field: said at the top of the form (SPEC: after the
            # service the publisher confirms completion and rates)
            raise ValidationFailed({'form': [_l('服务尚未结束，%(time)s 服务结束后才能确认完成并评价',
                                                time=beijing(order.end_at))]})
        order.rating_json = json.dumps(clean, ensure_ascii=False)
        return clean

    def _certify(self, user, instance, task, clean):
        problems, attached = _certify_problems(user, instance, clean)
        if problems:
            raise ValidationFailed(problems)
        _attach(instance, clean['photos'], attached)
        order_for(instance).certification_json = json.dumps(clean, ensure_ascii=False)
        return clean

    def on_saved(self, instance, ready_bpmn_ids):
        if 'accept' not in ready_bpmn_ids:
            _settle_withdrawn_offers(instance)
        order = order_for(instance)
        if order is not None and order.status == 'expired':
            settle_offers(instance)
        if order is None or instance.status != 'running':
            return
        # acceptors are reviewed while the order stays open: an undispatched provider task (or a returned order
        # waiting for the station's new dispatch) shows 待派单 first
        for bpmn_id in sorted(ready_bpmn_ids, key=lambda b: b not in DISPATCH_STEPS):
            if bpmn_id in READY_STATUS:
                order.status = READY_STATUS[bpmn_id]
                break

    def display(self, instance):
        order = order_for(instance)
        if order is None:
            return {}
        data = json.loads(order.data_json)
        names = db.session.scalars(select(ServiceObject.name).join(
            VOrderObject, VOrderObject.service_object_id == ServiceObject.id).where(VOrderObject.order_id == order.id)
            .order_by(VOrderObject.service_object_id)).all()
        data['service_object_ids'] = gettext('、').join(names)
        data['location'] = location_text(order.lat, order.lng)
        data['start_at'], data['end_at'] = beijing(order.start_at), beijing(order.end_at)
        data['status'] = status_label(order)
        data.update(_certification_display(order))
        data['acceptors'] = gettext('；').join(
            _with_note(_paren(v.user.display_name, acceptance_label(order, v.status)), v.note)
            for v in order.volunteers)
        return data

    def task_subject(self, instance, ready):
        if ready.bpmn_id == 'redispatch':  # the provider that returned the order (or had it taken back)
            order = order_for(instance)
            return order.provider.name if order is not None and order.provider is not None else None
        if ready.bpmn_id != 'acceptor_review':
            return None
        acceptor = db.session.get(User, ready.data.get('acceptor_id') or 0)
        return acceptor.display_name if acceptor is not None else None

    def not_yet(self, instance, task):
        if task is None or task.bpmn_id != 'confirm':
            return None
        order = order_for(instance)
        if order is None or not order.end_at or order.end_at <= utcnow():
            return None
        return str(_l('服务结束后（%(time)s 起）可%(step)s', time=beijing(order.end_at), step=step_name(task.title)))

    def task_notice(self, task):
        """The station's 社工站重新派单 says who returned the order and why (the latest return of its 服务商派单)."""
        if task.bpmn_id != 'redispatch':
            return None
        back = returned_by(task.instance_id)
        return (lambda: returned_text(back)) if back is not None else None

    def audit_step(self, task, clean):
        """A provider's 退回订单 is its own step; a dispatch names whom the order went to (社工站发布审核（派给服务商：…）,
        服务商派单（派给志愿者：李晓敏）), keeping the reviewer's reason. The form's data is recorded as it was."""
        if task.bpmn_id == 'provider_dispatch' and clean.get('provider_action') == 'return':
            return RETURN_STEPS['provider'], clean.get('return_reason')
        from app.services.v_order_views import step_with_choice  # (it reads this module's helpers)
        named = step_with_choice(task, clean)
        # a provider's dispatch keeps its 派单说明 (请提前10分钟到达) where a review keeps its reason: the order's
        # history shows it to the volunteer, the station and the provider, not only the volunteer's message
        return (named, clean.get('reason') or clean.get('note') or None) if named is not None else None

    def done_message(self, task):
        return str(_l('已确认完成并评价，等待社工站认证服务时数')) if task.bpmn_id == 'confirm' else None

    def reason_hint(self, task):
        if task.bpmn_id == 'acceptor_review':
            order = order_for(task.instance)
            if order is not None and order.dispatch_mode == 'provider':  # the place goes back to the provider
                return str(_l('不通过的原因会告知该接单人和下单人，名额将退回服务商重新派单。'))
            return str(_l('不通过的原因会告知该接单人和下单人，名额将重新开放给其他志愿者。'))
        return super().reason_hint(task)

    def task_display(self, task, run=None, page=False):
        """An acceptor review names the acceptor it decides on: several may wait for the station at once."""
        data = self.display(task.instance)
        if task.bpmn_id != 'acceptor_review' or not data:
            return data
        from app.services.instances import load_run
        run = run or load_run(task.instance)
        try:
            acceptor_id = run.ready_value(task.task_guid, 'acceptor_id')
        except TaskNotReady:  # the page of a task handled a moment ago: the case's data alone
            return data
        row = next((v for v in order_for(task.instance).volunteers if v.user_id == acceptor_id), None)
        if row is not None:
            provider = db.session.get(OrgUnit, row.via_provider_id) if row.via_provider_id else None
            name = row.user.display_name
            if provider is not None:
                name = gettext('%(name)s（%(provider)s派单）', name=name, provider=provider.name)
            data['acceptor_under_review'] = _with_note(name, row.note)
            if page:  # what the station weighs, not what it decides on: not in the decision's audit row
                from app.services.v_order_views import acceptor_profile  # (it reads this module's helpers)
                data['acceptor_profile'] = acceptor_profile(row.user, order_for(task.instance))
        return data

    def may_view(self, user, instance) -> bool:
        order = order_for(instance)
        return order is not None and on_order_or_overseeing(user, order)

    def status_label(self, instance) -> str | None:
        """The order's status of SPEC §2.2 for case lists (待审核 … 已中止), not the generic step name."""
        order = order_for(instance)
        return status_label(order) if order is not None else None

    def decision_audience(self, instance, decision):
        """A certification the association returned is corrected by the street's station, who may not have
        published the order: they learn the reason with the returned 时数认证 (the publisher is told as well)."""
        audience = super().decision_audience(instance, decision)
        if decision.bpmn_id == 'certify_review' and decision.decision == 'reject':
            from app.services.tasks import open_tasks
            for task in open_tasks(instance.id):
                if task.bpmn_id == 'certify':
                    audience.update(dict.fromkeys(messages.recipients_for_task(task), messages.task_link(task)))
        return audience

    def reset_refusal(self, instance, bpmn_id):
        """Once points were paid, a reset may only redo the rating and the certification (the award then settles
        the difference): an earlier step could drop or reject a volunteer who keeps the points."""
        from app.services.v_order_steps import award_history
        order = order_for(instance)
        if order is None:
            return None
        if bpmn_id not in ('confirm', 'certify', 'certify_review') and award_history(order):
            return str(_l('该订单已发放积分，只能回退到“确认完成并评价”“时数认证”或“广志协认证审核”（重新认证后积分按差额结算）'))
        if bpmn_id in ('accept', 'provider_dispatch') and order.start_at is not None and order.start_at <= utcnow():
            return str(_l('服务开始时间已过，不能再回退到接单或派单步骤（可回退到“社工站发布审核”等更早的步骤）'))
        return None

    def on_reset(self, instance, run, step, reason):
        """An acceptance the reset undid is withdrawn (the volunteer may accept again, and is told); an acceptor
        whose review is open again waits for it."""
        order = order_for(instance)
        if order is None:
            return
        kept = set(run.completed_values('accept', 'acceptor_id') + run.completed_values('provider_dispatch', 'acceptor_id'))
        reviewing = {t.data.get('acceptor_id') for t in run.ready_tasks() if t.bpmn_id == 'acceptor_review'}
        withdrawn = []
        for row in list(order.volunteers):
            if row.user_id not in kept:
                withdrawn.append(row.user_id)
                order.volunteers.remove(row)
                db.session.delete(row)
            elif row.user_id in reviewing:
                row.status, row.decided_at = 'pending', None
        messages.send(withdrawn, kind='info', link=f'/orders/{order.id}', body=reason, title=lambda: _l(
            'V订单「%(title)s」已被管理员回退到“%(step)s”，您的接单已撤销，原因：%(reason)s',
            title=order.title, step=step_name(step), reason=reason))

    def already_on_it(self, instance, task):
        order = order_for(instance) if task.bpmn_id == 'accept' else None
        return {v.user_id for v in order.volunteers} | {order.publisher_id} if order is not None else set()

    def form_options(self, user, form_key, task=None):
        if form_key == 'v_order.json':
            choices = {'service_object_ids': object_choices(user), 'street': street_choices(user)}
            if not may_order_for_self(user):  # a station orders for others
                prop = forms.get_form(form_key)['properties']['demand_type']
                choices['demand_type'] = [c for c in forms.option_list(prop) if c[0] == 'others']
            return choices
        if form_key == 'v_order_dispatch.json':
            options = {'volunteer': dispatch_choices(user, task)}
            if task is not None and not returnable(task.instance):  # an older diagram has no way back
                form = forms.get_form(form_key)
                options['provider_action'] = forms.option_list(form['properties']['provider_action'])[:1]
            return options
        return {}

    def task_values(self, instance, form_key):
        """A certification the association sent back is corrected, not typed again (photos kept). A dispatch starts
        at 派给志愿者, or at 退回订单 when none of the provider's volunteers can still be sent."""
        order = order_for(instance)
        if form_key == 'v_order_certify.json' and order is not None and order.certification_json:
            return json.loads(order.certification_json)
        if form_key == 'v_order_dispatch.json' and order is not None and order.provider is not None:
            stuck = returnable(instance) and not left_to_dispatch(order, order.provider)
            return {'provider_action': 'return' if stuck else 'dispatch'}
        return {}

    def resubmit_values(self, instance):
        """What was sent, with its times as the form's Beijing-time fields show them (the data may hold UTC)."""
        order = order_for(instance)
        if order is None:
            return {}
        data = json.loads(order.data_json)
        for key in ('start_at', 'end_at'):
            try:
                data[key] = _parse_time(data[key]).astimezone(BEIJING).strftime('%Y-%m-%dT%H:%M')
            except (KeyError, TypeError, ValueError):
                pass
        return data


ENDED_STATUSES = ('rejected', 'cancelled', 'expired', 'aborted', 'abandoned')  # nobody serves these orders

_RETURNABLE: dict[str, bool] = {}  # by diagram version (its sha256: versions never change)
# the history rows of an order handed back to the station: by its provider, or taken back by the station
RETURN_STEPS = {'provider': _l('服务商退回订单'), 'station': _l('社工站收回派单')}


def returnable(instance) -> bool:
    """Whether the case's diagram version lets the order go back from 服务商派单 to the station (the provider's
    退回订单, the station's 收回派单): versions published before that way existed finish without it."""
    version = instance.version
    known = _RETURNABLE.get(version.sha256)
    if known is None:
        xml = db.session.scalar(select(WorkflowVersion.bpmn_xml).where(WorkflowVersion.id == version.id)) or b''
        known = _RETURNABLE[version.sha256] = b'provider_action' in bytes(xml)
    return known


def left_to_dispatch(order: VOrder, provider: OrgUnit) -> list[int]:
    """The ids of the provider's volunteers it may still send to the order: not on it already (accepted,
    dispatched or refused by the station), not its publisher."""
    lo, hi = path_range(provider.path)
    ids = db.session.scalars(select(Membership.user_id).join(OrgUnit, OrgUnit.id == Membership.org_unit_id).where(
        Membership.role == 'volunteer', OrgUnit.path >= lo, OrgUnit.path < hi).distinct().order_by(Membership.user_id))
    taken = {v.user_id for v in order.volunteers} | {order.publisher_id}
    return [i for i in ids if i not in taken]


def returned_by(instance_id: int) -> Decision | None:
    """The history row of the order's latest return to the station (a provider's 退回订单 or the station's 收回派单)."""
    return db.session.scalar(select(Decision).where(
        Decision.instance_id == instance_id, Decision.bpmn_id == 'provider_dispatch',
        Decision.task_title.in_([in_chinese(t) for t in RETURN_STEPS.values()])).order_by(Decision.id.desc()).limit(1))


def provider_note(order, open_tasks) -> str | None:
    """What the order page adds to its provider's name while the station dispatches the order again: 已退回 (the
    provider returned it) or 已收回 (the station took it back); None otherwise."""
    if order.provider_id is None or not any(t.bpmn_id == 'redispatch' for t in open_tasks):
        return None
    row = returned_by(order.instance_id)
    return gettext('已收回') if row is not None and row.task_title == in_chinese(RETURN_STEPS['station']) \
        else gettext('已退回')


def returned_text(row: Decision) -> str:
    """'颐康居家养老服务中心退回了订单，原因：…' / '西村街社工站收回了服务商的派单，原因：…', in the current language."""
    who = row.org_unit.name if row.org_unit is not None else (row.actor.display_name if row.actor else gettext('系统'))
    if row.task_title == in_chinese(RETURN_STEPS['station']):
        return gettext('%(who)s收回了服务商的派单，原因：%(reason)s', who=who, reason=row.reason or '')
    return gettext('%(who)s退回了订单，原因：%(reason)s', who=who, reason=row.reason or '')


def list_statuses(user, filters: dict) -> dict:
    """The 订单管理 status filter's choices for this user: a provider only ever sees orders offered to it, after
    the station's approval (not 待审核, 初审已通过, 审核不通过 or 已终止)."""
    paths, providers = list_scope(user)
    if paths or not providers:
        return filters
    return {k: v for k, v in filters.items() if k not in NOT_OFFERED_YET}


def settle_offers(instance, skip=()) -> None:
    """The order was cancelled or expired: every offer of it (the 新待办 of each of its accept tasks but `skip`), read
    or not, now leads to the page that says so, also those of the accept tasks volunteers took before (an
    acceptance took the last place, then the order was cancelled). The acceptors' own lead to the order already."""
    from app.models import HumanTask
    for task in db.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.bpmn_id == 'accept', HumanTask.id.not_in(list(skip)))):
        messages.settle_task_messages(task)


def _settle_withdrawn_offers(instance) -> None:
    """An accept task the engine withdrew in this step (the start time came: the order expires, or starts with
    whoever was approved) leaves no offer waiting unread. Only rows save_run has just cancelled are looked at (no
    query); an accepted one is settled, or its offer carried over, by the acceptance (messages.settle_task_messages)."""
    from app.models import HumanTask
    for row in [o for o in db.session.dirty if isinstance(o, HumanTask)]:
        if row.instance_id == instance.id and row.bpmn_id == 'accept' and 'open' in inspect(row).attrs.status.history.deleted:
            messages.settle_task_messages(row)


def _hours_since(moment: datetime) -> float:
    """Whole tenths of an hour from `moment` until now (rounded down): the most a volunteer can have served."""
    return max(0, int((utcnow() - moment).total_seconds() // 360)) / 10


def _certify_problems(user, instance, clean) -> tuple[dict, set]:
    """({field: [messages]}, the files already on the case) of a certification's rules and its photos, for the
    fields present in `clean` (only the valid ones when the form already refused others); writes nothing."""
    problems = certification_problems(order_for(instance), clean)
    attached = set(db.session.scalars(select(InstanceFile.file_id).where(InstanceFile.instance_id == instance.id)))
    try:
        files.check_owned(user, clean.get('photos') or [], attached, field='photos')
    except ValidationFailed as exc:
        problems.update(exc.errors)
    return problems, attached


def _day(value) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value not in (None, '') else None


def certification_problems(order: VOrder, clean: dict) -> dict:
    """What a certification may not say: dates outside the order's service days (Beijing) or in the future, more
    hours per volunteer than the certified days hold or than have passed since the service started (points are
    never awarded for time not yet served), more volunteers or service objects than the order has, person-times the
    volunteer count and the days cannot hold (`_person_times_problem`). Every rule is checked that the fields
    present in `clean` allow, so that one answer names every problem."""
    problems = {}
    start, end = _day(clean.get('service_start_date')), _day(clean.get('service_end_date'))
    first, last = order.start_at.astimezone(BEIJING).date(), order.end_at.astimezone(BEIJING).date()
    today = utcnow().astimezone(BEIJING).date()
    days = None
    outside = _l('服务日期应在订单的服务时间内（%(first)s 至 %(last)s）', first=first, last=last)
    if start and end and end < start:
        problems['service_end_date'] = [_l('结束日期不能早于开始日期')]
    else:
        if start and not first <= start <= last:
            problems['service_start_date'] = [outside]
        if end and not first <= end <= last:
            problems['service_end_date'] = [outside]
        elif end and end > today:
            problems['service_end_date'] = [_l('不能认证尚未到来的日期')]
        days = (end - start).days + 1 if start and end else None
    hours = clean.get('service_hours')
    if hours is not None:
        booked = int((order.end_at - order.start_at).total_seconds() // 360) / 10
        if days and hours > 24 * days:
            problems['service_hours'] = [_l('每位志愿者的服务时长不能超过所认证日期的总时长（%(h)s 小时）', h=24 * days)]
        elif hours > (served := _hours_since(order.start_at)):
            problems['service_hours'] = [_l('服务开始至今只有 %(h)s 小时，不能认证尚未服务的时长', h=served)]
        elif hours > booked:
            problems['service_hours'] = [_l('每位志愿者的服务时长不能超过订单预约的服务时长（%(h)s 小时，%(start)s 至 %(end)s）',
                                            h=f'{booked:g}', start=beijing(order.start_at), end=beijing(order.end_at))]
    if clean.get('volunteer_count') is not None and clean['volunteer_count'] > (approved := approved_count(order)):
        problems['volunteer_count'] = [_l('志愿者人数不能多于已确定的接单志愿者（%(n)s 人）', n=approved)]
    dated = days if not ({'service_start_date', 'service_end_date'} & problems.keys()) else None
    volunteers = clean.get('volunteer_count') if 'volunteer_count' not in problems else None
    if (person_times := _person_times_problem(clean.get('person_times'), volunteers, dated)) is not None:
        problems['person_times'] = [person_times]
    if clean.get('object_count') is not None:
        objects = db.session.scalar(select(func.count()).select_from(VOrderObject).where(
            VOrderObject.order_id == order.id))
        if clean['object_count'] > objects:
            problems['object_count'] = [_l('服务对象人数不能多于订单中的服务对象（%(n)s 人）', n=objects)]
    return problems


def _person_times_problem(person_times, volunteers, days):
    """服务人次 counts the volunteers' turns of service: each volunteer who served counts once for every day of the
    certified dates on which they served. An order books one continuous service period, so a volunteer takes part
    in it at most once a day: person-times lie between the volunteer count and volunteers × days. A bound whose
    own field was refused (or is missing) is not applied."""
    if person_times is None or not volunteers:
        return None
    if person_times < volunteers:
        return _l('服务人次不能少于志愿者人数（%(n)s 人）：每位服务的志愿者至少计 1 人次', n=volunteers)
    if days and person_times > volunteers * days:
        return _l('服务人次不能多于志愿者人数 × 服务天数（%(v)s 人 × %(d)s 天 = %(n)s 人次）',
                  v=volunteers, d=days, n=volunteers * days)
    return None


def _certification_display(order: VOrder) -> dict:
    """The rating and the certification as the association reviews them (the view form labels each item)."""
    shown = {}
    for key, stars in json.loads(order.rating_json or '{}').items():
        if key.startswith('rating_') and isinstance(stars, int):
            shown[key] = '★' * stars + '☆' * (5 - stars)
        elif key == 'comment' and stars:
            shown['rating_comment'] = stars
    cert = json.loads(order.certification_json or '{}')
    for key in ('person_times', 'object_count', 'volunteer_count', 'service_hours', 'summary', 'results', 'photos'):
        if cert.get(key) not in (None, ''):
            shown['cert_' + key] = cert[key]
    if cert.get('service_start_date'):
        shown['cert_period'] = f"{cert['service_start_date']} ~ {cert['service_end_date']}"
    return shown


def provider_volunteers(user) -> list[tuple[str, str]]:
    """(username, label) of the volunteers of the providers this user administers: whom they may dispatch to."""
    ranges = [path_range(m.org_unit.path) for m in user.memberships if m.role == 'provider_admin']
    if not ranges:
        return []
    rows = db.session.scalars(select(User).join(Membership, Membership.user_id == User.id).join(
        OrgUnit, OrgUnit.id == Membership.org_unit_id).where(
        Membership.role == 'volunteer', or_(*[and_(OrgUnit.path >= lo, OrgUnit.path < hi) for lo, hi in ranges]))
        .distinct().order_by(User.id)).all()
    return [(u.username, _paren(u.display_name, u.username)) for u in rows]


def dispatch_choices(user, task=None) -> list[tuple[str, str]]:
    """The provider's volunteers it may still dispatch the task's order to: not those already on it (accepted,
    dispatched or refused by the station). Never empty (the form would then offer every volunteer): one choice
    says why."""
    mine = provider_volunteers(user)
    if not mine:
        return [('', str(_l('本服务商还没有可派单的志愿者，请联系社工站')))]
    order = order_for(task.instance) if task is not None else None
    taken = {v.user.username for v in order.volunteers} if order is not None else set()
    left = [(name, text) for name, text in mine if name not in taken]
    if left:
        return left
    if task is not None and returnable(task.instance):  # the way out this version has
        return [('', str(_l('您的志愿者都已派过此订单，请选择“退回订单”交社工站重新派单')))]
    return [('', str(_l('您的志愿者都已派过此订单，请联系社工站')))]


def task_revision(instance) -> int:
    from app.models import Decision
    if is_new(instance):
        return 0
    return db.session.scalar(select(func.count()).select_from(Decision).where(
        Decision.instance_id == instance.id, Decision.bpmn_id == 'submit'))


register(VOrderHooks())


def visible_order(user, order_id) -> VOrder:
    """The order if the user may see its case (publisher, reviewers, acceptors) or its unit's order list shows it
    (`oversees`); NotFound otherwise."""
    from app.services.errors import NotFound
    from app.services.tasks import visible_instance
    order = db.session.get(VOrder, row_id(order_id)) if row_id(order_id) else None
    if order is None:
        raise NotFound()
    if on_order_or_overseeing(user, order):
        return order
    visible_instance(user, order.instance_id)
    return order


def on_order_or_overseeing(user, order: VOrder) -> bool:
    """Sees the order without a task of it: a volunteer on it (accepted it or was dispatched to it by a
    provider, whatever the station decided) or a back-office unit whose order list shows it (`oversees`). The
    order page and the order's files (`files.for_download`) use this same rule."""
    return any(v.user_id == user.id for v in order.volunteers) or oversees(user, order)


def list_scope(user) -> tuple[list[str], list[int]]:
    """(street paths, provider unit ids) of the orders the back-office list shows this user: a station its
    street, a street, district or 广志协 the streets under its unit, a provider the orders offered to it."""
    paths, providers = [], []
    for m in user.memberships:
        unit = m.org_unit
        if m.role == 'provider_admin':
            providers.append(unit.id)
        elif m.role == 'station_admin':
            paths.append((unit.parent or unit).path)
        elif m.role in ORDER_LIST_ROLES:
            paths.append(unit.path)
    return paths, providers


def oversees(user, order: VOrder) -> bool:
    """The order list's rule (`orders_query`) for one order: 广志协 also receives the overdue escalation of every
    order in its area, stations certify their street's orders, providers dispatch the orders offered to them."""
    paths, providers = list_scope(user)
    return order.provider_id in providers or any(order.street.path.startswith(p) for p in paths)


def order_view(order: VOrder) -> dict:
    """The order as API clients and pages see it."""
    return {'id': order.id, 'instance_id': order.instance_id, 'title': order.title, 'status': order.status,
            'status_label': status_label(order), 'demand_type': order.demand_type, 'category': order.category,
            'service_item': order.service_item, 'street': order.street.code, 'street_name': order.street.name,
            'location': {'lat': order.lat, 'lng': order.lng}, 'address': order.address,
            'start_at': order.start_at.isoformat() if order.start_at else None,
            'end_at': order.end_at.isoformat() if order.end_at else None,
            'volunteers_needed': order.volunteers_needed, 'volunteers_approved': approved_count(order),
            'needs': order.needs, 'special_notes': order.special_notes, 'dispatch_mode': order.dispatch_mode,
            'provider': order.provider.code if order.provider else None, 'overdue': order.overdue,
            'service_objects': [{'id': o.service_object.id, 'name': o.service_object.name} for o in db.session.scalars(
                select(VOrderObject).where(VOrderObject.order_id == order.id))],
            'volunteers': [{'username': v.user.username, 'name': v.user.display_name, 'status': v.status,
                            'status_label': acceptance_label(order, v.status), 'hours': v.hours,
                            'points': v.points_awarded} for v in order.volunteers],
            'rating': json.loads(order.rating_json) if order.rating_json else None,
            'certification': json.loads(order.certification_json) if order.certification_json else None,
            'closed_reason': order.closed_reason, 'status_tone': status_tone(order),
            'certify_due_at': due.isoformat() if (due := certify_due_at(order)) else None,
            'accepting_closed': accepting_closed(order)}


def accepting_closed(order: VOrder) -> bool:
    """The start time has come while acceptors are still under review: nobody new may accept (the order shows
    待接单 until the station has decided, then starts with those approved or expires)."""
    return order.status == 'open' and order.start_at is not None and order.start_at <= utcnow()


def certify_due_at(order: VOrder) -> datetime | None:
    """While the service is over and not yet certified: the 14-day deadline (users are told 10 working days)."""
    over = order.end_at is not None and order.end_at <= utcnow()
    if order.status == 'to_certify' or (order.status == 'in_progress' and over):
        return order.end_at + timedelta(days=CERTIFY_DAYS)
    return None


def status_tone(order: VOrder) -> str:
    """Badge colour of a status: finished well, ended without service, or still under way."""
    if order.status == 'done':
        return 'approved'
    return 'rejected' if order.status in ('rejected', 'cancelled', 'expired', 'aborted', 'abandoned') else 'pending'


def my_orders(user, page=1, per_page=20):
    return paged(select(VOrder).where(VOrder.publisher_id == user.id).order_by(VOrder.id.desc()), page, per_page)


def accepted_orders(user, limit=20) -> list[tuple[VOrder, str]]:
    """(order, what became of my acceptance) for the orders this volunteer accepted or was dispatched to."""
    rows = db.session.execute(select(VOrder, VOrderVolunteer.status).join(
        VOrderVolunteer, VOrderVolunteer.order_id == VOrder.id).where(VOrderVolunteer.user_id == user.id)
        .order_by(VOrderVolunteer.id.desc()).limit(limit)).all()
    return [(order, acceptance_label(order, status)) for order, status in rows]


def _area_street_ids(user) -> set[int]:
    paths = area_paths(user)
    return {u.id for u in org_cache.of_kind('street') if any(u.path.startswith(p) for p in paths)}


def _streets_of(objects) -> set[int]:
    return {o.household_street_id for o in objects} | {o.residence_street_id for o in objects}


def _choosable_objects(user, limit=500) -> list[ServiceObject]:
    """Approved service objects registered or living in the publisher's area, by name."""
    ids = _area_street_ids(user)
    return list(db.session.scalars(select(ServiceObject).where(
        ServiceObject.status == 'approved',
        or_(ServiceObject.household_street_id.in_(ids), ServiceObject.residence_street_id.in_(ids)))
        .order_by(ServiceObject.name, ServiceObject.id).limit(limit)))


def object_choices(user) -> list[tuple[int, str]]:
    """Approved service objects (latest versions) a publisher may order for."""
    from app.services.validators import mask_id
    return [(o.id, _paren(o.name, gettext('，').join([mask_id(o.id_number), o.household_street.name])))
            for o in _choosable_objects(user)]


def street_choices(user) -> list[tuple[str, str]]:
    """The streets an order may name: the publisher's area and where the elders they may order for are registered
    or live, each with its 社工站 (which reviews the order first: forms.station_streets). The form offers no street
    the server would refuse."""
    own = _area_street_ids(user)
    mine = own_service_object(user) if may_order_for_self(user) else None  # 为自己下单: where the user lives
    allowed = own | _streets_of(_choosable_objects(user) + ([mine] if mine is not None else []))
    streets = sorted((u for u in forms.station_streets() if u.id in allowed), key=lambda u: u.id not in own)
    return [(u.code, f'{u.parent_name} · {u.name}') for u in streets]


def open_for_volunteer(user, page=1, per_page=20):
    """(rows of (task, order), total): orders of the volunteer's area waiting for acceptors. Only accept tasks are
    paged and counted: the user's other open V-order steps (rating an order they published) are not on this list."""
    from app.models import HumanTask
    from app.services.jurisdiction import open_task_ids
    mine = open_task_ids(user)
    tasks, total = paged(select(HumanTask).where(HumanTask.id.in_(select(mine.c.id)), HumanTask.status == 'open',
                                                 HumanTask.process_key == PROCESS_KEY, HumanTask.bpmn_id == 'accept')
                         .order_by(HumanTask.created_at.desc(), HumanTask.id.desc()), page, per_page)
    return [(t, order_for(t.instance)) for t in tasks], total


def accept_order(user, task_id: int, note: str):
    """A volunteer accepts from the open-orders list. Each acceptance replaces the order's accept task while places
    are left, so a list shown a moment ago may name a task already gone: the order's current one is taken instead.
    A task gone for good is explained by what became of the order."""
    from app.models import HumanTask
    from app.services.tasks import complete_task
    for _ in range(3):
        try:
            return complete_task(user, task_id, data={'note': note or ''})
        except Conflict as exc:
            task = db.session.get(HumanTask, task_id)
            order = order_for(task.instance) if task is not None and task.bpmn_id == 'accept' else None
            if order is None or exc.code != 'already_handled':
                raise
            current = db.session.scalar(select(HumanTask.id).where(
                HumanTask.instance_id == task.instance_id, HumanTask.bpmn_id == 'accept',
                HumanTask.status == 'open', HumanTask.id != task_id).order_by(HumanTask.id.desc()).limit(1))
            if current is None:
                _explain_closed(order, exc)
            task_id = current
    raise Conflict(_l('接单的人太多，请稍后刷新再试'))


def _explain_closed(order: VOrder, exc: Conflict):
    if order.status == 'open' and approved_count(order) < order.volunteers_needed:
        raise Conflict(_l('该订单的名额已被接满，正在等待社工站审核接单人，请稍后刷新再看')) from exc
    if order.status in ('open', 'in_progress', 'to_certify', 'certifying', 'done'):
        raise Conflict(_l('该订单志愿者人数已满，不能再接单')) from exc
    raise Conflict(_l('该订单%(status)s，不能再接单', status=status_label(order))) from exc
