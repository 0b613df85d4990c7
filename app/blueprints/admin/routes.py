"""Editor and viewer pages plus the editor's JSON calls (same handlers as the bearer API)."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.admin import json_views as jv
from app.blueprints.errors import is_api_path
from app.blueprints.web import page_arg
from app.extensions import login_manager
from app.services import audit_log, process_admin, process_migration
from app.services.errors import Conflict, Unauthorized, ValidationFailed
from app.services.step_names import step_name


@bp.before_request
def _login():
    if current_user.is_authenticated:
        return None
    if is_api_path():  # a scripted caller gets 401 JSON, not a redirect to the login page
        raise Unauthorized()
    return login_manager.unauthorized()


@bp.get('/')
def index():
    return redirect(url_for('admin.processes'))


@bp.get('/processes')
def processes():
    return render_template('admin/processes.html', rows=process_admin.overview(current_user))


@bp.post('/processes/<key>/drafts/<int:draft_id>/discard')
def discard_draft(key, draft_id):
    """放弃草稿 from the list: confirmed in the row's form; without the confirmation the list asks again."""
    try:
        process_admin.discard_draft(current_user, key, draft_id, request.form.get('confirm'))
    except ValidationFailed as exc:
        return render_template('admin/processes.html', rows=process_admin.overview(current_user),
                               discard_errors={draft_id: exc.errors.get('confirm', [])}), exc.status
    except Conflict as exc:
        flash(str(exc.message), 'error')
        return redirect(url_for('admin.processes'))
    flash(_('已放弃草稿 #%(id)d。已发布的版本不受影响。', id=draft_id), 'success')
    return redirect(url_for('admin.processes'))


@bp.get('/audit')
def audit():
    """审计日志: a bad filter is explained and the typed ones are kept."""
    try:
        rows, total = audit_log.search(current_user, request.args, page_arg())
        errors = {}
    except ValidationFailed as exc:
        rows, total, errors = [], 0, exc.errors
    return render_template('admin/audit.html', rows=rows, total=total, errors=errors, page=page_arg(), f=request.args,
                           groups=audit_log.group_options()), 422 if errors else 200


@bp.get('/processes/<key>')
def editor(key):
    """The editor: the draft saved last (or ?draft=<id>), or with ?published=1 the latest published version."""
    return render_template('admin/editor.html', ctx=process_admin.editor_context(
        current_user, key, request.args.get('draft'), bool(request.args.get('published'))))


@bp.get('/instances/<int:instance_id>')
def instance(instance_id):
    return _instance_page(instance_id)


def _instance_page(instance_id, form=None, errors=None, status=200):
    """The case viewer with its recovery form; after a refused reset, the typed reason and the messages."""
    return render_template('admin/instance.html', v=process_migration.instance_view(current_user, instance_id),
                           steps=process_admin.reset_steps(current_user, instance_id),
                           refused=process_admin.refused_reset_steps(current_user, instance_id), form=form or {},
                           errors=errors or {}), status


@bp.post('/instances/<int:instance_id>/reset')
def instance_reset(instance_id):
    form = request.form
    try:
        instance, step = process_admin.reset_case(current_user, instance_id, form.get('bpmn_id'), form.get('reason'),
                                                  form.get('confirm'))
    except ValidationFailed as exc:
        return _instance_page(instance_id, form, exc.errors, exc.status)
    except Conflict as exc:
        return _instance_page(instance_id, form, {'form': [str(exc.message)]}, exc.status)
    flash(_('已回退到“%(step)s”。当前步骤：%(now)s', step=step_name(step), now=step_name(instance.stage) or _('无')), 'success')
    return redirect(url_for('admin.instance', instance_id=instance_id))


@bp.get('/api/processes/<key>/bpmn')
def api_bpmn(key):
    return jv.get_bpmn(current_user, key)


@bp.get('/api/processes/<key>/versions')
def api_versions(key):
    return jv.get_versions(current_user, key)


@bp.get('/api/processes/<key>/versions/<int:version>/instances')
def api_instances(key, version):
    return jv.get_instances(current_user, key, version)


@bp.post('/api/processes/<key>/drafts')
def api_draft(key):
    return jv.post_draft(current_user, key)


@bp.post('/api/processes/<key>/drafts/<int:draft_id>/discard')
def api_discard(key, draft_id):
    # the editor goes on to the published version, whose status line says the draft was discarded
    return jv.post_discard(current_user, key, draft_id)


@bp.post('/api/processes/<key>/drafts/<int:draft_id>/publish')
def api_publish(key, draft_id):
    return jv.post_publish(current_user, key, draft_id)


@bp.post('/api/processes/<key>/migrations')
def api_migrate(key):
    return jv.post_migration(current_user, key)


@bp.get('/api/processes/<key>/diff')
def api_diff(key):
    return jv.get_diff(current_user, key)


@bp.post('/api/processes/<key>/check-expression')
def api_check(key):
    return jv.post_check(current_user, key)
