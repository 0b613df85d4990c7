"""Login, logout and the home redirect; the session user is loaded here."""
from flask import Blueprint, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.extensions import db, login_manager
from app.models import User
from app.services import row_id

bp = Blueprint('auth', __name__)


@login_manager.user_loader
def load_user(user_id):
    if not row_id(user_id):
        return None
    return db.session.get(User, row_id(user_id), options=[selectinload(User.memberships)])


# what a user who must replace the initial password may still open before doing so
PASSWORD_CHANGE_OPEN = {'auth.change_password', 'auth.logout', 'auth.logout_page', 'auth.login', 'auth.health', 'static',
                        'i18n.switch'}


@bp.before_app_request
def require_password_change():
    """An account created by a team's batch import signs in with its initial password and must replace it first."""
    if request.endpoint in PASSWORD_CHANGE_OPEN or request.path.startswith('/api/'):
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for('auth.change_password', next=request.full_path if request.method == 'GET' else None))
    return None


from app.blueprints.auth import routes  # noqa: E402,F401
