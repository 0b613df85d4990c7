"""审计日志 over the API: the same service, rows and permission as the page."""
from flask import g, jsonify, request

from app.blueprints.api import bp
from app.blueprints.web import page_arg
from app.services import audit_log


@bp.get('/audit')
def audit():
    """?group=&actor=&source=cli (done on the command line) &from=&to= (Beijing days, inclusive) &q= (text in the
    target) &page= (20 a page, newest first). Details keep their keys (machine readable), not the page's words."""
    rows, total = audit_log.search(g.api_user, request.args, page_arg(), readable=False)
    return jsonify({'items': rows, 'total': total, 'page': page_arg(), 'per_page': audit_log.PER_PAGE})
