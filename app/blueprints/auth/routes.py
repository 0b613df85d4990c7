from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.blueprints.auth import bp
from app.extensions import limiter
from app.services.auth import authenticate

REVIEW_ROLES = {'station_admin', 'street_admin', 'district_admin', 'association_admin', 'provider_admin',
                'veterans_admin', 'team_admin', 'process_admin'}


def _safe_next(target):
    return target if target and target.startswith('/') and not target.startswith('//') else None


@bp.get('/')
def home():
    if not current_user.is_authenticated:
        return redirect(url_for('auth.login'))
    roles = {m.role for m in current_user.memberships}
    if roles == {'process_admin'}:  # no inbox of their own: the review chains are their work
        return redirect(url_for('admin.processes'))
    if roles & REVIEW_ROLES:
        return redirect(url_for('inbox.index'))
    return redirect(url_for('mobile.home'))


@bp.route('/login', methods=['GET', 'POST'])
# only failed attempts count: volunteers signing in one after another behind a station's one address must not
# lock each other out, while guessing passwords is still throttled
@limiter.limit(lambda: current_app.config['RATELIMIT_LOGIN'], methods=['POST'],
               deduct_when=lambda response: response.status_code != 302)
def login():
    if request.method == 'POST':
        user = authenticate(request.form.get('username', ''), request.form.get('password', ''))
        if user:
            login_user(user, remember=bool(request.form.get('remember')))
            return redirect(_safe_next(request.args.get('next')) or url_for('auth.home'))
        flash(_('用户名或密码错误'), 'error')
    return render_template('auth/login.html', username=request.form.get('username', ''))


@bp.post('/logout')
@login_required
def logout():
    logout_user()
    return redirect(url_for('auth.login'))
