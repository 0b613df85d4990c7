"""Phone pages for volunteers and stations: submit, follow, correct and resubmit."""
from flask import Blueprint

bp = Blueprint('mobile', __name__)

from app.blueprints.mobile import routes  # noqa: E402,F401
