"""marshmallow schemas for API payloads, with messages in the caller's language."""
from flask import request
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from app.services.errors import ValidationFailed

REQUIRED = {'required': _l('此项为必填项'), 'null': _l('此项不能为空'), 'invalid': _l('格式不正确')}
DECISION = validate.OneOf(['approve', 'reject'], error=_l('审核结果只能是 approve 或 reject'))


class TokenRequest(Schema):
    class Meta:
        unknown = EXCLUDE
    username = fields.String(required=True, error_messages=REQUIRED)
    password = fields.String(required=True, error_messages=REQUIRED)


class StartRequest(Schema):
    class Meta:
        unknown = EXCLUDE
    data = fields.Dict(required=True, error_messages=REQUIRED)


class CompleteRequest(Schema):
    class Meta:
        unknown = EXCLUDE
    decision = fields.String(load_default=None, validate=DECISION)
    reason = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(load_default=dict)


class BatchRequest(Schema):
    class Meta:
        unknown = EXCLUDE
    task_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=200),
                           error_messages=REQUIRED)
    decision = fields.String(required=True, validate=DECISION, error_messages=REQUIRED)
    reason = fields.String(load_default=None, allow_none=True)


TEXT = {'invalid': _l('应为文字'), 'null': _l('此项不能为空')}
WHOLE = {'invalid': _l('请输入整数'), 'null': _l('此项不能为空'), 'required': _l('此项为必填项')}


def _text(**kw):
    return fields.String(error_messages=TEXT, **kw)


class _Loose(Schema):
    class Meta:
        unknown = EXCLUDE


class ReasonRequest(_Loose):
    reason = _text(load_default='', allow_none=True)


class WordsRequest(_Loose):
    word = _text(load_default=None, allow_none=True)
    words = fields.List(_text(), load_default=None, allow_none=True, error_messages={'invalid': _l('应为文字列表')})


class UnitRequest(_Loose):
    org_unit = _text(load_default=None, allow_none=True)


class TokenOnlyRequest(_Loose):
    request_token = _text(load_default=None, allow_none=True)


class ItemReviewRequest(_Loose):
    decision = fields.String(load_default=None, allow_none=True, validate=DECISION, error_messages=TEXT)
    reason = _text(load_default=None, allow_none=True)


class _Target(fields.Field):
    """'pool' or a 积分公益 item id."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValidationError(str(_l('请选择积分公益项目或公益池')))
        return str(value)


class DonationRequest(_Loose):
    target = _Target(load_default=None, allow_none=True)
    amount = fields.Integer(strict=True, load_default=None, allow_none=True, error_messages=WHOLE)
    point_type = _text(load_default='elderly_time')
    request_token = _text(load_default=None, allow_none=True)


class AllocationRequest(_Loose):
    username = _text(load_default=None, allow_none=True)
    amount = fields.Integer(strict=True, load_default=None, allow_none=True, error_messages=WHOLE)
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
    kind = fields.String(required=True, error_messages={**REQUIRED, **TEXT})
    from_ = _text(data_key='from', attribute='from', load_default=None, allow_none=True)
    to = _text(load_default=None, allow_none=True)
    state = _text(load_default=None, allow_none=True)
    view = _text(load_default=None, allow_none=True)
    status = _text(load_default=None, allow_none=True)
    process = _text(load_default=None, allow_none=True)
    point_type = _text(load_default=None, allow_none=True)
    q = _text(load_default=None, allow_none=True)


class MigrationRequest(_Loose):
    from_version = fields.Integer(strict=True, required=True, error_messages=WHOLE)
    to_version = fields.Integer(strict=True, required=True, error_messages=WHOLE)
    dry_run = fields.Boolean(load_default=True, error_messages={'invalid': _l('应为 true 或 false')})


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


def _raise(messages):
    flat = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in messages.items()}
    raise ValidationFailed(flat)
