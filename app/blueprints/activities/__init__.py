"""Activities: the public list, the team's publish/resubmit pages and 广志协's list management."""
from flask import Blueprint, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services import unit_lists
from app.services.activities import PUBLISHER_ROLES, STATUS_LABELS

bp = Blueprint('activities', __name__)


@bp.app_template_global()
def blacklisted_instance_ids(instance_ids):
    """Instances whose submitting unit is blacklisted (one query per page of a review list)."""
    return unit_lists.blacklisted_instance_ids(instance_ids)


@bp.app_template_global()
def activity_status(status):
    return str(STATUS_LABELS.get(status, status))


@bp.app_template_global()
def activity_nav():
    """(href, label, current) links of this area for the signed-in user."""
    if not current_user.is_authenticated:
        return []
    roles = {m.role for m in current_user.memberships}
    ep = request.endpoint or ''
    links = [('activities.index', _('志愿活动'), ep in ('activities.index', 'activities.detail'))]
    if roles & PUBLISHER_ROLES:
        links.append(('activities.mine', _('我的活动'), ep in ('activities.mine', 'activities.new', 'activities.case',
                                                                'activities.resubmit')))
    if 'volunteer' in roles:
        links.append(('activities.my_signups', _('我的报名'), ep in ('activities.my_signups', 'activities.signup',
                                                                     'activities.cancel_signup')))
    if 'association_admin' in roles:
        links.append(('activities.admin_lists', _('名单与敏感词'), ep.startswith('activities.admin')))
    return [(url_for(e), label, cur) for e, label, cur in links]


from app.blueprints.activities import routes  # noqa: E402,F401
