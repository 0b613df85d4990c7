from io import BytesIO

from flask import abort, flash, g, redirect, render_template, request, send_file, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.inbox import bp
from app.blueprints.template_helpers import decision_label
from app.blueprints.web import MAX_PAGE, file_uploads, form_values, page_arg
from app.services import activity_signups, files, forms, instances, row_id, service_objects, submissions, tasks
from app.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from app.services.step_names import step_name, step_with_subject, stored_text

STATES = {'open': 'open', 'approved': 'approve', 'rejected': 'reject', 'handled': 'handled'}  # tab -> list_tasks state
FROM_PAGES = ('signups',)  # pages other than the inbox a task page may be opened from (came_from)
PHONE_RESUBMIT = ('service_object_entry', 'v_order')  # processes whose submitter steps the phone pages do
# roles that review cases a team or station submitted (the inbox's 发布单位 column)
PUBLISHER_REVIEWERS = ('team_admin', 'station_admin', 'street_admin', 'district_admin', 'association_admin',
                       'veterans_admin')


@bp.before_request
@login_required
def _login():
    return None


def _list_context(values, prefix='') -> dict:
    """The inbox list a page was opened from (tab, search, page, process filter, order), carried through the task
    page and its forms (fields named list_state...) so that a reviewer comes back to the same list. Only what is not
    the default is kept (an unknown order is the default one: the newest first)."""
    ctx = {'state': values.get(prefix + 'state'), 'q': (values.get(prefix + 'q') or '').strip()[:100],
           'page': min(row_id(values.get(prefix + 'page')) or 1, MAX_PAGE), 'process': values.get(prefix + 'process'),
           'sort': values.get(prefix + 'sort'), 'from': values.get(prefix + 'from')}
    ok = {'state': ctx['state'] in STATES and ctx['state'] != 'open', 'page': ctx['page'] > 1,
          'sort': ctx['sort'] in tasks.SORTS and ctx['sort'] != tasks.SORTS[0], 'from': ctx['from'] in FROM_PAGES}
    return {k: v for k, v in ctx.items() if v and ok.get(k, True)}


@bp.get('/inbox')
def index():
    return _index_page(_in_list(_list_context(request.args)), page_arg())


def _in_list(ctx) -> dict:
    """The list's own context: a task page opened from elsewhere (`from`) leads back there, the list does not."""
    return {k: v for k, v in ctx.items() if k != 'from'}


@bp.app_template_global()
def came_from(task, ctx) -> str | None:
    """The page a task was opened from other than the inbox (?from=signups: the activity's 报名名单), where its back
    link and its decision return; None for the inbox itself."""
    if (ctx or {}).get('from') != 'signups' or task.process_key != activity_signups.PROCESS_KEY:
        return None
    signup = activity_signups.for_instance(task.instance_id)
    return url_for('activities.signups', activity_id=signup.activity_id) if signup is not None else None


def _index_page(ctx, page, batch_errors=None, reason='', picked=(), status=200):
    """The inbox list `ctx` names; after a refused batch, its messages, the typed reason and the ticks kept."""
    state, q, sort = ctx.get('state', 'open'), ctx.get('q', ''), ctx.get('sort', tasks.SORTS[0])
    listed = tasks.inbox_page(current_user, STATES[state], ctx.get('process'), q, page, sort)
    rows = listed['rows']
    done = row_id(request.args.get('done'))
    if done is not None and not rows and page > 1 and listed['total']:
        # the last task of the last page was just decided: the reviewer goes on at the list's new last page
        last = (listed['total'] + tasks.INBOX_PER_PAGE - 1) // tasks.INBOX_PER_PAGE
        return redirect(url_for('inbox.index', **dict(ctx, page=last if last > 1 else None), done=done))
    return render_template('inbox/index.html', rows=rows, total=listed['total'], state=state, q=q, page=page, ctx=ctx,
                           sort=sort, processes=listed['processes'], counts=listed['counts'],
                           batch_hints=tasks.batch_hints(rows) if state == 'open' else [],
                           partial_id=tasks.partial_id_number(q), done=done,
                           show_publishers=_shows_publishers(), batch_errors=batch_errors or {},
                           batch_reason=reason, picked=set(picked)), status


def _shows_publishers() -> bool:
    """The 发布单位 column is shown to every reviewer (with "—" where a case has none), not only while some row
    on the page has one: the table keeps one layout between visits."""
    return any(m.role in PUBLISHER_REVIEWERS for m in current_user.memberships)


@bp.get('/inbox/next')
def next_task():
    """办理下一件: the next open task of the list the reviewer works through (after task ?after=)."""
    ctx = {k: v for k, v in _in_list(_list_context(request.args)).items() if k != 'state'}  # the open list
    found = tasks.next_open_task(current_user, ctx.get('process'), ctx.get('q'), request.args.get('after'),
                                 ctx.get('sort', tasks.SORTS[0]))
    if found is None:
        flash(_('这个列表中已没有其他可办理的待办任务'), 'success')
        return redirect(url_for('inbox.index', **ctx))
    return redirect(url_for('inbox.task', task_id=found, **ctx))


@bp.get('/inbox/tasks/<int:task_id>')
def task(task_id):
    d = tasks.task_detail(current_user, task_id)
    if d['can_act'] and d['task'].assignee_id == current_user.id and d['task'].process_key in PHONE_RESUBMIT:
        # a submitter's own step is done on the phone pages: a returned submission on its own form, filled in
        # with what was sent last time; another step (确认完成并评价) there too, or its case says from when;
        # once sent, back to this inbox like any decision taken here (back=inbox)
        return redirect(url_for('mobile.resubmit_form', instance_id=d['task'].instance_id, back='inbox'))
    values = d['values']
    field = forms.file_field(d['form']) if d['form'] else None
    return render_template('inbox/task.html', d=d, errors={}, values=values, kept=values.get(field, []) if field else [],
                           withdrawn=instances.withdrawal(d['task']), ended=instances.ended_by(d['task']),
                           ctx=_list_context(request.args))


@bp.post('/inbox/tasks/<int:task_id>/decide')
def decide(task_id):
    d = tasks.task_detail(current_user, task_id)
    values, ctx = form_values(d['form']), _list_context(request.form, 'list_')
    g.page_url = url_for('inbox.task', task_id=task_id)  # a refused decision's page, in the browser's history
    try:
        submissions.complete_with_files(current_user, d['task'], values, file_uploads(d['form']))
    except ValidationFailed as exc:
        return render_template('inbox/task.html', d=tasks.task_detail(current_user, task_id), errors=exc.errors,
                               values=values, kept=getattr(exc, 'kept_files', []), ctx=ctx), exc.status
    except Conflict as exc:  # someone was first or holds the claim: show the task as it is now, not a dead end,
        d = tasks.task_detail(current_user, task_id)  # with what happened and what this reviewer typed (to copy)
        flash(_late_text(d['task'], exc), 'error')
        form_again = d['can_act'] and d['task'].claimed_by_id in (None, current_user.id)  # keeps it in its boxes
        return render_template('inbox/task.html', d=d, errors={}, values=values, kept=[],
                               unsent=[] if form_again else tasks.typed_input(d['form'], values),
                               withdrawn=instances.withdrawal(d['task']), ended=instances.ended_by(d['task']),
                               ctx=ctx), exc.status
    flash(_done_text(d['task'], values), 'success')
    if request.form.get('then') == 'next':  # 提交并办理下一件
        return redirect(url_for('inbox.next_task', after=task_id, **_in_list(ctx)))
    back = came_from(d['task'], ctx)  # opened from the 报名名单: back to it
    if back is not None:
        return redirect(back)
    return redirect(url_for('inbox.index', done=task_id, **_in_list(ctx)))  # the same list, offering 办理下一件


def _late_text(task, exc) -> str:
    """Why a decision was not taken: who handled the task meanwhile (a colleague, or the reviewer in another tab),
    when and with what result; that it was withdrawn; or the conflict's own reason (another reviewer's claim)."""
    if task.status == 'completed':
        who = (_('您本人') if task.completed_by_id == current_user.id
               else task.completed_by.display_name if task.completed_by else _('系统'))
        return _('该任务已被处理：%(who)s 于 %(when)s 办理，结果为“%(decision)s”。您的意见未提交',
                 who=who, when=format_datetime(task.completed_at, 'yyyy-MM-dd HH:mm'),
                 decision=decision_label(task.decision))
    if task.status == 'cancelled':
        return _('该任务已撤销，无需处理。您的意见未提交')
    return str(exc.message)


def _done_text(task, values) -> str:
    """What the flash after a decision says: which step of which case, and the result; a form that did something
    else than its step's usual outcome says that (已提交：服务商退回订单 · …, not 服务商派单)."""
    decision = values.get('decision')
    other = tasks.hooks_for(task.process_key).audit_step(task, values)
    about = {'step': step_name(other[0]) if other else step_with_subject(task.title, task.subject),
             'title': stored_text(task.instance.title)}
    if tasks.is_review(task) and decision in ('approve', 'reject'):
        return _('已提交：%(step)s · %(title)s，审核结果：%(result)s', **about, result=decision_label(decision))
    return _('已提交：%(step)s · %(title)s', **about)


@bp.post('/inbox/tasks/<int:task_id>/<any(claim, unclaim):action>')
def claim(task_id, action):
    anchor = None
    try:
        (tasks.claim if action == 'claim' else tasks.unclaim)(current_user, task_id)
        flash(_('已认领，其他审核人将看到由您处理') if action == 'claim' else _('已取消认领'), 'success')
        if action == 'claim':  # Tab goes on from the decision form, not from the top of the page again
            anchor = 'decision-form'
    except NotFound:
        raise
    except ServiceError as exc:
        flash(str(exc.message), 'error')
    return redirect(url_for('inbox.task', task_id=task_id, _anchor=anchor, **_list_context(request.form, 'list_')))


@bp.post('/inbox/batch')
def batch():
    ids = [int(i) for i in request.form.getlist('task_ids') if i.isdigit()]
    try:
        results = tasks.batch_decide(current_user, ids, request.form.get('decision'), request.form.get('reason'))
    except ValidationFailed as exc:  # a reason too long: the list again, the typed reason kept, nothing decided
        ctx = _list_context(request.form, 'list_')
        g.page_url = url_for('inbox.index', **ctx)  # Back / reload: the list, not the last batch's result
        return _index_page(ctx, ctx.get('page', 1), {'batch-' + k: v for k, v in exc.errors.items()},
                           request.form.get('reason', ''), ids, exc.status)
    # post-redirect-get: a reload shows this result again instead of running the batch a second time
    session['inbox_batch'] = _packed(results, request.form.get('decision'), _list_context(request.form, 'list_'))
    return redirect(url_for('inbox.batch_result', lang=request.args.get('lang')))  # a ?lang= the form was sent with


@bp.get('/inbox/batch')
def batch_result():
    packed = session.get('inbox_batch')
    if not packed or packed.get('u') != current_user.id:
        flash(_('没有可显示的批量处理结果，请在待办列表中勾选任务后再批量处理'), 'error')
        return redirect(url_for('inbox.index'))
    return render_template('inbox/batch_result.html', results=_unpacked(packed), decision=packed['d'], ctx=packed['c'])


def _packed(results, decision, ctx) -> dict:
    """A batch's result as the session cookie keeps it (small: up to 200 items): per item its task id, success,
    the index of its text (texts are shared: most items say the same) and whether the page named its case."""
    texts: list[str] = []
    items = []
    for r in results:
        text = str(r['error'] or r['done'] or '')
        if text not in texts:
            texts.append(text)
        items.append([r['task_id'], int(bool(r['ok'])), texts.index(text), int(bool(r['title']))])
    return {'u': current_user.id, 'd': decision, 'c': ctx, 't': texts, 'r': items}


def _unpacked(packed) -> list[dict]:
    """The result rows again, each case and step named as now (one query)."""
    names = tasks.named_tasks(current_user, [tid for tid, _ok, _t, named in packed['r'] if named])
    blank = {'title': None, 'step': None, 'subject': None}
    return [{'task_id': tid, 'ok': bool(ok), 'error': None if ok else packed['t'][t], 'done': packed['t'][t] if ok else None,
             **names.get(tid, blank)} for tid, ok, t, named in packed['r']]


@bp.app_template_global()
def may_use_library() -> bool:
    """Whether the signed-in user has a service-object library (the nav link)."""
    return current_user.is_authenticated and service_objects.may_use_library(current_user)


@bp.app_template_global()
def shows_my_submissions() -> bool:
    """Whether the back-office menu offers 我的提交: to those who may start a process, or who once did (a role changed
    since); a service provider or a bureau submits nothing, and the page would only ever be empty."""
    return current_user.is_authenticated and tasks.may_submit(current_user)


@bp.get('/library')
def library():
    if not service_objects.may_use_library(current_user):  # 服务对象库 is not in their menu either
        abort(404)
    view = 'all' if request.args.get('view') == 'all' else 'approved'
    rows, total = service_objects.library(current_user, view, request.args.get('q'), page_arg())
    return render_template('inbox/library.html', rows=rows, total=total, view=view, q=request.args.get('q', ''),
                           page=page_arg())


@bp.get('/cases/<int:instance_id>')
def case(instance_id):
    return render_template('inbox/case.html', **tasks.case_view(current_user, instance_id))


@bp.get('/files/<int:file_id>')
def file(file_id):
    row = files.for_download(current_user, file_id)
    return send_file(BytesIO(row.content), mimetype=row.content_type, download_name=row.original_name)
