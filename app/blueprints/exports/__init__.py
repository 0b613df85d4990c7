"""Excel exports: ask for a list as .xlsx, follow its progress, download it (own exports only)."""
from flask import Blueprint

from app.services import exports

bp = Blueprint('exports', __name__)


@bp.app_template_global()
def export_view(job) -> dict:
    return exports.job_view(job)


@bp.app_template_global()
def filter_label(name, value) -> str:
    return exports.filter_label(name, value)

from app.blueprints.exports import routes  # noqa: E402,F401
