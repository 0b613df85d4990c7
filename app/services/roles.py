"""Role keys used as BPMN lane names, with the words users see."""
from flask_babel import lazy_gettext as _l

ROLES = {
    'submitter': _l('发起人'),
    'volunteer': _l('志愿者'),
    'team_admin': _l('团队管理员'),
    'station_admin': _l('社工站账号'),
    'street_admin': _l('镇（街）管理员'),
    'district_admin': _l('区民政局'),
    'association_admin': _l('广志协'),
    'provider_admin': _l('服务商'),
    'veterans_admin': _l('退役军人事务局'),
    'process_admin': _l('流程管理员'),
}

# lanes a diagram may use: every role plus the initiator pseudo-role
LANE_ROLES = set(ROLES)


def role_label(key):
    return str(ROLES.get(key, key or ''))
