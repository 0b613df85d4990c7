"""Excel exports: ask for a list as .xlsx, follow its progress, download it (own exports only)."""
import unicodedata
from io import BytesIO
from urllib.parse import quote

from flask import Blueprint, send_file

from app.services import exports

bp = Blueprint('exports', __name__)


def send_xlsx(content: bytes, name: str, fallback: str):
    """An .xlsx download named `name`. For clients that read only the plain `filename=` (not `filename*`), a name
    that is not ASCII gets `fallback` for what is lost (志愿者导入模板.xlsx: volunteer-import-template.xlsx, not the
    ".xlsx" Werkzeug would leave)."""
    resp = send_file(BytesIO(content), mimetype=exports.XLSX, as_attachment=True, download_name=name)
    plain = unicodedata.normalize('NFKD', name).encode('ascii', 'ignore').decode('ascii')
    if plain != name:
        plain = plain if plain[:1].isalnum() else fallback + plain
        resp.headers.set('Content-Disposition', 'attachment', filename=plain,
                         **{'filename*': "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")})
    return resp


@bp.app_template_global()
def export_view(job) -> dict:
    return exports.job_view(job)


@bp.app_template_global()
def filter_label(name, value) -> str:
    return exports.filter_label(name, value)

from app.blueprints.exports import routes  # noqa: E402,F401
