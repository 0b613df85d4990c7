from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.orders import bp
from app.blueprints.web import form_values, page_arg, uploads
from app.services import forms, ledger, order_list, shop, tasks, v_order_steps, v_order_views, v_orders
from app.services.errors import Forbidden, ServiceError, ValidationFailed

FORM_KEY = 'v_order.json'


@bp.before_request
@login_required
def _login():
    return None


@bp.app_template_global()
def order_place_words(location) -> str:
    """The order form's map point in words (西村街附近), '' when none is filled in."""
    return v_orders.place_words(location) if isinstance(location, dict) else ''


def order_values(form) -> dict:
    """The order form's fields as sent. A map point with both boxes left empty was not chosen at all: it is
    refused as a missing field (next to the buttons that choose one), not as 请填写纬度 and 请填写经度."""
    values = form_values(form)
    if not any(str(v).strip() for v in (values.get('location') or {}).values()):
        values.pop('location', None)
    return values


def _form_page(values, errors, kept, status=200):
    return render_template('orders/new.html', form=forms.get_form(FORM_KEY), values=values, errors=errors, kept=kept,
                           options=tasks.hooks_for(v_orders.PROCESS_KEY).form_options(current_user, FORM_KEY),
                           order_form=v_orders.order_form_context(current_user)), status


@bp.get('/m/orders/new')
def new():
    if not tasks.hooks_for(v_orders.PROCESS_KEY).can_start(current_user):  # refused before the form is filled in
        raise Forbidden(_('您的账号不能发起此流程'))
    return _form_page({'demand_type': 'others', 'category': 'general', 'volunteers_needed': '1',
                       'request_token': shop.new_token()}, {}, [])


@bp.post('/m/orders/new')
def create():
    values = {**order_values(forms.get_form(FORM_KEY)), 'request_token': request.form.get('request_token', '')}
    try:
        inst, created = v_orders.publish(current_user, values, uploads('qualification_files_new'))
    except ValidationFailed as exc:
        return _form_page(values, exc.errors, getattr(exc, 'kept_files', []), exc.status)
    flash(_('订单已提交，等待社工站审核') if created else _('该订单已提交，请勿重复提交'), 'success')
    return redirect(url_for('orders.detail', order_id=v_orders.order_for(inst).id))


@bp.get('/m/orders')
def mine():
    rows, total = v_orders.my_orders(current_user, page_arg())
    return render_template('orders/mine.html', rows=rows, total=total, page=page_arg(),
                           accepted=v_orders.accepted_orders(current_user))


@bp.get('/m/orders/open')
def open_orders():
    rows, total = v_orders.open_for_volunteer(current_user, page_arg())
    return render_template('orders/open.html', rows=rows, total=total, page=page_arg())


@bp.get('/m/orders/offers/<int:task_id>')
def offer(task_id):
    """Where a volunteer's 接单 offer leads once it is over: what became of the order (cancelled, expired, taken)."""
    where, shown = v_order_views.offer_outcome(current_user, task_id)
    return redirect(where) if where else render_template('orders/offer.html', **shown)


@bp.post('/m/orders/accept/<int:task_id>')
def accept(task_id):
    try:
        v_orders.accept_order(current_user, task_id, request.form.get('note', ''))
        flash(_('已接单，等待社工站审核'), 'success')
    except ServiceError as exc:
        flash(str(getattr(exc, 'errors', None) and next(iter(exc.errors.values()))[0] or exc.message), 'error')
    return redirect(url_for('orders.open_orders'))


@bp.get('/orders')
def index():
    """订单管理: the orders of the user's unit, filtered; a bad filter is explained and the typed ones are kept."""
    try:
        rows, total = order_list.search_orders(current_user, request.args, page_arg())
        errors = {}
    except ValidationFailed as exc:
        rows, total, errors = [], 0, exc.errors
    return render_template('orders/list.html', rows=rows, total=total, errors=errors, page=page_arg(),
                           f=request.args, statuses=v_orders.list_statuses(current_user, order_list.LIST_FILTERS)), \
        422 if errors else 200


@bp.get('/orders/<int:order_id>')
def detail(order_id):
    return _detail_page(v_orders.visible_order(current_user, order_id))


def _detail_page(order, take_back_errors=None, typed=None, status=200, close_errors=None, withdraw_errors=None):
    """The order page; a refused 收回派单 (or 取消 / 中止) shows its message under its reason, which keeps what was
    typed."""
    open_tasks = tasks.open_tasks(order.instance_id)
    return render_template('orders/detail.html', order=order, view=v_orders.order_view(order),
                           facts=v_orders.order_page_facts(order),
                           history=tasks.instance_history(order.instance_id),
                           my_tasks=[t for t in open_tasks if tasks.can_act(current_user, t)],
                           provider_note=v_orders.provider_note(order, open_tasks),
                           can_manage=v_order_steps.may_manage(current_user, order),
                           can_take_back=v_order_steps.may_take_back(current_user, order),
                           take_back_errors=take_back_errors or {}, typed=typed or {},
                           close_errors=close_errors or {},
                           withdraw_kind=v_order_steps.withdraw_kind(current_user, order),
                           withdraw_errors=withdraw_errors or {},
                           certify_due=v_orders.certify_due_at(order)), status


@bp.post('/orders/<int:order_id>/take-back')
def take_back(order_id):
    """收回派单: the station takes back an order its provider has not dispatched, then dispatches it again."""
    reason = request.form.get('reason', '')
    g.page_url = url_for('orders.detail', order_id=order_id)  # a refused take-back's page, in the browser's history
    try:
        again = v_order_steps.take_back(current_user, order_id, reason)
    except ValidationFailed as exc:
        return _detail_page(v_orders.visible_order(current_user, order_id), exc.errors, {'reason': reason}, exc.status)
    except ServiceError as exc:
        if exc.status == 404:
            raise
        flash(str(exc.message), 'error')
        return redirect(url_for('orders.detail', order_id=order_id))
    flash(_('已收回派单，请重新派单：开放给志愿者接单或派给其他服务商'), 'success')
    if again is not None:
        return redirect(url_for('inbox.task', task_id=again))
    return redirect(url_for('orders.detail', order_id=order_id))


@bp.post('/orders/<int:order_id>/withdraw')
def withdraw(order_id):
    """拒绝派单 / 放弃接单: a volunteer ends their own acceptance before the service starts, with a reason."""
    reason = request.form.get('reason', '')
    g.page_url = url_for('orders.detail', order_id=order_id)
    try:
        order = v_order_steps.withdraw_acceptance(current_user, order_id, reason)
    except ValidationFailed as exc:
        return _detail_page(v_orders.visible_order(current_user, order_id), typed={'withdraw_reason': reason},
                            status=exc.status, withdraw_errors=exc.errors)
    except ServiceError as exc:
        if exc.status == 404:
            raise
        flash(str(exc.message), 'error')
        return redirect(url_for('orders.detail', order_id=order_id))
    declined = any(v.user_id == current_user.id and v.status == 'declined' for v in order.volunteers)
    flash(_('已拒绝派单，社工站和服务商会收到您的原因') if declined else _('已放弃接单，社工站会收到您的原因'), 'success')
    return redirect(url_for('orders.detail', order_id=order_id))


@bp.post('/orders/<int:order_id>/<any(cancel, abort):action>')
def close(order_id, action):
    reason = request.form.get('reason', '')
    try:
        v_order_steps.close_order(current_user, order_id, action, reason)
        flash(_('订单已取消') if action == 'cancel' else _('订单已中止'), 'success')
    except ValidationFailed as exc:  # the reason missing or too long: the page again, with what was typed
        g.page_url = url_for('orders.detail', order_id=order_id)
        return _detail_page(v_orders.visible_order(current_user, order_id), typed={'close_reason': reason},
                            status=exc.status, close_errors=exc.errors)
    except ServiceError as exc:
        flash(str(exc.message), 'error')
    return redirect(url_for('orders.detail', order_id=order_id))


@bp.get('/m/points')
def points():
    kind = request.args.get('type') if request.args.get('type') in shop.POINT_TYPES else ledger.ELDERLY_TIME
    return render_template('orders/points.html', s=ledger.statement(current_user, page_arg(), point_type=kind),
                           kind=kind, kinds=shop.POINT_TYPES, page=page_arg())
