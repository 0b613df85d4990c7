"""The lists that can be exported to Excel (SPEC §3): review lists, the service-object library, V-orders,
hour certifications, the points ledger, per-volunteer service records and the 统计 figures.

Each kind selects exactly the rows its list shows the user (the list's own query, unpaged) and filters them by
a Beijing-time date range."""
import json

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import (
    Decision,
    HumanTask,
    HumanTaskScope,
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    ServiceObject,
    User,
    VOrder,
    VOrderVolunteer,
)
from app.services import forms, order_list, service_objects, shop, stats, tasks, v_orders
from app.services.exports import STATE_NAMES, VIEW_NAMES, ExportKind, beijing, in_range, register
from app.services.jurisdiction import open_task_ids
from app.services.roles import role_label
from app.services.step_names import step_with_subject, stored_text
from app.services.validators import mask_id

LEDGER_ROLES = {'association_admin', 'process_admin'}
# decisions already taken: 'Approved', not the button's 'Approve' (template_helpers.decision_label)
DECISIONS = {'approve': lazy_pgettext('decided', '通过'), 'reject': lazy_pgettext('decided', '不通过'),
             'submit': lazy_pgettext('decided', '提交')}
TASK_STATES = {'open': _l('待处理'), 'completed': _l('已处理'), 'cancelled': _l('已撤销')}
ENTRY_KINDS = {'award': _l('发放'), 'spend': _l('兑换'), 'donate': _l('捐赠'), 'allocate': _l('分配'),
               'post_hold': _l('冻结转扣除'), 'reversal': _l('冲正'), 'hold': _l('冻结'), 'void_hold': _l('解冻')}


def _roles(user) -> set[str]:
    return {m.role for m in user.memberships}


def _reviewer(user) -> bool:
    """Whoever has the 待办审核 list: any role but a volunteer's (the back-office menu's rule)."""
    return bool(_roles(user) - {'volunteer'})


# Who is offered which kind: the roles whose pages show those rows, so no file comes back empty for want of access
# (the demo's team admins and the veterans bureau read only their 待办审核; the process admin has no library and no
# order list). A volunteer's own service records and points are the 我的订单 / 我的积分 pages.

def _serves_or_oversees_orders(user) -> bool:
    return 'volunteer' in _roles(user) or _oversees_orders(user)


def _reads_ledger(user) -> bool:
    return bool(_roles(user) & (LEDGER_ROLES | {'volunteer'}))


def _ids(stmt) -> list[int]:
    return list(db.session.scalars(stmt))


def _in_order(rows, ids, key=lambda r: r.id):
    found = {key(r): r for r in rows}
    return [found[i] for i in ids if i in found]


def _labels(form_key: str, field: str) -> dict:
    return dict(forms.option_list(forms.get_form(form_key)['properties'][field]))


# ---------------------------------------------------------------- review lists (待办审核)

def _task_ids(user, p) -> list[int]:
    """open: the tasks the user may act on now; approve / reject / done: those they decided; all: both."""
    state = p.get('state') or 'open'
    mine_open = HumanTask.id.in_(select(open_task_ids(user).c.id)) & (HumanTask.status == 'open')
    if state == 'open':
        stmt, column = select(HumanTask.id).where(mine_open), HumanTask.created_at
    elif state == 'all':
        # an open task by its arrival, a handled one by the day it was handled (the page's date label)
        column = func.coalesce(HumanTask.completed_at, HumanTask.created_at)
        stmt = select(HumanTask.id).where(or_(mine_open, tasks.decided_clause(user, 'done')))
    else:
        stmt, column = select(HumanTask.id).where(tasks.decided_clause(user, state)), HumanTask.completed_at
    stmt = tasks.filter_tasks(stmt, p.get('process'), p.get('q'))
    return _ids(stmt.where(*in_range(column, p)).order_by(column.desc(), HumanTask.id.desc()))


def _task_rows(ids) -> list[list]:
    rows = db.session.scalars(select(HumanTask).where(HumanTask.id.in_(ids)).options(
        joinedload(HumanTask.instance), selectinload(HumanTask.scopes).joinedload(HumanTaskScope.org_unit))).all()
    decided = {d.human_task_id: d for d in db.session.scalars(
        select(Decision).where(Decision.human_task_id.in_(ids)).options(joinedload(Decision.actor)))}
    out = []
    for t in _in_order(rows, ids):
        d = decided.get(t.id)
        out.append([t.id, stored_text(t.instance.title) or t.title, step_with_subject(t.title, t.subject), role_label(t.lane),
                    '、'.join(s.org_unit.name for s in t.scopes), str(TASK_STATES.get(t.status, t.status)),
                    str(DECISIONS.get(t.decision, t.decision or '')), (d.reason or '') if d else '',
                    d.actor.display_name if d and d.actor else '', beijing(t.created_at), beijing(t.completed_at),
                    beijing(t.due_at)])
    return out


register(ExportKind(
    key='tasks', title=_l('审核列表'), allowed=_reviewer, ids=_task_ids, rows=_task_rows,
    filters=('state', 'q', 'process'), date_label=_l('到达或处理日期'), defaults={'state': 'open'},
    choices={'state': tuple(STATE_NAMES)},
    columns=[_l('任务编号'), _l('事项'), _l('步骤'), _l('角色'), _l('范围'), _l('状态'), _l('审核结果'),
             _l('审核意见'), _l('处理人'), _l('到达时间'), _l('处理时间'), _l('截止时间')]))


# ---------------------------------------------------------------- service-object library (服务对象库)

def _object_ids(user, p) -> list[int]:
    stmt = service_objects.library_query(user, p['view'], p.get('q'))  # clean_params: 'approved' or 'all'
    return _ids(stmt.with_only_columns(ServiceObject.id).where(*in_range(ServiceObject.created_at, p)))


def _object_rows(ids) -> list[list]:
    categories = _labels('service_object_entry.json', 'category')
    rows = db.session.scalars(select(ServiceObject).where(ServiceObject.id.in_(ids))).all()
    return [[o.name, mask_id(o.id_number), str(_l('男') if o.gender == 'male' else _l('女')), o.birth_date,
             categories.get(o.category, o.category), o.household_street.name, o.residence_street.name,
             o.version, str(service_objects.STATUS_LABELS.get(o.status, o.status)), beijing(o.created_at)]
            for o in _in_order(rows, ids)]


register(ExportKind(
    key='service_objects', title=_l('服务对象库'), allowed=service_objects.may_use_library, ids=_object_ids,
    rows=_object_rows, filters=('view', 'q'), date_label=_l('录入日期'), defaults={'view': 'approved'},
    choices={'view': tuple(VIEW_NAMES)},
    columns=[_l('姓名'), _l('身份证号'), _l('性别'), _l('出生日期'), _l('服务对象类别'), _l('户籍街道'),
             _l('居住街道'), _l('版本'), _l('状态'), _l('录入时间')]))


# ---------------------------------------------------------------- V-orders (订单管理) and certifications

def _oversees_orders(user) -> bool:
    return order_list.may_list_orders(user)


def _order_query(user, p):
    return order_list.orders_query(user, status=p.get('status') or None, q=p.get('q') or None)


def _order_ids(user, p) -> list[int]:
    return _ids(_order_query(user, p).with_only_columns(VOrder.id).where(*in_range(VOrder.start_at, p)))


def _orders(ids) -> list[VOrder]:
    rows = db.session.scalars(select(VOrder).where(VOrder.id.in_(ids)).options(
        selectinload(VOrder.volunteers), joinedload(VOrder.publisher))).all()
    return _in_order(rows, ids)


def _order_rows(ids) -> list[list]:
    items = _labels('v_order.json', 'service_item')
    categories = _labels('v_order.json', 'category')
    out = []
    for o in _orders(ids):
        due = v_orders.certify_due_at(o)
        out.append([o.id, o.title, o.street.name, categories.get(o.category, o.category),
                    items.get(o.service_item, o.service_item), beijing(o.start_at), beijing(o.end_at),
                    v_orders.status_label(o), f'{v_orders.approved_count(o)}/{o.volunteers_needed}',
                    o.publisher.display_name if o.publisher else '', o.address, beijing(due),
                    str(_l('是')) if o.overdue else ''])
    return out


register(ExportKind(
    key='orders', title=_l('V订单'), allowed=_oversees_orders, ids=_order_ids, rows=_order_rows,
    filters=('status', 'q'), date_label=_l('服务开始日期'),
    columns=[_l('订单号'), _l('订单标题'), _l('街道'), _l('服务类别'), _l('服务项目'), _l('服务开始'), _l('服务结束'),
             _l('状态'), _l('志愿者（已确定/需要）'), _l('发布人'), _l('服务地址'), _l('认证截止'), _l('已逾期')]))


def _certified_ids(user, p) -> list[int]:
    return _ids(_order_query(user, p).with_only_columns(VOrder.id).where(
        VOrder.certification_json.is_not(None), *in_range(VOrder.start_at, p)))


def _certification_rows(ids) -> list[list]:
    out = []
    for o in _orders(ids):
        c = json.loads(o.certification_json or '{}')
        points = sum(v.points_awarded or 0 for v in o.volunteers)
        out.append([o.id, o.title, o.street.name, c.get('service_start_date', ''), c.get('service_end_date', ''),
                    c.get('person_times', ''), c.get('object_count', ''), c.get('volunteer_count', ''),
                    c.get('service_hours', ''), c.get('summary', ''), c.get('results', ''),
                    len(c.get('photos') or []),
                    str(_l('已认证') if o.status == 'done' else _l('待广志协审核')), points])
    return out


register(ExportKind(
    key='certifications', title=_l('时数认证'), allowed=_oversees_orders, ids=_certified_ids,
    rows=_certification_rows, filters=('q',), date_label=_l('服务开始日期'),
    columns=[_l('订单号'), _l('订单标题'), _l('街道'), _l('服务开始日期'), _l('服务结束日期'), _l('服务人次'),
             _l('服务对象人数'), _l('志愿者人数'), _l('服务时数'), _l('服务情况纪要'), _l('成效小结'), _l('照片数'),
             _l('认证状态'), _l('发放积分')]))


# ---------------------------------------------------------------- per-volunteer service records (服务记录)

def _record_ids(user, p) -> list[int]:
    stmt = select(VOrderVolunteer.id).join(VOrder, VOrder.id == VOrderVolunteer.order_id).where(
        VOrderVolunteer.status == 'approved', *in_range(VOrder.start_at, p))
    if _oversees_orders(user):
        stmt = stmt.where(VOrder.id.in_(_order_query(user, {}).with_only_columns(VOrder.id).order_by(None)))
    else:
        stmt = stmt.where(VOrderVolunteer.user_id == user.id)
    if p.get('q'):
        term = p['q']
        stmt = stmt.join(User, User.id == VOrderVolunteer.user_id).where(
            or_(User.display_name.contains(term, autoescape=True), User.username == term))
    return _ids(stmt.order_by(VOrder.start_at.desc(), VOrderVolunteer.id.desc()))


def _record_rows(ids) -> list[list]:
    rows = db.session.scalars(select(VOrderVolunteer).where(VOrderVolunteer.id.in_(ids)).options(
        joinedload(VOrderVolunteer.order))).all()
    return [[r.user.display_name, r.user.username, r.order.id, r.order.title, r.order.street.name,
             beijing(r.order.start_at), beijing(r.order.end_at), r.hours if r.hours is not None else '',
             r.points_awarded or 0, v_orders.status_label(r.order)] for r in _in_order(rows, ids)]


register(ExportKind(
    key='service_records', title=_l('志愿者服务记录'), allowed=_serves_or_oversees_orders, ids=_record_ids,
    rows=_record_rows, filters=('q',), date_label=_l('服务开始日期'),
    columns=[_l('志愿者'), _l('用户名'), _l('订单号'), _l('订单标题'), _l('街道'), _l('服务开始'), _l('服务结束'),
             _l('认证时数'), _l('养老时间积分'), _l('订单状态')]))


# ---------------------------------------------------------------- points ledger (积分流水)

def _posting_ids(user, p) -> list[int]:
    stmt = select(LedgerPosting.id).join(LedgerEntry, LedgerEntry.id == LedgerPosting.entry_id).join(
        LedgerAccount, LedgerAccount.id == LedgerPosting.account_id).where(*in_range(LedgerEntry.created_at, p))
    if _roles(user) & LEDGER_ROLES:
        stmt = stmt.where(LedgerAccount.kind == 'volunteer')
    else:
        stmt = stmt.where(LedgerAccount.owner_user_id == user.id)
    if p.get('point_type'):  # clean_params: one of shop.POINT_TYPES
        stmt = stmt.where(LedgerAccount.point_type == p['point_type'])
    if p.get('q'):
        stmt = stmt.join(User, User.id == LedgerAccount.owner_user_id).where(
            or_(User.display_name.contains(p['q'], autoescape=True), User.username == p['q']))
    return _ids(stmt.order_by(LedgerEntry.id.desc(), LedgerPosting.id))


def _posting_rows(ids) -> list[list]:
    rows = db.session.execute(select(LedgerPosting, LedgerEntry, LedgerAccount, User).join(
        LedgerEntry, LedgerEntry.id == LedgerPosting.entry_id).join(
        LedgerAccount, LedgerAccount.id == LedgerPosting.account_id).outerjoin(
        User, User.id == LedgerAccount.owner_user_id).where(LedgerPosting.id.in_(ids))).all()
    return [[beijing(e.created_at), e.id, str(ENTRY_KINDS.get(e.kind, e.kind)), shop.point_label(a.point_type),
             u.display_name if u else a.key, u.username if u else '', posting.amount, e.shown_reason,
             e.business_ref or ''] for posting, e, a, u in _in_order(rows, ids, key=lambda r: r[0].id)]


register(ExportKind(
    key='ledger', title=_l('积分流水'), allowed=_reads_ledger, ids=_posting_ids, rows=_posting_rows,
    filters=('point_type', 'q'), date_label=_l('记账日期'), choices={'point_type': tuple(shop.POINT_TYPES)},
    columns=[_l('记账时间'), _l('分录号'), _l('类型'), _l('积分类型'), _l('志愿者'), _l('用户名'), _l('变动'),
             _l('事由'), _l('业务编号')]))


# ---------------------------------------------------------------- 统计 (district statistics)

def _stats_table(user, p) -> list[list]:
    """The page's rows for the same filters (the period, the district), the total row last; the district column is
    always there: a file is read away from the page that said which district it was."""
    data = stats.stats_from_args(user, p)
    cells = [[r['district_name'], r['street_name'], *(r[k] for k in stats.FIGURES)] for r in data['rows']]
    if cells:
        cells.append(['', str(_l('合计')), *(data['total'][k] for k in stats.FIGURES)])
    return cells


def _stats_heading(user, p) -> str:
    """'时间银行统计 — 荔湾区 — 2026-01-01 至 2026-11-30': the report, the district picked (the bureau's own one, or
    全市 for the whole city) and the period the figures are for (the current month when the filters left it out)."""
    date_from, date_to, district = stats.period_from_args(user, p)  # the figures themselves are not needed here
    names = {d.code: d.name for d in stats.district_choices(user)}
    if district:
        area = names.get(district, district)
    elif _roles(user) & stats.CITY_ROLES:
        area = _l('全市')
    else:
        area = '、'.join(names.values())
    return str(_l('时间银行统计 — %(area)s — %(start)s 至 %(end)s', area=area, start=date_from.isoformat(),
                  end=date_to.isoformat()))


def _stats_period(user, p) -> dict:
    """The filters with the period the figures are for written out (the current month, or the month of the one day
    given, when the request left it out): stored, so 我的导出 says which period the file holds and a job that runs
    after midnight on the month's last day still counts the month that was asked for."""
    date_from, date_to, _district = stats.period_from_args(user, p)
    return {**p, 'from': date_from.isoformat(), 'to': date_to.isoformat()}


register(ExportKind(
    key='stats', title=_l('统计'), allowed=stats.may_see_stats, table=_stats_table, heading=_stats_heading,
    filters=('district',), date_label=_l('统计期间'), max_days=None, resolve=_stats_period,
    columns=[_l('区'), _l('街道'), _l('新增服务对象'), _l('服务对象总数'), _l('发布订单'), _l('已完成'), _l('已取消'),
             _l('已过期'), _l('已中止'), _l('认证时数'), _l('发放积分'), _l('服务志愿者'), _l('亲属兑换')]))
