"""District statistics over the API: the same service, figures and jurisdiction as the 统计 page."""
from flask import g, jsonify, request

from app.blueprints.api import bp
from app.services import stats


@bp.get('/stats')
def district_stats():
    """?from=&to= (Beijing days, inclusive; default the current month) &district= (a district's code)."""
    return jsonify(stats.stats_from_args(g.api_user, request.args))
