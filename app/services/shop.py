"""Points shop (积分商城): the catalogue on sale, 个人兑换, 积分公益 donations, the 公益池 allocation and
the district bureaus' review of redemption resources.

Locking order everywhere (no deadlocks): ledger accounts first (the ledger locks them in id order),
then the shop item row. A double tap repeats the same `request_token`, which names the ledger entry,
so the second call finds the first one's entry and returns what it wrote.
"""
import json
import re
import uuid
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    AuditLog,
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    Membership,
    OrgUnit,
    ShopItem,
    ShopRedemption,
    User,
)
from app.models.base import utcnow
from app.models.shop import ShopFulfilment
from app.services import ledger, messages, paged, row_id, transaction
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.validators import age_on, clean_text, is_valid_id, is_valid_mobile, normalize_mobile, reason_too_long

BEIJING = ZoneInfo('Asia/Shanghai')
MIN_AGE = 60
SECTIONS = {'goods': _l('物品兑换'), 'elderly_care': _l('养老服务兑换'), 'other': _l('其他兑换'),
            'charity': _l('积分公益')}
POINT_TYPES = {'elderly_time': _l('养老时间积分'), 'service': _l('志愿服务积分')}
ITEM_STATUSES = {'pending': _l('待审核'), 'approved': _l('已上架'), 'rejected': _l('未通过')}
POOL = 'pool'
# who may register new resources: the district bureaus, each for its own district (SPEC §2.3); 广志协 does not
REGISTRARS = ('district_admin',)
POOL_HISTORY_PAGE = 20
ALLOCATION_REASON = '公益池分配：'  # the Chinese ledger reason of an allocation starts so, then what 广志协 typed
_TOKEN = re.compile(r'^[A-Za-z0-9_\-]{8,64}$')
ALLOCATION_REASON_MAX = 200  # the pool page's maxlength
ITEM_TEXT_MAX = {'description': 1000, 'provider_name': 120}  # the register form's maxlength; provider_name's column
RECENT_MINUTES = 10  # a confirmation page says so when the same item was redeemed this recently


def today() -> date:
    """The calendar day in Beijing (ages and redemption days are counted there)."""
    return datetime.now(BEIJING).date()


def section_label(key) -> str:
    return str(SECTIONS.get(key, key))


def point_label(key) -> str:
    return str(POINT_TYPES.get(key, key))


def new_token() -> str:
    """A fresh request id for one form."""
    return uuid.uuid4().hex


class TokenRefused(ValidationFailed):
    """A missing or malformed request token. A page's token is its own hidden field, so the page asks for a refresh
    (which brings a fresh one); `for_client` gives an API caller's words: 必填 when none was sent, else the rule."""

    def __init__(self, field: str, missing: bool):
        super().__init__({field: [_l('提交编号无效，请刷新页面后重试')]})
        self.field, self.missing = field, missing

    def for_client(self) -> 'TokenRefused':
        rule = _l('提交编号应为 8–64 个字符，只能包含字母、数字、_ 和 -')
        self.errors = {**self.errors, self.field: [str(_l('此项为必填项') if self.missing else rule)]}
        return self


def check_token(token, field='request_token') -> str:
    """A client-made request id (a UUID or similar): it makes a repeated submission harmless."""
    token = (token or '').strip()
    if not _TOKEN.match(token):
        raise TokenRefused(field, missing=not token)
    return token


def age_problem(id_number: str | None, who: str = 'self'):
    """None when the person is 60+ today, else the message saying why not."""
    if not id_number or not is_valid_id(id_number):
        return _l('您的账号未登记有效的身份证号码，无法核验年龄，请联系所在社工站') if who == 'self' else \
            _l('身份证号码无效')
    age = age_on(id_number, today())
    if age >= MIN_AGE:
        return None
    if who == 'self':
        return _l('个人兑换养老服务须年满 60 周岁（按身份证号码计算，您目前 %(age)s 岁）；可以选择“赠予直系亲属”', age=age)
    return _l('受赠亲属须年满 60 周岁（按身份证号码计算，目前 %(age)s 岁）', age=age)


def self_redeem_problem(user):
    """Why `user` may not redeem elderly-care services for themself today (None when 60+).

    The shop page shows it in place of the 个人兑换 button; `redeem` refuses with the same message."""
    return age_problem(getattr(user, 'id_number', None))


# ---------------------------------------------------------------- catalogue

def on_sale(section: str | None = None) -> list[ShopItem]:
    """Approved items, optionally of one section (unknown sections list nothing)."""
    cond = ShopItem.status == 'approved'
    if section:
        cond = cond & (ShopItem.section == section)
    return list(db.session.scalars(select(ShopItem).where(cond).order_by(ShopItem.section, ShopItem.id)))


def item_on_sale(item_id) -> ShopItem:
    item = db.session.get(ShopItem, row_id(item_id)) if row_id(item_id) else None
    if item is None or item.status != 'approved':
        raise NotFound(_l('该兑换项目不存在或尚未上架'))
    return item


def lock_item(item_id: int) -> ShopItem:
    """The item row locked for this transaction, with fresh stock counters."""
    return db.session.scalar(select(ShopItem).where(ShopItem.id == item_id).with_for_update(of=ShopItem)
                             .execution_options(populate_existing=True))


def lock_account(user, point_type: str) -> LedgerAccount:
    """The volunteer's account locked for this transaction (created empty on first use)."""
    account = ledger.account_for(user, point_type)
    db.session.flush()
    return db.session.scalar(select(LedgerAccount).where(LedgerAccount.id == account.id)
                             .with_for_update(of=LedgerAccount).execution_options(populate_existing=True))


def item_dict(item: ShopItem) -> dict:
    """`GET /api/v1/shop/items` row."""
    return {'id': item.id, 'name': item.name, 'section': item.section, 'section_label': section_label(item.section),
            'price': item.price, 'point_type': item.point_type, 'point_type_label': point_label(item.point_type),
            'stock': item.stock, 'available': item.available, 'district': item.district.code,
            'district_name': item.district.name, 'provider': item.provider_name, 'description': item.description,
            'status': item.status, 'gift_allowed': item.section == 'elderly_care'}


# ---------------------------------------------------------------- 个人兑换

def _existing_redemption(user, token) -> ShopRedemption | None:
    return db.session.scalar(select(ShopRedemption).where(ShopRedemption.user_id == user.id,
                                                          ShopRedemption.request_token == token))


def redeem(user, item_id, token) -> tuple[ShopRedemption, bool]:
    """个人兑换: spend the price and take one unit in one transaction; (redemption, created).

    Elderly-care services only for volunteers aged 60+ today. The same token again returns the first
    redemption and charges nothing."""
    item = item_on_sale(item_id)  # an item not on sale is a 404 whatever else was sent
    token = check_token(token)
    with transaction():
        found = _existing_redemption(user, token)
        if found is not None:
            return found, False
        if item.section == 'charity':
            raise ValidationFailed({'item_id': [_l('积分公益项目请使用“捐分”')]})
        if item.section == 'elderly_care':
            problem = self_redeem_problem(user)
            if problem:
                raise ValidationFailed({'age': [problem]})
        if item.available < 1:
            raise ValidationFailed({'stock': [_l('“%(name)s”库存不足，暂时无法兑换', name=item.name)]})
        entry = ledger.spend(user, item.price, key=f'redeem:{user.id}:{token}', point_type=item.point_type,
                             reason=_l('个人兑换「%(name)s」', name=item.name), business_ref=f'shop_item:{item.id}',
                             actor=user)
        # the spend locked this volunteer's account: a concurrent double tap waits above and finds our row here
        found = _existing_redemption(user, token)
        if found is not None:
            return found, False
        item = lock_item(item.id)
        if item.available < 1:
            raise ValidationFailed({'stock': [_l('“%(name)s”库存不足，暂时无法兑换', name=item.name)]})
        item.stock -= 1
        row = ShopRedemption(item_id=item.id, user_id=user.id, request_token=token, points=item.price,
                             point_type=item.point_type, ledger_entry_id=entry.id, created_at=utcnow())
        db.session.add(row)
        db.session.flush()
        handover = add_fulfilment(item, user, user.display_name, user.phone or '', redemption=row)
        messages.send([user.id], kind='info', link=f'/m/shop/mine#fulfilment-{handover.id}',
                      title=_l('您已兑换「%(item)s」，已扣除 %(n)s 积分', item=item.name, n=item.price),
                      body=_l('%(holder)s将联系您安排，安排好后会在“我的兑换”中说明时间和地点', holder=handover.holder.name))
    return row, True


def page_token(token) -> str | None:
    """A confirmation page's one-time token as its address carries it (None: none, or not a token).

    个人兑换 and 积分公益 ask before they spend, and each confirmation page has its own token in its address: the
    page opened again after the token was used (browser Back after 确认) finds what it was used for
    (`redemption_by_token`, `donation_by_token`) and says it is done instead of asking again."""
    token = str(token or '').strip()
    return token if _TOKEN.match(token) else None


def redemption_by_token(user, token) -> ShopRedemption | None:
    """The redemption a confirmation page's token was used for (None: not used yet, or not a token)."""
    token = page_token(token)
    return _existing_redemption(user, token) if token else None


def recent_redemption(user, item_id) -> ShopRedemption | None:
    """The user's latest redemption of this item in the last RECENT_MINUTES minutes, or None."""
    since = utcnow() - timedelta(minutes=RECENT_MINUTES)
    return db.session.scalar(select(ShopRedemption).where(
        ShopRedemption.user_id == user.id, ShopRedemption.item_id == item_id, ShopRedemption.created_at >= since)
        .order_by(ShopRedemption.id.desc()).limit(1))


def redeem_quote(user, item_id) -> dict:
    """个人兑换's confirmation step (writes nothing): the item, the volunteer's available points of its type now
    and after one unit, and why `redeem` would refuse it now (None when it would not), checked in the same order;
    `recent`: the user's redemption of the same item in the last few minutes (the page says so above the button)."""
    item = item_on_sale(item_id)
    available = ledger.statement(user, 1, per_page=1, point_type=item.point_type)['available']
    problem = None
    if item.section == 'charity':
        problem = _l('积分公益项目请使用“捐分”')
    elif item.section == 'elderly_care' and self_redeem_problem(user):
        problem = self_redeem_problem(user)
    elif item.available < 1:
        problem = _l('“%(name)s”库存不足，暂时无法兑换', name=item.name)
    elif available < item.price:
        problem = _l('可用积分不足：可用 %(a)s 分，需要 %(n)s 分', a=max(available, 0), n=item.price)
    return {'item': item, 'available': available, 'after': available - item.price, 'problem': problem,
            'recent': recent_redemption(user, item.id)}


def my_redemptions(user, limit: int = 50) -> list[ShopRedemption]:
    return list(db.session.scalars(select(ShopRedemption).where(ShopRedemption.user_id == user.id)
                                   .order_by(ShopRedemption.id.desc()).limit(limit)))


def redemption_dict(r: ShopRedemption) -> dict:
    return {'id': r.id, 'item_id': r.item_id, 'item': r.item.name, 'points': r.points, 'point_type': r.point_type,
            'request_token': r.request_token, 'ledger_entry_id': r.ledger_entry_id,
            'created_at': r.created_at.isoformat() if r.created_at else None}


# ---------------------------------------------------------------- 积分公益

def _amount(value, field='amount') -> int:
    try:
        amount = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed({field: [_l('请输入整数积分')]}) from None
    if amount <= 0:
        raise ValidationFailed({field: [_l('积分数量必须大于 0')]})
    return amount


def _donation_project(target) -> ShopItem | None:
    """None for the 公益池, else the 积分公益 project on sale; any item not on sale is a 404, checked before the
    amount so that a hidden item answers the same whatever else was sent."""
    if str(target) == POOL:
        return None
    project = item_on_sale(target)
    if project.section != 'charity':
        raise ValidationFailed({'target': [_l('请选择积分公益项目或公益池')]})
    return project


def _donation_point_type(project: ShopItem | None, point_type) -> str:
    if point_type not in POINT_TYPES:
        raise ValidationFailed({'point_type': [_l('请选择积分类型')]})
    if project is None and point_type != ledger.ELDERLY_TIME:
        raise ValidationFailed({'point_type': [_l('只有养老时间积分可以捐入公益池')]})
    if project is not None and project.point_type != point_type:
        raise ValidationFailed({'point_type': [_l('该项目只接受%(kind)s', kind=point_label(project.point_type))]})
    return point_type


def donation_quote(user, target, amount, point_type) -> dict:
    """积分公益's confirmation step (writes nothing): the project (None for the 公益池), the amount, the point type,
    the volunteer's available points of that type now and after; refused (ValidationFailed) as `donate` would be."""
    project = _donation_project(target)
    amount = _amount(amount)
    point_type = _donation_point_type(project, point_type)
    available = ledger.statement(user, 1, per_page=1, point_type=point_type)['available']
    if amount > available:
        raise ValidationFailed({'amount': [_l('可用积分不足：可用 %(a)s 分，需要 %(n)s 分', a=max(available, 0), n=amount)]})
    return {'target': POOL if project is None else str(project.id), 'project': project, 'amount': amount,
            'point_type': point_type, 'available': available, 'after': available - amount,
            'recent': recent_donation(user, project)}


class Donation(NamedTuple):
    entry: LedgerEntry
    amount: int
    created: bool  # False: this token's donation was already written (a double tap); nothing more was spent


def _donation_key(user, token) -> str:
    return f'donate:{user.id}:{token}'


def _donation_ref(project: ShopItem | None) -> str:
    return POOL if project is None else f'shop_item:{project.id}'


class DoneDonation(NamedTuple):
    """A donation already written, as a confirmation page names it."""
    entry: LedgerEntry
    target: str  # 'pool' or the project's item id, as the confirmation's address says it
    project: ShopItem | None  # None: the 公益池
    amount: int
    point_type: str


def _done_donation(entry: LedgerEntry) -> DoneDonation:
    ref = entry.business_ref or POOL
    project = db.session.get(ShopItem, int(ref.split(':')[1])) if ref.startswith('shop_item:') else None
    return DoneDonation(entry, POOL if project is None else str(project.id), project,
                        max(p.amount for p in entry.postings), entry.point_type)


def donation_by_token(user, token) -> DoneDonation | None:
    """The donation a confirmation page's token was used for (None: not used yet, or not a token)."""
    token = page_token(token)
    if token is None:
        return None
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == _donation_key(user, token)))
    return _done_donation(entry) if entry is not None else None


def recent_donation(user, project: ShopItem | None) -> DoneDonation | None:
    """The user's latest donation to the same project (or the 公益池) in the last RECENT_MINUTES minutes, or None:
    a fresh confirmation says so above its button."""
    since = utcnow() - timedelta(minutes=RECENT_MINUTES)
    entry = db.session.scalar(
        select(LedgerEntry).join(LedgerPosting, LedgerPosting.entry_id == LedgerEntry.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(LedgerAccount.key.in_([ledger.volunteer_key(user, kind) for kind in POINT_TYPES]),
               LedgerEntry.kind == 'donate', LedgerEntry.business_ref == _donation_ref(project),
               LedgerEntry.created_at >= since)
        .order_by(LedgerEntry.id.desc()).limit(1))
    return _done_donation(entry) if entry is not None else None


def donate(user, target, amount, point_type, token) -> Donation:
    """项目捐分 (target = a 积分公益 item id) or 公益池 (target = 'pool', elderly time points only), once per token."""
    project = _donation_project(target)
    token, amount = check_token(token), _amount(amount)
    point_type = _donation_point_type(project, point_type)
    key = _donation_key(user, token)
    with transaction():
        # only says which message to show: a concurrent second tap may miss it, the ledger key still charges once
        created = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.idempotency_key == key)) is None
        if project is None:
            entry = ledger.donate(user, amount, key=key, point_type=point_type, reason=_l('积分捐入公益池'),
                                  business_ref=_donation_ref(project), actor=user)
        else:
            entry = ledger.donate(user, amount, key=key, point_type=point_type, to_kind='project',
                                  to_ref=f'shop_item:{project.id}', reason=_l('项目捐分「%(name)s」', name=project.name),
                                  business_ref=_donation_ref(project), actor=user)
    return Donation(entry, amount, created)


def pool_balance() -> int:
    account = db.session.scalar(select(LedgerAccount).where(
        LedgerAccount.key == ledger.system_key('donation_pool', ledger.ELDERLY_TIME)))
    return account.balance if account else 0


def project_totals() -> dict[int, int]:
    """Points donated so far to each 积分公益 project."""
    rows = db.session.execute(select(LedgerAccount.ref, LedgerAccount.balance).where(
        LedgerAccount.kind == 'project', LedgerAccount.ref.like('shop_item:%')))
    return {int(ref.split(':')[1]): balance for ref, balance in rows}


def require_role(user, *roles):
    """Forbidden unless the user holds one of `roles` somewhere."""
    if not any(m.role in roles for m in user.memberships):
        raise Forbidden()


def allocate(actor, username, amount, reason, token):
    """广志协 allocates 公益池 points to a volunteer (audited, the volunteer is told; once per token)."""
    require_role(actor, 'association_admin')
    token, amount = check_token(token), _amount(amount)
    if (problem := _reason_problem(reason)) is not None:
        raise ValidationFailed({'reason': [problem]})
    reason = clean_text(reason, multiline=True)
    try:
        with transaction():
            user = db.session.scalar(select(User).where(User.username == (username or '').strip()))
            if user is None or not any(m.role == 'volunteer' for m in user.memberships):
                raise ValidationFailed({'username': [_l('找不到该志愿者')]})
            key = f'allocate:{token}'
            entry = ledger.allocate(user, amount, key=key, reason=_l('公益池分配：%(reason)s', reason=reason),
                                    business_ref=POOL, actor=actor)
            # the ledger locked the pool account: a repeated token finds the first call's audit row here
            if not db.session.scalar(select(AuditLog.id).where(AuditLog.action == 'pool.allocate',
                                                               AuditLog.target == key)):
                db.session.add(AuditLog(actor_id=actor.id, action='pool.allocate', target=key, at=utcnow(),
                                        detail_json=json.dumps({'volunteer': user.username, 'amount': amount,
                                                                'reason': reason, 'entry_id': entry.id},
                                                               ensure_ascii=False)))
                messages.send([user.id], kind='info', link='/m/points',
                              title=_l('广志协从公益池分配给您 %(n)s 养老时间积分', n=amount),
                              body=_l('分配原因：%(reason)s', reason=reason))
    except ledger.InsufficientPoints as exc:  # the pool's shortfall, not the reviewer's own points
        # keyed 'points' as the ledger's own refusal was (API clients); the page shows it at the amount
        raise ValidationFailed({'points': [_l('公益池余额不足：余额 %(a)s 分，本次要分配 %(n)s 分，请减少分配的积分',
                                              a=exc.available, n=exc.needed)]}) from None
    return entry


def pool_history(page: int = 1, per_page: int = POOL_HISTORY_PAGE) -> tuple[list[dict], int]:
    """(rows of one page, how many in all) of what went into and out of the 公益池, newest first: each row says
    whether it was a donation ('in') or an allocation ('out'), the volunteer, who allocated it, when, how many
    points and why (the reason 广志协 typed)."""
    pool = db.session.scalar(select(LedgerAccount).where(
        LedgerAccount.key == ledger.system_key('donation_pool', ledger.ELDERLY_TIME)))
    if pool is None:
        return [], 0
    stmt = (select(LedgerEntry).join(LedgerPosting, LedgerPosting.entry_id == LedgerEntry.id)
            .where(LedgerPosting.account_id == pool.id).order_by(LedgerEntry.id.desc()))
    entries, total = paged(stmt, page, per_page)
    rows = []
    for e in entries:
        mine = sum(p.amount for p in e.postings if p.account_id == pool.id)
        other = next((p.account for p in e.postings if p.account_id != pool.id), None)
        volunteer = other.owner if other is not None else None
        out = mine < 0
        rows.append({'direction': 'out' if out else 'in', 'amount': abs(mine), 'at': e.created_at,
                     'volunteer': volunteer, 'by': e.created_by if out else None,
                     'reason': e.reason.removeprefix(ALLOCATION_REASON) if out else '', 'entry_id': e.id})
    return rows, total


# ---------------------------------------------------------------- district review of resources

def _district_paths(user) -> list[str]:
    paths = [m.org_unit.path for m in user.memberships if m.role == 'district_admin']
    if not paths:
        raise Forbidden()
    return paths


def _in_district(item: ShopItem, paths) -> bool:
    return any(item.district.path.startswith(p) for p in paths)


def _own_district_items(user):
    paths = _district_paths(user)
    return ShopItem.district_id.in_(select(OrgUnit.id).where(or_(*[OrgUnit.path.startswith(p) for p in paths])))


REVIEW_PAGE = 20
BATCH_MAX = 200  # items one batch decides at most (as the inbox's batch)


def review_term(q) -> str:
    """What the review list searches for: the typed words with their spaces tidied, at most 50 characters."""
    return ' '.join(str(q or '').split())[:50]


def check_section(section, field='section') -> str | None:
    """The 栏目 a review list is filtered by (None: every section); an unknown one is refused at `field`."""
    if not section:
        return None
    if section not in SECTIONS:
        raise ValidationFailed({field: [_l('栏目无效，请从列表中选择')]})
    return section


def _review_filter(user, q=None, section=None):
    """SQL condition of the bureau's own district(s), the 栏目 and the search (名称、提供单位或说明)."""
    cond = _own_district_items(user)
    if section:
        cond = cond & (ShopItem.section == section)
    term = review_term(q)
    if term:
        cond = cond & or_(ShopItem.name.icontains(term, autoescape=True),
                          ShopItem.provider_name.icontains(term, autoescape=True),
                          ShopItem.description.icontains(term, autoescape=True))
    return cond


def _review_select(user, status, q, section):
    cond = _review_filter(user, q, section)
    if status in ITEM_STATUSES:
        cond = cond & (ShopItem.status == status)
    stmt = select(ShopItem).where(cond).options(selectinload(ShopItem.reviewed_by))
    if status in ('approved', 'rejected'):  # the latest decisions first
        return stmt.order_by(ShopItem.reviewed_at.desc().nulls_last(), ShopItem.id.desc())
    return stmt.order_by(ShopItem.id.desc())


def review_counts(user, q=None, section=None) -> dict[str, int]:
    """How many resources of the bureau's district(s) are in each review state with the same search and 栏目
    (every tab shows its count)."""
    return dict(db.session.execute(select(ShopItem.status, func.count()).where(_review_filter(user, q, section))
                                   .group_by(ShopItem.status)).all())


def items_to_review(user, status: str = 'pending', q=None, section=None) -> list[ShopItem]:
    """The resources of the bureau's own district(s) in one review state (any other `status`: all of them),
    optionally searched and of one 栏目."""
    _district_paths(user)  # 403 before anything is said about the filters
    return list(db.session.scalars(_review_select(user, status, q, check_section(section))))


def review_page(user, status='pending', q=None, section=None, page: int = 1, per_page: int = REVIEW_PAGE,
                section_field='section') -> tuple[list[ShopItem], int, dict[str, int]]:
    """(one page of the review list, how many it has in all, the count of each tab with the same search and 栏目);
    an unknown 栏目 is refused at `section_field`."""
    _district_paths(user)  # 403 before anything is said about the filters
    section = check_section(section, section_field)
    rows, total = paged(_review_select(user, status, q, section), page, per_page)
    return rows, total, review_counts(user, q, section)


def registrars(items) -> dict[int, User]:
    """The users who registered (登记) these items, by id (one query)."""
    ids = {i.created_by_id for i in items if i.created_by_id}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


def reviewable_item(user, item_id) -> ShopItem:
    """An item of the user's district; 404 for any other district's item."""
    paths = _district_paths(user)
    item = db.session.get(ShopItem, row_id(item_id)) if row_id(item_id) else None
    if item is None or not _in_district(item, paths):
        raise NotFound()
    return item


def review_item(user, item_id, decision, reason=None, batch=False) -> ShopItem:
    """区民政局 approves (on sale) or rejects (with a reason) a pending resource, once; audited (`batch`: the
    decision was one of a batch, which the audit row says)."""
    item = reviewable_item(user, item_id)  # another district's item is a 404 whatever was decided
    reason = (reason or '').strip()
    if decision not in ('approve', 'reject'):
        raise ValidationFailed({'decision': [_l('请选择通过或不通过')]})
    if decision == 'reject' and not reason:
        raise ValidationFailed({'reason': [_l('不通过时必须填写原因')]})
    if reason_too_long(reason):  # refused, never cut: the bureau that registered the resource reads all of it
        raise ValidationFailed({'reason': [reason_too_long(reason)]})
    with transaction():
        item = lock_item(item.id)
        if item.status != 'pending':
            raise Conflict(_l('该兑换资源已审核，请刷新后查看'))
        item.status = 'approved' if decision == 'approve' else 'rejected'
        item.review_reason, item.reviewed_by_id, item.reviewed_at = reason or None, user.id, utcnow()
        # who decided in which capacity (SPEC §3): the district membership the item lies under
        acting = next(m for m in user.memberships
                      if m.role == 'district_admin' and item.district.path.startswith(m.org_unit.path))
        detail = {'reason': reason, 'item': item_dict(item), 'role': acting.role, 'unit': acting.org_unit.code,
                  **({'batch': True} if batch else {})}
        db.session.add(AuditLog(actor_id=user.id, action=f'shop_item.{decision}', target=f'shop_item:{item.id}',
                                detail_json=json.dumps(detail, ensure_ascii=False), at=utcnow()))
    return item


def batch_review(user, item_ids, decision, reason=None) -> list[dict]:
    """批量通过 / 批量不通过 of resources of the bureau's own district: each item is decided (and audited) as
    `review_item` decides one, in its own transaction, so one that was decided meanwhile does not undo the
    others. Any id that is not an item of the user's district is a 404 and nothing is decided; nothing ticked,
    or 不通过 without a reason, is refused (ValidationFailed) before anything is decided.

    The results as `batch_outcome` words them."""
    paths = _district_paths(user)  # 403 for anyone who is not a district bureau
    ids = list(dict.fromkeys(row_id(i) for i in item_ids or []))
    if None in ids:
        raise NotFound()
    ids = ids[:BATCH_MAX]
    found = {i.id: i for i in db.session.scalars(select(ShopItem).where(ShopItem.id.in_(ids)))} if ids else {}
    if any(i not in found or not _in_district(found[i], paths) for i in ids):
        raise NotFound()  # another district's items stay invisible, in a batch as one by one
    reason = (reason or '').strip()
    errors: dict = {}
    if not ids:
        errors['item_ids'] = [_l('请先勾选要审核的兑换资源')]
    if decision not in ('approve', 'reject'):
        errors['decision'] = [_l('请选择通过或不通过')]
    elif decision == 'reject' and not reason:
        errors['reason'] = [_l('批量不通过时必须填写意见')]
    if reason_too_long(reason):
        errors['reason'] = [reason_too_long(reason)]
    if errors:
        raise ValidationFailed(errors)
    results = []
    for item_id in ids:
        try:
            review_item(user, item_id, decision, reason, batch=True)
            results.append({'id': item_id, 'ok': True})
        except Conflict:  # decided meanwhile (by a colleague, or in another tab)
            results.append({'id': item_id, 'ok': False})
    db.session.expire_all()
    return batch_outcome(user, results, decision)


def batch_outcome(user, results, decision) -> list[dict]:
    """A batch's results ({'id', 'ok'} each) in words, as now: each item's name and what was done, or why not
    ({'id', 'name', 'ok', 'text'}). Items not of the user's district are left out."""
    paths = _district_paths(user)
    ids = [row_id(r.get('id')) for r in results]
    items = {i.id: i for i in db.session.scalars(select(ShopItem).where(ShopItem.id.in_([i for i in ids if i])))}
    rows = []
    for r, item_id in zip(results, ids, strict=True):
        item = items.get(item_id)
        if item is None or not _in_district(item, paths):
            continue
        if not r.get('ok'):
            text = _l('此前已审核（%(status)s），本次未处理', status=ITEM_STATUSES.get(item.status, item.status))
        else:
            text = _l('已通过，已在积分商城上架') if decision == 'approve' else _l('未通过')
        rows.append({'id': item.id, 'name': item.name, 'ok': bool(r.get('ok')), 'text': str(text)})
    return rows


def create_item(user, values: dict) -> ShopItem:
    """A new resource of the bureau's own district, pending that district's review."""
    require_role(user, *REGISTRARS)
    errors: dict = {}
    name = (values.get('name') or '').strip()
    if not 2 <= len(name) <= 80:
        errors['name'] = [_l('名称 2–80 个字')]
    section = values.get('section')
    if section not in SECTIONS:
        errors['section'] = [_l('请选择兑换栏目')]
    point_type = values.get('point_type') or ledger.ELDERLY_TIME
    if point_type not in POINT_TYPES:
        errors['point_type'] = [_l('请选择积分类型')]
    elif section == 'elderly_care' and point_type != ledger.ELDERLY_TIME:
        errors['point_type'] = [_l('养老服务兑换只能使用养老时间积分')]
    numbers = {}
    for field, low in (('price', 0 if section == 'charity' else 1), ('stock', 0)):
        try:
            numbers[field] = int(str(values.get(field, '')).strip())
            if numbers[field] < low:
                raise ValueError
        except ValueError:
            errors[field] = [_l('请输入不小于 %(n)s 的整数', n=low)]
    district = db.session.scalar(select(OrgUnit).where(OrgUnit.code == values.get('district'),
                                                       OrgUnit.kind == 'district'))
    if district is None:
        errors['district'] = [_l('请选择所属区')]
    elif not any(district.path.startswith(m.org_unit.path) for m in user.memberships if m.role in REGISTRARS):
        errors['district'] = [_l('只能登记本区的兑换资源')]
    texts = {'description': clean_text(values.get('description') or '', multiline=True),
             'provider_name': clean_text(values.get('provider_name') or '')}
    for field, label in (('description', _l('说明')), ('provider_name', _l('提供单位'))):
        if (too_long := reason_too_long(texts[field], ITEM_TEXT_MAX[field], label=label)) is not None:
            errors[field] = [too_long]  # refused, never cut
    if errors:
        raise ValidationFailed(errors)
    with transaction():
        item = ShopItem(name=name, section=section, description=texts['description'],
                        price=numbers['price'], point_type=point_type, stock=numbers['stock'], reserved=0,
                        district_id=district.id, provider_name=texts['provider_name'],
                        status='pending', created_by_id=user.id, created_at=utcnow())
        db.session.add(item)
        db.session.flush()
        db.session.add(AuditLog(actor_id=user.id, action='shop_item.create', target=f'shop_item:{item.id}',
                                detail_json=json.dumps(item_dict(item), ensure_ascii=False), at=utcnow()))
    return item


# ---------------------------------------------------------------- the 公益池's volunteer picker

_LISTED = re.compile(r'^(.*?)\s*[（(]\s*([^（）()]+?)\s*[）)]$')  # 张建国（vol_zhang）, as the lists show a volunteer
SUGGESTIONS = 10


def _volunteers(*conds):
    """Select of the users holding a volunteer membership (those 广志协 may allocate pool points to)."""
    return select(User).where(exists(select(Membership.id).where(Membership.user_id == User.id,
                                                                 Membership.role == 'volunteer')), *conds)


def find_volunteer(typed) -> User:
    """The one volunteer meant by what 广志协 typed: a username, a mobile number, a name, or 姓名（用户名） as the
    suggestions and the history show it. ValidationFailed at `username` when nobody or several people match."""
    text = ' '.join(str(typed or '').split())[:80]
    if not text:
        raise ValidationFailed({'username': [_l('请填写志愿者的手机号码、姓名或用户名')]})
    listed = _LISTED.match(text)
    for username in [text] + ([listed.group(2)] if listed else []):
        found = db.session.scalars(_volunteers(User.username == username).limit(1)).first()
        if found is not None:
            return found
    if is_valid_mobile(text):
        phone = normalize_mobile(text)
        same = list(db.session.scalars(_volunteers(User.phone == phone).order_by(User.id).limit(2)))
        if len(same) > 1:
            raise ValidationFailed({'username': [_l('有多位志愿者登记了手机号码 %(phone)s，请改填用户名', phone=phone)]})
    else:
        same = list(db.session.scalars(_volunteers(User.display_name == text).order_by(User.id).limit(2)))
        if len(same) > 1:
            raise ValidationFailed({'username': [_l('有多位志愿者叫“%(name)s”，请改填要分配的那一位的手机号码', name=text)]})
    if same:
        return same[0]
    raise ValidationFailed({'username': [_l('找不到志愿者“%(typed)s”：请核对手机号码、姓名或用户名（只能分配给已登记的志愿者）',
                                            typed=text)]})


def suggest_volunteers(actor, q) -> list[dict]:
    """Up to SUGGESTIONS volunteers whose name, username or mobile number contains `q` (广志协 only), for the
    picker's list: each as 姓名（用户名） (姓名 (用户名) on English pages), which `find_volunteer` reads back, with the
    mobile number."""
    require_role(actor, 'association_admin')
    term = ' '.join(str(q or '').split())[:50]
    if not term:
        return []
    listed = _LISTED.match(term)
    term = listed.group(2) if listed else term
    cond = or_(User.display_name.contains(term, autoescape=True), User.username.contains(term, autoescape=True))
    digits = normalize_mobile(term)
    if digits.isdigit():
        cond = or_(cond, User.phone.contains(digits, autoescape=True))
    rows = db.session.scalars(_volunteers(cond).order_by(User.display_name, User.id).limit(SUGGESTIONS))
    return [{'value': str(_l('%(text)s（%(note)s）', text=u.display_name, note=u.username)), 'name': u.display_name,
             'username': u.username, 'phone': u.phone or ''} for u in rows]


def allocation_problems(amount, reason) -> dict:
    """What is wrong with the amount and the reason of an allocation, read without allocating: the page names
    them together with a volunteer it could not find."""
    errors: dict = {}
    try:
        _amount(amount)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if (problem := _reason_problem(reason)) is not None:
        errors['reason'] = [problem]
    return errors


def _reason_problem(reason):
    """Why an allocation's reason is refused, else None: none typed, or longer than the page's box (refused, never
    cut: the volunteer reads all of it)."""
    text = clean_text(reason or '', multiline=True)
    if not text:
        return _l('请填写分配原因')
    return reason_too_long(text, ALLOCATION_REASON_MAX, label=_l('分配原因'))


def districts() -> list[OrgUnit]:
    return list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind == 'district').order_by(OrgUnit.id)))


def districts_for(user) -> list[OrgUnit]:
    """The districts `user` may register resources for (登记新的兑换资源 offers only these)."""
    paths = [m.org_unit.path for m in user.memberships if m.role in REGISTRARS]
    return [d for d in districts() if any(d.path.startswith(p) for p in paths)]


# ---------------------------------------------------------------- statement

def points_statement(user, point_type: str | None = None, page: int = 1) -> dict:
    """`GET /api/v1/me/points`: one point type's statement; an unknown type is refused, not shown as empty."""
    point_type = point_type or ledger.ELDERLY_TIME
    if point_type not in POINT_TYPES:
        raise ValidationFailed({'point_type': [_l('积分类型只能是 elderly_time（养老时间积分）或 service（志愿服务积分）')]})
    return ledger.statement(user, page, point_type=point_type)


def statements(user, page: int = 1) -> dict[str, dict]:
    """The volunteer's statement of each point type (elderly time points first)."""
    return {kind: ledger.statement(user, page if kind == ledger.ELDERLY_TIME else 1, point_type=kind)
            for kind in POINT_TYPES}


# ---------------------------------------------------------------- hand-over by the item's holder (兑换记录)

FULFILMENT_STATUSES = {'pending': _l('待安排'), 'arranged': _l('已安排'), 'delivered': _l('已发放')}
SERVICE_DONE = _l('已完成服务')  # 已发放 of an elderly-care service
FULFILMENT_PAGE = 20
NOTE_MAX = 500
# the role that acts for a unit holding shop items, by the unit's kind (the one staff role `accounts.ROLE_KINDS`
# binds to that kind; an item a city unit holds is 广志协's). Only these members of the holder unit itself see and
# mark its hand-overs: units above it (the district bureau, 广志协, the process admins) do not, since the volunteer
# is told the holder marked it -- SPEC gives them no part in handing items over.
HOLDER_ROLES = {'provider': 'provider_admin', 'station': 'station_admin', 'district': 'district_admin',
                'street': 'street_admin', 'team': 'team_admin', 'city': 'association_admin'}
FINAL = 'delivered'  # 已发放 / 已完成服务: the volunteer has it; a hand-over never goes back from here


def fulfilment_status(row: ShopFulfilment) -> str:
    """The hand-over's state in words (a service is 已完成服务 where goods are 已发放)."""
    if row.status == 'delivered' and row.item.section == 'elderly_care':
        return str(SERVICE_DONE)
    return str(FULFILMENT_STATUSES.get(row.status, row.status))


def holder_unit(item: ShopItem) -> OrgUnit:
    """The org unit that hands the item over: the unit its 提供单位 names (a provider, a station), else the district
    whose bureau listed it."""
    if item.provider_name:
        named = db.session.scalars(select(OrgUnit).where(OrgUnit.name == item.provider_name).limit(2)).all()
        if len(named) == 1:
            return named[0]
    return item.district


def _holder_staff(unit: OrgUnit) -> list[int]:
    """Who acts for the unit: its members in the role that manages its items (`HOLDER_ROLES`); the provider's own
    volunteers, and staff of other roles or of other units (those above it included), are not told."""
    role = HOLDER_ROLES.get(unit.kind)
    if role is None:
        return []
    return list(db.session.scalars(select(Membership.user_id).where(Membership.org_unit_id == unit.id,
                                                                    Membership.role == role)))


def add_fulfilment(item: ShopItem, volunteer: User, recipient_name: str, recipient_phone: str, *,
                   redemption: ShopRedemption | None = None, gift=None) -> ShopFulfilment:
    """A hand-over for the item's holder to arrange, in the caller's transaction; the holder's staff are told who
    redeemed what, for whom and whom to contact. Once per redemption or gift."""
    unit = holder_unit(item)
    row = ShopFulfilment(item_id=item.id, holder_unit_id=unit.id, volunteer_id=volunteer.id,
                         redemption_id=redemption.id if redemption else None, gift_id=gift.id if gift else None,
                         recipient_name=recipient_name[:40], recipient_phone=(recipient_phone or '')[:20],
                         status='pending', created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    contact = recipient_phone or _l('未登记电话')
    if gift is not None:
        title = _l('新的赠予兑换：%(volunteer)s为%(name)s兑换「%(item)s」，请联系%(name)s（%(phone)s）安排',
                   volunteer=volunteer.display_name, name=recipient_name, item=item.name, phone=contact)
    else:
        title = _l('新的兑换：%(name)s兑换「%(item)s」，请联系%(name)s（%(phone)s）安排', name=recipient_name,
                   item=item.name, phone=contact)
    messages.send(_holder_staff(unit), kind='task', title=title, link=f'/shop/redemptions/{row.id}',
                  body=_l('兑换记录 #%(id)s：安排后请在“兑换记录”中标记已安排或已发放，志愿者会收到通知', id=row.id))
    return row


def _holding(user) -> list[Membership]:
    """The user's memberships that act for a holder unit (`HOLDER_ROLES`)."""
    return [m for m in user.memberships if HOLDER_ROLES.get(m.org_unit.kind) == m.role]


def _own_fulfilments(user):
    """SQL condition: hand-overs held by the user's own units (not units below them). Forbidden when the user acts
    for no unit that can hold items (the list page); a single hand-over says 404 instead (`held_fulfilment`)."""
    units = [m.org_unit_id for m in _holding(user)]
    if not units:
        raise Forbidden()
    return ShopFulfilment.holder_unit_id.in_(units)


def _fulfilment_filter(user, q=None):
    cond = _own_fulfilments(user)
    term = review_term(q)
    if term:
        volunteers = select(User.id).where(or_(User.display_name.icontains(term, autoescape=True),
                                               User.phone.contains(term, autoescape=True)))
        items = select(ShopItem.id).where(ShopItem.name.icontains(term, autoescape=True))
        cond = cond & or_(ShopFulfilment.recipient_name.icontains(term, autoescape=True),
                          ShopFulfilment.recipient_phone.contains(term, autoescape=True),
                          ShopFulfilment.volunteer_id.in_(volunteers), ShopFulfilment.item_id.in_(items))
    return cond


def fulfilment_page(user, status='pending', q=None, page: int = 1,
                    per_page: int = FULFILMENT_PAGE) -> tuple[list[ShopFulfilment], int, dict[str, int]]:
    """兑换记录 of the user's units: (one page, newest first, of one state, or of all when `status` is not one; how
    many in all; the count of each state with the same search). Searched by item, volunteer, recipient or phone."""
    cond = _fulfilment_filter(user, q)
    counts = dict(db.session.execute(select(ShopFulfilment.status, func.count()).where(cond)
                                     .group_by(ShopFulfilment.status)).all())
    if status in FULFILMENT_STATUSES:
        cond = cond & (ShopFulfilment.status == status)
    stmt = (select(ShopFulfilment).where(cond).order_by(ShopFulfilment.id.desc())
            .options(selectinload(ShopFulfilment.volunteer), selectinload(ShopFulfilment.updated_by)))
    rows, total = paged(stmt, page, per_page)
    return rows, total, counts


def held_fulfilment(user, fulfilment_id) -> ShopFulfilment:
    """One hand-over of the user's units; 404 for any other (another provider's, one of a unit below the user's, or
    none) and for a user who holds nothing, so that a guessed id tells nobody whether it exists."""
    units = [m.org_unit_id for m in _holding(user)]
    row = db.session.scalar(select(ShopFulfilment).where(ShopFulfilment.id == row_id(fulfilment_id),
                                                         ShopFulfilment.holder_unit_id.in_(units))) \
        if row_id(fulfilment_id) and units else None
    if row is None:
        raise NotFound()
    return row


def _done_label(row: ShopFulfilment) -> str:
    """The final state as the page's radio reads for this item: 已完成服务 for a service, else 已发放."""
    return str(SERVICE_DONE if row.item.section == 'elderly_care' else FULFILMENT_STATUSES[FINAL])


def mark_fulfilment(user, fulfilment_id, status, note=None) -> tuple[ShopFulfilment, str]:
    """The holder marks a hand-over 已安排 or 已发放 with an optional note (where, when, who to ask); audited, and
    the volunteer is told. (row, what changed: 'status', 'note' or '' when nothing did -- the same state and note
    again tells nobody). 已发放 / 已完成服务 is final: going back to 已安排 is refused (the volunteer has already been
    told it is done); saving it again with another note updates the note and tells the volunteer the note changed,
    as it does at 已安排 (a new time or place is news the volunteer needs)."""
    row = held_fulfilment(user, fulfilment_id)  # another unit's hand-over is a 404 whatever was sent
    note = str(note or '').strip()
    errors: dict = {}
    if status not in ('arranged', FINAL):  # name the choices this item's form shows
        errors['status'] = [_l('请选择“已安排”或“已完成服务”') if row.item.section == 'elderly_care'
                            else _l('请选择“已安排”或“已发放”')]
    if len(note) > NOTE_MAX:  # refused, never cut: the volunteer reads all of it
        errors['note'] = [_l('说明最多 %(max)s 个字，现在 %(n)s 个字', max=NOTE_MAX, n=len(note))]
    if errors:
        raise ValidationFailed(errors)
    with transaction():
        row = db.session.scalar(select(ShopFulfilment).where(ShopFulfilment.id == row.id)
                                .with_for_update(of=ShopFulfilment).execution_options(populate_existing=True))
        if row.status == FINAL and status != FINAL:  # checked under the lock: a colleague may just have finished it
            raise ValidationFailed({'status': [_l('该兑换已标记为“%(done)s”，不能改回“%(to)s”；如需补充情况，请修改说明后保存',
                                                  done=_done_label(row), to=FULFILMENT_STATUSES[status])]})
        if row.status == status and (row.note or '') == note:
            return row, ''
        changed = 'status' if row.status != status else 'note'
        before = {'status': row.status, 'note': row.note}
        row.status, row.note, row.updated_by_id, row.updated_at = status, note or None, user.id, utcnow()
        acting = next((m for m in _holding(user) if m.org_unit_id == row.holder_unit_id), None)
        db.session.add(AuditLog(actor_id=user.id, action=f'shop_fulfilment.{status}', target=f'shop_fulfilment:{row.id}',
                                at=utcnow(), detail_json=json.dumps(
                                    {'before': before, 'status': status, 'note': note, 'item': row.item.name,
                                     'recipient': row.recipient_name, 'role': acting.role if acting else None,
                                     'unit': acting.org_unit.code if acting else None}, ensure_ascii=False)))
        messages.send([row.volunteer_id], kind='info', title=_told(row, note_only=changed == 'note'),
                      body=note or (_l('（说明已清空）') if changed == 'note' else ''),
                      link=f'/m/shop/mine#fulfilment-{row.id}')
    return row, changed


def _told(row: ShopFulfilment, note_only: bool = False):
    """The volunteer's message on a marked hand-over, built in each language (see `messages.in_both`); `note_only`:
    the state stayed and only the note changed, so the title says so instead of repeating the state as news."""
    def title():
        if note_only and row.gift_id:
            return str(_l('%(holder)s：您为%(name)s兑换的「%(item)s」（%(status)s）说明已更新', holder=row.holder.name,
                          name=row.recipient_name, item=row.item.name, status=fulfilment_status(row)))
        if note_only:
            return str(_l('%(holder)s：您兑换的「%(item)s」（%(status)s）说明已更新', holder=row.holder.name,
                          item=row.item.name, status=fulfilment_status(row)))
        if row.gift_id:
            return str(_l('%(holder)s：您为%(name)s兑换的「%(item)s」%(status)s', holder=row.holder.name,
                          name=row.recipient_name, item=row.item.name, status=fulfilment_status(row)))
        return str(_l('%(holder)s：您兑换的「%(item)s」%(status)s', holder=row.holder.name, item=row.item.name,
                      status=fulfilment_status(row)))
    return title


def fulfilments_for(redemptions=(), gifts=()) -> dict[tuple[str, int], ShopFulfilment]:
    """The hand-overs of these redemptions and gifts, keyed ('redemption', id) / ('gift', id) (one query)."""
    r_ids, g_ids = [r.id for r in redemptions], [g.id for g in gifts]
    if not r_ids and not g_ids:
        return {}
    rows = db.session.scalars(select(ShopFulfilment).where(or_(ShopFulfilment.redemption_id.in_(r_ids),
                                                               ShopFulfilment.gift_id.in_(g_ids))))
    return {('redemption', f.redemption_id) if f.redemption_id else ('gift', f.gift_id): f for f in rows}
