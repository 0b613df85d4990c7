"""案件列表: the process administrator's list of cases, per process or of all (registered on the admin blueprint,
whose sign-in check covers it)."""
from flask import render_template, request
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.web import page_arg
from app.services import case_list
from app.services.errors import ValidationFailed


@bp.get('/cases')
def cases():
    """A bad filter is explained above the list and the typed filters are kept."""
    try:
        rows, total, opts = case_list.search(current_user, request.args, page_arg())
        errors = {}
    except ValidationFailed as exc:
        rows, total, errors = [], 0, exc.errors
        process = None if 'process' in exc.errors else (request.args.get('process') or '').strip() or None
        opts = case_list.options(current_user, process)
    return render_template('admin/cases.html', rows=rows, total=total, errors=errors, page=page_arg(), f=request.args,
                           opts=opts, per_page=case_list.PER_PAGE), 422 if errors else 200
