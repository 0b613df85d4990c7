"""Errors a use case raises; views turn them into pages or JSON with the same status codes."""
from flask_babel import lazy_gettext as _l


class ServiceError(Exception):
    status = 400
    code = 'error'

    def __init__(self, message=None, code=None):
        super().__init__(str(message or self.default_message()))
        self.message = message or self.default_message()
        if code:
            self.code = code

    def default_message(self):
        return _l('操作失败')


class NotFound(ServiceError):
    status = 404
    code = 'not_found'

    def default_message(self):
        return _l('找不到该记录，或您无权查看')


class Conflict(ServiceError):
    status = 409
    code = 'already_handled'

    def default_message(self):
        return _l('该任务已被处理，请刷新后查看')


class Forbidden(ServiceError):
    status = 403
    code = 'forbidden'

    def default_message(self):
        return _l('您没有执行此操作的权限')


class PasswordChangeRequired(Forbidden):
    """The account still has its initial password: the web page asks for a new one first."""
    code = 'password_change_required'


class Unauthorized(ServiceError):
    status = 401
    code = 'unauthorized'

    def default_message(self):
        return _l('请先登录')


class ValidationFailed(ServiceError):
    """Field-level errors: {field: [message, ...]}; status 413 when a file is too large."""

    status = 422
    code = 'invalid'

    def __init__(self, errors, status=None):
        self.errors = {k: [str(m) for m in v] for k, v in errors.items()}
        if status:
            self.status = status
        super().__init__(_l('提交的内容有误，请按提示修改'))
