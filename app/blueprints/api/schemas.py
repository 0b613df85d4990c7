"""marshmallow schemas for API payloads, with messages in the caller's language."""
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
