"""Plain-dict views of rows for JSON responses (field names fixed by API.md)."""
from app.services.roles import role_label
from app.services.status import status_label
from app.services.step_names import step_name, stored_text


def iso(dt):
    return dt.isoformat() if dt else None


def shown(value, reword=step_name):
    """A name or text the app stores in Chinese (a step, a process, a stage; with `stored_text` a case title or a
    system's reason) in the reader's language, as the pages show it; None stays None."""
    return reword(value) if value else value


def task_item(t) -> dict:
    return {'id': t.id, 'title': shown(t.title), 'subject': t.subject, 'process_key': t.process_key,
            'instance_id': t.instance_id, 'instance_title': shown(t.instance.title, stored_text), 'lane': t.lane,
            'lane_label': role_label(t.lane),
            'scope': [s.org_unit.code for s in t.scopes], 'status': t.status, 'decision': t.decision,
            'created_at': iso(t.created_at), 'due_at': iso(t.due_at),
            'claimed_by': t.claimed_by.username if t.claimed_by else None}


def history_item(h) -> dict:
    """A row of a case's history; `resubmitted`: a submitter's step sent again after a rejection (重新提交)."""
    return {'task': shown(h['task']), 'subject': h['subject'], 'lane': h['lane'], 'actor': h['actor'],
            'org_unit': h['org_unit'], 'decision': h['decision'], 'reason': shown(h['reason'], stored_text),
            'at': iso(h['at']), 'resubmitted': bool(h.get('resubmitted'))}


def instance_view(instance, open_tasks, history) -> dict:
    return {'id': instance.id, 'process_key': instance.process_key, 'version': instance.version.version,
            'status': instance.status, 'outcome': instance.outcome, 'status_label': status_label(instance, open_tasks),
            'title': shown(instance.title, stored_text), 'stage': shown(instance.stage),
            'business_key': instance.business_key,
            'created_at': iso(instance.created_at),
            'open_tasks': [task_item(t) for t in open_tasks], 'history': [history_item(h) for h in history]}


def service_object_item(o) -> dict:
    return {'id': o.id, 'name': o.name, 'street': o.household_street.code, 'residence_street': o.residence_street.code,
            'version': o.version, 'status': o.status, 'instance_id': o.instance_id, 'gender': o.gender,
            'birth_date': o.birth_date, 'category': o.category, 'created_at': iso(o.created_at)}
