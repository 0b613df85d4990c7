"""用户管理 over the API: process administrators only (403 for anyone else), the same use cases as the pages."""
from flask import g, jsonify, request

from app.blueprints.api import bp
from app.blueprints.api.schemas import ReasonRequest, body
from app.blueprints.web import page_arg
from app.services import accounts


@bp.get('/admin/users')
def admin_users():
    """?q= (username, name or the phone number's last digits) &role= &status=active|inactive &page= (20 a page)."""
    rows, total = accounts.search_users(g.api_user, request.args, page_arg())
    return jsonify({'items': [accounts.account_row(u) for u in rows], 'total': total, 'page': page_arg(),
                    'per_page': accounts.PER_PAGE})


@bp.post('/admin/users/<int:user_id>/deactivate')
def admin_user_deactivate(user_id):
    """{"reason"} (required, at most 500 characters) -> {"user", "ended_sign_ins", "ended_api_logins",
    "released_tasks"}: the account's sign-ins and tokens ended and the ids of the tasks it no longer holds claimed."""
    user, ended = accounts.deactivate(g.api_user, user_id, body(ReasonRequest)['reason'], via='api')
    return jsonify({'user': accounts.account_row(user), **ended})


@bp.post('/admin/users/<int:user_id>/activate')
def admin_user_activate(user_id):
    """{"reason"} (required) -> {"user"}."""
    user = accounts.activate(g.api_user, user_id, body(ReasonRequest)['reason'], via='api')
    return jsonify({'user': accounts.account_row(user)})
