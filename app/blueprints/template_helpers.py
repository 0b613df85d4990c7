"""Jinja globals: labels for form fields, options and decisions, and page links."""
from flask import request, url_for
from flask_babel import lazy_gettext as _l

from app.services import forms, tasks, v_orders
from app.services.roles import role_label
from app.services.service_objects import STATUS_LABELS
from app.services.status import status_label
from app.services.step_names import step_name
from app.services.validators import mask_id

DECISIONS = {'approve': _l('通过'), 'reject': _l('不通过'), 'submit': _l('提交'), 'auto': _l('系统自动'),
             'reset': _l('回退'), 'migrate': _l('迁移到新版本'), 'cancel': _l('取消订单'), 'abort': _l('中止订单'),
             'expire': _l('订单过期'), 'remind': _l('提醒')}


def option_label(prop: dict, value):
    if prop.get('format') == 'cn-id-card':
        return mask_id(str(value))
    options = dict(forms.option_list(prop)) if (prop.get('enum') or prop.get('x-options')) else {}
    return options.get(value, value)


def decision_label(value):
    return str(DECISIONS.get(value, value or ''))


def url_with(**changes):
    args = {**request.args.to_dict(), **changes}
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def so_status(value):
    return str(STATUS_LABELS.get(value, value))


def install(app):
    app.jinja_env.globals.update(field_order=forms.field_order, label=forms.label, option_list=forms.option_list,
                                 option_label=option_label, decision_label=decision_label, url_with=url_with,
                                 role_label=role_label, mask_id=mask_id, get_form=forms.get_form,
                                 status_label=status_label,
                                 case_status=lambda inst: status_label(inst, tasks.open_tasks(inst.id)), so_status=so_status,
                                 order_status=v_orders.status_label, approved_count=v_orders.approved_count)
    app.jinja_env.filters['step'] = step_name
