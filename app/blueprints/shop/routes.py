from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.shop import bp
from app.blueprints.web import form_values, uploads
from app.services import forms, gifts, shop
from app.services.errors import ServiceError, ValidationFailed


@bp.before_request
@login_required
def _login():
    return None


def _flash_error(exc: ServiceError) -> None:
    errors = getattr(exc, 'errors', None)
    flash('；'.join(m for msgs in errors.values() for m in msgs) if errors else str(exc.message), 'error')


@bp.get('/m/shop')
def index():
    section = request.args.get('section') if request.args.get('section') in shop.SECTIONS else 'elderly_care'
    age_note = shop.self_redeem_problem(current_user) if section == 'elderly_care' else None
    return render_template('shop/index.html', section=section, items=shop.on_sale(section), age_note=age_note,
                           points=shop.statements(current_user), totals=shop.project_totals())


@bp.post('/m/shop/items/<int:item_id>/redeem')
def redeem(item_id):
    try:
        row, created = shop.redeem(current_user, item_id, request.form.get('request_token'))
        flash(_('兑换成功，已扣除 %(n)s 积分', n=row.points) if created else _('该兑换已完成，未重复扣分'), 'success')
    except ValidationFailed as exc:
        _flash_error(exc)
        return redirect(url_for('shop.index', section=request.form.get('section', 'elderly_care')))
    return redirect(url_for('shop.mine'))


def _gift_page(item_id, values, errors, kept, status=200):
    return render_template('shop/gift.html', form=forms.get_form(gifts.FORM_KEY), values=values, errors=errors,
                           kept=kept, **gifts.gift_form_context(current_user, item_id)), status


@bp.get('/m/shop/items/<int:item_id>/gift')
def gift_form(item_id):
    return _gift_page(item_id, {'request_token': shop.new_token()}, {}, [])


@bp.post('/m/shop/items/<int:item_id>/gift')
def gift_submit(item_id):
    values = {**form_values(forms.get_form(gifts.FORM_KEY)), 'item_id': item_id}
    try:
        inst, created = gifts.submit(current_user, values, uploads('kinship_files_new'))
    except ValidationFailed as exc:
        return _gift_page(item_id, values, exc.errors, getattr(exc, 'kept_files', []), exc.status)
    flash(_('已提交，积分已冻结，等待广志协审核') if created else _('该申请已提交，请勿重复提交'), 'success')
    return redirect(url_for('mobile.case', instance_id=inst.id))


@bp.get('/m/shop/mine')
def mine():
    return render_template('shop/mine.html', redemptions=shop.my_redemptions(current_user),
                           gift_rows=gifts.mine(current_user))


@bp.post('/m/shop/donate')
def donate():
    f = request.form
    try:
        shop.donate(current_user, f.get('target'), f.get('amount'), f.get('point_type'), f.get('request_token'))
        flash(_('捐分成功，感谢您的爱心'), 'success')
    except ValidationFailed as exc:
        _flash_error(exc)
    return redirect(url_for('shop.index', section='charity'))


@bp.get('/shop/review')
def review():
    status = request.args.get('status', 'pending')
    return render_template('shop/review.html', status=status, items=shop.items_to_review(current_user, status),
                           districts=shop.districts())


@bp.post('/shop/review/<int:item_id>')
def review_decide(item_id):
    try:
        shop.review_item(current_user, item_id, request.form.get('decision'), request.form.get('reason'))
        flash(_('已提交审核结果'), 'success')
    except (ValidationFailed, ServiceError) as exc:
        if exc.status in (403, 404):
            raise
        _flash_error(exc)
    return redirect(url_for('shop.review'))


@bp.post('/shop/items')
def create_item():
    try:
        shop.create_item(current_user, request.form.to_dict())
        flash(_('已登记，待区民政局审核后上架'), 'success')
    except ValidationFailed as exc:
        _flash_error(exc)
    return redirect(url_for('shop.review'))


@bp.get('/shop/pool')
def pool():
    shop.require_role(current_user, 'association_admin')
    return render_template('shop/pool.html', balance=shop.pool_balance(), volunteers=shop.volunteers())


@bp.post('/shop/pool/allocate')
def pool_allocate():
    f = request.form
    try:
        shop.allocate(current_user, f.get('username'), f.get('amount'), f.get('reason'), f.get('request_token'))
        flash(_('已分配'), 'success')
    except ValidationFailed as exc:
        _flash_error(exc)
    return redirect(url_for('shop.pool'))
