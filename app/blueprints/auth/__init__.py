"""Login, logout and the home redirect; the session user is loaded here."""
from flask import Blueprint
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


from app.blueprints.auth import routes  # noqa: E402,F401
