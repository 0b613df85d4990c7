"""审计日志 over the API: the same service, rows and permission as the page."""
from flask import g, jsonify, request

from app.blueprints.api import bp
from app.blueprints.template_helpers import decision_label
from app.blueprints.web import page_arg
from app.services import audit_log, audit_source

# the 来源 choices of the audit page (admin/audit.html) from the same list the service checks `source` against
bp.add_app_template_global(audit_log.source_options, 'audit_sources')


def request_source() -> str:
    """The source ("via") of an audit row written while answering the current request: 'api' for this blueprint's
    requests (bearer token), 'web' for any other (a page in the browser). Services never read the request: they
    are told through audit_source."""
    return 'api' if bp.name in request.blueprints else 'web'


audit_source.read_requests_with(request_source)
audit_log.name_decisions_with(decision_label)  # a decision in the words of the case history (通过, 系统自动 …)


@bp.get('/audit')
def audit():
    """?group=&actor=&source= (web, api, cli: the command line, system, unrecorded; audit_log.SOURCES) &from=&to=
    (Beijing days, inclusive) &q= (text in the target) &page= (20 a page, newest first). Each row has its `source`.
    Details keep their keys (machine readable), not the page's words."""
    rows, total = audit_log.search(g.api_user, request.args, page_arg(), readable=False)
    return jsonify({'items': rows, 'total': total, 'page': page_arg(), 'per_page': audit_log.PER_PAGE})
