"""Form definitions in forms/*.json (JSON Schema subset + UI hints) and server-side validation."""
import json
import math
import os
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Membership, User
from app.services import org_cache
from app.services.errors import NotFound
from app.services.validators import (
    clean_text,
    half_width,
    is_valid_contact_phone,
    is_valid_id,
    is_valid_mobile,
    normalize_contact_phone,
    normalize_id,
    normalize_mobile,
    normalize_person_name,
    person_name_problem,
    title_problem,
)

_UNIT_SOURCES = {'streets': 'street', 'providers': 'provider'}
# the street fields of a form first reviewed by the street's 社工站 (服务对象录入, 发布V订单): only a street whose station
# exists may be chosen, else the case would wait where no reviewer sees it (its station scope names no unit)
STATION_STREETS = 'station_streets'


@lru_cache(maxsize=64)
def _load(path: str, mtime: float) -> dict:
    with open(path, encoding='utf-8') as fh:
        return json.load(fh)


def form_names() -> frozenset[str]:
    """The forms there are; read again only when the folder changes (a list page asks for each row's form)."""
    folder = current_app.config['FORMS_DIR']
    return _listed(folder, os.stat(folder).st_mtime_ns)


@lru_cache(maxsize=8)
def _listed(folder: str, mtime_ns: int) -> frozenset[str]:
    return frozenset(f for f in os.listdir(folder) if f.endswith('.json'))


def file_field(form: dict) -> str | None:
    """The name of the form's file-upload field, if it has one."""
    return next((n for n, p in form['properties'].items() if 'x-file' in p), None)


def get_form(form_key: str) -> dict:
    """The parsed definition of forms/<form_key>; NotFound for unknown names."""
    if not form_key or form_key not in form_names():
        raise NotFound()
    path = os.path.join(current_app.config['FORMS_DIR'], form_key)
    return _load(path, os.path.getmtime(path))


def is_english() -> bool:
    loc = get_locale()
    return bool(loc) and loc.language == 'en'


def label(obj: dict, key='title') -> str:
    """A field or form title in the user's language."""
    return obj.get(key + '_en') if is_english() and obj.get(key + '_en') else obj.get(key, '')


def hint(prop: dict) -> str | None:
    """A field's hint in the user's language; none on English pages where the form has no English hint."""
    return prop.get('x-hint_en') if is_english() else prop.get('x-hint')


def required_when(form: dict, name: str) -> str:
    """'（审核结果为“不通过”时必填）' for a field that an if/then rule of the form makes required; '' otherwise.
    Without it such a field would be marked 选填 while its form refuses it empty (a rejection without a reason)."""
    conditions = []
    for rule in form.get('allOf', []):
        if name not in rule.get('then', {}).get('required', []):
            continue
        for field, cond in rule.get('if', {}).get('properties', {}).items():
            prop = form.get('properties', {}).get(field)
            if prop is None or 'const' not in cond:
                continue
            names = dict(zip(prop.get('enum', []), prop.get('enumNames_en' if is_english() else 'enumNames') or []))
            conditions.append(str(_l('%(field)s为“%(value)s”', field=label(prop),
                                     value=names.get(cond['const'], cond['const']))))
    if not conditions:
        return ''
    joined = str(_l('或')).join(conditions)
    return str(_l('（%(conditions)s时必填）', conditions=joined))


def station_code(street_code: str) -> str:
    """The code of a street's 社工站: '<street code>_station' (accounts refuses a station coded otherwise)."""
    return f'{street_code}_station'


def has_station(street) -> bool:
    """Whether the street (an org_cache record) has its 社工站, as the org cache knows it (a station another process
    created is seen within ORG_CACHE_SECONDS)."""
    station = org_cache.unit(station_code(street.code))
    return station is not None and station.kind == 'station' and station.parent_id == street.id


def station_streets() -> list:
    """The streets a form first reviewed by the street's 社工站 may name: those whose station exists, in tree order."""
    return [u for u in org_cache.of_kind('street') if has_station(u)]


def _unit_label(u) -> str:
    """'荔湾区 · 西村街': a unit as a picker names it, with the unit it sits in."""
    return f'{u.parent_name} · {u.name}'


def option_list(prop: dict) -> list[tuple[str, str]]:
    """(value, label) pairs of an enum or a dynamic option source."""
    source = prop.get('x-options')
    if source == STATION_STREETS:
        return [(u.code, _unit_label(u)) for u in station_streets()]
    if source in _UNIT_SOURCES:
        return [(u.code, _unit_label(u)) for u in org_cache.of_kind(_UNIT_SOURCES[source])]
    if source == 'volunteers':
        rows = db.session.scalars(select(User).join(Membership).where(Membership.role == 'volunteer').order_by(User.id))
        return [(u.username, str(_l('%(text)s（%(note)s）', text=u.display_name, note=u.username))) for u in rows]
    names = prop.get('enumNames_en' if is_english() else 'enumNames') or prop.get('enum', [])
    return list(zip(prop.get('enum', []), names))


def field_order(form: dict) -> list[str]:
    return form.get('x-ui', {}).get('order') or list(form['properties'])


def _required(form: dict, data: dict) -> set[str]:
    req = set(form.get('required', []))
    for rule in form.get('allOf', []):
        cond = rule.get('if', {}).get('properties', {})
        if all(data.get(k) == v.get('const') for k, v in cond.items()):
            req |= set(rule.get('then', {}).get('required', []))
    return req


def _empty(value) -> bool:
    return value is None or value == '' or value == []


def _number(value) -> Decimal | None:
    """The finite number a value spells exactly (4, 4.5, " 1.9 "), None otherwise (text, true/false, NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    text = half_width(value).strip() if isinstance(value, str) else str(value)
    if isinstance(value, str) and re.search('[eE]', text):
        return None  # "1e1" typed into 服务时长 is not read as 10 hours
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _integer(prop, value, errors) -> int | None:
    """An integer field's value; 4.5 or "1.9" is refused with its own message, never truncated to 4 or 1."""
    number = _number(value)
    if number is None:
        errors.append(_l('请输入整数'))
    elif number != number.to_integral_value():
        errors.append(_l('请输入整数，不能带小数'))
    elif number.adjusted() > 15:  # bounds the int() below; every integer field has a far smaller maximum
        errors.append(_l('不能大于 %(hi)s', hi=prop['maximum']) if 'maximum' in prop else _l('请输入整数'))
    else:
        return int(number)
    return None


def _float(value, errors) -> float | None:
    number = _number(value)
    if number is None or not math.isfinite(float(number)):
        errors.append(_l('请输入数字'))
        return None
    return float(number)


# text fields a JSON client may reasonably send as a whole number (13800138000): read as its decimal text
_DIGIT_FORMATS = ('cn-mobile', 'cn-phone')


def _as_text(prop, value) -> str | None:
    """A text field's value as text, None when its JSON type is wrong: no dict, list, true/false or null is turned into
    its Python spelling ("{'a': 1}", "None"); a tag field takes a list of texts, a phone field a whole number."""
    if isinstance(value, str):
        return value
    if 'x-tags' in prop and isinstance(value, list) and all(isinstance(t, str) for t in value):
        return ','.join(value)
    if prop.get('format') in _DIGIT_FORMATS and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _check_string(prop, value, errors):
    text = _as_text(prop, value)
    if text is None:
        errors.append(_l('应为文字列表') if 'x-tags' in prop else _l('应为文字'))
        return value
    value = clean_text(text, multiline=True)
    fmt = prop.get('format')
    if fmt == 'cn-id-card':
        value = normalize_id(value)
        if not is_valid_id(value):
            errors.append(_l('身份证号码无效：应为 18 位，出生日期真实，最后一位校验码正确'))
    elif fmt == 'cn-mobile':
        value = normalize_mobile(value)
        if not is_valid_mobile(value):
            errors.append(_l('手机号码应为 11 位数字，以 1 开头'))
    elif fmt == 'cn-phone':  # a contact number: a mobile or a landline with its area code
        value = normalize_contact_phone(value)
        if not is_valid_contact_phone(value):
            errors.append(_l('手机号码应为 11 位数字，以 1 开头；固定电话须带区号，如 020-81234567'))
    elif fmt == 'person-name':  # a real name (服务对象, 亲属, 填表人): 汉字, letters, spaces and “·”
        value = normalize_person_name(value)
        if (problem := person_name_problem(value)) is not None:
            errors.append(problem)
    elif fmt == 'plain-title':  # an order's or activity's title: no emoji or control characters
        if (problem := title_problem(value)) is not None:
            errors.append(problem)
    elif fmt in ('date', 'date-time'):
        value = half_width(value)
        try:
            (date if fmt == 'date' else datetime).fromisoformat(value)
        except ValueError:
            errors.append(_date_problem(value, fmt))
    if 'maxLength' in prop and len(value) > prop['maxLength']:
        errors.append(_l('不能超过 %(n)s 个字', n=prop['maxLength']))
    if 'minLength' in prop and len(value) < prop['minLength']:
        errors.append(_l('至少需要 %(n)s 个字', n=prop['minLength']))
    return value


def _date_problem(value: str, fmt: str):
    """Why a typed day or time was not read: a day that does not exist (2月30日) or the wrong way of writing it."""
    shape = re.match(r'^([0-9]{4})-([0-9]{2})-([0-9]{2})', value)
    if shape:
        try:
            date(*map(int, shape.groups()))
        except ValueError:
            return _l('日期不存在：%(day)s 这一天没有，请检查月份和日期', day=shape.group(0))
    if fmt == 'date':
        return _l('日期格式不正确，应为 年-月-日，例如 2026-11-30')
    return _l('时间格式不正确，应为 年-月-日 时:分，例如 2026-11-30 09:00')


def _check_value(prop, value, errors):
    kind = prop.get('type', 'string')
    if kind == 'array':
        items = value if isinstance(value, list) else [value]
        spec = prop.get('x-file', {})
        numbers = [_number(v) for v in items]
        if any(n is None or n != n.to_integral_value() or not 0 < n < 2**31 for n in numbers):  # row ids
            errors.append(_l('文件编号无效') if spec else _l('请选择有效的选项'))
            return items
        items = list(dict.fromkeys(int(n) for n in numbers))  # the same photo or object chosen twice counts once
        lo, hi = spec.get('minItems', prop.get('minItems', 0)), spec.get('maxItems', prop.get('maxItems', 10**6))
        if not lo <= len(items) <= hi:
            errors.append(_l('请上传 %(lo)s–%(hi)s 个文件（当前 %(n)s 个）', lo=lo, hi=hi, n=len(items)))
        return items
    if kind == 'object':
        return _check_object(prop, value, errors)
    if kind in ('integer', 'number'):
        number = _integer(prop, value, errors) if kind == 'integer' else _float(value, errors)
        if number is None:
            return value
        value = number
        if 'exclusiveMinimum' in prop and value <= prop['exclusiveMinimum']:
            errors.append(_l('应大于 %(lo)s', lo=prop['exclusiveMinimum']))
        if 'minimum' in prop and value < prop['minimum']:
            errors.append(_l('不能小于 %(lo)s', lo=prop['minimum']))
        if 'maximum' in prop and value > prop['maximum']:
            errors.append(_l('不能大于 %(hi)s', hi=prop['maximum']))
        return value
    value = _check_string(prop, value, errors)
    if not isinstance(value, str):  # refused for its JSON type
        return value
    options = option_list(prop) if ('enum' in prop or 'x-options' in prop) else None
    if options is not None and value not in {v for v, _ in options}:
        by_label = {lbl: v for v, lbl in options}
        if value in by_label:
            return by_label[value]
        errors.append(_street_refusal(prop.get('x-options'), value) or _l('请选择有效的选项'))
    return value


def _street_refusal(source, value):
    """Why a street field refuses a value (None for other fields): a street without its 社工站 where the form's first
    review is that station's (it exists, so 未知 would mislead), or an unknown street."""
    if source not in ('streets', STATION_STREETS):
        return None
    streets = org_cache.of_kind('street')
    street = next((u for u in streets if value in (u.code, _unit_label(u))), None)
    if street is not None and source == STATION_STREETS and not has_station(street):
        return _l('%(street)s尚未开通社工站，暂不能选择；请联系管理员', street=street.name)
    return _l('未知的街道代码')


def is_review_form(form_key: str | None) -> bool:
    """A review form carries an approve/reject decision."""
    return bool(form_key) and 'decision' in get_form(form_key)['properties']


def _check_object(prop, value, errors):
    """Messages of the sub-fields, each naming its sub-field without a second colon: after the field's label they read
    '地图位置：请填写纬度' / 'Map point: Latitude is required' and '地图位置：不能小于 22.4（纬度）'."""
    if not isinstance(value, dict):
        errors.append(_l('格式不正确'))
        return value
    clean = {}
    for name, sub in prop.get('properties', {}).items():
        sub_errors: list = []
        if _empty(value.get(name)):
            if name in prop.get('required', []):
                errors.append(_l('请填写%(field)s', field=label(sub)))
            continue
        clean[name] = _check_value(sub, value[name], sub_errors)
        errors.extend(_l('%(text)s（%(note)s）', text=m, note=label(sub)) for m in sub_errors)
    return clean


def validate(form: dict, data: dict) -> tuple[dict, dict]:
    """(clean data, {field: [messages]}); unknown keys are dropped, nothing is coerced silently."""
    clean, errors = {}, {}
    data = data or {}
    required = _required(form, data)
    widgets = form.get('x-ui', {}).get('widgets', {})
    for name, prop in form['properties'].items():
        if prop.get('readOnly'):
            continue
        value = data.get(name)
        if isinstance(value, str):  # a zero-width space alone is as empty as nothing
            value = clean_text(value, multiline=widgets.get(name) == 'textarea' or prop.get('type') == 'array')
        if _empty(value):
            if name in required:
                errors[name] = [_l('此项为必填项')]
            continue
        field_errors: list = []
        clean[name] = _check_value(prop, value, field_errors)
        if field_errors:
            errors[name] = field_errors
    return clean, errors
