from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app.blueprints.exports import bp, send_xlsx
from app.blueprints.web import page_arg
from app.jobs.exports import schedule_export
from app.services import exports
from app.services.errors import ValidationFailed


@bp.before_request
@login_required
def _login():
    return None


def _page(values, errors, status=200):
    rows, total = exports.my_exports(current_user, page_arg())
    return render_template('exports/index.html', rows=rows, total=total, page=page_arg(), values=values,
                           errors=errors, kinds=exports.kinds_for(current_user), task_states=exports.TASK_STATE_CHOICES,
                           state_names=exports.STATE_NAMES, view_names=exports.VIEW_NAMES, keep_days=exports.keep_days(),
                           busy=any(exports.shown_status(j) in ('queued', 'running') for j in rows)), status


@bp.get('/exports')
def index():
    return _page(request.args.to_dict(), {})


@bp.get('/exports/progress')
def progress():
    """The progress of the exports on one page of the list, for app.js to update the rows in place (no page reload)."""
    rows, _total = exports.my_exports(current_user, page_arg())
    items = [dict(exports.job_view(j), rows_text=ngettext('%(num)s 行', '%(num)s 行', j.total_rows or 0),
                  download_url=url_for('exports.download', job_id=j.id) if exports.shown_status(j) == 'done' else None)
             for j in rows]
    return jsonify({'items': items, 'busy': any(i['status'] in ('queued', 'running') for i in items)})


@bp.post('/exports')
def create():
    values = request.form.to_dict()
    try:
        job = exports.request_export(current_user, values.pop('kind', ''), values, schedule_export)
    except ValidationFailed as exc:
        return _page(request.form.to_dict(), exc.errors, exc.status)
    flash(_('已开始导出“%(title)s”，完成后可在此下载，也会收到站内信', title=exports.kind_title(job)), 'success')
    return redirect(url_for('exports.index', _anchor=f'export-{job.id}'))


@bp.get('/exports/<int:job_id>/download')
def download(job_id):
    """An expired file (a link in an old message) leads back to the list, where the same export can be asked again."""
    try:
        content, name = exports.export_file(current_user, job_id)
    except exports.ExportExpired as exc:
        flash(str(exc.message), 'error')
        return redirect(url_for('exports.index', _anchor=f'export-{job_id}'))
    return send_xlsx(content, name, fallback='export')
