"""统计: the district figures per street, for the district bureaus (own district), the association and the process
admin (the city)."""
from flask import Blueprint, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services import stats

bp = Blueprint('stats', __name__)


@bp.app_template_global()
def stats_nav():
    """(href, label, current) desktop link of this area for the signed-in user: only for the roles that read it."""
    if not current_user.is_authenticated or not stats.may_see_stats(current_user):
        return []
    return [(url_for('stats.index'), _('统计'), (request.endpoint or '').startswith('stats.'))]


from app.blueprints.stats import routes  # noqa: E402,F401
