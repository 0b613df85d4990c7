"""案件列表: every case (workflow instance) of one process or of all, for process administrators, with filters by
process, version, status, current step, a search box and a creation-date range, newest first.

Fast on 100,000 cases: newest first is the primary key read backwards (ids grow with creation time), the step
filter probes `human_task` through its instance index, an ID-number search goes through `ix_human_task_id_key`, and
the rows of one page get their open steps in one query."""
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import HumanTask, User, WorkflowInstance, WorkflowVersion
from app.services import paged, row_id
from app.services.errors import ValidationFailed
from app.services.instances import id_search_key
from app.services.process_admin import file_process_name, process_keys, require_admin
from app.services.status import status_label
from app.services.v_orders import BEIJING, beijing
from app.services.validators import half_width, typed_day
from workflows import parse_xml

PER_PAGE = 20
# WorkflowInstance.status: what a case can be in
STATUSES = {'running': _l('进行中'), 'completed': _l('已结束'), 'cancelled': _l('已取消'), 'error': _l('流程异常')}
SEARCH_MAX = 100
_BPMN = '{http://www.omg.org/spec/BPMN/20100524/MODEL}'
_ID_NUMBER = re.compile(r'[0-9]{17}[0-9X]', re.IGNORECASE)
_CASE_NUMBER = re.compile(r'[#＃]?\s*([0-9]{1,9})')
# a published diagram never changes: the step names of its XML, by its hash
_steps_by_sha: dict[str, list[str]] = {}


def _require(user) -> None:
    """Only process administrators have the list: 403 for anyone else, as on the other 流程管理 pages."""
    require_admin(user)


def _diagram_steps(xml: bytes) -> list[str]:
    """The names of a diagram's user and manual tasks (the titles their open tasks carry), in diagram order."""
    root = parse_xml(xml)
    names = []
    for el in root.iter(f'{_BPMN}userTask', f'{_BPMN}manualTask'):
        name = (el.get('name') or el.get('id') or '').strip()
        if name and name not in names:
            names.append(name)
    return names


def _versions() -> list:
    return db.session.execute(select(WorkflowVersion.id, WorkflowVersion.process_key, WorkflowVersion.version,
                                     WorkflowVersion.name, WorkflowVersion.sha256)
                              .order_by(WorkflowVersion.process_key, WorkflowVersion.version)).all()


def options(user, process: str | None = None) -> dict:
    """What the filters offer: processes (key -> name), the chosen process's versions, statuses and the steps of
    the chosen process (of every process when none is chosen), each step name once."""
    _require(user)
    rows = _versions()
    missing = [r.id for r in rows if r.sha256 not in _steps_by_sha]
    if missing:
        for sha, xml in db.session.execute(select(WorkflowVersion.sha256, WorkflowVersion.bpmn_xml)
                                           .where(WorkflowVersion.id.in_(missing))).all():
            _steps_by_sha[sha] = _diagram_steps(xml)
    names = {r.process_key: r.name for r in rows}  # the latest version's name
    processes = {key: names.get(key) or file_process_name(key) for key in process_keys()}
    steps: list[str] = []
    for r in sorted(rows, key=lambda r: (r.process_key, -r.version)):
        if not process or r.process_key == process:
            steps.extend(s for s in _steps_by_sha.get(r.sha256, []) if s not in steps)
    versions = [r.version for r in reversed(rows) if r.process_key == process] if process else []
    return {'processes': processes, 'versions': versions, 'statuses': {k: str(v) for k, v in STATUSES.items()},
            'steps': steps}


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), BEIJING).astimezone(UTC)


def _filters(args: Mapping, opts: dict) -> dict:
    """The typed filters, checked; every problem at once (ValidationFailed), keyed by the filter's box."""
    errors: dict = {}
    process = (args.get('process') or '').strip()
    if process and process not in opts['processes']:
        errors['process'] = [_l('没有这个流程，请从列表中选择')]
    version = (args.get('version') or '').strip()
    number = None
    if version:
        number = row_id(half_width(version).lstrip('vV'))
        if not process:
            errors['version'] = [_l('请先选择流程，再选择版本')]
        elif 'process' not in errors and number not in opts['versions']:
            errors['version'] = [_l('该流程没有这个版本，请从列表中选择')]
    status = (args.get('status') or '').strip()
    if status and status not in STATUSES:
        errors['status'] = [_l('状态无效，请从列表中选择')]
    step = (args.get('step') or '').strip()
    if step and step not in opts['steps']:
        errors['step'] = [_l('没有这个步骤，请从列表中选择')]
    start, end = typed_day(args.get('from'), 'from', errors), typed_day(args.get('to'), 'to', errors)
    if start and end and start > end:
        errors.setdefault('from', []).append(_l('开始日期不能晚于结束日期'))
    if errors:
        raise ValidationFailed(errors)
    return {'process': process, 'version': number, 'status': status, 'step': step, 'from': start, 'to': end,
            'q': half_width(str(args.get('q') or '')).strip()[:SEARCH_MAX]}


def _search_clause(term: str):
    """Case title, case number (123, or #123 for that case alone: a plain number also finds the titles that
    contain it, such as the last 4 characters of an ID number), submitter's name or username, or the full ID
    number of the person the case is about (matched through its hash, as the inbox does)."""
    number = _CASE_NUMBER.fullmatch(term)
    if number and term[0] in '#＃':
        return WorkflowInstance.id == (row_id(number.group(1)) or 0)
    clauses = [WorkflowInstance.title.contains(term, autoescape=True),
               WorkflowInstance.submitter_id.in_(select(User.id).where(or_(
                   User.display_name.contains(term, autoescape=True), User.username.contains(term, autoescape=True))))]
    if number and row_id(number.group(1)):
        clauses.append(WorkflowInstance.id == int(number.group(1)))
    if _ID_NUMBER.fullmatch(term):
        clauses.append(WorkflowInstance.id.in_(select(HumanTask.instance_id).where(
            HumanTask.id_key == id_search_key(term))))
    return or_(*clauses)


def cases_query(f: dict):
    """Select of the ids of the cases the checked filters `f` keep, newest first."""
    cond = []
    if f['process']:
        cond.append(WorkflowInstance.process_key == f['process'])
    if f['version']:
        cond.append(WorkflowInstance.version_id == select(WorkflowVersion.id).where(
            WorkflowVersion.process_key == f['process'], WorkflowVersion.version == f['version']).scalar_subquery())
    if f['status']:
        cond.append(WorkflowInstance.status == f['status'])
    if f['step']:
        cond.append(exists(select(HumanTask.id).where(HumanTask.instance_id == WorkflowInstance.id,
                                                      HumanTask.status == 'open', HumanTask.title == f['step'])))
    if f['from'] and f['from'] > date.min:
        cond.append(WorkflowInstance.created_at >= _day_start(f['from']))
    if f['to'] and f['to'] < date.max:
        cond.append(WorkflowInstance.created_at < _day_start(f['to'] + timedelta(days=1)))
    if f['q']:
        cond.append(_search_clause(f['q']))
    return select(WorkflowInstance.id).where(*cond).order_by(WorkflowInstance.id.desc())


def search(user, args: Mapping, page: int = 1) -> tuple[list[dict], int, dict]:
    """(one page of cases as rows for the page, how many match, the filters' options) from the list's query
    arguments: process, version, status, step (an open task's title), q, from/to (Beijing days of creation,
    inclusive). A bad filter raises ValidationFailed with every problem; `options(user, process)` still fills the
    boxes then."""
    _require(user)
    opts = options(user, (args.get('process') or '').strip() or None)
    f = _filters(args, opts)
    # the page's ids first (one index walk, no joins however deep the page), then those cases with what a row shows
    ids, total = paged(cases_query(f), page, PER_PAGE)
    instances = db.session.scalars(select(WorkflowInstance).where(WorkflowInstance.id.in_(ids))
                                   .options(joinedload(WorkflowInstance.submitter))
                                   .order_by(WorkflowInstance.id.desc())).all() if ids else []
    open_rows: dict[int, list[HumanTask]] = {}
    if instances:
        for t in db.session.scalars(select(HumanTask).where(
                HumanTask.instance_id.in_([i.id for i in instances]), HumanTask.status == 'open')
                .order_by(HumanTask.id)):
            open_rows.setdefault(t.instance_id, []).append(t)
    rows = [_row(i, open_rows.get(i.id, []), opts['processes']) for i in instances]
    return rows, total, opts


def _row(instance: WorkflowInstance, open_tasks: list[HumanTask], processes: dict) -> dict:
    return {'id': instance.id, 'title': instance.title, 'process_key': instance.process_key,
            'process': processes.get(instance.process_key, instance.process_key),
            'version': instance.version.version if instance.version else None, 'status': instance.status,
            'outcome': instance.outcome, 'status_label': status_label(instance, open_tasks),
            'steps': [{'title': t.title, 'subject': t.subject} for t in open_tasks],
            'submitter': instance.submitter.display_name if instance.submitter else '',
            'created': beijing(instance.created_at), 'updated': beijing(instance.updated_at)}

