"""Locale choice: ?lang= or the lang cookie, then Accept-Language; Chinese by default."""
from flask import Blueprint, has_request_context, redirect, request
from flask_login import current_user

bp = Blueprint('i18n', __name__)
SUPPORTED = ['zh', 'en']


def select_locale():
    if not has_request_context():  # jobs, CLI commands and messages built by the worker speak the default
        return 'zh'
    lang = request.args.get('lang') or request.cookies.get('lang')
    if lang in SUPPORTED:
        return lang
    return request.accept_languages.best_match(['zh_Hans_CN', 'zh_CN', 'zh', 'en'], default='zh')[:2]


def select_timezone():
    return 'Asia/Shanghai'


@bp.route('/lang/<lang>')
def switch(lang):
    target = request.referrer if request.referrer and request.referrer.startswith(request.host_url) else '/'
    resp = redirect(target)
    if lang in SUPPORTED:
        resp.set_cookie('lang', lang, max_age=365 * 86400, samesite='Lax')
    return resp


@bp.app_template_global()
def current_lang() -> str:
    """'zh' or 'en' for templates and macros imported without context."""
    return select_locale()


@bp.app_context_processor
def inject_user_language():
    return {'lang': select_locale(), 'me': current_user}
