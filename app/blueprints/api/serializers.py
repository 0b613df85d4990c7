"""Plain-dict views of rows for JSON responses (field names fixed by API.md)."""
from app.services.roles import role_label
from app.services.status import status_label


def iso(dt):
    return dt.isoformat() if dt else None


def task_item(t) -> dict:
    return {'id': t.id, 'title': t.title, 'subject': t.subject, 'process_key': t.process_key, 'instance_id': t.instance_id,
            'instance_title': t.instance.title, 'lane': t.lane, 'lane_label': role_label(t.lane),
            'scope': [s.org_unit.code for s in t.scopes], 'status': t.status, 'decision': t.decision,
            'created_at': iso(t.created_at), 'due_at': iso(t.due_at),
            'claimed_by': t.claimed_by.username if t.claimed_by else None}


def history_item(h) -> dict:
    return {'task': h['task'], 'subject': h['subject'], 'lane': h['lane'], 'actor': h['actor'], 'org_unit': h['org_unit'],
            'decision': h['decision'], 'reason': h['reason'], 'at': iso(h['at']),
            'resubmitted': bool(h.get('resubmitted'))}  # a submitter's step sent again after a rejection (重新提交)


def instance_view(instance, open_tasks, history) -> dict:
    return {'id': instance.id, 'process_key': instance.process_key, 'version': instance.version.version,
            'status': instance.status, 'outcome': instance.outcome, 'status_label': status_label(instance, open_tasks),
            'title': instance.title, 'stage': instance.stage, 'business_key': instance.business_key,
            'created_at': iso(instance.created_at),
            'open_tasks': [task_item(t) for t in open_tasks], 'history': [history_item(h) for h in history]}


def service_object_item(o) -> dict:
    return {'id': o.id, 'name': o.name, 'street': o.household_street.code, 'residence_street': o.residence_street.code,
            'version': o.version, 'status': o.status, 'instance_id': o.instance_id, 'gender': o.gender,
            'birth_date': o.birth_date, 'category': o.category, 'created_at': iso(o.created_at)}
