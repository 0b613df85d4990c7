"""Team volunteers over the API: the roster and the batch import, same service and permissions as the pages."""
from flask import g, jsonify, request

from app.blueprints.api import bp
from app.blueprints.web import page_arg
from app.services import volunteers
from app.services.volunteer_sheet import MAX_BYTES


@bp.get('/teams/<code>/volunteers')
def team_volunteers(code):
    _, rows, total = volunteers.roster(g.api_user, code, request.args.get('q'), page_arg())
    return jsonify({'items': [volunteers.roster_item(m) for m in rows], 'total': total, 'page': page_arg()})


@bp.post('/teams/<code>/volunteers/import')
def team_volunteers_import(code):
    """multipart `file` (.xlsx), optional dry_run=1; 422 {errors:[{row, column, message}]} imports nothing."""
    f = request.files.get('file')
    dry_run = (request.form.get('dry_run') or request.args.get('dry_run') or '').lower() in ('1', 'true', 'yes')
    result = volunteers.import_volunteers(g.api_user, code, f.filename if f else '', f.stream.read(MAX_BYTES + 1) if f else b'',
                                          dry_run=dry_run)
    return jsonify({'created': result['created'], 'joined': result['joined'], 'already': result['already'],
                    'dry_run': result['dry_run'], 'errors': [],
                    'rows': [{'row': r.number, 'outcome': r.outcome} for r in result['rows']]})
