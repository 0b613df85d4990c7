from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.activities import bp
from app.blueprints.web import page_arg
from app.models.activity_signup import ACTIVE_STATUSES
from app.services import activities, activity_signups, forms, sensitive_words, unit_lists
from app.services.errors import ServiceError, ValidationFailed


@bp.app_template_global()
def review_publishers(rows, state):
    """{instance id: publisher} for a page of the inbox: the team or station each review task's case was submitted
    as, marked 黑名单 on the open tab only (one query per page)."""
    return unit_lists.review_publishers(current_user, rows, mark=state == 'open')


@bp.app_template_global()
def signup_status(status):
    return str(activity_signups.STATUS_LABELS.get(status, status))


@bp.app_template_global()
def signup_badge(status) -> str:
    """The badge colour of a sign-up's status: approved green, ended without a place red, waiting amber."""
    return {'approved': 'approved', 'rejected': 'rejected', 'cancelled': 'rejected', 'expired': 'rejected',
            'withdrawn': 'rejected'}.get(status, 'pending')


FIELDS = ('title', 'service_field', 'street', 'place', 'start_at', 'end_at', 'recruit_count', 'description')


def _values() -> dict:
    values = {k: request.form.get(k, '') for k in FIELDS}
    tags = request.form.getlist('tags') + [request.form.get('tags_extra', '')]
    values['tags'] = ','.join(t for t in tags if t.strip())
    return values


def _form(values, errors, action, title, status=200, rejection=None):
    return render_template('activities/form.html', form=forms.get_form(activities.FORM_KEY), values=values,
                           errors=errors, action=action, title=title, tag_labels=activities.tag_labels(forms.is_english()),
                           tags=activities.parse_tags(values.get('tags'))[0], rejection=rejection), status


@bp.get('/activities')
def index():
    rows, total = activities.published(request.args.get('q'), page_arg())
    return render_template('activities/index.html', rows=rows, total=total, page=page_arg(), q=request.args.get('q', ''),
                           approved=activity_signups.approved_counts([a.id for a in rows]))


@bp.get('/activities/<int:activity_id>')
def detail(activity_id):
    act = activities.public_detail(activity_id)
    return render_template('activities/detail.html', act=act, state=activities.public_state(act),
                           data=activities.public_view(act),
                           form=forms.get_form(activities.VIEW_KEY),
                           signup=activity_signups.signup_state(current_user, act))


def _signup_form(act, values, errors, status=200, refusal=None):
    return render_template('activities/signup.html', act=act, values=values, errors=errors, refusal=refusal,
                           form=forms.get_form(activity_signups.FORM_KEY),
                           signup=activity_signups.signup_state(current_user, act)), status


@bp.route('/activities/<int:activity_id>/signup', methods=['GET', 'POST'])
@login_required
def signup(activity_id):
    act = activities.public_detail(activity_id)
    if request.method == 'GET':
        state = activity_signups.signup_state(current_user, act)
        mine = state['mine']
        if mine is not None and mine.status in ACTIVE_STATUSES:  # already signed up: the page shows where it stands
            flash(_('您已报名该活动（%(status)s），请勿重复报名', status=signup_status(mine.status)), 'info')
            return redirect(url_for('activities.detail', activity_id=act.id))
        if state['why_not'] is not None:  # back in review, withdrawn, started, full: its page says so, no form
            flash(str(state['why_not']), 'error')
            return redirect(url_for('activities.detail', activity_id=act.id))
        return _signup_form(act, {'phone': current_user.phone or ''}, {})
    values = {'phone': request.form.get('phone', ''), 'note': request.form.get('note', '')}
    try:
        activity_signups.sign_up(current_user, activity_id, values)
    except ValidationFailed as exc:
        return _signup_form(act, values, exc.errors, exc.status)
    except ServiceError as exc:  # not open, already signed up, full, not a volunteer: said on the form, nothing kept
        return _signup_form(act, values, {}, exc.status, refusal=str(exc.message))
    flash(_('已报名，等待发布单位审核'), 'success')
    return redirect(url_for('activities.my_signups'))


@bp.get('/activities/signups/mine')
@login_required
def my_signups():
    return render_template('activities/my_signups.html', rows=activity_signups.mine(current_user),
                           labels=activity_signups.STATUS_LABELS)


@bp.route('/activities/signups/<int:signup_id>/cancel', methods=['GET', 'POST'])
@login_required
def cancel_signup(signup_id):
    row = activity_signups.visible_signup(current_user, signup_id)
    if request.method == 'GET':
        return render_template('activities/cancel_signup.html', row=row)
    try:
        activity_signups.cancel(current_user, signup_id, request.form.get('reason'))
    except ValidationFailed as exc:  # the reason too long: the page again, with what was typed
        return render_template('activities/cancel_signup.html', row=row, errors=exc.errors,
                               reason=request.form.get('reason', '')), exc.status
    except ServiceError as exc:
        if exc.status == 404:
            raise
        flash(str(exc.message), 'error')
        return redirect(url_for('activities.my_signups'))
    flash(_('已取消报名'), 'success')
    return redirect(url_for('activities.my_signups'))


@bp.get('/activities/<int:activity_id>/signups')
@login_required
def signups(activity_id):
    view = activity_signups.for_activity(current_user, activity_id)
    if not view['manages']:  # the list is the publishing unit's; a volunteer has 我的报名
        abort(404)
    return render_template('activities/signups.html', **view, labels=activity_signups.STATUS_LABELS)


@bp.get('/activities/mine')
@login_required
def mine():
    rows, total = activities.mine(current_user, page_arg())
    return render_template('activities/mine.html', rows=rows, total=total, page=page_arg(),
                           can_publish=activities.can_publish(current_user))


@bp.route('/activities/new', methods=['GET', 'POST'])
@login_required
def new():
    if request.method == 'GET':
        if not activities.can_publish(current_user):  # say so before anything is typed; the POST is refused too
            return render_template('activities/cannot_publish.html'), 403
        return _form({}, {}, url_for('activities.new'), _('发布志愿活动'))
    try:
        inst = activities.publish(current_user, _values())
    except ValidationFailed as exc:
        return _form(_values(), exc.errors, url_for('activities.new'), _('发布志愿活动'), exc.status)
    flash(_('已提交，等待审核'), 'success')
    return redirect(url_for('activities.case', instance_id=inst.id))


@bp.get('/activities/cases/<int:instance_id>')
@login_required
def case(instance_id):
    return render_template('activities/case.html', **activities.case(current_user, instance_id))


@bp.route('/activities/cases/<int:instance_id>/resubmit', methods=['GET', 'POST'])
@login_required
def resubmit(instance_id):
    action, title = url_for('activities.resubmit', instance_id=instance_id), _('修改后重新提交')
    view = activities.case(current_user, instance_id)
    if view['resubmit'] is None:  # under review again or finished: its page says where it stands
        flash(_('该活动当前无需修改'), 'error')
        return redirect(url_for('activities.case', instance_id=instance_id))
    rejection = activities.returned_reason(view)  # the reviewer's words stay in view while the team corrects
    if request.method == 'GET':
        return _form(activities.form_values(view['activity']), {}, action, title, rejection=rejection)
    try:
        activities.resubmit(current_user, instance_id, _values())
    except ValidationFailed as exc:
        return _form(_values(), exc.errors, action, title, exc.status, rejection)
    flash(_('已重新提交，等待审核'), 'success')
    return redirect(url_for('activities.case', instance_id=instance_id))


@bp.get('/activities/admin')
@login_required
def admin_lists():
    return _admin_page()


def _admin_page(words_text='', word_errors=(), status=200, unit_form=None):
    """gzva's page; after a refused word list or unit it shows what was typed again with the messages at the field
    (`unit_form`: {'kind', 'org_unit', 'reason', 'errors'} of a refused add-to-list form)."""
    unit_lists.require_page(current_user)
    words, total = sensitive_words.list_words(current_user, request.args.get('q'), page_arg())
    changes, changes_total = unit_lists.changes(current_user)
    white, black = unit_lists.entries(current_user, 'white'), unit_lists.entries(current_user, 'black')
    return render_template('activities/admin.html', words=words, total=total, page=page_arg(), q=request.args.get('q', ''),
                           white=white, black=black, units=unit_lists.candidates(white, black),
                           reasons=unit_lists.reasons(current_user, white + black), unit_form=unit_form or {},
                           changes=changes, changes_total=changes_total, reason_max=unit_lists.MAX_REASON,
                           words_text=words_text, word_errors=[str(m) for m in word_errors]), status


def _skipped(result) -> list[str]:
    sep = _('、')
    notes = []
    if result['listed']:
        notes.append(_('已在列表中，未重复添加：%(words)s', words=sep.join(result['listed'])))
    if result['repeated']:
        notes.append(_('输入中重复，只添加一次：%(words)s', words=sep.join(dict.fromkeys(result['repeated']))))
    return notes


def _admin_action(fn, done, keep_reason=False):
    """Do it and go back to the page, saying how it went; `keep_reason`: a refused reason is raised instead, for
    the caller to show its form again with what was typed."""
    try:
        fn()
        if done:
            flash(done, 'success')
    except ValidationFailed as exc:
        if keep_reason and set(exc.errors) == {'reason'}:
            raise
        flash('；'.join(m for msgs in exc.errors.values() for m in msgs), 'error')
    except ServiceError as exc:
        if exc.status == 403:
            raise
        flash(str(exc.message), 'error')
    return redirect(url_for('activities.admin_lists'))


@bp.post('/activities/admin/words')
@login_required
def admin_add_words():
    text = request.form.get('words', '')
    try:
        result = sensitive_words.add_new_words(current_user, text.splitlines())
    except ValidationFailed as exc:
        return _admin_page(text, [m for msgs in exc.errors.values() for m in msgs], exc.status)
    if not result['added']:
        return _admin_page(text, [_('没有添加新的敏感词。'), *_skipped(result)], 422)
    sep = _('、')
    added = [w['word'] for w in result['added']]
    flash(_('；').join([_('已添加敏感词 %(n)s 个：%(words)s', n=len(added), words=sep.join(added)), *_skipped(result)]),
          'success')
    return redirect(url_for('activities.admin_lists'))


def _confirmed() -> bool:
    """A removal is done only from its confirmation page (its form sends confirm=yes); the list's buttons open that
    page, so nothing is removed by one click, with or without JavaScript."""
    return request.method == 'POST' and request.form.get('confirm') == 'yes'


def _confirm_page(question, action, fields, button, reason_label=None, errors=None, status=200):
    return render_template('activities/confirm.html', question=question, action=action, fields=fields,
                           button=button, reason_label=reason_label, errors=errors, reason_max=unit_lists.MAX_REASON,
                           reason=request.form.get('reason', '') if reason_label else ''), status


@bp.route('/activities/admin/words/delete', methods=['GET', 'POST'])
@login_required
def admin_remove_word():
    word = (request.values.get('word') or '').strip()
    if word and not _confirmed():
        unit_lists.require_page(current_user)
        return _confirm_page(_('确认删除敏感词“%(word)s”？删除后，含有这个词的活动不再被拦截。', word=word),
                             url_for('activities.admin_remove_word'), {'word': word}, _('确认删除'))
    return _admin_action(lambda: sensitive_words.remove_word(current_user, word), _('已删除敏感词'))


@bp.post('/activities/admin/lists/<any(white, black):kind>')
@login_required
def admin_add_unit(kind):
    code, reason = request.form.get('org_unit'), request.form.get('reason')
    try:
        row, moved = unit_lists.place(current_user, kind, code, reason)
    except ValidationFailed as exc:  # the page again, with the chosen unit and the typed reason kept
        return _admin_page(status=exc.status, unit_form={'kind': kind, 'org_unit': code or '', 'reason': reason or '',
                                                         'errors': exc.errors})
    if moved:  # a whitelisted unit that is blacklisted leaves the whitelist: never on both lists
        flash(_('已将 %(name)s 加入黑名单，并移出白名单', name=row.org_unit.name), 'success')
    else:
        flash(_('已加入名单'), 'success')
    return redirect(url_for('activities.admin_lists'))


@bp.route('/activities/admin/lists/<any(white, black):kind>/delete', methods=['GET', 'POST'])
@login_required
def admin_remove_unit(kind):
    code, errors = request.values.get('org_unit'), None
    if _confirmed():
        try:
            return _admin_action(lambda: unit_lists.remove(current_user, kind, code, request.form.get('reason')),
                                 _('已移出名单'), keep_reason=True)
        except ValidationFailed as exc:  # the reason too long: this page again, with what was typed
            errors = exc.errors
    unit = unit_lists.unit_named(current_user, kind, code)
    return _confirm_page(_('确认将 %(name)s 移出%(list)s？', name=unit.name, list=unit_lists.KINDS[kind]),
                         url_for('activities.admin_remove_unit', kind=kind), {'org_unit': unit.code},
                         _('确认移出'), _('原因（选填，记入修改记录）'), errors, 422 if errors else 200)
