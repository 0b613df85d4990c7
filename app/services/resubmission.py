"""What a resubmission changed (本次修改): a case's latest submission against the one before it, field by field.

A rejected case goes back to its submitter's form (bpmn id 'submit'); every completion of that form is audited with
the submitted data (`Decision.data_json`). A reviewer of the corrected version is told which fields differ from the
version that was sent back, so a round is not checked from scratch again."""
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ServiceObject
from app.services import forms
from app.services.validators import mask_id

SUBMIT_STEP = 'submit'
BEIJING = ZoneInfo('Asia/Shanghai')
_TAG_TOKEN = re.compile(r"[^\s,，、;；\[\]'\"]+")


def _submissions(history) -> list[int]:
    """Positions in the case's history (`instance_history`) of the submitter's completed submission forms."""
    return [i for i, row in enumerate(history) if row['bpmn_id'] == SUBMIT_STEP and row['decision'] == 'submit']


def changes_for_task(task, history, display_form) -> list[dict] | None:
    """The fields the latest submission changed, [{'field', 'label', 'before'}] in the form's order (labels in the
    reader's language, `before` the earlier value as shown); None when there is nothing to compare: the task is not
    an open review, the case is in its first round, or the review is not of the latest submission (a V-order's
    acceptor or certification review comes after other forms were filled in since)."""
    if task.status != 'open' or not forms.is_review_form(task.form_key) or not display_form:
        return None
    rounds = _submissions(history)
    if len(rounds) < 2 or any(row['decision'] == 'submit' for row in history[rounds[-1] + 1:]):
        return None
    return compare(display_form, history[rounds[-2]]['data'], history[rounds[-1]]['data'],
                   _submission_form(task.instance_id))


def _submission_form(instance_id) -> dict | None:
    """The definition of the case's submission form: it says what a submitted value is (a time, a street code, ids
    of service objects), where the display form may describe the value the reviewer reads instead."""
    key = db.session.scalar(select(HumanTask.form_key).where(
        HumanTask.instance_id == instance_id, HumanTask.bpmn_id == SUBMIT_STEP).order_by(HumanTask.id.desc()).limit(1))
    return forms.get_form(key) if key and key in forms.form_names() else None


def compare(form: dict, before: dict, after: dict, submitted_form: dict | None = None) -> list[dict]:
    """The fields of `form` (labelled and ordered as it shows them) whose submitted value differs between two
    submissions, read as `submitted_form` defines them when it has the field (a file list when its set of files
    differs; empty values alike whether missing, blank or an empty list)."""
    submitted = (submitted_form or {}).get('properties', {})
    changed = []
    for name in forms.field_order(form):
        if name not in form['properties']:
            continue
        prop = submitted.get(name) or form['properties'][name]
        if _normal(prop, before.get(name)) == _normal(prop, after.get(name)):
            continue
        changed.append({'field': name, 'label': forms.label(form['properties'][name]),
                        'before': shown(prop, before.get(name))})
    return changed


def _empty(value) -> bool:
    return value is None or value == '' or value == [] or value == {}


def _moment(value):
    """An ISO date-time in Beijing time (a time without an offset is Beijing time, as the forms read it)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment.replace(tzinfo=BEIJING) if moment.tzinfo is None else moment.astimezone(BEIJING)


def _normal(prop: dict, value):
    """The value as compared: files and other lists as sets, tags as a set, times as moments, text trimmed."""
    if _empty(value):
        return None
    if isinstance(value, list):
        return frozenset(str(v) for v in value)
    if prop.get('x-tags') and isinstance(value, str):
        return frozenset(_TAG_TOKEN.findall(value))
    if prop.get('format') == 'date-time':
        return _moment(value) or value
    if isinstance(value, str):
        return value.strip()
    return value


def _tag_text(prop: dict, value) -> str:
    labels = prop.get('x-tags_en' if forms.is_english() else 'x-tags') or {}
    tags = [str(t) for t in value] if isinstance(value, list) else _TAG_TOKEN.findall(value)
    return gettext('、').join(labels.get(t, t) for t in tags)


def _object_names(ids) -> str:
    """Service objects of a V-order by name, in the order chosen."""
    names = dict(db.session.execute(select(ServiceObject.id, ServiceObject.name)
                                    .where(ServiceObject.id.in_([int(i) for i in ids]))).all())
    return gettext('、').join(names.get(int(i), str(i)) for i in ids)


def shown(prop: dict, value):
    """An earlier value as the reader sees values on the task page: option labels, Beijing times, a masked ID
    number; None when it was empty. A file field keeps its list of file ids."""
    if _empty(value):
        return None
    if prop.get('x-file'):
        return list(value)
    if prop.get('format') == 'cn-id-card':
        return mask_id(str(value))
    if prop.get('format') == 'date-time':
        moment = _moment(value)
        return moment.strftime('%Y-%m-%d %H:%M') if moment else str(value)
    if prop.get('x-tags'):
        return _tag_text(prop, value)
    if prop.get('x-options') == 'approved_service_objects' and isinstance(value, list):
        return _object_names(value)
    if prop.get('enum') or (prop.get('x-options') and prop.get('x-options') != 'approved_service_objects'):
        options = dict(forms.option_list(prop))
        if isinstance(value, list):
            return gettext('、').join(str(options.get(v, v)) for v in value)
        return str(options.get(value, value))
    if isinstance(value, dict):
        order = list(prop.get('properties') or value)
        return ', '.join(str(value[k]) for k in order if k in value)
    if isinstance(value, list):
        return gettext('、').join(str(v) for v in value)
    return str(value)
