"""Names of the shipped diagrams' processes and user tasks, so the English catalogue can carry them.

Diagrams keep the Chinese names administrators see and type in the editor; English pages look a name
up with `step_name()` (the `step` template filter). tests/unit/test_step_names.py keeps this list in
step with bpmn/*.bpmn; a name typed later in the editor simply shows as typed.
"""
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

NAMES = [
    # processes
    _l('服务对象录入'), _l('耆望成真V订单'), _l('志愿活动发布'), _l('赠予直系亲属兑换审核'),
    # service_object_entry
    _l('提交服务对象信息'), _l('社工站初审'), _l('镇街终审'),
    # v_order
    _l('填写订单'), _l('社工站发布审核'), _l('广志协终审'), _l('服务商派单'), _l('志愿者接单'), _l('接单人审核'),
    _l('确认完成并评价'), _l('时数认证'), _l('广志协认证审核'), _l('社工站重新派单'),
    # activity_publish
    _l('填写活动信息'), _l('广志协审核'), _l('退役军人事务局终审'),
    # relative_gift
    _l('填写赠予申请'),
    # activity_signup
    _l('志愿活动报名'), _l('填写报名信息'), _l('团队审核报名'), _l('社工站审核报名'),
    # history rows the system writes without a task (activities.SKIP_TITLE, gifts._expire)
    _l('广志协审核（白名单免审）'), _l('广志协审核（逾期）'), _l('报名审核（逾期）'),
    # activity_signups.CANCEL_TITLE, and the row that ends the sign-ups of a withdrawn activity
    _l('志愿者取消报名'), _l('活动撤销，报名结束'),
    # submissions.WITHDRAW_TITLE: the submitter withdrew their case (撤回)
    _l('提交人撤回'),
]
SEPARATOR = '、'


def step_with_subject(value, subject=None) -> str:
    """'接单人审核（李晓敏）': a step name in the current language, with whom the one task is about (if anyone)."""
    name = step_name(value)
    return gettext('%(step)s（%(subject)s）', step=name, subject=subject) if subject else name


def step_name(value) -> str:
    """A step or process name in the current language; several steps joined by '、' each translated."""
    if not value:
        return value or ''
    return gettext('、').join(gettext(p) for p in str(value).split(SEPARATOR))
