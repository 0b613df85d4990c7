"""JSON API v1: bearer-token auth, same services and jurisdiction as the pages."""
from flask import Blueprint, g, jsonify, request

from app.blueprints.errors import error_payload
from app.services.auth import user_for_token
from app.services.errors import Unauthorized
from app.services.shop import TokenRefused

bp = Blueprint('api', __name__)
PUBLIC = {'api.token'}


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC:
        return
    header = request.headers.get('Authorization', '')
    scheme, _, raw = header.partition(' ')
    user = user_for_token(raw.strip()) if scheme.lower() == 'bearer' else None
    if user is None:
        raise Unauthorized()
    g.api_user = user


@bp.errorhandler(TokenRefused)
def token_refused(exc: TokenRefused):
    """A missing or malformed request_token in the words of a client that has no page to refresh: 必填, or the rule."""
    exc = exc.for_client()
    return jsonify(error_payload(exc)), exc.status


from app.blueprints.api import admin_users, audit, routes, signups, stats, teams  # noqa: E402,F401
