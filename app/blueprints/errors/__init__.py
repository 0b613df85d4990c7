"""One place that turns service errors and HTTP errors into pages or JSON."""
from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.services import abandon
from app.services.errors import ServiceError, ValidationFailed

MESSAGES = {400: _l('请求无效'), 401: _l('请先登录'), 403: _l('没有权限'), 404: _l('找不到该页面或记录，或您无权查看'),
            405: _l('不支持的请求方式'), 409: _l('该任务已被处理，请刷新后查看'),
            413: _l('上传的内容过大（单个文件不超过 10 MB）'), 429: _l('尝试次数过多，请稍后再试'),
            500: _l('服务器出错，请稍后再试')}


# addresses of scripted callers (the bearer JSON API and the editor's session calls): errors there are always
# JSON in the API's shape, whatever the Accept header says (curl, fetch() without headers, scripts)
JSON_PREFIXES = ('/api/', '/admin/api/')


def is_api_path(path: str | None = None) -> bool:
    return (request.path if path is None else path).startswith(JSON_PREFIXES)


def wants_json():
    return is_api_path() or request.accept_mimetypes.best == 'application/json'


def error_payload(exc: ServiceError) -> dict:
    body = {'error': exc.code, 'message': str(exc.message)}
    if getattr(exc, 'errors', None):
        body['errors'] = exc.errors
    return body


MAX_DEPTH = 32  # nesting of a JSON body: the API's own payloads need fewer than 10 levels
TOO_DEEP = _l('提交的内容嵌套层数过多（不能超过 %(n)s 层）', n=MAX_DEPTH)


def _has_nul(value) -> bool:
    """Whether a NUL character is anywhere in the value (strings, keys, lists, objects), walked without recursion;
    a body nested deeper than MAX_DEPTH is refused (no service needs it, and deep nesting would exhaust the stack of
    whatever reads it next)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if '\x00' in item:
                return True
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise _refused(TOO_DEEP)
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _refused(message) -> ValidationFailed:
    refused = ValidationFailed({'_body': [message]})
    refused.message = refused.errors['_body'][0]  # a page shows the reason itself, not "请按提示修改"
    return refused


def _json_body():
    """The request's JSON body, None when it is not JSON; one nested so deeply that the parser gives up is refused."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        raise _refused(TOO_DEEP) from None


def install(app):
    @app.before_request
    def refuse_nul_characters():
        """A NUL character can be typed or sent but never stored (PostgreSQL text refuses it): a clear 422 before
        any service runs, instead of a database error."""
        texts = [*request.args.values(), *request.form.values()]
        if _has_nul(texts) or (request.is_json and _has_nul(_json_body())):
            raise _refused(_l('提交的内容含有无法保存的空字符（\\0），请删除后重试'))

    @app.errorhandler(ServiceError)
    def service_error(exc):
        if wants_json():
            return jsonify(error_payload(exc)), exc.status
        return render_template('error.html', status=exc.status, message=str(exc.message)), exc.status

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        msg = _('页面已过期，请刷新后重新提交')
        if wants_json():
            return jsonify({'error': 'csrf', 'message': msg}), 400
        return render_template('error.html', status=400, message=msg), 400

    @app.errorhandler(HTTPException)
    def http_error(exc):
        code = exc.code or 500
        if isinstance(exc, RequestEntityTooLarge):
            code = 413
        msg = str(MESSAGES.get(code, exc.name))
        if wants_json():
            return jsonify({'error': exc.name.lower().replace(' ', '_'), 'message': msg}), code
        return render_template('error.html', status=code, message=msg), code

    @app.errorhandler(Exception)
    def unexpected(exc):
        app.logger.exception('unhandled error')
        abandon()  # the request's transaction may be aborted; the next use of the session starts clean
        msg = str(MESSAGES[500])
        if wants_json():
            return jsonify({'error': 'server_error', 'message': msg}), 500
        return render_template('error.html', status=500, message=msg), 500
