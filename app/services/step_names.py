"""Names of the shipped diagrams' processes and user tasks, so the English catalogue can carry them, and the
other texts the app stores in Chinese when it writes a record (case titles, a history row's step and choice, a
system's reason), read back in the reader's language.

Diagrams keep the Chinese names administrators see and type in the editor; English pages look a name
up with `step_name()` (the `step` template filter). tests/unit/test_step_names.py keeps this list in
step with bpmn/*.bpmn; a name typed later in the editor simply shows as typed.

A text the app builds from a msgid with placeholders is stored filled in, in Chinese ('赠予李大爷：助浴服务'): the
writer fills in the msgid named here (GIFT_TITLE % {...}), and `stored_text()` (the `stored` template filter)
recognises the stored text by the same msgid and says it again in the reader's language, its parts unchanged. So
rows written before English was shown read right too.
"""
import re
from functools import cache

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


def N_(msgid: str) -> str:
    """Marks a msgid the app stores filled in, in Chinese (pybabel extracts N_); the text read back by `stored_text`."""
    return msgid


# a dispatch's history row: the step and whom it sent the order to (v_order_views.step_with_choice)
STEP_WITH_CHOICE = N_('%(step)s（%(subject)s）')
OPEN_CHOICE, PROVIDER_CHOICE, VOLUNTEER_CHOICE = N_('开放给志愿者接单'), N_('派给服务商：%(name)s'), N_('派给志愿者：%(name)s')
# case titles (WorkflowInstance.title): a relative gift, an activity sign-up, a service object and its masked ID number
GIFT_TITLE = N_('赠予%(name)s：%(item)s')
SIGNUP_TITLE = N_('%(name)s报名「%(title)s」')
PERSON_TITLE = N_('%(text)s（%(note)s）')
_MASKED_ID = r'\w{4}\*{10}\w{4}'  # validators.mask_id: other full-width brackets in a typed title stay as typed
# reasons the system writes on a history row (activities.SKIP_REASON)
WHITELIST_REASON = N_('白名单单位，按流程免予广志协审核')
_STORED = ((GIFT_TITLE, ()), (SIGNUP_TITLE, ()), (PERSON_TITLE, (('note', _MASKED_ID),)), (WHITELIST_REASON, ()))
_CHOICES = ((OPEN_CHOICE, ()), (PROVIDER_CHOICE, ()), (VOLUNTEER_CHOICE, ()))
_PLACEHOLDER = re.compile(r'%\((\w+)\)s')


@cache
def _pattern(msgid: str, shapes=()) -> re.Pattern:
    """The texts `msgid` filled in gives: each placeholder any text, or its shape in `shapes` ((name, regex), ...)."""
    shape, parts, at = dict(shapes), [], 0
    for found in _PLACEHOLDER.finditer(msgid):
        parts += [re.escape(msgid[at:found.start()]), f'(?P<{found[1]}>{shape.get(found[1], ".+?")})']
        at = found.end()
    return re.compile(''.join([*parts, re.escape(msgid[at:])]), re.S)


def _reword(text: str, known) -> str | None:
    """`text` read as the first msgid of `known` ((msgid, shapes), ...) it is filled in from (in Chinese), in the
    current language with the same parts; None if it is none of them."""
    for msgid, shapes in known:
        found = _pattern(msgid, shapes).fullmatch(text)
        if found:
            return gettext(msgid, **found.groupdict())
    return None


def stored_text(value) -> str:
    """A case title or a reason the app stored in Chinese (GIFT_TITLE, SIGNUP_TITLE, PERSON_TITLE, WHITELIST_REASON)
    in the current language; any other text (a typed title, a reviewer's reason) as it is."""
    if not value:
        return value or ''
    text = str(value)
    return _reword(text, _STORED) or text


def _with_choice(text: str) -> str | None:
    """'社工站发布审核（派给服务商：颐康居家养老服务中心）' (STEP_WITH_CHOICE) in the current language; None for any other."""
    found = _pattern(STEP_WITH_CHOICE).fullmatch(text)
    choice = found and _reword(found['subject'], _CHOICES)
    return gettext(STEP_WITH_CHOICE, step=step_name(found['step']), subject=choice) if choice else None


def step_with_subject(value, subject=None) -> str:
    """'接单人审核（李晓敏）': a step name in the current language, with whom the one task is about (if anyone)."""
    name = step_name(value)
    return gettext('%(step)s（%(subject)s）', step=name, subject=subject) if subject else name


def step_name(value) -> str:
    """A step or process name in the current language; several steps joined by '、' each translated; a dispatch's
    row with whom it sent the order to (STEP_WITH_CHOICE) with its step and choice translated."""
    if not value:
        return value or ''
    text = str(value)
    return _with_choice(text) or gettext('、').join(gettext(p) for p in text.split(SEPARATOR))
