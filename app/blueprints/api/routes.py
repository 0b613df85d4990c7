"""API endpoints; each parses, calls one service, serialises."""
from io import BytesIO

from flask import g, jsonify, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded

from app.blueprints.api import bp
from app.blueprints.api import schemas as s
from app.blueprints.api.serializers import history_item, instance_view, iso, service_object_item, shown, task_item
from app.blueprints.exports import send_xlsx
from app.blueprints.web import page_arg
from app.extensions import login_throttle, retry_after_seconds
from app.jobs.exports import schedule_export
from app.services import (
    catalog,
    exports,
    files,
    ledger,
    request_tokens,
    service_objects,
    submissions,
    tasks,
    v_order_steps,
    v_orders,
)
from app.services.auth import authenticate, issue_token, no_token_yet, revoke_token
from app.services.errors import PasswordChangeRequired, ServiceError, Unauthorized, ValidationFailed
from app.services.jurisdiction import can_act
from app.services.order_list import search_orders
from app.services.status import status_label
from app.services.step_names import stored_text


def _renamed(exc: ValidationFailed, service_key: str, field: str) -> ValidationFailed:
    """The refusal with the service's key for a field renamed to the field the request sent."""
    exc.errors = {field if k == service_key else k: v for k, v in exc.errors.items()}
    return exc


def _case_view(instance, open_tasks) -> dict:
    """The case as API.md gives it (its history without each step's data, which the API does not show)."""
    return instance_view(instance, open_tasks, tasks.instance_history(instance.id, with_data=False))


def _instance_json(instance):
    return jsonify(_case_view(instance, tasks.open_tasks(instance.id)))


def _case_body(instance) -> dict:
    open_tasks = tasks.open_tasks(instance.id)
    return {'instance': _case_view(instance, open_tasks),
            'tasks': [task_item(t) for t in open_tasks if can_act(g.api_user, t)]}


def _instance_body(instance, status=200):
    return jsonify(_case_body(instance)), status


def _username_tried() -> str:
    payload = request.get_json(silent=True)
    name = payload.get('username') if isinstance(payload, dict) else None
    return name if isinstance(name, str) else ''


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(exc):
    """429 with how long to wait (also in the Retry-After header)."""
    wait = retry_after_seconds()
    message = _('登录失败次数过多，请 %(n)s 秒后再试', n=wait) if wait else _('尝试次数过多，请稍后再试')
    return jsonify({'error': 'too_many_requests', 'message': message, 'retry_after': wait}), 429


@bp.post('/auth/token')
# only wrong credentials (401) count, per username and address, with a higher ceiling per address (extensions)
@login_throttle(_username_tried, failed=lambda response: response.status_code == 401)
def token():
    body = s.body(s.TokenRequest)
    user = authenticate(body['username'], body['password'])  # a deactivated account's right password: 403
    if user is None:
        raise Unauthorized(_l('用户名或密码错误'))
    if user.must_change_password:  # the initial or a temporary password opens the password page only
        raise PasswordChangeRequired(no_token_yet(user))
    raw, expires = issue_token(user)
    return jsonify({'token': raw, 'expires_at': expires.isoformat()})


@bp.delete('/auth/token')
def token_revoke():
    """Sign out: the token this request carries stops working at once (other tokens of the user stay)."""
    revoke_token(request.headers.get('Authorization', '').partition(' ')[2].strip())
    return '', 204


@bp.get('/me')
def me():
    u = g.api_user
    return jsonify({'username': u.username, 'display_name': u.display_name, 'memberships': [
        {'role': m.role, 'org_unit': {'code': m.org_unit.code, 'name': m.org_unit.name, 'path': m.org_unit.path}}
        for m in u.memberships]})


@bp.get('/processes')
def processes():
    return jsonify(catalog.published_processes())


@bp.post('/files')
def upload():
    """One file per request (a client uploads each file, then submits the ids); more `file` parts are refused."""
    if len(request.files.getlist('file')) > 1:
        raise ValidationFailed({'file': [_l('一次只能上传一个文件，请逐个上传')]})
    f = request.files.get('file')
    row = files.upload(g.api_user, f.filename if f else '', f.read() if f else b'')
    return jsonify({'id': row.id, 'sha256': row.sha256, 'size': row.size, 'content_type': row.content_type}), 201


@bp.get('/files/<int:file_id>')
def download(file_id):
    row = files.for_download(g.api_user, file_id)
    return send_file(BytesIO(row.content), mimetype=row.content_type, download_name=row.original_name)


@bp.post('/processes/<key>/instances')
def start(key):
    body = s.body(s.StartRequest)
    # a process whose form has no request_token field (v_order) still recognises a repeated start by it
    with request_tokens.carrying(body['data'].get('request_token')):
        return jsonify(tasks.start_instance(g.api_user, key, body['data'], present=_case_body)), 201


def _instance_item(inst) -> dict:
    open_rows = tasks.open_tasks(inst.id)
    return {'id': inst.id, 'process_key': inst.process_key, 'process_name': shown(inst.version.name),
            'version': inst.version.version, 'status': inst.status, 'outcome': inst.outcome,
            'status_label': status_label(inst, open_rows), 'title': shown(inst.title, stored_text),
            'stage': shown(inst.stage),
            'business_key': inst.business_key, 'created_at': iso(inst.created_at),
            'open_tasks': [task_item(t) for t in open_rows]}


@bp.get('/instances')
def instance_list():
    """我的提交: ?mine=1 (the only view: the caller's own submissions, newest first) &process=<key>&page=<n>."""
    rows, total = tasks.my_instances(g.api_user, request.args.get('process') or None, page_arg())
    return jsonify({'items': [_instance_item(i) for i in rows], 'total': total, 'page': page_arg()})


@bp.get('/instances/<int:instance_id>')
def instance(instance_id):
    inst = tasks.visible_instance(g.api_user, instance_id)
    return _instance_json(inst)


@bp.post('/instances/<int:instance_id>/withdraw')
def instance_withdraw(instance_id):
    """撤回 one's own case before it is reviewed: {"reason"} (optional, at most 200 characters)."""
    inst = submissions.withdraw(g.api_user, instance_id, s.body(s.ReasonRequest)['reason'] or None)
    return _instance_json(inst)


# ?state= of the task list -> list_tasks state: the inbox page's tabs (handled = 已办理: steps without an approve/reject
# result, e.g. a dispatch or a certification) and `done` (every task the caller decided)
TASK_STATES = {'open': 'open', 'done': 'done', 'approved': 'approve', 'rejected': 'reject', 'handled': 'handled'}


def _task_state() -> str:
    given = request.args.get('state')
    if given in (None, ''):
        return 'open'
    if given not in TASK_STATES:
        refused = ServiceError(_l('state 只能是以下之一：%(states)s', states=', '.join(TASK_STATES)), code='bad_state')
        refused.errors = {'state': [str(refused.message)]}
        raise refused
    return TASK_STATES[given]


def _task_sort() -> str:
    """?sort=newest (the default) | oldest: the newest or the oldest first (open: by arrival; others: by decision)."""
    given = request.args.get('sort')
    if given in (None, ''):
        return tasks.SORTS[0]
    if given not in tasks.SORTS:
        refused = ServiceError(_l('sort 只能是以下之一：%(sorts)s', sorts=', '.join(tasks.SORTS)), code='bad_sort')
        refused.errors = {'sort': [str(refused.message)]}
        raise refused
    return given


@bp.get('/tasks')
def task_list():
    """The caller's tasks in one inbox tab: ?state=open|done|approved|rejected|handled &process=&q=&page=
    &sort=newest|oldest."""
    state, sort = _task_state(), _task_sort()
    rows, total = tasks.list_tasks(g.api_user, state, request.args.get('process'), request.args.get('q'), page_arg(),
                                   sort=sort)
    return jsonify({'items': [task_item(t) for t in rows], 'total': total, 'page': page_arg()})


@bp.get('/tasks/<int:task_id>')
def task_get(task_id):
    d = tasks.task_detail(g.api_user, task_id)
    return jsonify({**task_item(d['task']), 'form': d['form'], 'data': d['data'], 'why': d['why'],
                    'can_act': d['can_act'], 'history': [history_item(h) for h in d['history']],
                    'changed': d['changes'] or []})


@bp.post('/tasks/<int:task_id>/claim')
def claim(task_id):
    return jsonify(task_item(tasks.claim(g.api_user, task_id)))


@bp.post('/tasks/<int:task_id>/unclaim')
def unclaim(task_id):
    return jsonify(task_item(tasks.unclaim(g.api_user, task_id)))


@bp.post('/tasks/<int:task_id>/complete')
def complete(task_id):
    body = s.body(s.CompleteRequest)
    return jsonify(tasks.complete_task(g.api_user, task_id, body['decision'], body['reason'], body['data'],
                                       present=_case_body))


@bp.post('/tasks/batch')
def batch():
    body = s.body(s.BatchRequest)
    results = tasks.batch_decide(g.api_user, body['task_ids'], body['decision'], body['reason'], body['data'])
    # the step and the case title in the reader's language, as the inbox's batch result page shows them
    return jsonify({'results': [{**r, 'step': shown(r['step']), 'title': shown(r['title'], stored_text)}
                                for r in results]})


@bp.post('/exports')
def export_request():
    body = s.body(s.ExportRequest)
    job = exports.request_export(g.api_user, body.pop('kind'), body, schedule_export)
    return jsonify(exports.job_view(job)), 202


@bp.get('/exports')
def export_list():
    rows, total = exports.my_exports(g.api_user, page_arg())
    return jsonify({'items': [exports.job_view(j) for j in rows], 'total': total, 'page': page_arg()})


@bp.get('/exports/<int:job_id>')
def export_item(job_id):
    return jsonify(exports.job_view(exports.get_export(g.api_user, job_id)))


@bp.get('/exports/<int:job_id>/file')
def export_download(job_id):
    content, name = exports.export_file(g.api_user, job_id)
    return send_xlsx(content, name, fallback='export')


@bp.get('/service-objects')
def service_object_list():
    view = 'all' if request.args.get('view') == 'all' else 'approved'
    rows, total = service_objects.library(g.api_user, view, request.args.get('q'), page_arg())
    return jsonify({'items': [service_object_item(o) for o in rows], 'total': total, 'page': page_arg()})


@bp.get('/orders')
def order_list():
    """订单管理 as JSON: ?status=&q=&from=YYYY-MM-DD&to=YYYY-MM-DD&page= (403 without a back-office role)."""
    rows, total = search_orders(g.api_user, request.args, page_arg())
    return jsonify({'items': [v_orders.order_view(o) for o in rows], 'total': total, 'page': page_arg()})


@bp.get('/orders/<int:order_id>')
def order_get(order_id):
    return jsonify(v_orders.order_view(v_orders.visible_order(g.api_user, order_id)))


@bp.post('/orders/<int:order_id>/<any(cancel, abort):action>')
def order_close(order_id, action):
    reason = s.body(s.ReasonRequest)['reason'] or ''
    return jsonify(v_orders.order_view(v_order_steps.close_order(g.api_user, order_id, action, reason)))


@bp.post('/orders/<int:order_id>/withdraw')
def order_withdraw(order_id):
    """拒绝派单 / 放弃接单 by the volunteer on the order, before the service starts: {"reason": "..."} (≤ 200)."""
    reason = s.body(s.ReasonRequest)['reason'] or ''
    return jsonify(v_orders.order_view(v_order_steps.withdraw_acceptance(g.api_user, order_id, reason)))


@bp.get('/me/points')
def my_points():
    kind = request.args.get('point_type') or ledger.ELDERLY_TIME
    return jsonify({**shop.points_statement(g.api_user, kind, page_arg()), 'point_type': kind})


# ---- activities, sensitive words, unit lists (issue 5) ----
from app.blueprints.api import PUBLIC  # noqa: E402
from app.services import activities, sensitive_words, unit_lists  # noqa: E402
from app.services.auth import user_for_token  # noqa: E402

PUBLIC.add('api.activity_list')


def require_token():
    """The bearer user on a public endpoint (the blueprint's check skips PUBLIC endpoints); 401 without one."""
    scheme, _, raw = request.headers.get('Authorization', '').partition(' ')
    user = user_for_token(raw.strip()) if scheme.lower() == 'bearer' else None
    if user is None:
        raise Unauthorized()
    g.api_user = user


def _body_value(schema_cls, key):
    return s.body(schema_cls)[key] or request.args.get(key)


@bp.get('/activities')
def activity_list():
    """state=published (default, no login needed) or state=mine (the caller's latest versions)."""
    if request.args.get('state') == 'mine':
        require_token()
        rows, total = activities.mine(g.api_user, page_arg())
    else:
        rows, total = activities.published(request.args.get('q'), page_arg())
    return jsonify({'items': [activities.as_dict(a) for a in rows], 'total': total, 'page': page_arg()})


@bp.get('/sensitive-words')
def word_list():
    rows, total = sensitive_words.list_words(g.api_user, request.args.get('q'), page_arg())
    return jsonify({'items': [{'id': w.id, 'word': w.word, 'created_by': w.created_by.username if w.created_by else None,
                               'created_at': w.created_at.isoformat() if w.created_at else None} for w in rows],
                    'total': total, 'page': page_arg(), 'version': sensitive_words.current_version()})


@bp.post('/sensitive-words')
def word_add():
    body = s.body(s.WordsRequest)
    if body['words'] is None:
        return jsonify({'items': sensitive_words.add_words(g.api_user, [body['word']])}), 201
    try:
        added = sensitive_words.add_words(g.api_user, body['words'])
    except ValidationFailed as exc:  # the service names its field `word`; a list was sent as `words`
        raise _renamed(exc, 'word', 'words') from None
    return jsonify({'items': added}), 201


@bp.delete('/sensitive-words')
def word_remove():
    word = _body_value(s.WordsRequest, 'word')
    sensitive_words.remove_word(g.api_user, word)
    return jsonify({'deleted': word})


def _unit_item(e, reason=None):
    """A listed unit; `reason`: why it was put on the list (required for the blacklist, optional for the whitelist)."""
    return {'org_unit': {'code': e.org_unit.code, 'name': e.org_unit.name, 'kind': e.org_unit.kind},
            'list': e.kind, 'reason': reason, 'added_by': e.created_by.username if e.created_by else None,
            'added_at': e.created_at.isoformat() if e.created_at else None}


def _unit_body() -> tuple[str | None, str | None]:
    """(org_unit, reason) from the JSON body, or from the query string (a DELETE may carry no body)."""
    body = s.body(s.UnitRequest)
    return body['org_unit'] or request.args.get('org_unit'), body['reason'] or request.args.get('reason')


@bp.get('/unit-lists/<kind>')
def unit_list(kind):
    rows = unit_lists.entries(g.api_user, kind)
    reasons = unit_lists.reasons(g.api_user, rows)
    return jsonify({'items': [_unit_item(e, reasons.get(e.org_unit.code)) for e in rows]})


@bp.post('/unit-lists/<kind>')
def unit_list_add(kind):
    """{"org_unit", "reason"}: the reason is required for the blacklist (as on the page); `moved`: a whitelisted unit
    that was blacklisted left the whitelist."""
    code, reason = _unit_body()
    row, moved = unit_lists.place(g.api_user, kind, code, reason)
    reason = unit_lists.reasons(g.api_user, [row]).get(row.org_unit.code)
    return jsonify({**_unit_item(row, reason), 'moved': moved}), 201


@bp.delete('/unit-lists/<kind>')
def unit_list_remove(kind):
    code, reason = _unit_body()
    unit_lists.remove(g.api_user, kind, code, reason)
    return jsonify({'deleted': code, 'list': kind})


from app.services import messages  # noqa: E402


def _message_item(m) -> dict:
    return {'id': m.id, 'kind': m.kind, 'title': m.shown_title, 'body': m.shown_body, 'link': m.link,
            'created_at': m.created_at.isoformat() if m.created_at else None, 'read': m.read_at is not None}


@bp.get('/messages')
def message_list():
    rows, total = messages.list_for(g.api_user, page_arg(), unread_only=request.args.get('unread') == '1')
    return jsonify({'items': [_message_item(m) for m in rows], 'total': total, 'page': page_arg(),
                    'unread': messages.unread_count(g.api_user)})


@bp.post('/messages/read-all')
def message_read_all():
    return jsonify({'marked': messages.mark_all_read(g.api_user), 'unread': 0})


@bp.post('/messages/<int:message_id>/read')
def message_read(message_id):
    return jsonify(_message_item(messages.mark_read(g.api_user, message_id)))


# --- process administration (process_admin only); same handlers as the editor page's calls
from app.blueprints.admin import json_views as admin_json  # noqa: E402
from app.services import process_admin  # noqa: E402


@bp.get('/processes/<key>/bpmn')
def process_bpmn(key):
    return admin_json.get_bpmn(g.api_user, key)


@bp.get('/processes/<key>/versions')
def process_versions(key):
    return admin_json.get_versions(g.api_user, key)


@bp.post('/processes/<key>/drafts')
def process_draft(key):
    return admin_json.post_draft(g.api_user, key)


@bp.delete('/admin/processes/<key>/draft')
def process_draft_discard(key):
    """放弃草稿: the draft the editor shows (or ?draft_id=<n>); the DELETE is the confirmation. 404 without a draft."""
    discarded = process_admin.discard_current_draft(g.api_user, key, request.args.get('draft_id'))
    return jsonify({'discarded': discarded, 'message': _('已放弃草稿 #%(id)d。已发布的版本不受影响。', id=discarded)})


@bp.post('/processes/<key>/drafts/<int:draft_id>/publish')
def process_publish(key, draft_id):
    return admin_json.post_publish(g.api_user, key, draft_id)


@bp.post('/processes/<key>/migrations')
def process_migrate(key):
    return admin_json.post_migration(g.api_user, key)


@bp.get('/processes/<key>/diff')
def process_diff(key):
    return admin_json.get_diff(g.api_user, key)


# ---- points shop and gifts to relatives (issue 4) ----
from app.services import gifts, shop  # noqa: E402


@bp.get('/shop/items')
def shop_items():
    return jsonify([shop.item_dict(i) for i in shop.on_sale(request.args.get('section') or None)])


@bp.get('/shop/items/<int:item_id>')
def shop_item(item_id):
    return jsonify(shop.item_dict(shop.item_on_sale(item_id)))


@bp.post('/shop/items')
def shop_item_create():
    shop.require_role(g.api_user, *shop.REGISTRARS)  # 403 before any message about the body
    return jsonify(shop.item_dict(shop.create_item(g.api_user, s.body(s.ShopItemRequest)))), 201


@bp.post('/shop/items/<int:item_id>/redeem')
def shop_redeem(item_id):
    shop.item_on_sale(item_id)  # an item not on sale is a 404 whatever the body says
    row, created = shop.redeem(g.api_user, item_id, s.body(s.TokenOnlyRequest)['request_token'])
    return jsonify(shop.redemption_dict(row)), 201 if created else 200


@bp.get('/shop/review')
def shop_review_list():
    """The bureau's resources in one review state; ?q= searches name, provider and description, ?section= one 栏目."""
    return jsonify([shop.item_dict(i) for i in shop.items_to_review(g.api_user, request.args.get('status', 'pending'),
                                                                    request.args.get('q'), request.args.get('section'))])


@bp.post('/shop/items/<int:item_id>/review')
def shop_review(item_id):
    shop.reviewable_item(g.api_user, item_id)  # another district's item is a 404 whatever the body says
    body = s.body(s.ItemReviewRequest)
    return jsonify(shop.item_dict(shop.review_item(g.api_user, item_id, body['decision'], body['reason'])))


def _entry_item(e) -> dict:
    """A ledger entry; `amount` is the points it moved (its legs sum to zero: the positive side)."""
    return {'id': e.id, 'kind': e.kind, 'amount': sum(p.amount for p in e.postings if p.amount > 0),
            'point_type': e.point_type, 'reason': e.shown_reason, 'business_ref': e.business_ref,
            'at': e.created_at.isoformat() if e.created_at else None}


def _points_as_amount(exc: ValidationFailed):
    """The services name a shortfall `points`; the request's field is `amount`."""
    return _renamed(exc, 'points', 'amount')


@bp.post('/shop/donations')
def shop_donate():
    b = s.body(s.DonationRequest)
    if not (b['target'] or '').strip():  # the page always names its card; a client may send none
        raise ValidationFailed({'target': [_l('请选择积分公益项目或公益池')]})
    try:
        done = shop.donate(g.api_user, b['target'], b['amount'], b['point_type'], b['request_token'])
    except ValidationFailed as exc:
        raise _points_as_amount(exc) from None
    return jsonify(_entry_item(done.entry)), 201


@bp.get('/shop/pool')
def shop_pool():
    shop.require_role(g.api_user, 'association_admin')
    return jsonify({'balance': shop.pool_balance()})


@bp.post('/shop/pool/allocations')
def shop_allocate():
    shop.require_role(g.api_user, 'association_admin')  # 403 before any message about the body
    b = s.body(s.AllocationRequest)
    try:
        entry = shop.allocate(g.api_user, b['username'], b['amount'], b['reason'], b['request_token'])
    except ValidationFailed as exc:
        raise _points_as_amount(exc) from None
    return jsonify(_entry_item(entry)), 201


@bp.get('/gifts')
def gift_list():
    return jsonify({'items': [gifts.as_dict(x) for x in gifts.mine(g.api_user)]})


@bp.get('/gifts/<int:gift_id>')
def gift_get(gift_id):
    return jsonify(gifts.as_dict(gifts.visible_gift(g.api_user, gift_id)))
