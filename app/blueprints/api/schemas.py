"""marshmallow schemas for API payloads, with messages in the caller's language.

Every schema derives from `_Loose`, which gives each field (and the fields inside lists and mappings) the Chinese
messages of `FIELD_MESSAGES` wherever the field keeps marshmallow's English default; `load` turns nested errors
(a list's items) into readable lines such as "第 1 项：任务编号应为整数"."""
import math

from flask import request
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from app.services.errors import ValidationFailed

# marshmallow's own messages by field class and error key, replaced by these when a field sets none of its own
FIELD_MESSAGES = {
    fields.Field: {'required': _l('此项为必填项'), 'null': _l('此项不能为空'), 'validator_failed': _l('格式不正确')},
    fields.String: {'invalid': _l('应为文字'), 'invalid_utf8': _l('应为文字')},
    fields.Number: {'invalid': _l('应为数字'), 'too_large': _l('数字过大')},
    fields.Integer: {'invalid': _l('请输入整数')},
    fields.Boolean: {'invalid': _l('应为 true 或 false')},
    fields.Mapping: {'invalid': _l('应为 JSON 对象')},
    fields.List: {'invalid': _l('应为列表')},
    fields.Tuple: {'invalid': _l('应为列表')},
}


def _library_default(field, key):
    return next((cls.default_error_messages[key] for cls in type(field).__mro__
                 if key in getattr(cls, 'default_error_messages', {})), None)


def localise(field) -> None:
    """Replace the English defaults of `field` and of the fields inside it with FIELD_MESSAGES."""
    ours = {}
    for cls in reversed(type(field).__mro__):
        ours.update(FIELD_MESSAGES.get(cls, {}))
    for key, message in ours.items():
        if key in field.error_messages and field.error_messages[key] is _library_default(field, key):
            field.error_messages[key] = message
    inner = [getattr(field, 'inner', None), getattr(field, 'key_field', None), getattr(field, 'value_field', None),
             *getattr(field, 'tuple_fields', ())]
    for sub in inner:
        if sub is not None:
            localise(sub)


class _Loose(Schema):
    """Unknown keys are ignored; every field speaks the caller's language."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {'type': _l('请求体应为 JSON 对象'), 'unknown': _l('不支持的字段')}

    def on_bind_field(self, field_name, field_obj):
        localise(field_obj)


class WholeNumber(fields.Integer):
    """An integer; a number with a fraction (1.5) is refused rather than cut to 1."""

    def _validated(self, value):
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise self.make_error('invalid')
        return super()._validated(value)


DECISION = validate.OneOf(['approve', 'reject'], error=_l('审核结果只能是 approve 或 reject'))
TASK_ID = {'invalid': _l('任务编号应为整数'), 'null': _l('任务编号不能为空')}
BATCH_SIZE = [validate.Length(min=1, error=_l('请至少选择一个任务')),
              validate.Length(max=200, error=_l('一次最多处理 200 个任务，请分批提交'))]


class TokenRequest(_Loose):
    username = fields.String(required=True)
    password = fields.String(required=True)


class StartRequest(_Loose):
    data = fields.Dict(required=True)


class CompleteRequest(_Loose):
    decision = fields.String(load_default=None, validate=DECISION)
    reason = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(load_default=dict)


class BatchRequest(_Loose):
    task_ids = fields.List(WholeNumber(error_messages=TASK_ID), required=True, validate=BATCH_SIZE)
    decision = fields.String(required=True, validate=DECISION)
    reason = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(load_default=dict)  # more of each review's form, e.g. {"dispatch_mode": "open"}


def _text(**kw):
    return fields.String(**kw)


class ReasonRequest(_Loose):
    reason = _text(load_default='', allow_none=True)


class SignupRequest(_Loose):
    phone = _text(load_default=None, allow_none=True)  # the account's phone when absent
    note = _text(load_default=None, allow_none=True)


class WordsRequest(_Loose):
    word = _text(load_default=None, allow_none=True)
    words = fields.List(_text(), load_default=None, allow_none=True, error_messages={'invalid': _l('应为文字列表')})


class UnitRequest(_Loose):
    org_unit = _text(load_default=None, allow_none=True)
    reason = _text(load_default=None, allow_none=True)  # required for the blacklist (the service says so)


class TokenOnlyRequest(_Loose):
    request_token = _text(load_default=None, allow_none=True)


class ItemReviewRequest(_Loose):
    decision = fields.String(load_default=None, allow_none=True, validate=DECISION)
    reason = _text(load_default=None, allow_none=True)


class _Target(fields.Field):
    """'pool' or a 积分公益 item id."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValidationError(str(_l('请选择积分公益项目或公益池')))
        return str(value)


class DonationRequest(_Loose):
    target = _Target(load_default=None, allow_none=True)
    amount = fields.Integer(strict=True, load_default=None, allow_none=True)
    point_type = _text(load_default='elderly_time')
    request_token = _text(load_default=None, allow_none=True)


class AllocationRequest(_Loose):
    username = _text(load_default=None, allow_none=True)
    amount = fields.Integer(strict=True, load_default=None, allow_none=True)
    reason = _text(load_default=None, allow_none=True)
    request_token = _text(load_default=None, allow_none=True)


class ShopItemRequest(_Loose):
    """A new shop resource; the service checks lengths, sections, numbers and the district."""
    name = _text(load_default='', allow_none=True)
    section = _text(load_default=None, allow_none=True)
    point_type = _text(load_default=None, allow_none=True)
    price = fields.Raw(load_default='', allow_none=True)
    stock = fields.Raw(load_default='', allow_none=True)
    district = _text(load_default=None, allow_none=True)
    description = _text(load_default='', allow_none=True)
    provider_name = _text(load_default='', allow_none=True)


class ExportRequest(_Loose):
    """An export: its kind, the date range (YYYY-MM-DD, Beijing days) and the list's own filters."""
    kind = fields.String(required=True)
    from_ = _text(data_key='from', attribute='from', load_default=None, allow_none=True)
    to = _text(load_default=None, allow_none=True)
    state = _text(load_default=None, allow_none=True)
    view = _text(load_default=None, allow_none=True)
    status = _text(load_default=None, allow_none=True)
    process = _text(load_default=None, allow_none=True)
    point_type = _text(load_default=None, allow_none=True)
    q = _text(load_default=None, allow_none=True)
    district = _text(load_default=None, allow_none=True)  # 统计: one district


class MigrationRequest(_Loose):
    from_version = fields.Integer(strict=True, required=True)
    to_version = fields.Integer(strict=True, required=True)
    dry_run = fields.Boolean(load_default=True)


class ConditionRequest(_Loose):
    expression = _text(load_default='', allow_none=True)
    xml = _text(load_default='', allow_none=True)


def body(schema_cls) -> dict:
    """The request's JSON body loaded with `schema_cls`: 422 with field messages, or `_body` when it is not a JSON
    object (an empty body is {})."""
    payload = request.get_json(silent=True)
    if payload is None and not request.content_length:
        payload = {}  # no body at all: every field takes its default or is reported missing
    return load(schema_cls, payload)


def load(schema_cls, payload) -> dict:
    """Validated payload or ValidationFailed with field-level messages."""
    if not isinstance(payload, dict):
        raise ValidationFailed({'_body': [_l('请求体应为 JSON 对象')]})
    try:
        return schema_cls().load(payload)
    except ValidationError as exc:
        return _raise(exc.messages)


def _lines(messages) -> list[str]:
    """marshmallow's messages of one field as readable lines: a list item's problem is told by its place
    ("第 2 项：此项不能为空"), a mapping key's by its name."""
    if isinstance(messages, dict):
        lines = []
        for key, sub in messages.items():
            where = _l('第 %(n)s 项', n=key + 1) if isinstance(key, int) else key
            lines += [str(_l('%(where)s：%(problem)s', where=where, problem=line)) for line in _lines(sub)]
        return lines
    if isinstance(messages, (list, tuple)):
        return [line for m in messages for line in _lines(m)]
    return [str(messages)]


def _raise(messages):
    raise ValidationFailed({field: _lines(problems) for field, problems in messages.items()})
