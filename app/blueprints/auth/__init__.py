"""Login, logout and the home redirect; the session user is loaded here."""
from flask import Blueprint

from app.extensions import db, login_manager
from app.models import User

bp = Blueprint('auth', __name__)


@login_manager.user_loader
def load_user(user_id):
    return db.session.get(User, int(user_id)) if str(user_id).isdigit() else None


from app.blueprints.auth import routes  # noqa: E402,F401
