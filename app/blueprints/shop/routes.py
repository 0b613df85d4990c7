from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.shop import bp
from app.blueprints.web import MAX_PAGE, form_values, page_arg, uploads
from app.services import forms, gifts, row_id, shop
from app.services.errors import ServiceError, ValidationFailed

# the fields of 登记新的兑换资源 and of the 公益池 allocation, as the pages post them
ITEM_FIELDS = ('name', 'section', 'point_type', 'price', 'stock', 'district', 'provider_name', 'description')
ALLOCATION_FIELDS = ('username', 'amount', 'reason')
DONATION_FIELDS = ('target', 'amount', 'point_type')


@bp.before_request
@login_required
def _login():
    return None


def _flash_error(exc: ServiceError) -> None:
    errors = getattr(exc, 'errors', None)
    flash('；'.join(m for msgs in errors.values() for m in msgs) if errors else str(exc.message), 'error')


def _posted(fields, source=None) -> dict:
    source = request.form if source is None else source
    return {k: source.get(k, '') for k in fields}


def _shop_page(section, donation=None, status=200):
    """The catalogue; `donation` = a refused 积分公益 donation (target, amount typed, errors keyed by that card's
    amount field), shown at the card it came from."""
    age_note = shop.self_redeem_problem(current_user) if section == 'elderly_care' else None
    return render_template('shop/index.html', section=section, items=shop.on_sale(section), age_note=age_note,
                           points=shop.statements(current_user), totals=shop.project_totals(),
                           donation=donation), status


@bp.get('/m/shop')
def index():
    return _shop_page(request.args.get('section') if request.args.get('section') in shop.SECTIONS else 'elderly_care')


def _confirmation(token, used_for, same, done, ask):
    """A confirmation step (个人兑换, 积分公益) that spends once: its one-time token stands in its address (the shop
    card sends it, or the page writes it there), so that the page opened again after it was used (browser Back
    after 确认) shows `done(row)`, what the token was used for, instead of asking again. `used_for(user, token)`
    finds that row; `same(row)`: it is this page's. A token used for something else, a malformed one or none:
    `ask(token)` with a fresh one."""
    token = shop.page_token(token)
    used = used_for(current_user, token) if token else None
    if used is not None and same(used):
        return done(used)
    return ask(None if used is not None else token)


def _redeem_page(item_id, messages=(), status=200, token=None):
    """个人兑换's confirmation step: what it costs and what is left; nothing is spent until 确认兑换 is tapped.
    `token`: this confirmation's one-time token (a fresh one when None or malformed), in its address too."""
    quote = shop.redeem_quote(current_user, item_id)
    # a refusal the quote already explains (stock, points, age) is said once
    messages = [m for m in messages if str(m) != str(quote['problem'] or '')]
    token = shop.page_token(token) or shop.new_token()
    return render_template('shop/redeem.html', messages=messages, token=token, **quote), status


def _redeemed_page(row, status=200):
    """The confirmation's token was used: the redemption is done, nothing more is spent (a replayed 确认兑换, or
    the confirmation opened again with browser Back); links to 我的兑换 and to a fresh confirmation."""
    return render_template('shop/redeemed.html', row=row, item=row.item), status


@bp.get('/m/shop/items/<int:item_id>/redeem')
def redeem_confirm(item_id):
    shop.item_on_sale(item_id)  # an item not on sale is a 404 whatever the token
    return _confirmation(request.args.get('request_token'), shop.redemption_by_token,
                         lambda row: row.item_id == item_id, _redeemed_page,
                         lambda token: _redeem_page(item_id, token=token))


@bp.post('/m/shop/items/<int:item_id>/redeem')
def redeem(item_id):
    token = request.form.get('request_token')
    if request.form.get('confirm') != '1':  # an older page's one-tap button: ask first, spend nothing
        return _redeem_page(item_id)
    try:
        row, created = shop.redeem(current_user, item_id, token)
    except ValidationFailed as exc:
        return _redeem_page(item_id, [m for msgs in exc.errors.values() for m in msgs], exc.status, token)
    if not created:  # this confirmation was used already: refused, nothing charged again
        return _redeemed_page(row, 409)
    flash(_('兑换成功，已扣除 %(n)s 积分', n=row.points), 'success')
    return redirect(url_for('shop.mine'))


def _gift_page(item_id, values, errors, kept, status=200):
    """The gift form. From 重新申请 (?again=<gift id>, kept in the form's address) the reviewer's reason stands above
    it, as on a returned case's resubmission."""
    again = request.args.get('again')
    rejection = gifts.again_rejection(current_user, again, item_id) if again else None
    return render_template('shop/gift.html', form=forms.get_form(gifts.FORM_KEY), values=values, errors=errors,
                           kept=kept, again=again if rejection else None, rejection=rejection,
                           **gifts.gift_form_context(current_user, item_id)), status


@bp.get('/m/shop/items/<int:item_id>/gift')
def gift_form(item_id):
    """The gift form; from 重新申请 (?again=<gift id>) it starts with the relative's details and the proof photos of
    that request."""
    again = gifts.again_values(current_user, request.args.get('again'), item_id) if request.args.get('again') else {}
    return _gift_page(item_id, {**again, 'request_token': shop.new_token()}, {}, again.get('kinship_files', []))


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
    redemptions, gift_rows = shop.my_redemptions(current_user), gifts.mine(current_user)
    return render_template('shop/mine.html', redemptions=redemptions, gift_rows=gift_rows,
                           handovers=shop.fulfilments_for(redemptions, gift_rows))


def _donation_refused(values, exc: ValidationFailed):
    """The 积分公益 page again (422): every message at the amount of the card it came from, the amount kept."""
    key = f"amount-{values['target']}"
    donation = {'target': values['target'], 'amount': values['amount'],
                'errors': {key: [m for msgs in exc.errors.values() for m in msgs]}}
    return _shop_page('charity', donation, exc.status)


def _donate_page(values, token=None):
    """积分公益's confirmation step: what is given, which points, what is left; nothing is spent before 确认捐赠.
    `token`: this confirmation's one-time token (a fresh one when None or malformed), in its address too."""
    try:
        quote = shop.donation_quote(current_user, values['target'], values['amount'], values['point_type'])
    except ValidationFailed as exc:
        return _donation_refused(values, exc)
    return render_template('shop/donate.html', token=shop.page_token(token) or shop.new_token(), **quote)


def _donated_page(done):
    """The confirmation's token was used: the donation is done, nothing more is spent (the confirmation opened
    again with browser Back); links to 我的积分 and to a fresh confirmation."""
    return render_template('shop/donated.html', done=done)


@bp.get('/m/shop/donate')
def donate_confirm():
    values = _posted(DONATION_FIELDS, request.args)
    return _confirmation(request.args.get('request_token'), shop.donation_by_token,
                         lambda done: done.target == values['target'].strip(), _donated_page,
                         lambda token: _donate_page(values, token))


@bp.post('/m/shop/donate')
def donate():
    values = _posted(DONATION_FIELDS)
    if request.form.get('confirm') != '1':  # an older page's one-tap form: ask first, spend nothing
        return _donate_page(values)
    try:
        done = shop.donate(current_user, values['target'], values['amount'], values['point_type'],
                           request.form.get('request_token'))
    except ValidationFailed as exc:
        return _donation_refused(values, exc)
    flash(_('捐分成功，已扣除 %(n)s 积分，感谢您的爱心', n=done.amount) if done.created
          else _('该捐赠已完成，未重复扣分'), 'success')
    return redirect(url_for('shop.index', section='charity'))


def _list_context(values, prefix='') -> dict:
    """The review list a page shows or a form was sent from (tab, search, 栏目, page; fields named list_... in the
    forms), so that the reviewer comes back to the same list. The tab is always named (a refused form's page
    stands in the browser's history as /shop/review?status=...); the others only when not the default."""
    page = min(row_id(values.get(prefix + 'page')) or 1, MAX_PAGE)
    return {'status': values.get(prefix + 'status') or 'pending', 'q': shop.review_term(values.get(prefix + 'q')) or None,
            'kind': values.get(prefix + 'kind') or None, 'page': page if page > 1 else None}


def _review_page(ctx=None, new_item=None, new_item_errors=None, decided=None, batch=None, batch_results=None,
                 code=200):
    """The review list with the 登记 form; after a refused submission the form it came from shows the
    messages at its fields, with what was typed (`decided` = (item, values, errors) of one row's decision;
    `batch` = {'ids', 'reason', 'errors'} of a refused batch decision: the ticks and the reason stay). `batch_results`:
    what a batch just did ({'decision', 'rows'}, shown above the list)."""
    ctx = ctx or _list_context({})
    g.page_url = url_for('shop.review', **ctx)  # a refused form's page, in the browser's history
    status, page = ctx['status'], ctx['page'] or 1
    try:
        items, total, counts = shop.review_page(current_user, status, ctx['q'], ctx['kind'], page, section_field='kind')
        filter_errors = {}
    except ValidationFailed as exc:  # a 栏目 the list does not have: said above the list, the list stays empty
        items, total, counts, filter_errors = [], 0, {}, exc.errors
    if decided and decided[0].id not in {i.id for i in items}:  # the refused row stays in sight with its message
        items = [decided[0], *items]
    return render_template('shop/review.html', status=status, ctx=ctx, items=items, total=total, page=page,
                           per_page=shop.REVIEW_PAGE, counts=counts, list_errors=filter_errors,
                           registrars=shop.registrars(items), sections=shop.SECTIONS,
                           districts=shop.districts_for(current_user), new_item=new_item or {},
                           new_item_errors=new_item_errors or {}, decided=decided, batch=batch,
                           batch_results=batch_results), 422 if filter_errors and code == 200 else code


@bp.get('/shop/review')
def review():
    ctx = _list_context(request.args)
    packed = session.get('shop_batch') if request.args.get('batch') else None
    results = None
    if packed and packed.get('u') == current_user.id:  # what the batch just sent did, named as the items are now
        rows = shop.batch_outcome(current_user, [{'id': i, 'ok': ok} for i, ok in packed['r']], packed['d'])
        results = {'decision': packed['d'], 'rows': rows}
    return _review_page(ctx, batch_results=results)


@bp.post('/shop/review/<int:item_id>')
def review_decide(item_id):
    values, ctx = _posted(('decision', 'reason')), _list_context(request.form, 'list_')
    try:
        shop.review_item(current_user, item_id, values['decision'], values['reason'])
    except ValidationFailed as exc:
        item = shop.reviewable_item(current_user, item_id)  # another district's item: 404, as for a decision
        if item.status == 'pending':
            return _review_page(ctx, decided=(item, values, exc.errors), code=exc.status)
        flash(_('该兑换资源已审核，请刷新后查看'), 'error')
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        _flash_error(exc)
    else:
        flash(_('已提交审核结果'), 'success')
    return redirect(url_for('shop.review', **ctx))


@bp.post('/shop/review/batch')
def review_batch():
    """批量通过 / 批量不通过 of the ticked resources; the result of each is shown above the list it came from."""
    ctx = _list_context(request.form, 'list_')
    # the ticks are named task_ids as in the inbox: app.js (select all, count, confirm) looks for that name
    ids, decision, reason = request.form.getlist('task_ids'), request.form.get('decision'), request.form.get('reason', '')
    try:
        results = shop.batch_review(current_user, ids, decision, reason)
    except ValidationFailed as exc:  # nothing was decided: the ticks and the reason typed are kept
        return _review_page(ctx, batch={'ids': ids, 'reason': reason, 'errors': exc.errors}, code=exc.status)
    # post-redirect-get: a reload shows this result again instead of running the batch a second time
    session['shop_batch'] = {'u': current_user.id, 'd': decision, 'r': [[r['id'], int(r['ok'])] for r in results]}
    return redirect(url_for('shop.review', batch=1, **{**ctx, 'page': None}))


@bp.post('/shop/items')
def create_item():
    values = _posted(ITEM_FIELDS)
    try:
        shop.create_item(current_user, values)
    except ValidationFailed as exc:
        return _review_page(new_item=values, new_item_errors=exc.errors, code=exc.status)
    flash(_('已登记，待区民政局审核后上架'), 'success')
    return redirect(url_for('shop.review'))


def _pool_page(values=None, errors=None, status=200):
    history, total = shop.pool_history(page_arg())
    g.page_url = url_for('shop.pool')  # a refused allocation's page, in the browser's history
    return render_template('shop/pool.html', balance=shop.pool_balance(), values=values or {}, errors=errors or {},
                           history=history, total=total, page=page_arg(), per_page=shop.POOL_HISTORY_PAGE), status


@bp.get('/shop/pool')
def pool():
    shop.require_role(current_user, 'association_admin')
    return _pool_page()


@bp.get('/shop/pool/volunteers')
def pool_volunteers():
    """The picker's suggestions (JSON) for what is typed in the 志愿者 box: name, username or mobile number."""
    return {'items': shop.suggest_volunteers(current_user, request.args.get('q', ''))}


@bp.post('/shop/pool/allocate')
def pool_allocate():
    """The volunteer is typed (mobile number, name or username): one who cannot be told apart is said at the box,
    together with the amount's and the reason's problems."""
    shop.require_role(current_user, 'association_admin')
    values = _posted(ALLOCATION_FIELDS)
    try:
        try:
            volunteer = shop.find_volunteer(values['username'])
        except ValidationFailed as exc:
            raise ValidationFailed({**exc.errors, **shop.allocation_problems(values['amount'], values['reason'])}) from None
        shop.allocate(current_user, volunteer.username, values['amount'], values['reason'],
                      request.form.get('request_token'))
    except ValidationFailed as exc:
        return _pool_page(values, exc.errors, exc.status)
    flash(_('已分配'), 'success')
    return redirect(url_for('shop.pool'))


# ---------------------------------------------------------------- 兑换记录: the item holder's hand-overs

def _handover_ctx(values, prefix='') -> dict:
    """The 兑换记录 list a page shows or a form was sent from (state tab, search, page), so that the holder comes
    back to the same list."""
    page = min(row_id(values.get(prefix + 'page')) or 1, MAX_PAGE)
    status = values.get(prefix + 'status')
    return {'status': status if status in (*shop.FULFILMENT_STATUSES, 'all') else 'pending',
            'q': shop.review_term(values.get(prefix + 'q')) or None, 'page': page if page > 1 else None}


def _handovers_page(ctx, only=None, marked=None, code=200):
    """兑换记录 of the user's units (`only`: the one hand-over a message links to); `marked` = (row, values, errors)
    of a refused 标记, shown at its row with what was typed."""
    if only is not None:
        rows, total, counts = [only], 1, {}
    else:
        rows, total, counts = shop.fulfilment_page(current_user, ctx['status'], ctx['q'], ctx['page'] or 1)
    if marked and marked[0].id not in {r.id for r in rows}:
        rows = [marked[0], *rows]
    g.page_url = url_for('shop.handover', fulfilment_id=only.id) if only is not None else url_for('shop.handovers', **ctx)
    return render_template('shop/handovers.html', rows=rows, total=total, counts=counts, ctx=ctx, only=only,
                           marked=marked, page=ctx['page'] or 1, per_page=shop.FULFILMENT_PAGE), code


@bp.get('/shop/redemptions')
def handovers():
    return _handovers_page(_handover_ctx(request.args))


@bp.get('/shop/redemptions/<int:fulfilment_id>')
def handover(fulfilment_id):
    return _handovers_page(_handover_ctx({}), only=shop.held_fulfilment(current_user, fulfilment_id))


@bp.post('/shop/redemptions/<int:fulfilment_id>')
def handover_mark(fulfilment_id):
    values, ctx = _posted(('status', 'note')), _handover_ctx(request.form, 'list_')
    one = request.form.get('list_one') == '1'
    try:
        row, changed = shop.mark_fulfilment(current_user, fulfilment_id, values['status'], values['note'])
    except ValidationFailed as exc:
        row = shop.held_fulfilment(current_user, fulfilment_id)
        return _handovers_page(ctx, only=row if one else None, marked=(row, values, exc.errors), code=exc.status)
    if changed == 'status':
        flash(_('已标记为“%(status)s”，已通知志愿者', status=shop.fulfilment_status(row)), 'success')
    elif changed == 'note':  # the same state with another note: the volunteer is told the note changed
        flash(_('已更新说明，已通知志愿者'), 'success')
    else:
        flash(_('没有改动，未重复通知志愿者'), 'success')
    return redirect(url_for('shop.handover', fulfilment_id=row.id) if one else url_for('shop.handovers', **ctx))
