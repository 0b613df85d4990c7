from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user

from app.blueprints.auth import bp
from app.extensions import login_throttle, retry_after_seconds
from app.services.auth import (
    AccountDisabled,
    authenticate,
    end_sign_in,
    ended_by_deactivation,
    password_change_reason,
    replace_required_password,
    start_sign_in,
)
from app.services.errors import ValidationFailed
from app.services.volunteers import PASSWORD_MIN

REVIEW_ROLES = {'station_admin', 'street_admin', 'district_admin', 'association_admin', 'provider_admin',
                'veterans_admin', 'team_admin', 'process_admin'}


def _safe_next(target):
    """A path on this site to go on to, None otherwise. Browsers drop tabs and line breaks from a Location and read
    a backslash as a slash, so a `next` with either could still name another site once they are gone."""
    if not target or not target.startswith('/') or target.startswith('//'):
        return None
    if '\\' in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@bp.get('/')
def home():
    if not current_user.is_authenticated:
        return redirect(url_for('auth.login'))
    roles = {m.role for m in current_user.memberships}
    if roles == {'process_admin'}:  # no inbox of their own: the review chains are their work
        return redirect(url_for('admin.processes'))
    if roles == {'district_admin'}:  # no diagram has a district lane: their reviews are the district's resources
        return redirect(url_for('shop.review'))
    if roles & REVIEW_ROLES:
        return redirect(url_for('inbox.index'))
    return redirect(url_for('mobile.home'))


@bp.route('/login', methods=['GET', 'POST'])
# only failed attempts count (the form shown again, 200), per username and address: volunteers signing in one
# after another behind a station's one address do not lock each other out, while guessing passwords is throttled
@login_throttle(lambda: request.form.get('username', ''), methods=['POST'],
                failed=lambda response: request.method == 'POST' and response.status_code == 200)
def login():
    if request.method == 'GET':
        _say_if_deactivated()
    if request.method == 'POST':
        try:
            user, refusal = authenticate(request.form.get('username', ''), request.form.get('password', '')), None
        except AccountDisabled as exc:  # the right password: its owner may know why
            user, refusal = None, exc.message
        if user:
            start_sign_in(user)
            login_user(user, remember=bool(request.form.get('remember')))
            if user.must_change_password:
                return redirect(url_for('auth.change_password', next=_safe_next(request.args.get('next'))))
            return redirect(_safe_next(request.args.get('next')) or url_for('auth.home'))
        flash(str(refusal or _('用户名或密码错误')), 'error')
    return render_template('auth/login.html', username=request.form.get('username', ''))


def _say_if_deactivated() -> None:
    """A browser sent here because an administrator deactivated its account (its cookies still name the ended
    sign-in) is told so, once: the ended sign-in and its remember cookie are forgotten with the notice."""
    if not current_user.is_authenticated and ended_by_deactivation(session.get('_user_id')):
        flash(_('您的账号已被管理员停用，已退出登录；如有疑问请联系管理员'), 'warning')
        logout_user()


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(exc):
    """Too many failed logins (the only limit here): the form again with the username kept and how long to wait (429)."""
    wait = retry_after_seconds() or 60
    flash(_('登录失败次数过多，请 %(n)s 秒后再试；忘记密码请联系管理员重置', n=wait), 'error')
    return render_template('auth/login.html', username=request.form.get('username', '')), 429


@bp.route('/password', methods=['GET', 'POST'])
@login_required
def change_password():
    """首次登录修改密码: the initial password (last 6 of the ID number) or an administrator's temporary one is
    replaced before anything else. Only then: changing a password otherwise asks for the current one, which this
    page does not. The page says which password it is (password_change_reason)."""
    reason = password_change_reason(current_user)
    if reason is None:
        return redirect(url_for('auth.home'))
    if request.method == 'POST':
        try:
            replace_required_password(current_user, request.form.get('password', ''), request.form.get('confirm', ''))
        except ValidationFailed as exc:
            return render_template('auth/password.html', errors=exc.errors, min_length=PASSWORD_MIN,
                                   reason=reason), 422
        # every other sign-in ended with the old password (volunteers.change_initial_password); this one goes on
        flash(_('密码已修改，以后请用新密码登录'), 'success')
        return redirect(_safe_next(request.args.get('next')) or url_for('auth.home'))
    return render_template('auth/password.html', errors={}, min_length=PASSWORD_MIN, reason=reason)


@bp.get('/logout')
def logout_page():
    """An old bookmark or a typed /logout: the 退出 button (signing out is a POST, so no other site can do it)."""
    if not current_user.is_authenticated:
        return redirect(url_for('auth.login'))
    return render_template('auth/logout.html')


@bp.get('/healthz')
def health():
    """For the load balancer or monitoring: 200 when the database answers, 503 otherwise."""
    from sqlalchemy import text

    from app.extensions import db
    try:
        db.session.execute(text('SELECT 1'))
    except Exception:  # noqa: BLE001 - any database failure is "not healthy"
        db.session.rollback()
        return {'status': 'unavailable', 'database': False}, 503
    return {'status': 'ok', 'database': True}


@bp.post('/logout')
@login_required
def logout():
    """Ends this browser's sign-in: a session or remember cookie copied from it ends too (other browsers of a
    shared account stay signed in)."""
    end_sign_in(current_user)
    logout_user()
    return redirect(url_for('auth.login'))
