"""赠予直系亲属兑换 (relative_gift): domain rules, service tasks and the volunteer's use cases.

Chain (bpmn/relative_gift.bpmn): submit -> hold points and reserve one unit -> 广志协 review, with a
30-day boundary timer -> approve (spend the hold, take the unit) | reject / expire (void the hold,
release the unit). Submitting locks the volunteer's ledger account and the item row before any
check, so two requests racing for the last points or the last unit are decided one after the other;
the hold service task then runs in the same transaction and cannot fail.
"""
import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Decision, GiftRequest, InstanceFile, OrgUnit, ShopItem, WorkflowInstance
from app.models.base import utcnow
from app.services import files, ledger, messages, request_tokens, row_id, shop, submissions, tasks
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.hooks import CaseVariable, ProcessHooks, register
from app.services.step_names import GIFT_TITLE
from app.services.validators import age_on, is_valid_id, normalize_id
from workflows import service_tasks

PROCESS_KEY = 'relative_gift'
FORM_KEY = 'relative_gift.json'
VIEW_KEY = 'relative_gift_view.json'
EXPIRY_DAYS = 30
STATUS_LABELS = {'pending': _l('待广志协审核'), 'approved': _l('已通过，已扣除积分'), 'rejected': _l('未通过，积分已解冻'),
                 'expired': _l('超过 30 天未审核，积分已解冻'), 'withdrawn': _l('已撤回，积分已解冻')}
PENDING_LOGISTICS = _l('审核通过后安排')
NO_LOGISTICS = '—'


def hold_key(gift: GiftRequest) -> str:
    return f'gift:{gift.id}'


def _root_code() -> str:
    return db.session.scalar(select(OrgUnit.code).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id).limit(1))


def _by_token(user, token) -> GiftRequest | None:
    if not token:
        return None
    return db.session.scalar(select(GiftRequest).where(GiftRequest.volunteer_id == user.id,
                                                       GiftRequest.request_token == token))


def _duplicate(gift: GiftRequest) -> Conflict:
    return request_tokens.duplicate(gift.instance_id, _l('该申请已提交（申请编号 %(id)s），请勿重复提交', id=gift.id))


# (relative younger than it may be, the same age): a 子女 is younger than the volunteer, a 父母 or 祖父母 older
_RELATION_AGES = {
    'child': (_l('按身份证号，该亲属比您年长，与“子女”关系不符，请核对'),
              _l('按身份证号，该亲属与您同龄，与“子女”关系不符，请核对')),
    'parent': (_l('按身份证号，该亲属比您年轻，与“父母”关系不符，请核对'),
               _l('按身份证号，该亲属与您同龄，与“父母”关系不符，请核对')),
    'grandparent': (_l('按身份证号，该亲属比您年轻，与“祖父母 / 外祖父母”关系不符，请核对'),
                    _l('按身份证号，该亲属与您同龄，与“祖父母 / 外祖父母”关系不符，请核对')),
}
# the least age gap a relation allows, in whole years by the two ages today (a generation: 15 years). The form has
# no 孙子女: a grandchild of 60 or more would make the volunteer 90 or more. A 配偶 may be of any age.
_RELATION_GAPS = {
    'parent': (15, lambda **ages: _l('按身份证号，该亲属 %(their)s 岁、您 %(own)s 岁，只比您大 %(gap)s 岁；“父母”应比您'
                                     '年长至少 %(least)s 岁，请核对', **ages)),
    'grandparent': (30, lambda **ages: _l('按身份证号，该亲属 %(their)s 岁、您 %(own)s 岁，只比您大 %(gap)s 岁；“祖父母 / '
                                          '外祖父母”应比您年长至少 %(least)s 岁，请核对', **ages)),
    'child': (15, lambda **ages: _l('按身份证号，该亲属 %(their)s 岁、您 %(own)s 岁，只比您小 %(gap)s 岁；“子女”应比您年轻'
                                    '至少 %(least)s 岁，请核对', **ages)),
}


def _relation_problem(user, relation, relative_id):
    """Why the relation cannot be right by the two ID numbers' ages today (a 子女 not at least 15 years younger than
    the volunteer, a 父母 not at least 15 years older, a 祖父母 / 外祖父母 not at least 30), else None; nothing is said
    when either number is not a valid one."""
    own = normalize_id(user.id_number or '')
    if relation not in _RELATION_AGES or not is_valid_id(own) or not is_valid_id(relative_id):
        return None
    today = shop.today()
    own_age, relative_age = age_on(own, today), age_on(relative_id, today)
    wrong, same = _RELATION_AGES[relation]
    if own_age == relative_age:
        return same
    if (relative_age > own_age) == (relation == 'child'):
        return wrong
    least, message = _RELATION_GAPS[relation]
    gap = abs(relative_age - own_age)
    if gap < least:
        return message(their=relative_age, own=own_age, gap=gap, least=least)
    return None


def _check_relative(user, clean) -> dict:
    """Field messages for the relative and the proof, of the fields present in `clean` (the volunteer's identity
    comes from the account)."""
    errors: dict = {}
    if clean.get('relative_id_number'):
        relative_id = normalize_id(clean['relative_id_number'])
        if user.id_number and relative_id == normalize_id(user.id_number):
            errors['relative_id_number'] = [_l('不能填写您本人的身份证号码，请填写受赠亲属的身份证号码')]
        else:
            problem = shop.age_problem(relative_id, who='relative') or _relation_problem(user, clean.get('relation'),
                                                                                         relative_id)
            if problem:
                errors['relative_id_number'] = [problem]
    try:
        files.check_owned(user, clean.get('kinship_files') or [], (), field='kinship_files')
    except ValidationFailed as exc:
        errors.update(exc.errors)
    return errors


def _giftable(item_id, errors: dict) -> ShopItem | None:
    """The item if it may be given (on sale, elderly care); else None, with the reason added to `errors`."""
    item = db.session.get(ShopItem, item_id) if row_id(item_id) else None
    if item is None or item.status != 'approved':
        errors['item_id'] = [_l('该兑换项目不存在或尚未上架')]
    elif item.section != 'elderly_care':
        errors['item_id'] = [_l('只有“养老服务兑换”的项目可以赠予直系亲属')]
    else:
        return item
    return None


def _item_problems(user, item: ShopItem, available: int, clean: dict, errors: dict) -> ledger.InsufficientPoints | None:
    """Adds to `errors` what stops this item going to this relative now (a pending request for the same relative,
    no unit left); returns the points shortfall (None when `available` pays the price)."""
    if 'relative_id_number' not in errors and clean.get('relative_id_number') and db.session.scalar(
            select(GiftRequest.id).where(
                GiftRequest.volunteer_id == user.id, GiftRequest.item_id == item.id, GiftRequest.status == 'pending',
                GiftRequest.relative_id_number == normalize_id(clean['relative_id_number'])).limit(1)):
        errors['relative_id_number'] = [_l('您已为这位亲属申请兑换“%(name)s”，正在审核中，请勿重复提交', name=item.name)]
    if item.available < 1:
        errors['item_id'] = [_l('“%(name)s”库存不足，暂时无法兑换', name=item.name)]
    return ledger.InsufficientPoints(max(available, 0), item.price) if available < item.price else None


class GiftHooks(ProcessHooks):
    process_key = PROCESS_KEY
    start_roles = {'volunteer'}
    display_form = VIEW_KEY
    # prepare hands the engine these variables only, not the form's fields (the relative's data stays in its row)
    scope_variables = {'review_scope': CaseVariable(_l('全市（广志协）'), 'city')}
    data_variables = {
        'gift_id': CaseVariable(_l('赠予申请的编号')),
        'item_id': CaseVariable(_l('兑换项目的编号')),
        'points': CaseVariable(_l('所需积分')),
    }
    unkept_forms = frozenset({FORM_KEY})

    def problems(self, user, instance, task, form_key, valid):
        """With other field errors: the relative's age / own ID, the proof, the item and the points too, read
        without locking or writing, so that one refused submission names every problem."""
        if form_key != FORM_KEY:
            return {}
        errors = _check_relative(user, valid)
        item = _giftable(valid.get('item_id'), errors) if 'item_id' in valid else None
        if item is not None:
            available = ledger.statement(user, 1, per_page=1, point_type=item.point_type)['available']
            short = _item_problems(user, item, available, valid, errors)
            if short is not None:
                errors.update(short.errors)
        return errors

    def prepare(self, user, instance, task, form_key, clean):
        if form_key != FORM_KEY:
            return clean
        errors = _check_relative(user, clean)
        item = _giftable(clean['item_id'], errors)
        short, token = None, clean.get('request_token')
        if item is not None:
            # accounts first, then the item (the order every points use case follows)
            account = shop.lock_account(user, item.point_type)
            item = shop.lock_item(item.id)
            earlier = _by_token(user, token)
            if earlier is not None:
                raise _duplicate(earlier)
            short = _item_problems(user, item, account.available, clean, errors)
        if short is not None:
            if not errors:
                raise short  # the shortfall alone keeps its own code (insufficient_points)
            errors.update(short.errors)
        if errors:
            raise ValidationFailed(errors)
        relative_id = normalize_id(clean['relative_id_number'])
        gift = GiftRequest(instance_id=instance.id, item_id=item.id, volunteer_id=user.id, request_token=token,
                           relative_name=clean['relative_name'], relation=clean['relation'],
                           relative_phone=clean['relative_phone'], relative_id_number=relative_id,
                           kinship_files_json=json.dumps(clean['kinship_files']), points=item.price,
                           point_type=item.point_type, status='pending', stock_state='none', created_at=utcnow())
        db.session.add(gift)
        db.session.flush()
        for fid in set(clean['kinship_files']):
            db.session.add(InstanceFile(instance_id=instance.id, file_id=fid))
        instance.title = (GIFT_TITLE % {'name': clean['relative_name'], 'item': item.name})[:200]  # shown: stored_text
        instance.business_key = f'gift:{gift.id}'
        return {'gift_id': gift.id, 'item_id': item.id, 'points': item.price, 'review_scope': [_root_code()]}

    def display(self, instance):
        gift = for_instance(instance.id)
        return as_display(gift) if gift else {}

    def on_withdraw(self, instance, reason):
        """The volunteer withdrew the request before 广志协 decided: the held points are released and the reserved
        unit goes back to stock, as a rejection does; the ledger line names the relative."""
        gift = for_instance(instance.id)
        if gift is None or gift.status != 'pending':
            return
        _release(gift, _l('赠予兑换「%(item)s」（受赠人：%(name)s）已撤回，解冻积分', item=gift.item.name,
                          name=gift.relative_name))
        gift.status, gift.reason, gift.decided_at, gift.logistics = 'withdrawn', reason, utcnow(), NO_LOGISTICS


register(GiftHooks())


def for_instance(instance_id) -> GiftRequest | None:
    return db.session.scalar(select(GiftRequest).where(GiftRequest.instance_id == instance_id))


def logistics_text(gift: GiftRequest) -> str:
    """The delivery note in the reader's language."""
    if gift.status == 'approved':
        return gift.shown_logistics or ''
    if gift.status == 'pending':
        return str(PENDING_LOGISTICS)
    return NO_LOGISTICS


def as_display(gift: GiftRequest) -> dict:
    """The fields of forms/relative_gift_view.json (what the reviewer and the volunteer read)."""
    volunteer = gift.volunteer
    return {'item_name': gift.item.name, 'price_label': f'{gift.points} {shop.point_label(gift.point_type)}',
            'volunteer_name': volunteer.display_name, 'volunteer_id_number': volunteer.id_number or '—',
            'relative_name': gift.relative_name, 'relation': gift.relation, 'relative_phone': gift.relative_phone,
            'relative_id_number': gift.relative_id_number,
            'relative_age': str(_l('%(n)s 岁', n=age_on(gift.relative_id_number, shop.today()))),
            'kinship_files': json.loads(gift.kinship_files_json or '[]'),
            'status_label': str(STATUS_LABELS.get(gift.status, gift.status)), 'logistics': logistics_text(gift)}


def as_dict(gift: GiftRequest) -> dict:
    """JSON view (API)."""
    return {'id': gift.id, 'instance_id': gift.instance_id, 'item_id': gift.item_id, 'item': gift.item.name,
            'points': gift.points, 'point_type': gift.point_type, 'status': gift.status,
            'status_label': str(STATUS_LABELS.get(gift.status, gift.status)), 'relative_name': gift.relative_name,
            'relation': gift.relation, 'relative_phone': gift.relative_phone,
            'relative_id_number': gift.relative_id_number, 'reason': gift.shown_reason, 'logistics': logistics_text(gift),
            'kinship_files': json.loads(gift.kinship_files_json or '[]'),
            'created_at': gift.created_at.isoformat() if gift.created_at else None,
            'decided_at': gift.decided_at.isoformat() if gift.decided_at else None}


# ---- service tasks -------------------------------------------------------------------------------

def _gift(data) -> GiftRequest:
    return db.session.get(GiftRequest, data['gift_id'])


def _tell_volunteer(gift: GiftRequest, title: messages.Text, body: str = '') -> None:
    # same link as the generic decision message, so the volunteer gets this one instead of both
    messages.send([gift.volunteer_id], kind='decision', title=title, body=body, link=f'/m/cases/{gift.instance_id}')


def _release(gift: GiftRequest, reason) -> None:
    """Void the hold and give the reserved unit back (once)."""
    ledger.void_hold(hold_key(gift), reason=reason)
    if gift.stock_state == 'reserved':
        item = shop.lock_item(gift.item_id)
        item.reserved -= 1
        gift.stock_state = 'released'


@service_tasks.register('gift.hold')
def _hold(data, params):
    """Hold the price and reserve one unit; the submit step locked and checked both."""
    gift = _gift(data)
    ledger.hold(gift.volunteer, gift.points, key=hold_key(gift), point_type=gift.point_type,
                reason=_l('赠予兑换「%(item)s」（受赠人：%(name)s）待审核，冻结积分', item=gift.item.name,
                          name=gift.relative_name),
                business_ref=f'gift:{gift.id}')
    if gift.stock_state == 'none':
        item = shop.lock_item(gift.item_id)
        item.reserved += 1
        gift.stock_state = 'reserved'
    return {'held': gift.points}


@service_tasks.register('gift.approve')
def _approve(data, params):
    """Spend the held points and take the reserved unit from stock; tell the volunteer."""
    gift = _gift(data)
    if gift.status != 'pending':
        return {'status': gift.status}
    ledger.post_hold(hold_key(gift), reason=_l('赠予兑换「%(item)s」（受赠人：%(name)s）审核通过，扣减积分',
                                               item=gift.item.name, name=gift.relative_name))
    item = shop.lock_item(gift.item_id)
    if gift.stock_state == 'reserved':
        item.reserved -= 1
    item.stock -= 1
    gift.stock_state, gift.status, gift.decided_at = 'taken', 'approved', utcnow()
    gift.logistics, gift.logistics_en = messages.in_both(lambda: _(
        '%(provider)s将在 3 个工作日内联系受赠人%(name)s（%(phone)s）安排服务', provider=item.provider_name or _('服务机构'),
        name=gift.relative_name, phone=gift.relative_phone))
    gift.instance.outcome = 'approved'
    # the holder (the provider of the service) is told whom to contact, and marks it 已安排 / 已完成服务
    shop.add_fulfilment(item, gift.volunteer, gift.relative_name, gift.relative_phone, gift=gift)
    _tell_volunteer(gift, _l('您为%(name)s申请的「%(item)s」赠予兑换已通过审核，已扣除 %(points)s 积分',
                             name=gift.relative_name, item=gift.item.name, points=gift.points),
                    (gift.logistics, gift.logistics_en))
    return {'status': 'approved'}


@service_tasks.register('gift.reject')
def _reject(data, params):
    """Release the held points and the unit; the volunteer sees the reason and "—" for logistics."""
    gift = _gift(data)
    if gift.status != 'pending':
        return {'status': gift.status}
    reason = data.get('reason') or ''
    _release(gift, _l('赠予兑换「%(item)s」（受赠人：%(name)s）未通过审核，解冻积分', item=gift.item.name,
                      name=gift.relative_name))
    gift.status, gift.reason, gift.decided_at, gift.logistics = 'rejected', reason, utcnow(), NO_LOGISTICS
    gift.instance.outcome = 'rejected'
    def title():
        text = _('您为%(name)s申请的「%(item)s」赠予兑换未通过审核，冻结的 %(points)s 积分已解冻', name=gift.relative_name,
                 item=gift.item.name, points=gift.points)
        return text + _('，原因：%(reason)s', reason=reason) if reason else text
    _tell_volunteer(gift, title, reason)
    return {'status': 'rejected'}


@service_tasks.register('gift.expire')
def _expire(data, params):
    """The 30-day timer fired before any review: release everything, record it and tell the volunteer."""
    gift = _gift(data)
    if gift.status != 'pending':
        return {'status': gift.status}
    why, why_en = messages.in_both(_l('超过 %(days)s 天未审核，申请自动结束，冻结的积分已解冻', days=EXPIRY_DAYS))
    _release(gift, _l('赠予兑换「%(item)s」（受赠人：%(name)s）超过 %(days)s 天未审核，申请自动结束，冻结的积分已解冻',
                      item=gift.item.name, name=gift.relative_name, days=EXPIRY_DAYS))
    gift.status, gift.decided_at, gift.logistics = 'expired', utcnow(), NO_LOGISTICS
    gift.reason, gift.reason_en = why, why_en
    instance = gift.instance
    instance.outcome = 'expired'
    # a history row's reason is kept in Chinese, like every system row's (v_order_steps: 订单过期)
    db.session.add(Decision(instance_id=instance.id, bpmn_id='expire', task_title='广志协审核（逾期）',
                            lane='association_admin', role='association_admin', decision='auto', reason=why,
                            version=instance.version.version, data_json=json.dumps({'gift_id': gift.id}), at=utcnow()))
    _tell_volunteer(gift, _l('您为%(name)s申请的「%(item)s」赠予兑换超过 %(days)s 天未审核，申请自动结束，冻结的积分已解冻',
                             name=gift.relative_name, item=gift.item.name, days=EXPIRY_DAYS), (why, why_en))
    return {'status': 'expired'}


# ---- use cases -------------------------------------------------------------------------------------

def submit(user, values: dict, new_files: list) -> tuple[WorkflowInstance, bool]:
    """Start a gift request from the phone page; (instance, created). A double tap (the same
    request_token) returns the first request's case instead of a second one."""
    def earlier():
        gift = _by_token(user, values.get('request_token'))
        return gift.instance if gift is not None else None
    return request_tokens.start_once(
        earlier, lambda: submissions.start_with_files(user, PROCESS_KEY, FORM_KEY, values, new_files))


def mine(user, limit: int = 50) -> list[GiftRequest]:
    return list(db.session.scalars(select(GiftRequest).where(GiftRequest.volunteer_id == user.id)
                                   .order_by(GiftRequest.id.desc()).limit(limit)))


def visible_gift(user, gift_id) -> GiftRequest:
    """The gift if the user may see its case (the volunteer, or a reviewer who holds/held its task)."""
    gift = db.session.get(GiftRequest, row_id(gift_id)) if row_id(gift_id) else None
    if gift is None:
        raise NotFound()
    tasks.visible_instance(user, gift.instance_id)
    return gift


def gift_form_context(user, item_id) -> dict:
    """What the gift page shows next to the form: the item and the volunteer's own (read-only) identity."""
    item = shop.item_on_sale(item_id)
    if item.section != 'elderly_care':
        raise NotFound(_l('只有“养老服务兑换”的项目可以赠予直系亲属'))
    return {'item': item, 'volunteer_name': user.display_name, 'volunteer_id_number': user.id_number or '—',
            'statement': ledger.statement(user, per_page=1, point_type=item.point_type)}


def _ended_own(user, gift_id) -> GiftRequest | None:
    """The user's own request that ended without the gift (rejected, expired or withdrawn), or None."""
    gift = db.session.get(GiftRequest, row_id(gift_id)) if row_id(gift_id) else None
    if gift is None or gift.volunteer_id != user.id or gift.status not in ('rejected', 'expired', 'withdrawn'):
        return None
    return gift


def again_item(user, instance) -> GiftRequest | None:
    """重新申请 on the volunteer's own case page: the ended request of this case when its item can still be given."""
    gift = for_instance(instance.id) if instance.process_key == PROCESS_KEY else None
    gift = _ended_own(user, gift.id) if gift is not None else None
    if gift is None or gift.item.status != 'approved' or gift.item.section != 'elderly_care':
        return None
    return gift


def _again(user, gift_id, item_id) -> GiftRequest | None:
    """The user's own ended request for this item that 重新申请 starts from, or None."""
    gift = _ended_own(user, gift_id)
    return gift if gift is not None and gift.item_id == item_id else None


def again_values(user, gift_id, item_id) -> dict:
    """What a new gift form starts with when it comes from 重新申请: the relative's details and the proof photos of
    the user's own ended request for the same item (kept as a returned case's resubmission keeps its photos: the
    volunteer uploaded them, so the new request may use them); {} for anything else."""
    gift = _again(user, gift_id, item_id)
    if gift is None:
        return {}
    return {'relative_name': gift.relative_name, 'relation': gift.relation, 'relative_phone': gift.relative_phone,
            'relative_id_number': gift.relative_id_number,
            'kinship_files': [int(i) for i in json.loads(gift.kinship_files_json or '[]')]}


def again_rejection(user, gift_id, item_id) -> dict | None:
    """Why the request 重新申请 starts from ended: its review's rejection (or the expiry), as a row of the case's
    history (step, who, reason), shown above the new form; None for anything else."""
    gift = _again(user, gift_id, item_id)
    if gift is None:
        return None
    ends = [h for h in tasks.instance_history(gift.instance_id) if h['decision'] in ('reject', 'auto') and h['reason']]
    return ends[-1] if ends else None
