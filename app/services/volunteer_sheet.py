"""The .xlsx file of a team's volunteer import: its columns, the template, reading it and checking each row on its
own and against the other rows of the file (matching to existing accounts is `volunteers.import_volunteers`)."""
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from app.services.errors import ServiceError
from app.services.forms import is_english
from app.services.validators import (
    age_on,
    clean_text,
    id_check_digit,
    is_valid_id,
    is_valid_mobile,
    normalize_id,
    normalize_mobile,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
MAX_UNPACKED = 200 * 1024 * 1024  # what a 5 MB file may unpack to: a zip bomb is refused before it is parsed
ADULT_AGE = 18
NAME_MAX, RELATION_MAX = 64, 20

# (key, the Chinese header: the template's in Chinese, and a column's name in messages read in Chinese)
COLUMNS = (('name', '姓名'), ('id_number', '身份证号码'), ('phone', '手机号码'), ('guardian_name', '监护人姓名'),
           ('guardian_relation', '监护人关系'), ('guardian_id_number', '监护人身份证号码'),
           ('guardian_phone', '监护人手机号码'))
HEADER = dict(COLUMNS)
# the same columns as the English template heads them: a file may use either language (messages name a column in
# the reader's language)
ENGLISH = {'name': 'Name', 'id_number': 'ID number', 'phone': 'Mobile number', 'guardian_name': 'Guardian name',
           'guardian_relation': 'Guardian relation', 'guardian_id_number': 'Guardian ID number',
           'guardian_phone': 'Guardian mobile number'}
SHEETS = {False: ('志愿者', '填写说明'), True: ('Volunteers', 'Instructions')}  # the template's sheets, by is_english
REQUIRED_COLUMNS = ('name', 'id_number', 'phone')  # a file of adults only may leave the guardian columns out
GUARDIAN_COLUMNS = ('guardian_name', 'guardian_relation', 'guardian_id_number', 'guardian_phone')
# other spellings people type in a header cell
ALIASES = {'身份证号': 'id_number', '身份证': 'id_number', '手机号': 'phone', '手机': 'phone',
           '监护人身份证号': 'guardian_id_number', '监护人手机号': 'guardian_phone', '与志愿者关系': 'guardian_relation',
           'phone': 'phone', 'mobile': 'phone', 'phonenumber': 'phone', 'idno': 'id_number', 'guardianphone': 'guardian_phone',
           'guardianmobile': 'guardian_phone', 'guardianphonenumber': 'guardian_phone',
           'guardianrelationship': 'guardian_relation', 'relationtovolunteer': 'guardian_relation'}
EXAMPLE_ID = '440103' + '20100901' + '035'
EXAMPLE_ID += id_check_digit(EXAMPLE_ID)
EXAMPLE_GUARDIAN_ID = '440103' + '19820504' + '043'
EXAMPLE_GUARDIAN_ID += id_check_digit(EXAMPLE_GUARDIAN_ID)
EXAMPLE = ('王小明', EXAMPLE_ID, '13800138001', '王大伟', '父子', EXAMPLE_GUARDIAN_ID, '13800138002')


@dataclass
class Problem:
    row: int | None  # the row number Excel shows; None for the file as a whole
    key: str | None  # a key of COLUMNS
    message: object  # a lazy text, read in the language of whoever reads it

    def as_dict(self) -> dict:
        return {'row': self.row, 'column': titles().get(self.key), 'field': self.key, 'message': str(self.message)}


@dataclass
class SheetRow:
    number: int
    values: dict  # key -> text as typed (trimmed)
    problems: list = field(default_factory=list)
    minor: bool = False
    outcome: str = ''  # created | joined | already, once checked against the accounts

    def fail(self, key, message):
        self.problems.append(Problem(self.number, key, message))


class ImportRefused(ServiceError):
    """The file, or at least one of its rows, is refused: nothing was imported. `errors` lists every problem."""

    status = 422
    code = 'invalid'

    def __init__(self, problems: list[Problem], rows: list[SheetRow] | None = None, status=None):
        self.problems, self.rows = problems, rows or []
        if status:
            self.status = status
        first = problems[0].message if len(problems) == 1 and problems[0].row is None else None
        super().__init__(first or _l('有 %(n)s 处错误，没有导入任何人；请改好文件后重新上传', n=len(problems)))

    @property
    def errors(self) -> list[dict]:
        return [p.as_dict() for p in self.problems]


def _refuse(message, status=None):
    raise ImportRefused([Problem(None, None, message)], status=status)


def titles(english: bool | None = None) -> dict[str, str]:
    """{key: header} of the template in English or in Chinese; by default in the reader's language."""
    return ENGLISH if (is_english() if english is None else english) else HEADER


def _titled(keys) -> LazyString:
    """The headers of `keys` for a message, listed in the language of whoever reads it."""
    return LazyString(lambda: _('、').join(titles()[k] for k in keys))


def template_bytes() -> bytes:
    """The import template in the reader's language: the header row, one example row, and a sheet of filling-in
    notes."""
    wb = Workbook()
    ws = wb.active
    ws.title, notes_title = SHEETS[is_english()]
    ws.append(list(titles().values()))
    ws.append(list(EXAMPLE))
    for i, key in enumerate(HEADER):
        letter = chr(ord('A') + i)
        ws[f'{letter}1'].font = Font(bold=True)
        ws.column_dimensions[letter].width = 22 if 'id_number' in key else 14
        # text columns: typed into a number cell, an ID number becomes 4.40103E+17 and loses its last digits
        ws.column_dimensions[letter].number_format = '@'
        ws[f'{letter}2'].number_format = '@'
    notes = wb.create_sheet(notes_title)
    for line in (_('第一行是表头，请勿修改；从第二行起每行一名志愿者，第二行是示例，导入前请删除。'),
                 other_headers(),
                 _('姓名、身份证号码、手机号码必填；身份证号码为 18 位，末位 X 请用大写。'),
                 _('未满 18 周岁的志愿者必须填写监护人姓名、监护人关系、监护人身份证号码和监护人手机号码'
                   '（监护人须已满 18 周岁）；成年志愿者不用填写监护人各列。'
                   '监护人关系填写监护人与志愿者的关系，例如：父子、母女。'),
                 _('一次最多导入 %(n)s 人，文件不超过 %(mb)s MB。任何一行有错时整份文件都不会导入，请按错误提示修改后重新上传。',
                   n=MAX_ROWS, mb=MAX_BYTES // (1024 * 1024)),
                 _('已有账号（身份证号码或手机号码相同）的志愿者会直接加入本队；新志愿者的用户名为手机号码，'
                   '初始密码为身份证号码后 6 位，首次登录须修改密码。')):
        notes.append([line])
    notes.column_dimensions['A'].width = 110
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _text(value) -> str:
    if value is None:
        return ''
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.strftime('%Y-%m-%d')
    return clean_text(str(value))


def other_headers() -> str:
    """That a file's header row may be in either language, with the headers of the language not shown."""
    return _('表头用中文或英文均可，另一种语言的表头为：%(cols)s',
             cols=_('、').join(titles(english=not is_english()).values()))


def _header_text(cell) -> str:
    text = re.sub(r"[\s_*＊:：'’-]", '', _text(cell)).lower()
    return re.sub(r'[（(][^）)]*[)）]$', '', text)  # 姓名（必填）, Name (required)


# a header cell's text (as _header_text leaves it) -> its column: the Chinese and English headers, other spellings
HEADER_KEYS = {**ALIASES, **{_header_text(title): k for k, title in (*COLUMNS, *ENGLISH.items())}}


def _header_key(cell) -> str | None:
    return HEADER_KEYS.get(_header_text(cell))


def _open(filename: str, content: bytes):
    if not content:
        _refuse(_l('请选择要导入的 .xlsx 文件'))
    if len(content) > MAX_BYTES:
        _refuse(_l('文件超过 5 MB（%(mb)s MB），请拆分成几个文件分批导入', mb=f'{len(content) / 1024 / 1024:.1f}'), status=413)
    if not (filename or '').lower().endswith('.xlsx'):
        _refuse(_l('只能导入 .xlsx 格式的 Excel 文件（“%(name)s”不是）；请在 Excel 中“另存为”Excel 工作簿（*.xlsx）后再上传',
                   name=filename or '?'))
    not_xlsx = _l('“%(name)s”不是有效的 .xlsx 文件（可能是改了扩展名的其他文件）；'
                  '请用 Excel 打开后“另存为”Excel 工作簿（*.xlsx）再上传', name=filename)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_UNPACKED:
                _refuse(not_xlsx)
        return load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except ImportRefused:
        raise
    except Exception:  # openpyxl raises many kinds (BadZipFile, KeyError, InvalidFileException, XML errors)
        _refuse(not_xlsx)


def _header(cells) -> dict[str, int]:
    """{key: column index} of a header row; duplicate and missing required columns refuse the file."""
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        key = _header_key(cell)
        if key in found:
            _refuse(_l('表头“%(col)s”出现了两次，请删除多余的一列', col=_titled([key])))
        if key:
            found[key] = i
    missing = [k for k in REQUIRED_COLUMNS if k not in found]
    if missing:
        _refuse(_l('第一行表头缺少：%(cols)s。请使用导入模板，表头为：%(all)s', cols=_titled(missing), all=_titled(HEADER)))
    return found


def read_rows(filename: str, content: bytes) -> list[SheetRow]:
    """The volunteer rows of the file's first sheet (blank rows skipped), each with the problems of reading it."""
    wb = _open(filename, content)
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        columns, rows = None, []
        for number, cells in enumerate(ws.iter_rows(max_col=40, values_only=True) if hasattr(ws, 'iter_rows') else (), 1):
            if not any(_text(c) for c in cells):
                continue
            if columns is None:
                columns = _header(cells)
                continue
            if len(rows) == MAX_ROWS:
                _refuse(_l('一次最多导入 %(max)s 人，本文件超过了 %(max)s 行；请拆分成几个文件分批导入', max=MAX_ROWS))
            rows.append(_row(number, cells, columns))
    finally:
        wb.close()
    if columns is None:
        _refuse(_l('表格是空的：第一个工作表中没有内容。请下载导入模板，填写后再上传'))
    if not rows:
        _refuse(_l('表格中只有表头，没有志愿者。请从第二行起每行填写一名志愿者'))
    return rows


def _row(number, cells, columns) -> SheetRow:
    row = SheetRow(number, {k: _text(cells[i]) if i < len(cells) else '' for k, i in columns.items()})
    for key in ('id_number', 'guardian_id_number'):
        i = columns.get(key)
        if i is not None and i < len(cells) and isinstance(cells[i], float):
            row.fail(key, _l('身份证号码被 Excel 存成了数字，后几位已经丢失；请把这一列设为“文本”格式后重新填写'))
        row.values[key] = normalize_id(row.values.get(key, ''))
    for key in ('phone', 'guardian_phone'):
        row.values[key] = normalize_mobile(row.values.get(key, ''))
    return row


def check_rows(rows: list[SheetRow], today: date) -> None:
    """Each row's own rules, then duplicates within the file (a later row names the first one)."""
    first_id: dict[str, int] = {}
    first_phone: dict[str, int] = {}
    for row in rows:
        _check_row(row, today)
        v = row.values
        if v['id_number'] == EXAMPLE_ID:
            row.fail('id_number', _l('这是模板中的示例行，请删除后再导入'))
        if v['id_number'] and v['id_number'] in first_id:
            row.fail('id_number', _l('与第 %(n)s 行的身份证号码重复', n=first_id[v['id_number']]))
        if v['phone'] and v['phone'] in first_phone:
            row.fail('phone', _l('与第 %(n)s 行的手机号码重复', n=first_phone[v['phone']]))
        first_id.setdefault(v['id_number'], row.number)
        first_phone.setdefault(v['phone'], row.number)


def _check_row(row: SheetRow, today: date) -> None:
    v = row.values
    unread = {p.key for p in row.problems}  # an ID number Excel stored as a number is not checked again
    if not v['name']:
        row.fail('name', _l('请填写姓名'))
    elif len(v['name']) > NAME_MAX:
        row.fail('name', _l('姓名不能超过 %(n)s 个字', n=NAME_MAX))
    if 'id_number' in unread:
        pass
    elif not v['id_number']:
        row.fail('id_number', _l('请填写身份证号码'))
    elif not is_valid_id(v['id_number'], today):
        row.fail('id_number', _l('身份证号码“%(v)s”无效：须为 18 位，出生日期真实且不晚于今天，末位校验码正确', v=v['id_number']))
    if not v['phone']:
        row.fail('phone', _l('请填写手机号码'))
    elif not is_valid_mobile(v['phone']):
        row.fail('phone', _l('手机号码“%(v)s”无效：须为 1 开头的 11 位手机号，第二位为 3–9', v=v['phone']))
    if any(p.key == 'id_number' for p in row.problems):
        return
    row.minor = age_on(v['id_number'], today) < ADULT_AGE
    if row.minor:
        _check_guardian(row, today, unread)
    else:
        for key in GUARDIAN_COLUMNS:
            v[key] = ''  # an adult's guardian columns are not read


def _check_guardian(row: SheetRow, today: date, unread: set) -> None:
    v = row.values
    age = age_on(v['id_number'], today)
    missing = [key for key in GUARDIAN_COLUMNS if not v.get(key) and key not in unread]
    if len(missing) == len(GUARDIAN_COLUMNS):
        row.fail('guardian_name',
                 _l('志愿者未满 18 周岁（%(age)s 岁），须填写监护人姓名、监护人关系、监护人身份证号码和监护人手机号码', age=age))
    for key in missing if len(missing) < len(GUARDIAN_COLUMNS) else ():
        row.fail(key, _l('志愿者未满 18 周岁（%(age)s 岁），须填写%(col)s', age=age, col=_titled([key])))
    if v.get('guardian_name') and len(v['guardian_name']) > NAME_MAX:
        row.fail('guardian_name', _l('姓名不能超过 %(n)s 个字', n=NAME_MAX))
    if v.get('guardian_relation') and len(v['guardian_relation']) > RELATION_MAX:
        row.fail('guardian_relation', _l('监护人关系不能超过 %(n)s 个字，例如：父子、母女', n=RELATION_MAX))
    gid = v.get('guardian_id_number') if 'guardian_id_number' not in unread else ''
    if gid and not is_valid_id(gid, today):
        row.fail('guardian_id_number', _l('监护人身份证号码“%(v)s”无效：须为 18 位，出生日期真实，末位校验码正确', v=gid))
    elif gid and gid == v['id_number']:
        row.fail('guardian_id_number', _l('监护人身份证号码不能与志愿者本人的相同'))
    elif gid and age_on(gid, today) < ADULT_AGE:
        row.fail('guardian_id_number', _l('监护人须已满 18 周岁（按身份证号码为 %(age)s 岁）', age=age_on(gid, today)))
    if v.get('guardian_phone') and not is_valid_mobile(v['guardian_phone']):
        row.fail('guardian_phone',
                 _l('监护人手机号码“%(v)s”无效：须为 1 开头的 11 位手机号，第二位为 3–9', v=v['guardian_phone']))
