"""Jinja globals: labels for form fields, options and decisions, page links, and the punctuation of the page's
language around them.

Chinese pages write "状态：", "李晓敏（已确定）"; English ones "Status: ", "李晓敏 (Confirmed)". So templates never
write full-width punctuation next to translated text: a label and its value take the `colon` filter
(`{{ _('状态')|colon }}{{ value }}`), a text and its note in brackets the `paren` filter (`{{ v.name|paren(state) }}`),
and a separator its own msgid (`{{ _('，') }}`, `join(_('、'))`); a phrase whose English words are ordered
differently is one msgid with placeholders (`_('%(step)s（%(who)s）的意见：', ...)`). A text the app stored in
Chinese takes the `step` filter (a step name) or the `stored` filter (a case title it built, a system's reason).
"""
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, g, request, url_for
from flask_babel import gettext, pgettext
from flask_babel import lazy_gettext as _l
from jinja2 import Undefined
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from app.services import forms, in_chinese, messages, org_cache, tasks, v_orders
from app.services.audit_log import UNIT_KINDS
from app.services.roles import role_label
from app.services.service_objects import STATUS_LABELS
from app.services.status import status_label
from app.services.step_names import step_name, step_with_subject, stored_text
from app.services.validators import mask_id

# the other decisions, named like their steps (approve, reject and submit: `decision_label`)
DECISIONS = {'auto': _l('系统自动'), 'reset': _l('回退'), 'migrate': _l('迁移到新版本'), 'cancel': _l('取消订单'),
             'abort': _l('中止订单'), 'expire': _l('订单过期'), 'remind': _l('提醒'), 'withdraw': _l('撤回')}


BEIJING = ZoneInfo('Asia/Shanghai')


def local_time(value) -> str:
    """An ISO date-time as Beijing time, '2026-11-24 02:20' (naive values are taken as Beijing time)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(BEIJING)
    return moment.strftime('%Y-%m-%d %H:%M')


def option_label(prop: dict, value):
    if prop.get('format') == 'cn-id-card':
        return mask_id(str(value))
    if prop.get('format') == 'date-time' and isinstance(value, str):
        return local_time(value)
    options = dict(forms.option_list(prop)) if (prop.get('enum') or prop.get('x-options')) else {}
    return options.get(value, value)


def decision_label(value):
    """A decision already taken: 'Approved' in English, where the button that takes it says 'Approve' (the same
    Chinese 通过); its own msgids, in the context 'decided' (the context 'decision' holds the lower-case words of
    messages)."""
    taken = {'approve': pgettext('decided', '通过'), 'reject': pgettext('decided', '不通过'),
             'submit': pgettext('decided', '提交')}
    return str(taken.get(value) or DECISIONS.get(value, value or ''))


def url_with(**changes):
    """This page's address with some query arguments changed (a pager's page=...). A page answering a POST (a
    refused form) links from the address it stands for (`url_after_post`), not from the POST-only one."""
    target = url_after_post() if request.method == 'POST' else None
    if target:
        parts = urlsplit(target)
        args = {k: v for k, v in {**dict(parse_qsl(parts.query)), **changes}.items() if v is not None}
        return parts.path + ('?' + urlencode(args) if args else '')
    args = {**request.args.to_dict(), **changes}
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def colon(label) -> Markup:
    """'状态：' / 'Status: ': a label and the colon that introduces its value, in the page's language."""
    return Markup(gettext('%(label)s：')) % {'label': label}


def paren(text, note=None) -> Markup:
    """'李晓敏（已确定）' / '李晓敏 (Confirmed)': a text and a note in brackets, in the page's language; the text
    alone when there is no note (None, '' or undefined; 0 is a note)."""
    if note is None or isinstance(note, Undefined) or note == '':
        return escape(text)
    return Markup(gettext('%(text)s（%(note)s）')) % {'text': text, 'note': note}


def unit_place(code) -> str:
    """What a unit is and where, for a reader who does not know its code: 志愿服务团队 · 荔湾区 · 西村街."""
    found = org_cache.unit(code)
    if found is None:
        return ''
    return ' · '.join([str(UNIT_KINDS.get(found.kind, found.kind)), *org_cache.place_names(code)])


def so_status(value):
    return str(STATUS_LABELS.get(value, value))


def js_strings() -> dict:
    """Texts app.js writes into pages, in the page's language (placeholders like %(n)s filled in by app.js)."""
    return {
        'kept': str(_l('已保留 %(n)s 张')), 'picked': str(_l('已选择 %(n)s 张新照片')),
        'none': str(_l('还没有选择照片（需要 %(min)s–%(max)s 张）')),
        'none_optional': str(_l('还没有选择照片（可选，最多 %(max)s 张）')), 'sep': str(_l('，')),
        'list_sep': str(_l('、')),
        'total': str(_l('%(parts)s，共 %(total)s 张（最多 %(max)s 张）')),
        'too_many': str(_l('最多 %(max)s 张，请减少 %(n)s 张')),
        'not_image': str(_l('“%(name)s”不是 %(types)s 图片')), 'too_big': str(_l('“%(name)s”超过 %(mb)s MB')),
        'not_added': str(_l('%(problem)s，未加入')),
        'issues_sep': str(_l('；')), 'selected': str(_l('已选 %(n)s 项')), 'select_hint': str(_l('勾选任务后可批量处理')),
        'select_first': str(_l('请先勾选要处理的任务')), 'reason_needed': str(_l('批量不通过时必须填写意见')),
        'geo_wait': str(_l('正在定位，请稍候…')), 'geo_done': str(_l('已填入当前位置（误差约 %(m)s 米），可再修改')),
        'geo_denied': str(_l('无法获取位置：请在手机设置中允许浏览器使用定位，或手动填写')),
        'geo_failed': str(_l('定位失败，请到开阔处再试，或手动填写')),
        'geo_outside': str(_l('当前位置不在本市服务范围内，请手动填写服务地点的位置')),
    }


def url_after_post() -> str | None:
    """The address a page answering a POST (a form refused with its errors) stands for in the browser's history:
    its own address when that can be opened (GET), else the one its view named (`g.page_url`, the task page of a
    refused decision). None for a GET, or when there is none.

    Pages are never cached (no-store), so without this, Back or Forward onto such a page shows the browser's
    "confirm form resubmission" error (ERR_CACHE_MISS) instead of a page: an elderly volunteer who corrected
    a refused form, submitted it and pressed Back met that screen."""
    if request.method != 'POST':
        return None
    if getattr(g, 'page_url', None):
        return g.page_url
    try:
        current_app.url_map.bind_to_environ(request.environ).match(request.path, method='GET')
    except HTTPException:
        return None
    return request.full_path.rstrip('?')


def outcome_steps() -> set[str]:
    """History rows whose step names what was done (a V-order's 服务商退回订单 / 社工站收回派单, stored in Chinese):
    their 提交 says nothing more."""
    return {in_chinese(t) for t in v_orders.RETURN_STEPS.values()}


def install(app):
    app.jinja_env.globals.update(field_order=forms.field_order, label=forms.label, hint=forms.hint, option_list=forms.option_list,
                                 required_when=forms.required_when,
                                 option_label=option_label, decision_label=decision_label, url_with=url_with,
                                 role_label=role_label, mask_id=mask_id, get_form=forms.get_form,
                                 status_label=status_label,
                                 case_status=lambda inst: status_label(inst, tasks.open_tasks(inst.id)), so_status=so_status,
                                 order_status=v_orders.status_label, approved_count=v_orders.approved_count,
                                 task_link=messages.task_link, url_after_post=url_after_post,
                                 outcome_steps=outcome_steps, unit_place=unit_place)
    app.jinja_env.tests['review_task'] = tasks.is_review
    app.jinja_env.filters['step'] = step_name
    app.jinja_env.filters['step_about'] = step_with_subject
    app.jinja_env.filters['stored'] = stored_text  # a case title or a system's reason stored in Chinese
    app.jinja_env.filters['colon'] = colon
    app.jinja_env.filters['paren'] = paren
    app.jinja_env.globals['js_strings'] = js_strings
