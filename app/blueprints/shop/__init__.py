"""Points shop pages: the phone catalogue, 个人兑换, 赠予直系亲属, 积分公益; the bureaus' resource review and
广志协's 公益池 on desktop."""
from datetime import datetime

from flask import Blueprint, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services import gifts, shop

bp = Blueprint('shop', __name__)
# who is offered 兑换记录 in the menu: the roles of the units that hold shop items and hand them over (providers,
# stations, district bureaus); only the holder unit itself sees and marks its hand-overs (shop.HOLDER_ROLES)
HANDOVER_ROLES = {'provider_admin', 'station_admin', 'district_admin'}


@bp.app_template_global()
def new_request_token() -> str:
    """A fresh id for one form: submitting it twice (a double tap) is recognised as the same request."""
    return shop.new_token()


@bp.app_template_global()
def point_label(kind) -> str:
    return shop.point_label(kind)


@bp.app_template_global()
def section_label(key) -> str:
    return shop.section_label(key)


@bp.app_template_global()
def gift_status(status) -> str:
    return str(gifts.STATUS_LABELS.get(status, status))


@bp.app_template_global()
def gift_logistics(gift) -> str:
    return gifts.logistics_text(gift)


@bp.app_template_global()
def item_status(status) -> str:
    return str(shop.ITEM_STATUSES.get(status, status))


@bp.app_template_filter()
def from_iso(value):
    """An ISO timestamp string (JSON-shaped service output) as a datetime for |datetimeformat."""
    return datetime.fromisoformat(value) if isinstance(value, str) and value else value


@bp.app_template_global()
def shop_nav():
    """(href, label, current) desktop links of this area for the signed-in user."""
    if not current_user.is_authenticated:
        return []
    roles = {m.role for m in current_user.memberships}
    ep = request.endpoint or ''
    links = []
    if 'district_admin' in roles:
        links.append((url_for('shop.review'), _('兑换资源审核'), ep == 'shop.review'))
    if 'association_admin' in roles:
        links.append((url_for('shop.pool'), _('公益池'), ep == 'shop.pool'))
    if roles & HANDOVER_ROLES:  # the units that hand over shop items
        links.append((url_for('shop.handovers'), _('兑换记录'), ep in ('shop.handovers', 'shop.handover')))
    return links


@bp.app_template_global()
def handover_status(row) -> str:
    return shop.fulfilment_status(row)


from app.blueprints.shop import routes  # noqa: E402,F401
