from flask import render_template, request
from flask_login import current_user, login_required

from app.blueprints.stats import bp
from app.services import stats
from app.services.errors import ValidationFailed


@bp.before_request
@login_required
def _login():
    return None


@bp.get('/stats')
def index():
    """统计: a bad filter is explained and the typed values are kept; the figures are left out until it is fixed."""
    try:
        data, errors = stats.stats_from_args(current_user, request.args), {}
    except ValidationFailed as exc:
        data, errors = None, exc.errors
    return render_template('stats/index.html', data=data, errors=errors, f=request.args,
                           districts=stats.district_choices(current_user)), 422 if errors else 200
