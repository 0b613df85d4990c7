"""Process administration pages: BPMN editor, versions, migrations, instance viewer, case list (process_admin only)."""
from flask import Blueprint

bp = Blueprint('admin', __name__)

from app.blueprints.admin import cases, routes  # noqa: E402,F401
