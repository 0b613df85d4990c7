"""V-order pages: publish and follow on a phone, accept open orders, order detail with cancel/abort, and the
back office's order list (订单管理)."""
from flask import Blueprint
from flask_login import current_user

from app.services import order_list, v_orders

bp = Blueprint('orders', __name__)


@bp.app_template_global()
def may_list_orders() -> bool:
    """Whether the signed-in user has the back office's order list (the nav link)."""
    return current_user.is_authenticated and order_list.may_list_orders(current_user)


bp.add_app_template_global(order_list.volunteer_counts, 'order_volunteer_counts')
bp.add_app_template_global(v_orders.certify_due_at, 'order_certify_due')
bp.add_app_template_global(v_orders.status_tone, 'order_tone')
bp.add_app_template_global(order_list.service_period, 'order_period')
bp.add_app_template_global(v_orders.beijing, 'beijing')


@bp.app_template_global()
def acceptance_label(status) -> str:
    return str(v_orders.ACCEPTANCE_LABELS.get(status, status))

from app.blueprints.orders import routes  # noqa: E402,F401
