"""审计日志: the administrative and security events of `audit_log`, plus the decisions of the cases (their `decision`
rows, each case's own history: reviews, submissions, automatic steps, resets), newest first, for process
administrators."""
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Activity, AuditLog, Decision, OrgUnit, ShopItem, User, VOrder, WorkflowInstance
from app.services import org_cache, shop
from app.services.accounts import KIND_LABELS
from app.services.activity_signups import STATUS_LABELS as SIGNUP_STATUSES
from app.services.errors import ValidationFailed
from app.services.exports import process_label
from app.services.process_admin import require_admin
from app.services.roles import role_label
from app.services.step_names import step_name, step_with_subject
from app.services.unit_lists import CHANGE_LABELS
from app.services.unit_lists import KINDS as LIST_KINDS
from app.services.v_orders import BEIJING, beijing
from app.services.validators import typed_day

PER_PAGE = 20
RESET = 'instance.reset'  # a decision of kind 'reset'
DECISION = 'decision.'  # any other decision: 'decision.' and its kind ('decision.approve', 'decision.submit' …)
# decisions whose event audit_log records itself, not listed twice: a case withdrawn (instance.withdraw), a V-order
# declined or given up (v_order.*), a sign-up cancelled (activity_signup.cancel) or closed with its activity
# (activity_signup.withdrawn), cases moved to a new version (process.migrate lists them)
RECORDED_KINDS, RECORDED_STEPS = ('withdraw', 'migrate'), ('activity_withdrawn',)
ACTION_LABELS = {
    'process.draft': _l('保存流程图草稿'), 'process.draft_discard': _l('放弃流程图草稿'),
    'process.publish': _l('发布流程图'), 'process.migrate': _l('迁移案件到新版本'),
    RESET: _l('回退案件'), 'team.volunteer_import': _l('导入团队志愿者'),
    'shop_item.create': _l('登记兑换资源'), 'shop_item.approve': _l('兑换资源审核通过'),
    'shop_item.reject': _l('兑换资源审核不通过'), 'pool.allocate': _l('公益池分配'),
    **CHANGE_LABELS,
    'user.create': _l('新建账号'), 'user.membership_add': _l('为账号增加角色'), 'user.set_password': _l('重置账号密码'),
    'user.membership_remove': _l('移除账号的角色'), 'user.deactivate': _l('停用账号'), 'user.activate': _l('启用账号'),
    'org_unit.create': _l('新建单位'), 'activity_signup.cancel': _l('取消活动报名'),
    'activity_signup.withdrawn': _l('活动撤销，关闭报名'), 'instance.withdraw': _l('提交人撤回案件'),
    'v_order.declined': _l('V订单志愿者拒绝派单'), 'v_order.withdrawn': _l('V订单志愿者放弃接单'),
    'shop_fulfilment.arranged': _l('兑换记录标记为已安排'), 'shop_fulfilment.delivered': _l('兑换记录标记为已发放'),
}
# group key -> (label, action prefixes, or whole actions): every action of ACTION_LABELS is in exactly one group
GROUPS = {
    'decision': (_l('审核决定'), (DECISION,)),
    'process': (_l('流程图'), ('process.',)),
    'reset': (_l('案件回退'), (RESET,)),
    'withdraw': (_l('案件撤回'), ('instance.withdraw',)),
    'v_order': (_l('V订单接单变动'), ('v_order.',)),
    'activity_signup': (_l('活动报名'), ('activity_signup.',)),
    'team': (_l('团队导入'), ('team.',)),
    'shop_item': (_l('兑换资源'), ('shop_item.',)),
    'shop_fulfilment': (_l('兑换记录'), ('shop_fulfilment.',)),
    'pool': (_l('公益池'), ('pool.',)),
    'lists': (_l('名单与敏感词'), ('unit_list.', 'sensitive_word.')),
    'accounts': (_l('账号与单位'), ('user.', 'org_unit.')),
}
# where an event came from (the 来源 filter, a row's source), the "via" of its details: {"via": "web"} in the
# browser, "api" over the API, "cli" from a `flask` command (`flask create-user` and the other account commands,
# whose rows have no actor, or `flask demo-cases` acting for a person). The account writers (accounts._audit) set it
# themselves; for every other writer audit_source stamps it when the row is inserted. A row without anybody is 系统
# (e.g. an activity withdrawn) unless it came from a command; a person's row without "via" is 未记录 (written before
# sources were recorded for every writer, or by a service called outside a request and a command). A decision's
# source is its `via` column (audit_source), read as the same "via". Every row has exactly one source.
SOURCES = {'web': _l('网页'), 'api': _l('接口'), 'cli': _l('命令行'), 'system': _l('系统'),
           'unrecorded': _l('未记录')}
VIA = ('web', 'api', 'cli')  # the sources written into the details as "via"
# the page's words for the keys the writers of audit rows put into their details (the API keeps the keys)
DETAIL_LABELS = {
    # accounts and units (accounts.py, on the command line and in 用户管理)
    'username': _l('用户名'), 'display_name': _l('显示名称'), 'role': _l('角色'), 'unit': _l('单位'),
    'must_change': _l('下次登录须修改密码'), 'code': _l('单位代码'), 'name': _l('名称'), 'kind': _l('单位类型'),
    'parent': _l('上级单位'), 'is_veterans': _l('退役军人单位'), 'generated': _l('系统生成的临时密码'),
    'ended_sign_ins': _l('结束的网页登录'), 'ended_api_logins': _l('作废的接口令牌'),
    'released_tasks': _l('取消认领的任务（编号）'),
    # lists and sensitive words (unit_lists.py, sensitive_words.py)
    'list': _l('名单'), 'org_unit': _l('单位'), 'word': _l('敏感词'),
    # diagrams (process_admin.py, process_migration.py)
    'draft_id': _l('草稿编号'), 'base_version': _l('基础版本'), 'problems': _l('问题数'), 'diff': _l('改动'),
    'version': _l('版本'), 'previous_version': _l('上一版本'), 'from_version': _l('从版本'), 'to_version': _l('到版本'),
    'moved': _l('已迁移的案件'), 'blocked': _l('不能迁移的案件'),
    # a decision (a case reset or any other): the step, who decided as what, in which unit, why
    'step': _l('步骤'), 'reason': _l('原因'),
    # the 公益池 (shop.allocate)
    'volunteer': _l('志愿者'), 'amount': _l('积分'), 'entry_id': _l('分录号'),
    # redemption resources (shop.item_dict, as created and as reviewed)
    'item': _l('兑换资源'), 'id': _l('编号'), 'section': _l('栏目'), 'price': _l('所需积分'),
    'point_type': _l('积分类型'), 'stock': _l('库存'), 'available': _l('可用'), 'district': _l('所属区'),
    'provider': _l('提供单位'), 'description': _l('说明'), 'status': _l('状态'),
    'gift_allowed': _l('可赠予直系亲属'),
    # team imports (volunteers._apply)
    'team': _l('团队'), 'file': _l('文件'), 'rows': _l('行数'), 'created': _l('新建志愿者'),
    'joined': _l('已有志愿者加入'), 'already': _l('已在本队'), 'created_user_ids': _l('新建的账号'),
    'joined_user_ids': _l('加入的账号'),
    # (a case withdrawn by its submitter, submissions.withdraw: 'step' it was waiting at and 'reason', as a reset)
    # V订单 acceptances given up or dispatches declined (v_order_steps)
    'order_id': _l('V订单编号'), 'via_provider_id': _l('派单的服务商'),
    # activity sign-ups cancelled, or closed with their activity (activity_signups)
    'activity_id': _l('活动'), 'signup_id': _l('报名编号'), 'was': _l('原状态'),
    # a resource reviewed in a batch (shop.review_item)
    'batch': _l('批量审核'),
    # a hand-over marked 已安排 / 已发放 (shop.mark_fulfilment)
    'before': _l('修改前'), 'note': _l('给志愿者的说明'), 'recipient': _l('领取人'),
    # a detail that was not an object
    'detail': _l('详情'),
}
# key -> the key of its name written next to it: the code is shown by its name, the name's own key not again
COMPANIONS = {'team': 'team_name', 'district': 'district_name', 'org_unit': 'name', 'section': 'section_label',
              'point_type': 'point_type_label'}
UNIT_KEYS = ('unit', 'parent', 'org_unit', 'team', 'district')
USER_ID_KEYS = ('created_user_ids', 'joined_user_ids')
UNIT_KINDS = KIND_LABELS
# key -> the display name of a value that is a code (the app's own names, in the reader's language)
VALUE_WORDS = {'role': role_label, 'kind': lambda v: str(UNIT_KINDS.get(v, v)), 'list': lambda v: str(LIST_KINDS.get(v, v)),
               'section': shop.section_label, 'point_type': shop.point_label}
# action prefix -> the words of its statuses ('status' and, in the details before a change, the old one; 'was')
STATUS_WORDS = {'shop_item.': shop.ITEM_STATUSES, 'shop_fulfilment.': shop.FULFILMENT_STATUSES,
                'activity_signup.': SIGNUP_STATUSES}
STATUS_KEYS = ('status', 'was')
# the kind of an object ('v_order:3') -> how the 对象 column names it; the API keeps the target as written
TARGET_NUMBERS = {'instance': _l('案件 #%(id)s'), 'v_order': _l('V订单 #%(id)s'), 'shop_fulfilment': _l('兑换记录 #%(id)s'),
                  'shop_item': _l('兑换资源 #%(id)s'), 'activity_signup': _l('活动报名 #%(id)s')}
TARGET_NAMES = {'user': _l('账号 %(name)s'), 'org_unit': _l('单位 %(name)s')}
# the kinds of objects named by a title (shown after their number, and found by the 对象 filter): (id, title)
TARGET_TITLES = {'instance': (WorkflowInstance.id, WorkflowInstance.title), 'v_order': (VOrder.id, VOrder.title),
                 'shop_item': (ShopItem.id, ShopItem.name)}
_PROCESS_TARGETS = ((re.compile(r'(\S+) draft ([0-9]+)'), _l('%(process)s 草稿 #%(a)s')),
                    (re.compile(r'(\S+) v([0-9]+)->v([0-9]+)'), _l('%(process)s 版本 v%(a)s → v%(b)s')),
                    (re.compile(r'(\S+) v([0-9]+)'), _l('%(process)s 版本 v%(a)s')))
# never shown, whatever a writer of audit rows puts into its details
SECRET_KEY = re.compile(r'password|hash|token|secret', re.I)
TEXT_MAX, LIST_MAX = 80, 5


def _decision_word(kind: str) -> str:
    return kind  # until the blueprint layer gives the words of the case history (`name_decisions_with`)


def name_decisions_with(words: Callable[[str], str]) -> None:
    """How a decision is worded ('approve' → 通过): the case history's words, which the blueprint layer holds."""
    global _decision_word
    _decision_word = words


def group_options() -> dict[str, str]:
    return {key: str(label) for key, (label, _prefixes) in GROUPS.items()}


def source_options() -> dict[str, str]:
    """The 来源 filter's choices, in the reader's language."""
    return {key: str(label) for key, label in SOURCES.items()}


def _text(value: str):
    """A typed constant: PostgreSQL cannot infer the type of a bare parameter in a UNION's select list."""
    return cast(literal(value), String)


def _events() -> list:
    """A select of each table, with the same columns: what the filters and the order need, plain columns and
    constants (a decision's details and its source are read for the rows of one page, `_decided`)."""
    logs = select(_text('audit').label('src'), AuditLog.id.label('row_id'), AuditLog.actor_id.label('actor_id'),
                  AuditLog.action.label('action'), AuditLog.target.label('target'),
                  AuditLog.detail_json.label('detail_json'), cast(null(), Decision.via.type).label('via'),
                  AuditLog.at.label('at'))
    # each column of the type of audit_log's (the union is then a plain append of both, kept in the order of their
    # indexes on `at`)
    action = case((Decision.decision == 'reset', _text(RESET)), else_=_text(DECISION) + Decision.decision)
    decisions = (select(_text('decision').label('src'), Decision.id.label('row_id'), Decision.actor_id.label('actor_id'),
                        cast(action, AuditLog.action.type).label('action'),
                        cast(_text('instance:') + cast(Decision.instance_id, String), AuditLog.target.type).label('target'),
                        cast(literal('{}'), AuditLog.detail_json.type).label('detail_json'), Decision.via.label('via'),
                        Decision.at.label('at'))
                 .where(Decision.decision.not_in(RECORDED_KINDS), Decision.bpmn_id.not_in(RECORDED_STEPS)))
    return [logs.subquery('logged'), decisions.subquery('decided')]


def _action_clause(column, group: str):
    return or_(*[column == p if not p.endswith('.') else column.like(p + '%') for p in GROUPS[group][1]])


def _via_mark(via: str) -> str:
    return f'"via": "{via}"'  # as json.dumps writes it (a value with the same words inside a string is escaped)


def _source_clause(event, source: str):
    """The events of one source (SOURCES), the same rule as `_source` for one row: an audit row's "via" is in its
    details, a decision's in its `via` column."""
    detail = func.coalesce(event.c.detail_json, '')
    audit = {via: detail.contains(_via_mark(via), autoescape=True) for via in VIA}
    decided = {via: func.coalesce(event.c.via, '') == via for via in VIA}  # NULL: no source recorded
    return or_(and_(event.c.src == 'audit', _source_rule(event, source, audit)),
               and_(event.c.src == 'decision', _source_rule(event, source, decided)))


def _source_rule(event, source: str, has: dict):
    if source == 'cli':
        return has['cli']
    if source == 'system':
        return and_(event.c.actor_id.is_(None), ~has['cli'])
    if source == 'unrecorded':
        return and_(event.c.actor_id.is_not(None), *[~has[via] for via in VIA])
    return and_(event.c.actor_id.is_not(None), has[source])


def _source(actor_id, detail: dict) -> str:
    """A command's rows are 命令行 (with or without a person); without anybody otherwise 系统 (what a page or a call
    of the API set off, e.g. an activity withdrawn with its sign-ups); a person's rows 网页/接口, or 未记录."""
    via = detail.get('via')
    if via == 'cli':
        return 'cli'
    if actor_id is None:
        return 'system'
    return via if via in VIA else 'unrecorded'


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), BEIJING).astimezone(UTC)


def search(user, args: Mapping, page: int = 1, readable: bool = True) -> tuple[list[dict], int]:
    """(one page of events as rows for the page and the API, how many match) from the list's query arguments:
    group, actor (username or name), source (a key of SOURCES: 'web', 'api', 'cli', 'system', 'unrecorded'),
    from/to (Beijing days, inclusive), q (text in the target). Each row has its `source` (and `source_label`).
    `readable`: each row also has `shown`, its details as the page's labels and words (the API leaves them out and
    keeps the machine-readable `details`)."""
    require_admin(user)
    errors: dict = {}
    group = (args.get('group') or '').strip()
    if group and group not in GROUPS:
        errors['group'] = [_l('操作类别无效')]
    source = (args.get('source') or '').strip()
    if source and source not in SOURCES:
        errors['source'] = [_l('来源无效')]
    start, end = typed_day(args.get('from'), 'from', errors), typed_day(args.get('to'), 'to', errors)
    if start and end and start > end:
        errors.setdefault('from', []).append(_l('开始日期不能晚于结束日期'))
    if errors:
        raise ValidationFailed(errors)
    filters = (group, (args.get('actor') or '').strip()[:64], source, start, end, (args.get('q') or '').strip()[:100])
    tables = [select(table).where(*_conditions(table, *filters)) for table in _events()]
    total = db.session.scalar(select(func.count()).select_from(union_all(*tables).subquery()))
    first = (max(page, 1) - 1) * PER_PAGE
    # the first rows of each table in its own order (its index on `at`), then the page of both in the list's order
    tops = [select(top) for top in (t.order_by(t.selected_columns.at.desc(), t.selected_columns.row_id.desc())
                                    .limit(first + PER_PAGE).subquery() for t in tables)]
    event = union_all(*tops).subquery('event')
    rows = db.session.execute(
        select(event, User.username, User.display_name).outerjoin(User, User.id == event.c.actor_id)
        .order_by(event.c.at.desc(), event.c.src.desc(), event.c.row_id.desc()).limit(PER_PAGE).offset(first)).all()
    decided = _decided([r.row_id for r in rows if r.src == 'decision'])
    details = [_detail_of(r, decided.get(r.row_id)) for r in rows]
    items = [_row(r, detail) for r, detail in zip(rows, details, strict=True)]
    if readable:
        _add_shown(items, details, [decided.get(r.row_id) if r.src == 'decision' else None for r in rows])
    return items, total


def _conditions(event, group: str, actor: str, source: str, start, end, term: str) -> list:
    """The filters on one table's select (`_events`)."""
    cond = []
    if group:
        cond.append(_action_clause(event.c.action, group))
    if actor:
        cond.append(event.c.actor_id.in_(select(User.id).where(or_(User.username.contains(actor, autoescape=True),
                                                                    User.display_name.contains(actor, autoescape=True)))))
    if source:
        cond.append(_source_clause(event, source))
    if start and start > date.min:
        cond.append(event.c.at >= _day_start(start))
    if end and end < date.max:
        cond.append(event.c.at < _day_start(end + timedelta(days=1)))
    if term:
        # a pool allocation's target is its request token, which the list never shows: it is not searched either
        cond.append(and_(_target_clause(event, term), event.c.action != 'pool.allocate'))
    return cond


def _target_clause(event, term: str):
    """The 对象 filter: text in the target as written ('user:vol_wang', 'v_order:3', a unit's code, a word), or in
    the name the page shows for it (an account's or a unit's name, a case's or a V-order's title, a resource's
    name), or '#3' for the object numbered 3. Each name is looked up once (a set the rows' targets are matched to)."""
    target = event.c.target
    named_users = select(literal('user:') + User.username).where(User.display_name.contains(term, autoescape=True))
    named_units = OrgUnit.name.contains(term, autoescape=True)
    cond = [target.contains(term, autoescape=True), target.in_(named_users),
            target.in_(select(literal('org_unit:') + OrgUnit.code).where(named_units)),
            and_(event.c.action.like('unit_list.%'), target.in_(select(OrgUnit.code).where(named_units)))]
    cond += [target.in_(select(_text(f'{kind}:') + cast(key, String)).where(title.contains(term, autoescape=True)))
             for kind, (key, title) in TARGET_TITLES.items()]
    number = re.fullmatch(r'#\s*([0-9]{1,10})', term)
    if number:
        cond.append(target.like(f'%:{int(number.group(1))}'))
    return or_(*cond)


def _decided(ids: list[int]) -> dict:
    """The decisions of one page by id: source, step, the name of the step (of a reset: the title of that step's latest
    decided task in the case), whom the task was about, role, unit, reason."""
    if not ids:
        return {}
    done = aliased(Decision)
    reset_to = (select(done.task_title).where(done.instance_id == Decision.instance_id,
                                              done.bpmn_id == Decision.bpmn_id, done.decision != 'reset')
                .order_by(done.id.desc()).limit(1).correlate(Decision).scalar_subquery())
    rows = db.session.execute(
        select(Decision.id, Decision.via, Decision.bpmn_id, Decision.subject, Decision.role, OrgUnit.code,
               Decision.reason, case((Decision.decision == 'reset', reset_to), else_=Decision.task_title).label('step_title'))
        .outerjoin(OrgUnit, OrgUnit.id == Decision.org_unit_id)
        .where(Decision.id.in_(ids)))
    return {r.id: r for r in rows}


def _detail_of(r, decided=None) -> dict:
    """An audit row's details; a decision's: what `_decided` read (its source as "via", the step, the role, the unit
    by its code, the reason), in that order."""
    try:
        detail = json.loads(r.detail_json or '{}')
    except ValueError:
        detail = {}
    detail = detail if isinstance(detail, dict) else {'detail': detail}
    if r.src == 'decision' and decided is not None:
        detail.update(via=decided.via, step=decided.bpmn_id, role=None if decided.role == 'system' else decided.role,
                      org_unit=decided.code, reason=decided.reason)
    return detail


def _action_label(action: str) -> str:
    if action.startswith(DECISION):
        return gettext('审核决定：%(decision)s', decision=_decision_word(action[len(DECISION):]))
    return str(ACTION_LABELS.get(action, action))


def _row(r, detail: dict) -> dict:
    source = _source(r.actor_id, detail)
    if r.username:
        actor = r.display_name
    elif detail.get('via') == 'cli':
        actor = str(_l('命令行'))
    else:
        actor = str(_l('系统'))
    target = r.target or ''
    if r.action == 'pool.allocate':
        target = f"user:{detail.get('volunteer', '')}"
    instance = re.fullmatch(r'instance:([0-9]+)', target)
    # a diagram event's target starts with its process key ('v_order v3', 'v_order draft 7')
    process_key = (target.split(' ')[0] or None) if r.action.startswith('process.') else None
    at = r.at.replace(tzinfo=UTC) if r.at is not None and r.at.tzinfo is None else r.at
    return {'at': at.isoformat() if at else None, 'at_local': beijing(at), 'action': r.action,
            'action_label': _action_label(r.action), 'actor': actor, 'actor_username': r.username,
            'target': target, 'instance_id': int(instance.group(1)) if instance else None,
            'process_key': process_key, 'source': source, 'source_label': str(SOURCES[source]),
            'details': _details(detail)}


def _details(detail: dict) -> list[list[str]]:
    """[[key, short text], ...]: secrets left out, lists and long texts cut, a diagram diff as counts."""
    out = []
    for key, value in detail.items():
        if _hidden(key, value):
            continue
        if key == 'diff' and isinstance(value, dict):
            text = ' '.join(f'{sign}{len(value.get(part) or [])}' for sign, part in
                            (('+', 'added'), ('−', 'removed'), ('~', 'changed')))
        else:
            text = _short(value)
        out.append([str(key), text])
    return out


def _hidden(key, value) -> bool:
    return key == 'via' or bool(SECRET_KEY.search(str(key))) or value in (None, '', [], {})


def _add_shown(items: list[dict], details: list[dict], decided: list) -> None:
    """Each row's `shown`: its details as [label, text] in the reader's language (unknown keys as they are), and its
    `target_label`: the 对象 as the page names it (账号 王小明（vol_wang）, V订单 #3「…」 …). `decided`: each row's
    decision (`_decided`), or None."""
    names = _names(items, details)
    for item, detail, d in zip(items, details, decided, strict=True):
        named = {COMPANIONS[k] for k in detail if k in COMPANIONS}  # shown with their code, not again on their own
        step = step_with_subject(d.step_title, d.subject) if d is not None and d.step_title else None
        item['shown'] = [[str(DETAIL_LABELS.get(key, key)), _shown(key, value, detail, step, names, item['action'])]
                         for key, value in detail.items() if not _hidden(key, value) and key not in named]
        item['target_label'] = _target_label(item['action'], item['target'], detail, names)


def _ints(values) -> set[int]:
    return {v for v in values if isinstance(v, int) and not isinstance(v, bool)}


def _names(items: list[dict], details: list[dict]) -> dict:
    """The names a page of rows needs, each kind in one query: people (by id and by username: the details' and the
    targets'), activities and units by id, the titles of the targets' cases, V-orders and resources."""
    ids = _ints(i for d in details for key in USER_ID_KEYS if isinstance(d.get(key), list) for i in d[key][:LIST_MAX])
    logins = {d['volunteer'] for d in details if isinstance(d.get('volunteer'), str)}
    logins |= {i['target'][len('user:'):] for i in items if i['target'].startswith('user:')}
    activities = _ints(d.get('activity_id') for d in details)
    units = _ints(d.get('via_provider_id') for d in details)
    processes = {i['process_key'] for i in items if i['process_key']}
    return {'ids': dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
            if ids else {},
            'usernames': dict(db.session.execute(select(User.username, User.display_name)
                                                 .where(User.username.in_(logins))).all()) if logins else {},
            'activities': dict(db.session.execute(select(Activity.id, Activity.title)
                                                  .where(Activity.id.in_(activities))).all()) if activities else {},
            'units': {u.id: _named(u.name, u.code) for u in db.session.scalars(select(OrgUnit)
                                                                                .where(OrgUnit.id.in_(units)))}
            if units else {},
            'processes': {key: process_label(key) for key in processes},
            'titles': _titles(items)}


def _titles(items: list[dict]) -> dict:
    """{'instance:3': its title, …} for the targets of the kinds of TARGET_TITLES (one query per kind)."""
    wanted: dict[str, set[int]] = {}
    for item in items:
        kind, _sep, code = item['target'].partition(':')
        if kind in TARGET_TITLES and code.isdigit():
            wanted.setdefault(kind, set()).add(int(code))
    titles = {}
    for kind, ids in wanted.items():
        key, title = TARGET_TITLES[kind]
        titles.update({f'{kind}:{i}': t for i, t in db.session.execute(select(key, title).where(key.in_(ids))) if t})
    return titles


def _target_label(action: str, target: str, detail: dict, names: dict) -> str:
    """The 对象 in words: an account or a unit by its name (and code), a case, a V订单, a hand-over … by its kind and
    number, a diagram event by the process's name, a sensitive word in quotes; anything else as written."""
    kind, sep, code = target.partition(':')
    if sep and kind in TARGET_NUMBERS and code.isdigit():
        numbered = str(TARGET_NUMBERS[kind] % {'id': code})
        title = names['titles'].get(target)
        return gettext('%(object)s「%(title)s」', object=numbered, title=_short(title)) if title else numbered
    if sep and kind == 'user' and code:
        return str(TARGET_NAMES['user'] % {'name': _named(names['usernames'].get(code), code)})
    if sep and kind == 'org_unit' and code:
        unit = org_cache.unit(code)
        return str(TARGET_NAMES['org_unit'] % {'name': _named(unit.name if unit else None, code)})
    if action.startswith('unit_list.') and target:
        unit = org_cache.unit(target)
        return str(TARGET_NAMES['org_unit'] % {'name': _named(detail.get('name') or (unit.name if unit else None),
                                                              target)})
    if action.startswith('sensitive_word.') and target:
        return gettext('敏感词「%(word)s」', word=target)
    if action.startswith('process.'):
        for pattern, text in _PROCESS_TARGETS:
            found = pattern.fullmatch(target)
            if found:
                parts = found.groups()
                return str(text % {'process': names['processes'].get(parts[0], parts[0]), 'a': parts[1],
                                   'b': parts[2] if len(parts) > 2 else ''})
    return target


def _status_words(action: str) -> dict:
    return next((words for prefix, words in STATUS_WORDS.items() if action.startswith(prefix)), {})


def _shown(key: str, value, detail: dict, step, names: dict, action: str = '') -> str:
    """One detail's value in words: names for codes (roles, unit kinds, lists, units, sections, point types,
    statuses), 是/否, a diagram diff as counts, a decision's step by its name (`step`, a reset's: the step the case
    went back to), people, activities and providers by their names, what was there before a change as labelled
    words."""
    if isinstance(value, bool):
        return gettext('是') if value else gettext('否')
    if key == 'diff' and isinstance(value, dict):
        return gettext('新增 %(added)s 项，删除 %(removed)s 项，修改 %(changed)s 项',
                       **{part: len(value.get(part) or []) for part in ('added', 'removed', 'changed')})
    if key == 'step':
        return _short(step) if step else _short(step_name(value) if isinstance(value, str) else value)
    if key in STATUS_KEYS and isinstance(value, str) and value in _status_words(action):
        return _short(str(_status_words(action)[value]))
    if key in VALUE_WORDS and isinstance(value, str):
        return _short(VALUE_WORDS[key](value))
    if key in UNIT_KEYS and isinstance(value, str):
        unit = None if detail.get(COMPANIONS.get(key)) else org_cache.unit(value)
        return _named(detail.get(COMPANIONS.get(key)) or (unit.name if unit else None), value)
    if key == 'volunteer' and isinstance(value, str):
        return _named(names['usernames'].get(value), value)
    if key == 'activity_id' and _ints([value]):
        return _named(names['activities'].get(value), f'#{value}')
    if key == 'via_provider_id' and _ints([value]):
        return names['units'].get(value) or f'#{value}'
    if isinstance(value, dict) and 'name' not in value:  # e.g. the status and note before a change
        parts = [gettext('%(label)s：', label=DETAIL_LABELS.get(k, k)) + _shown(k, v, value, None, names, action)
                 for k, v in value.items() if not _hidden(k, v)]
        return _short(gettext('；').join(parts)) if parts else gettext('无')
    if isinstance(value, list):
        if key in USER_ID_KEYS:  # the accounts a team import made or added: by name (their usernames are phones)
            return _short([names['ids'].get(i, i) for i in value])
        if key == 'moved':
            return _short([f'#{i}' for i in value])
        if key == 'blocked':
            return _short([(v.get('title') or f"#{v.get('instance_id')}") if isinstance(v, dict) else v for v in value])
    return _short(value)


def _named(name, code: str) -> str:
    """'西村街社工站（xicun_station）': a name with its code, or the code alone when there is no name."""
    return _short(gettext('%(text)s（%(note)s）', text=name, note=code) if name and name != code else code)


def _short(value) -> str:
    if isinstance(value, dict):
        if 'name' in value:
            return _short(value['name'])
        value = {k: v for k, v in value.items() if not SECRET_KEY.search(str(k))}
        text = ', '.join(f'{k}={_short(v)}' for k, v in value.items() if not isinstance(v, (dict, list)))
    elif isinstance(value, list):
        parts = [_short(v) for v in value[:LIST_MAX]]
        text = ', '.join(parts) + (f' … ({len(value)})' if len(value) > LIST_MAX else '')
    elif isinstance(value, bool):
        text = 'true' if value else 'false'
    else:
        text = str(value)
    return text if len(text) <= TEXT_MAX else text[:TEXT_MAX - 1] + '…'
