"""团队志愿者: a team's roster and the batch import of volunteers, for its team admins and its street's station."""
from flask import Blueprint, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services import volunteers

bp = Blueprint('teams', __name__)


@bp.app_template_global()
def team_nav():
    """(href, label, current) desktop link of this area for the signed-in user: only when they manage a team."""
    if not current_user.is_authenticated or not volunteers.manages_teams(current_user):
        return []
    return [(url_for('teams.index'), _('团队志愿者'), (request.endpoint or '').startswith('teams.'))]


from app.blueprints.teams import routes  # noqa: E402,F401
