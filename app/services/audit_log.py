"""审计日志: the administrative and security events of `audit_log`, plus case resets (which the engine records as
`decision` rows of kind 'reset', the case's own history), newest first, for process administrators."""
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, func, literal, null, or_, select, union_all

from app.extensions import db
from app.models import AuditLog, Decision, User
from app.services.errors import ValidationFailed
from app.services.process_admin import require_admin
from app.services.unit_lists import CHANGE_LABELS
from app.services.v_orders import BEIJING, beijing
from app.services.validators import typed_day

PER_PAGE = 20
RESET = 'instance.reset'
ACTION_LABELS = {
    'process.draft': _l('保存流程图草稿'), 'process.publish': _l('发布流程图'), 'process.migrate': _l('迁移案件到新版本'),
    RESET: _l('回退案件'), 'team.volunteer_import': _l('导入团队志愿者'),
    'shop_item.create': _l('登记兑换资源'), 'shop_item.approve': _l('兑换资源审核通过'),
    'shop_item.reject': _l('兑换资源审核不通过'), 'pool.allocate': _l('公益池分配'),
    **CHANGE_LABELS,
    'user.create': _l('新建账号'), 'user.membership_add': _l('为账号增加角色'), 'user.set_password': _l('重置账号密码'),
    'org_unit.create': _l('新建单位'),
}
# group key -> (label, action prefixes)
GROUPS = {
    'process': (_l('流程图'), ('process.',)),
    'reset': (_l('案件回退'), (RESET,)),
    'team': (_l('团队导入'), ('team.',)),
    'shop_item': (_l('兑换资源'), ('shop_item.',)),
    'pool': (_l('公益池'), ('pool.',)),
    'lists': (_l('名单与敏感词'), ('unit_list.', 'sensitive_word.')),
    'accounts': (_l('账号与单位'), ('user.', 'org_unit.')),
}
# never shown, whatever a writer of audit rows puts into its details
SECRET_KEY = re.compile(r'password|hash|token|secret', re.I)
TEXT_MAX, LIST_MAX = 80, 5


def group_options() -> dict[str, str]:
    return {key: str(label) for key, (label, _prefixes) in GROUPS.items()}


def _text(value: str):
    """A typed constant: PostgreSQL cannot infer the type of a bare parameter in a UNION's select list."""
    return cast(literal(value), String)


def _events():
    """One select over both sources, with the same columns."""
    logs = select(_text('audit').label('src'), AuditLog.id.label('row_id'), AuditLog.actor_id.label('actor_id'),
                  AuditLog.action.label('action'), AuditLog.target.label('target'),
                  AuditLog.detail_json.label('detail_json'), cast(null(), String).label('reason'),
                  cast(null(), String).label('step'), AuditLog.at.label('at'))
    resets = select(_text('decision'), Decision.id, Decision.actor_id, _text(RESET),
                    _text('instance:') + cast(Decision.instance_id, String), _text('{}'), Decision.reason,
                    Decision.bpmn_id, Decision.at).where(Decision.decision == 'reset')
    return union_all(logs, resets).subquery('event')


def _action_clause(column, group: str):
    return or_(*[column == p if not p.endswith('.') else column.like(p + '%') for p in GROUPS[group][1]])


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), BEIJING).astimezone(UTC)


def search(user, args: Mapping, page: int = 1) -> tuple[list[dict], int]:
    """(one page of events as rows for the page and the API, how many match) from the list's query arguments:
    group, actor (username or name), from/to (Beijing days, inclusive), q (text in the target)."""
    require_admin(user)
    errors: dict = {}
    group = (args.get('group') or '').strip()
    if group and group not in GROUPS:
        errors['group'] = [_l('操作类别无效')]
    start, end = typed_day(args.get('from'), 'from', errors), typed_day(args.get('to'), 'to', errors)
    if start and end and start > end:
        errors.setdefault('from', []).append(_l('开始日期不能晚于结束日期'))
    if errors:
        raise ValidationFailed(errors)
    event = _events()
    cond = []
    if group:
        cond.append(_action_clause(event.c.action, group))
    actor = (args.get('actor') or '').strip()[:64]
    if actor:
        cond.append(event.c.actor_id.in_(select(User.id).where(or_(User.username.contains(actor, autoescape=True),
                                                                    User.display_name.contains(actor, autoescape=True)))))
    if start and start > date.min:
        cond.append(event.c.at >= _day_start(start))
    if end and end < date.max:
        cond.append(event.c.at < _day_start(end + timedelta(days=1)))
    term = (args.get('q') or '').strip()[:100]
    if term:
        # a pool allocation's target is its request token, which the list never shows: it is not searched either
        cond.append(and_(event.c.target.contains(term, autoescape=True), event.c.action != 'pool.allocate'))
    total = db.session.scalar(select(func.count()).select_from(event).where(*cond))
    rows = db.session.execute(
        select(event, User.username, User.display_name).outerjoin(User, User.id == event.c.actor_id).where(*cond)
        .order_by(event.c.at.desc(), event.c.src.desc(), event.c.row_id.desc())
        .limit(PER_PAGE).offset((max(page, 1) - 1) * PER_PAGE)).all()
    return [_row(r) for r in rows], total


def _row(r) -> dict:
    try:
        detail = json.loads(r.detail_json or '{}')
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {'detail': detail}
    if r.src == 'decision':
        detail = {'step': r.step, 'reason': r.reason}
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
            'action_label': str(ACTION_LABELS.get(r.action, r.action)), 'actor': actor, 'actor_username': r.username,
            'target': target, 'instance_id': int(instance.group(1)) if instance else None,
            'process_key': process_key, 'details': _details(detail)}


def _details(detail: dict) -> list[list[str]]:
    """[[key, short text], ...]: secrets left out, lists and long texts cut, a diagram diff as counts."""
    out = []
    for key, value in detail.items():
        if key == 'via' or SECRET_KEY.search(str(key)) or value in (None, '', [], {}):
            continue
        if key == 'diff' and isinstance(value, dict):
            text = ' '.join(f'{sign}{len(value.get(part) or [])}' for sign, part in
                            (('+', 'added'), ('−', 'removed'), ('~', 'changed')))
        else:
            text = _short(value)
        out.append([str(key), text])
    return out


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
