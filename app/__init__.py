"""Application factory."""
import os

from flask import Flask
from werkzeug.routing import IntegerConverter

from app.config import BASE_DIR, check_secrets, config_class
from app.extensions import babel, csrf, db, limiter, login_manager, migrate


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route: ids beyond the database's integer are no route (404), not a database error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault('max', 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config=None, overrides=None):
    """Build the app; `config` names a config class ('testing'), `overrides` replaces single settings."""
    app = Flask(__name__, instance_path=os.path.join(BASE_DIR, 'instance'))
    app.config.from_object(config_class(config or os.environ.get('APP_CONFIG', 'development')))
    app.config.update(overrides or {})
    check_secrets(app.config)
    if app.config['TRUSTED_PROXIES']:
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config['TRUSTED_PROXIES']
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.url_map.converters['int'] = RowIdConverter
    os.makedirs(app.instance_path, exist_ok=True)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_response_headers(app)
    register_cli(app)
    from app.jobs import install_inline_sweep
    install_inline_sweep(app)
    return app


def register_extensions(app):
    from app.blueprints.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(BASE_DIR, 'app', 'migrations'))
    login_manager.init_app(app)
    login_manager.login_view = 'auth.login'
    login_manager.login_message = None
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    csrf.init_app(app)
    limiter.init_app(app)
    import app.models  # noqa: F401  (tables)
    import app.services.activities  # noqa: F401  (hooks and service tasks)
    import app.services.gifts  # noqa: F401  (hooks and service tasks)
    import app.services.service_objects  # noqa: F401  (hooks and service tasks)
    import app.services.v_order_steps  # noqa: F401
    import app.services.v_orders  # noqa: F401


def register_blueprints(app):
    from app.blueprints.activities import bp as activities_bp
    from app.blueprints.admin import bp as admin_bp
    from app.blueprints.api import bp as api_bp
    from app.blueprints.auth import bp as auth_bp
    from app.blueprints.exports import bp as exports_bp
    from app.blueprints.i18n import bp as i18n_bp
    from app.blueprints.inbox import bp as inbox_bp
    from app.blueprints.messages import bp as messages_bp
    from app.blueprints.mobile import bp as mobile_bp
    from app.blueprints.orders import bp as orders_bp
    from app.blueprints.shop import bp as shop_bp
    from app.blueprints.stats import bp as stats_bp
    from app.blueprints.teams import bp as teams_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(i18n_bp)
    app.register_blueprint(inbox_bp)
    app.register_blueprint(messages_bp)
    app.register_blueprint(mobile_bp, url_prefix='/m')
    app.register_blueprint(orders_bp)
    app.register_blueprint(activities_bp)
    app.register_blueprint(shop_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(teams_bp)
    app.register_blueprint(stats_bp)
    app.register_blueprint(admin_bp, url_prefix='/admin')
    app.register_blueprint(api_bp, url_prefix='/api/v1')
    csrf.exempt(api_bp)


def register_errorhandlers(app):
    from app.blueprints.errors import install
    from app.blueprints.template_helpers import install as install_helpers

    install(app)
    install_helpers(app)


def csp_nonce():
    """The per-request nonce that lets the page's own inline scripts run under the Content-Security-Policy."""
    import secrets

    from flask import g
    if 'csp_nonce' not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy(nonce):
    """Scripts only from this site (or the page's own inline scripts with this request's nonce), no plugins, no
    framing by other sites, forms post only here; styles may be inline (bpmn-js draws with style attributes)."""
    return (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def register_response_headers(app):
    from flask import request

    from app.extensions import retry_after_seconds

    app.jinja_env.globals['csp_nonce'] = csp_nonce

    @app.after_request
    def common_headers(response):
        """Every response is taken as the type it says (uploads are served with their proven type) and may not be
        framed by another site; scripts run only from this site; a page is never kept in the browser's cache
        (a station's shared computer must not show the last user's cases after logout via Back), static files
        excepted; a 429 says when to try again; an API 401 says which credentials it wants (RFC 6750)."""
        response.headers['X-Content-Type-Options'] = 'nosniff'
        response.headers['X-Frame-Options'] = 'DENY'
        response.headers['Referrer-Policy'] = 'same-origin'
        response.headers['Content-Security-Policy'] = content_security_policy(csp_nonce())
        if request.endpoint != 'static':
            response.headers['Cache-Control'] = 'no-store'
        if response.status_code == 429 and 'Retry-After' not in response.headers:
            response.headers['Retry-After'] = str(retry_after_seconds() or 60)
        if response.status_code == 401 and request.path.startswith('/api/'):
            sent = request.headers.get('Authorization', '').lower().startswith('bearer ')
            response.headers.setdefault('WWW-Authenticate', 'Bearer realm="api"'
                                        + (', error="invalid_token"' if sent and request.endpoint != 'api.token' else ''))
        return response


def register_cli(app):
    from app.cli import install

    install(app)
