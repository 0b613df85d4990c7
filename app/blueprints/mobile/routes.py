from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.blueprints.mobile import bp
from app.blueprints.orders.routes import order_values
from app.blueprints.web import file_uploads, form_values, page_arg, uploads
from app.services import forms, gifts, order_list, submissions, tasks, v_orders
from app.services.errors import Conflict, Forbidden, ValidationFailed
from app.services.service_objects import FORM_KEY, PROCESS_KEY
from app.services.step_names import step_name


@bp.before_request
@login_required
def _login():
    return None


ORDER_FORM = 'v_order.json'
PHONE_PROCESSES = (PROCESS_KEY, v_orders.PROCESS_KEY)  # the processes started from the phone pages' tiles


@bp.app_template_global()
def phone_starts() -> list[str]:
    """The phone-started processes the signed-in user may start (their tiles; the same rule refuses the forms)."""
    return [key for key in PHONE_PROCESSES if tasks.hooks_for(key).can_start(current_user)]


# the order lists an order page is opened from (path -> the back link's words)
ORDER_LISTS = {'/orders': _l('订单管理'), '/m/orders': _l('我的订单'), '/m/orders/open': _l('可接订单')}


@bp.app_template_global()
def order_back() -> tuple[str, str]:
    """(address, words) of an order page's back link: the order list the user came from, with its filters and page;
    opened from elsewhere (a message), their own list: the back office's 订单管理 for those who have it, else
    我的订单 (a volunteer's accepted and published orders)."""
    came = urlsplit(request.referrer or '')
    if came.netloc == request.host and came.path in ORDER_LISTS:
        return came.path + (f'?{came.query}' if came.query else ''), str(ORDER_LISTS[came.path])
    if order_list.may_list_orders(current_user):
        return url_for('orders.index'), _('订单管理')
    return url_for('orders.mine'), _('我的订单')


@bp.get('/')
def home():
    return render_template('mobile/home.html', **submissions.my_submissions(current_user, page=1, per_page=5))


def _form_page(values, errors, kept, action, title, status=200, form_key=FORM_KEY, options=None, rejection=None,
               case=None):
    """A phone form; `case`: the case a step of it belongs to (its title and page are shown above the form). A
    V-order's own form (its corrected version) is drawn as the order form is (为自己下单, 地图位置)."""
    form = forms.get_form(form_key)
    order_form = v_orders.order_form_context(current_user) if form_key == ORDER_FORM else None
    return render_template('mobile/form.html', form=form, values=values, errors=errors, kept=kept,
                           action=action, title=title, options=options or {}, rejection=rejection, case=case,
                           order_form=order_form), status


@bp.get('/service-objects/new')
def new_service_object():
    if not tasks.hooks_for(PROCESS_KEY).can_start(current_user):  # refused before the form is filled in
        raise Forbidden(_('您的账号不能发起此流程'))
    return _form_page({}, {}, [], url_for('mobile.new_service_object'), _('服务对象录入'))


@bp.post('/service-objects/new')
def create_service_object():
    values = form_values(forms.get_form(FORM_KEY))
    try:
        inst = submissions.start_with_files(current_user, PROCESS_KEY, FORM_KEY, values, uploads('proof_files_new'))
    except ValidationFailed as exc:
        return _form_page(values, exc.errors, getattr(exc, 'kept_files', []), url_for('mobile.new_service_object'),
                          _('服务对象录入'), exc.status)
    flash(_('已提交，等待社工站初审'), 'success')
    return redirect(url_for('mobile.case', instance_id=inst.id))


@bp.get('/cases')
def cases():
    """我的提交, all or of one 类型 (?process=v_order), page by page."""
    found = submissions.my_submissions(current_user, request.args.get('process'), page_arg())
    return render_template('mobile/cases.html', **found, page=page_arg())


def _my_task(instance_id):
    """(case, the open task waiting for the current user on it, or None)."""
    inst = tasks.visible_instance(current_user, instance_id)
    return inst, next((t for t in tasks.open_tasks(inst.id) if t.assignee_id == current_user.id), None)


def _not_yet(inst, task) -> str:
    """Why the user's own step cannot be done yet and from when ('' when it can)."""
    return (tasks.hooks_for(inst.process_key).not_yet(inst, task) if task is not None else None) or ''


@bp.get('/cases/<int:instance_id>')
def case(instance_id):
    view = tasks.case_view(current_user, instance_id)
    inst = view['inst']
    task = next((t for t in view['open_tasks'] if t.assignee_id == current_user.id), None)
    again = gifts.again_item(current_user, inst) if task is None else None  # a refused gift: 重新申请
    refusal = submissions.withdraw_refusal(current_user, inst, view['open_tasks'])
    # a running case of their own past its first review: the page says why there is no 撤回 and whom to ask
    reviewed = refusal if (refusal and inst.status == 'running' and inst.submitter_id == current_user.id
                           and submissions.withdrawable_kind(inst)) else None
    return render_template('mobile/case.html', **view, my_task=task,
                           resubmission=task is not None and tasks.is_resubmission(task),
                           waiting=_not_yet(inst, task), withdrawn=submissions.withdrawn_row(inst),
                           withdraw_url=url_for('mobile.withdraw', instance_id=inst.id) if refusal is None else None,
                           no_withdraw=reviewed,
                           again_url=url_for('shop.gift_form', item_id=again.item_id, again=again.id) if again else None)


def _withdraw_page(inst, errors=None, reason='', status=200):
    """撤回's confirmation: what withdrawing ends (a gift: the points it releases), the optional reason."""
    gift = gifts.for_instance(inst.id) if inst.process_key == gifts.PROCESS_KEY else None
    return render_template('mobile/withdraw.html', inst=inst, gift=gift, errors=errors or {}, reason=reason,
                           reason_max=submissions.WITHDRAW_REASON_MAX), status


@bp.route('/cases/<int:instance_id>/withdraw', methods=['GET', 'POST'])
def withdraw(instance_id):
    inst = submissions.own_case(current_user, instance_id)
    try:
        if request.method == 'GET':
            refusal = submissions.withdraw_refusal(current_user, inst)
            if refusal:
                raise Conflict(refusal)
            return _withdraw_page(inst)
        submissions.withdraw(current_user, inst.id, request.form.get('reason'))
    except ValidationFailed as exc:  # the reason too long: the page again, with what was typed
        return _withdraw_page(inst, exc.errors, request.form.get('reason', ''), exc.status)
    except Conflict as exc:  # reviewed meanwhile, or withdrawn already (Back, a second tap): the case says where it is
        flash(str(exc.message), 'error')
        return redirect(url_for('mobile.case', instance_id=inst.id))
    # no flash: the case page's own note says it (您已于 … 撤回，冻结的积分已解冻) and stays on later visits
    return redirect(url_for('mobile.case', instance_id=inst.id))


def _resubmit_task(instance_id):
    """The case and the user's open step on it. With none (sent already: the Back button, a second tap, an old
    link), the case page says where it stands instead of an error page; nothing is sent twice."""
    inst, task = _my_task(instance_id)
    if task is None:
        flash(_('这一步已经提交，无需再次提交；下面是案件的当前状态'), 'warning')
        abort(redirect(url_for('mobile.case', instance_id=inst.id)))
    return inst, task


def _latest_rejection(inst):
    """The reviewer's latest rejection (step, who, reason) while the case waits for its corrected version."""
    reviews = [h for h in tasks.instance_history(inst.id) if h['decision'] in ('approve', 'reject')]
    return reviews[-1] if reviews and reviews[-1]['decision'] == 'reject' else None


def _back() -> str | None:
    """'inbox' when the step was opened from the desktop inbox (its task page sends it here): sent, it leads back
    there as the inbox's own decisions do; from the phone it leads to the case."""
    return 'inbox' if request.args.get('back') == 'inbox' else None


def _resubmit_page(inst, task, values, errors, kept, status=200):
    """The submitter's own step: the returned case's submission form (a service object, a V-order...) with its
    choices and the reviewer's reason, or another step of theirs (确认完成并评价) under its own name."""
    resubmission = tasks.is_resubmission(task)
    return _form_page(values, errors, kept, url_for('mobile.resubmit', instance_id=inst.id, back=_back()),
                      _('修改后重新提交') if resubmission else step_name(task.title), status, form_key=task.form_key,
                      options=tasks.hooks_for(inst.process_key).form_options(current_user, task.form_key, task=task),
                      rejection=_latest_rejection(inst) if resubmission else None, case=inst)


@bp.get('/cases/<int:instance_id>/resubmit')
def resubmit_form(instance_id):
    inst, task = _resubmit_task(instance_id)
    if _not_yet(inst, task):  # the case page says from when (no flash: it would say it twice)
        return redirect(url_for('mobile.case', instance_id=inst.id))
    hooks = tasks.hooks_for(inst.process_key)
    if tasks.is_resubmission(task):
        values = hooks.resubmit_values(inst)
    else:
        values = hooks.task_values(inst, task.form_key)
    field = forms.file_field(forms.get_form(task.form_key))
    return _resubmit_page(inst, task, values, {}, values.get(field, []) if field else [])


@bp.post('/cases/<int:instance_id>/resubmit')
def resubmit(instance_id):
    inst, task = _resubmit_task(instance_id)
    resubmission = tasks.is_resubmission(task)
    form = forms.get_form(task.form_key)
    values = order_values(form) if task.form_key == ORDER_FORM else form_values(form)
    try:
        submissions.resubmit_with_files(current_user, task, values, file_uploads(form))
    except ValidationFailed as exc:
        return _resubmit_page(inst, task, values, exc.errors, getattr(exc, 'kept_files', []), exc.status)
    if resubmission:
        flash(_('已重新提交，等待审核'), 'success')
    else:
        done = tasks.hooks_for(inst.process_key).done_message(task)
        flash(done or _('已提交：%(step)s', step=step_name(task.title)), 'success')
    if _back():
        return redirect(url_for('inbox.index', done=task.id))
    return redirect(url_for('mobile.case', instance_id=inst.id))
