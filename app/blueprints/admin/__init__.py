"""Process administration pages: BPMN editor, versions, migrations, instance viewer, case list, 用户管理
(process_admin only)."""
from flask import Blueprint

bp = Blueprint('admin', __name__)

from app.blueprints.admin import cases, routes, users  # noqa: E402,F401
