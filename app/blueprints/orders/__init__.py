"""V-order pages: publish and follow on a phone, accept open orders, order detail with cancel/abort."""
from flask import Blueprint

bp = Blueprint('orders', __name__)

from app.blueprints.orders import routes  # noqa: E402,F401
