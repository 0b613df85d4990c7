from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.blueprints.exports import send_xlsx
from app.blueprints.teams import bp
from app.blueprints.web import page_arg
from app.services import volunteers
from app.services.errors import NotFound
from app.services.forms import is_english
from app.services.volunteer_sheet import MAX_BYTES, MAX_ROWS, ImportRefused, other_headers, template_bytes, titles


@bp.before_request
@login_required
def _login():
    return None


@bp.get('/teams')
def index():
    teams = volunteers.managed_teams(current_user)
    if not teams:
        raise NotFound()
    if len(teams) == 1:
        return redirect(url_for('teams.roster', code=teams[0].code))
    return render_template('teams/index.html', teams=teams)


@bp.get('/teams/<code>/volunteers')
def roster(code):
    q = request.args.get('q', '')
    team, rows, total = volunteers.roster(current_user, code, q, page_arg())
    return render_template('teams/roster.html', team=team, items=[volunteers.roster_item(m) for m in rows],
                           total=total, page=page_arg(), q=q)


@bp.get('/teams/<code>/volunteers/template.xlsx')
def template(code):
    volunteers.team_for(current_user, code)
    name = 'volunteer-import-template.xlsx' if is_english() else '志愿者导入模板.xlsx'
    return send_xlsx(template_bytes(), name, fallback='volunteer-import-template')


def _import_page(team, status=200, **context):
    return render_template('teams/import.html', team=team, columns=titles(), other_headers=other_headers(),
                           max_rows=MAX_ROWS,
                           max_mb=MAX_BYTES // (1024 * 1024), **context), status


@bp.get('/teams/<code>/volunteers/import')
def import_form(code):
    return _import_page(volunteers.team_for(current_user, code))


@bp.post('/teams/<code>/volunteers/import')
def import_upload(code):
    team = volunteers.team_for(current_user, code)
    f = request.files.get('file')
    name, content = (f.filename, f.stream.read(MAX_BYTES + 1)) if f else ('', b'')
    dry_run = bool(request.form.get('dry_run'))
    try:
        result = volunteers.import_volunteers(current_user, code, name, content, dry_run=dry_run)
    except ImportRefused as exc:
        return _import_page(team, exc.status, refused=exc, filename=name, dry_run=dry_run)
    return _import_page(team, result=result, filename=name, dry_run=dry_run)
