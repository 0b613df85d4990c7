"""JSON handlers shared by the editor page (/admin/api, session + CSRF) and the bearer API (/api/v1)."""
from flask import Response, jsonify, request
from flask_babel import gettext as _

from app.blueprints.api import schemas as s
from app.services import process_admin as pa
from app.services import process_migration

# multipart framing around an uploaded file
_ENVELOPE = 64 * 1024


def _xml_body() -> bytes:
    limit = pa.MAX_BPMN_BYTES + _ENVELOPE
    if (request.content_length or 0) > limit:
        raise pa.DiagramTooLarge()
    request.max_content_length = limit
    upload = request.files.get('file') if request.mimetype == 'multipart/form-data' else None
    return upload.read() if upload else request.get_data()


def _problems(exc: pa.ProblemsFound):
    return jsonify({'error': exc.code, 'message': str(exc.message), 'problems': exc.problems}), exc.status


def get_bpmn(user, key):
    xml, filename = pa.bpmn(user, key, request.args.get('version'), request.args.get('draft'))
    headers = {'Content-Disposition': f'attachment; filename="{filename}"'} if request.args.get('download') else {}
    return Response(xml, mimetype='application/xml', headers=headers)


def get_versions(user, key):
    return jsonify(pa.versions(user, key))


def post_draft(user, key):
    xml = _xml_body()
    try:
        draft, problems = pa.save_draft(user, key, xml, request.args.get('base_version'), request.args.get('replace'))
    except pa.ProblemsFound as exc:
        return _problems(exc)
    # same_as: the draft changes nothing against the latest version ({version, message}), publishing it is refused
    return jsonify({'draft_id': draft.id, 'base_version': draft.base_version, 'problems': problems,
                    'same_as': pa.unchanged_from(key, xml)}), 201


def post_discard(user, key, draft_id):
    """放弃草稿 ({"confirm": true}): {discarded, message}."""
    body = request.get_json(silent=True)
    discarded = pa.discard_draft(user, key, draft_id, isinstance(body, dict) and body.get('confirm') is True)
    return jsonify({'discarded': discarded, 'message': _('已放弃草稿 #%(id)d。已发布的版本不受影响。', id=discarded)})


def post_publish(user, key, draft_id):
    try:
        version = pa.publish(user, key, draft_id)
    except pa.ProblemsFound as exc:
        return _problems(exc)
    return jsonify({'version': version.version}), 201


def post_migration(user, key):
    body = s.body(s.MigrationRequest)
    return jsonify(process_migration.migrate(user, key, body['from_version'], body['to_version'], body['dry_run']))


def get_diff(user, key):
    return jsonify(pa.version_diff(user, key, request.args.get('a'), request.args.get('b')))


def post_check(user, key):
    body = s.body(s.ConditionRequest)
    xml = (body['xml'] or '').encode('utf-8')  # the diagram being edited names its service results
    return jsonify(pa.check_condition(user, key, body['expression'] or '',
                                      xml if len(xml) <= pa.MAX_BPMN_BYTES else None))


def get_instances(user, key, version):
    return jsonify(pa.running_instances(user, key, version))
