"""Excel exports (SPEC §3): a user asks for a list as .xlsx with a date range; the file is written by a
background job (inline without Redis) that reports its progress, and only its requester may download it.

Each kind of export (app/services/export_kinds.py) says who may ask for it, which rows the user may see (the
same scoping as the list it comes from), and how one row becomes cells. The job reads the row ids once, then
the rows in chunks, committing its progress after each chunk, so the page can show how far it got. A kind of
figures (统计) computes its few rows from the filters at once instead.

A finished file is personal data: it is kept EXPORT_KEEP_DAYS days (PIPL: no longer than needed), then the timer
sweep deletes its content; the row stays, reads 已过期 and offers the same export again."""
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import select, update

from app.extensions import db
from app.models import ExportJob, OrgUnit, User, WorkflowVersion
from app.models.base import utcnow
from app.services import forms, messages, paged, row_id, transaction
from app.services.errors import NotFound, ServiceError, ValidationFailed
from app.services.step_names import step_name
from app.services.validators import typed_day

BEIJING = ZoneInfo('Asia/Shanghai')
CHUNK = 500
XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
MAX_ROWS = 200_000  # one sheet of an .xlsx holds 1,048,576 rows; beyond this a narrower date range is asked for
MAX_DAYS = 3 * 366
STALE_AFTER = timedelta(minutes=15)  # well past the rq job timeout (app.jobs.JOB_TIMEOUT, 5 minutes)
STATUS_LABELS = {'queued': _l('排队中'), 'running': _l('生成中'), 'done': _l('已完成'), 'failed': _l('失败'),
                 'expired': _l('已过期')}


@dataclass(frozen=True)
class ExportKind:
    key: str
    title: object  # a lazy string: the file and sheet name
    allowed: Callable[[User], bool]
    columns: list  # lazy header strings
    ids: Callable[[User, dict], list[int]] | None = None  # the ids of the rows the user may see, in output order
    rows: Callable[[list[int]], list[list]] | None = None  # cells of those ids, same order
    # instead of ids + rows: all the cells, computed from the user and the filters (figures, not records)
    table: Callable[[User, dict], list[list]] | None = None
    filters: tuple[str, ...] = ()  # query parameters the kind accepts besides the date range
    max_days: int | None = MAX_DAYS  # the longest date range (None: any, for figures that are cheap at any range)
    date_label: object = field(default=_l('日期'))  # what the date range filters on, for the page
    defaults: dict = field(default_factory=dict)  # a filter's value when the request leaves it out (stored, shown)
    # a title line above the header row (figures: which report, for where and which period), from the filters
    heading: Callable[[User, dict], str] | None = None
    choices: dict = field(default_factory=dict)  # a filter's allowed values: others are refused, not silently ignored
    # the filters as the file applies them, written out when a request leaves one to the kind (统计's default
    # period): they are stored, shown in 我的导出 and used by the job, so the label says what the file holds
    resolve: Callable[[User, dict], dict] | None = None


KINDS: dict[str, ExportKind] = {}


def register(kind: ExportKind) -> ExportKind:
    KINDS[kind.key] = kind
    return kind


def kinds_for(user) -> list[ExportKind]:
    return [k for k in KINDS.values() if k.allowed(user)]


def _kind(user, key) -> ExportKind:
    kind = KINDS.get(key)
    if kind is None:
        raise ValidationFailed({'kind': [_l('没有这种导出')]})
    if not kind.allowed(user):  # the page never offers it: a forged request, told so on the field
        raise ValidationFailed({'kind': [_l('您的账号不能导出该列表')]})
    return kind


def clean_params(kind: ExportKind, raw: dict) -> dict:
    """The filters of one request: the kind's own (text, trimmed) and the date range (`from`, `to`: Beijing
    calendar days, inclusive). Bad dates and a value outside a filter's choices are refused with field messages."""
    errors: dict = {}
    start, end = typed_day(raw.get('from'), 'from', errors), typed_day(raw.get('to'), 'to', errors)
    if start and end and start > end:
        errors['from'] = [_l('开始日期不能晚于结束日期')]  # the words and field of the order list's filter
    elif start and end and kind.max_days is not None and (end - start).days > kind.max_days:
        errors['to'] = [_l('日期范围不能超过 3 年，请分段导出')]
    params = {name: str(raw.get(name) or '').strip()[:50] for name in kind.filters if raw.get(name)}
    for name, allowed in kind.choices.items():
        if params.get(name) and params[name] not in allowed:
            errors[name] = [_l('%(name)s无效', name=FILTER_NAMES.get(name, name))]
    if errors:
        raise ValidationFailed(errors)
    params = {**{k: v for k, v in kind.defaults.items() if not params.get(k)}, **params}
    if start:
        params['from'] = start.isoformat()
    if end:
        params['to'] = end.isoformat()
    return params


def utc_bounds(params: dict) -> tuple[datetime | None, datetime | None]:
    """[lo, hi) in UTC for the Beijing calendar days `from`..`to` (inclusive)."""
    lo = hi = None
    if params.get('from'):
        lo = datetime.combine(date.fromisoformat(params['from']), time(), BEIJING).astimezone(UTC)
    if params.get('to'):
        hi = datetime.combine(date.fromisoformat(params['to']) + timedelta(days=1), time(), BEIJING).astimezone(UTC)
    return lo, hi


def in_range(column, params: dict):
    """SQL conditions keeping `column` inside the request's date range (none when it has no range)."""
    lo, hi = utc_bounds(params)
    return [c for c in ((column >= lo) if lo else None, (column < hi) if hi else None) if c is not None]


def beijing(value) -> str:
    return value.astimezone(BEIJING).strftime('%Y-%m-%d %H:%M') if value else ''


def request_export(user, kind_key: str, raw_params: dict, schedule: Callable[[int], None]) -> ExportJob:
    """Queue an export of a list the user may see; the file is written after the commit (inline or by the
    worker) in the language the user reads now. Refuses a range with more rows than one file should hold,
    before anything is written. `schedule(job_id)` queues the job (app.jobs.exports.schedule_export: services do
    not import jobs); it runs once this transaction has committed."""
    kind = _kind(user, kind_key)
    params = clean_params(kind, raw_params)
    if kind.resolve is not None:
        params = kind.resolve(user, params)
    total = len(kind.table(user, params) if kind.table else kind.ids(user, params))
    if total > MAX_ROWS:
        raise ValidationFailed({'to': [_l('该范围共 %(n)s 行，超过单个文件上限 %(max)s 行，请缩小日期范围',
                                          n=total, max=MAX_ROWS)]})
    lang = 'en' if forms.is_english() else 'zh'
    with transaction():
        job = ExportJob(user_id=user.id, kind=kind.key, params_json=json.dumps({**params, 'lang': lang}),
                        status='queued', total_rows=total, created_at=utcnow())
        db.session.add(job)
        db.session.flush()
        schedule(job.id)
    return job


def _progress(job_id: int, **values) -> None:
    """Progress is committed at once (its own short transaction), so the export page sees it move."""
    with transaction():
        db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values)
                           .execution_options(synchronize_session=False))


def run(job_id: int) -> bool:
    """Write the file of one queued export; False when there is nothing to do (unknown, or already taken)."""
    with transaction():
        job = db.session.get(ExportJob, job_id, with_for_update=True)
        if job is None or job.status != 'queued':
            return False
        job.status, job.started_at = 'running', utcnow()
        user_id, kind_key, params = job.user_id, job.kind, json.loads(job.params_json)
    try:
        user = db.session.get(User, user_id)
        kind = KINDS[kind_key]
        with force_locale('en' if params.get('lang') == 'en' else 'zh_Hans_CN'):
            title = str(kind.title)
            content, count = _write(kind, user, params, job_id)
            name = f'{title}_{datetime.now(BEIJING):%Y%m%d-%H%M}.xlsx'
            with transaction():
                job = db.session.get(ExportJob, job_id)
                job.content, job.size, job.file_name = content, len(content), name
                job.status, job.done_rows, job.total_rows, job.finished_at = 'done', count, count, utcnow()
                messages.send([user_id], kind='info', title=lambda: _l('导出完成：%(title)s', title=str(kind.title)),
                              body=_l('共 %(n)s 行，点击下载', n=count), link=f'/exports/{job_id}/download')
    except Exception as exc:
        db.session.rollback()
        with transaction():
            job = db.session.get(ExportJob, job_id)
            job.status, job.error, job.finished_at = 'failed', str(exc)[:500] or exc.__class__.__name__, utcnow()
            messages.send([user_id], kind='info', title=lambda: _l('导出失败：%(title)s', title=kind_title(job)),
                          body=_l('请稍后重试，或缩小日期范围'), link=f'/exports#export-{job_id}')
        raise
    return True


def _chunks(kind: ExportKind, user, params: dict, job_id: int):
    """(rows done, their cells) chunk by chunk: ids are read once and their rows in chunks; a `table` kind's
    handful of rows comes in one."""
    if kind.table is not None:
        cells = kind.table(user, params)
        _progress(job_id, total_rows=len(cells))
        yield len(cells), cells
        return
    ids = kind.ids(user, params)
    _progress(job_id, total_rows=len(ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        yield len(chunk), kind.rows(chunk)  # the chunk's rows are not kept: the session holds unchanged rows weakly


def _write(kind: ExportKind, user, params: dict, job_id: int) -> tuple[bytes, int]:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(kind.title)[:31])
    bold = Font(bold=True)
    if kind.heading is not None:
        sheet.append([_header_cell(sheet, str(kind.heading(user, params)), bold)])
    sheet.append([_header_cell(sheet, str(text), bold) for text in kind.columns])
    done = 0
    for count, cells in _chunks(kind, user, params, job_id):
        for row in cells:
            sheet.append([_text_cell(sheet, v) if isinstance(v, str) and v.startswith('=') else v for v in row])
        done += count
        _progress(job_id, done_rows=done)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), done


def _text_cell(sheet, text: str):
    """Typed text stays text: a reason or name starting with '=' would otherwise be written as a formula that
    Excel runs when the reviewer opens the file (formula injection)."""
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = 's'
    return cell


def _header_cell(sheet, text, font):
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = font
    return cell


# ---------------------------------------------------------------- readers

def my_exports(user, page: int = 1, per_page: int = 20) -> tuple[list[ExportJob], int]:
    return paged(select(ExportJob).where(ExportJob.user_id == user.id).order_by(ExportJob.id.desc()), page, per_page)


def get_export(user, job_id) -> ExportJob:
    """One export of the user's own; NotFound for anybody else's (an export shows what its requester may see)."""
    job = db.session.get(ExportJob, row_id(job_id)) if row_id(job_id) else None
    if job is None or job.user_id != user.id:
        raise NotFound()
    return job


class ExportExpired(ServiceError):
    """410 Gone: the file was deleted at the end of its keeping period; the export can be asked for again."""
    status = 410
    code = 'expired'

    def default_message(self):
        return _l('该导出文件已超过保留期限并已删除，请重新导出')


def export_file(user, job_id) -> tuple[bytes, str]:
    job = get_export(user, job_id)
    if shown_status(job) == 'expired':
        raise ExportExpired()
    if job.status != 'done':
        raise NotFound(_l('文件还没有生成好'))
    return job.content, job.file_name


# ---------------------------------------------------------------- retention

def keep_days() -> int:
    """How many days a finished file is kept (EXPORT_KEEP_DAYS; 0 keeps files for good)."""
    return max(int(current_app.config.get('EXPORT_KEEP_DAYS') or 0), 0)


def _expiry_cutoff() -> datetime | None:
    days = keep_days()
    return utcnow() - timedelta(days=days) if days else None


def expires_at(job: ExportJob) -> datetime | None:
    days = keep_days()
    return job.finished_at + timedelta(days=days) if days and job.status == 'done' and job.finished_at else None


def purge_expired() -> int:
    """Delete the content of the files finished more than EXPORT_KEEP_DAYS days ago (the rows stay, 已过期); how many."""
    cutoff = _expiry_cutoff()
    if cutoff is None:
        return 0
    with transaction():
        result = db.session.execute(
            update(ExportJob).where(ExportJob.status == 'done', ExportJob.finished_at < cutoff)
            .values(status='expired', content=None, size=None).execution_options(synchronize_session=False))
    return result.rowcount or 0


def params_of(job: ExportJob) -> dict:
    return {k: v for k, v in json.loads(job.params_json or '{}').items() if k != 'lang'}


def kind_title(job: ExportJob) -> str:
    kind = KINDS.get(job.kind)
    return str(kind.title) if kind else job.kind


FILTER_NAMES = {'from': _l('开始日期'), 'to': _l('结束日期'), 'state': _l('审核状态'), 'view': _l('范围'),
                'status': _l('订单状态'), 'process': _l('类型'), 'point_type': _l('积分类型'), 'q': _l('关键字'),
                'district': _l('区域')}
STATE_NAMES = {'open': _l('未审核'), 'approve': _l('已通过'), 'reject': _l('未通过'), 'done': _l('已处理'),
               'all': _l('全部')}
TASK_STATE_CHOICES = ('open', 'approve', 'reject', 'all')  # the 审核列表's states the export page offers
VIEW_NAMES = {'approved': _l('已通过（最新版本）'), 'all': _l('全部版本')}


def process_label(key: str) -> str:
    """The name of a process (the 审核列表's 类型 filter) as the inbox shows it: its latest version's name in the
    reader's language; the key itself when no version of it is published."""
    name = db.session.scalar(select(WorkflowVersion.name).where(WorkflowVersion.process_key == key)
                             .order_by(WorkflowVersion.version.desc()).limit(1))
    return step_name(name) if name else key


def filter_label(name: str, value: str) -> str:
    """'审核状态：已通过' — one filter of an export as its requester chose it."""
    from app.services import shop, v_orders
    statuses = {**v_orders.STATUS_LABELS, 'overdue': _l('已逾期未认证')}
    words = {'state': STATE_NAMES, 'view': VIEW_NAMES, 'status': statuses}.get(name, {})
    if name == 'point_type':
        shown = shop.point_label(value)
    elif name == 'district':
        shown = db.session.scalar(select(OrgUnit.name).where(OrgUnit.code == value, OrgUnit.kind == 'district')) or value
    elif name == 'process':
        shown = process_label(value)
    else:
        shown = words.get(value, value)
    return str(_l('%(name)s：%(value)s', name=FILTER_NAMES.get(name, name), value=shown))


def shown_status(job: ExportJob) -> str:
    """The job's status, where a job still 'running' long after the worker's time limit counts as failed (its
    worker was killed): the page stops waiting for it and the user asks again."""
    if job.status == 'running' and job.started_at and utcnow() - job.started_at > STALE_AFTER:
        return 'failed'
    if job.status == 'done' and job.finished_at and (cutoff := _expiry_cutoff()) and job.finished_at < cutoff:
        return 'expired'  # past its keeping period, before the sweep got to it: it is not handed out any more
    return job.status


def job_view(job: ExportJob) -> dict:
    total, status = job.total_rows or 0, shown_status(job)
    return {'id': job.id, 'kind': job.kind, 'title': kind_title(job), 'params': params_of(job),
            'status': status, 'status_label': str(STATUS_LABELS.get(status, status)),
            'total_rows': job.total_rows, 'done_rows': job.done_rows,
            'progress': 100 if job.status in ('done', 'expired') else (int(job.done_rows * 100 / total) if total else 0),
            'file_name': job.file_name or None, 'size': job.size,
            'error': str(_l('导出失败，请稍后重试，或缩小日期范围')) if status == 'failed' else None,
            'created_at': job.created_at.isoformat() if job.created_at else None,
            'finished_at': job.finished_at.isoformat() if job.finished_at else None,
            'expires_at': expires_at(job).isoformat() if expires_at(job) else None}


from app.services import export_kinds  # noqa: E402,F401  (registers the kinds; it imports this module)
