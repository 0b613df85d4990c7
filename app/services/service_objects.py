"""Service-object entry (服务对象录入): domain rules, service tasks and the library."""
import json
import re
from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import InstanceFile, OrgUnit, ServiceObject, WorkflowInstance
from app.models.base import utcnow
from app.services import files, forms, org_cache, paged
from app.services.errors import ValidationFailed
from app.services.hooks import CaseVariable, ProcessHooks, register
from app.services.jurisdiction import path_range
from app.services.step_names import PERSON_TITLE
from app.services.validators import age_on, id_birth_date, id_gender, mask_id, mask_name, normalize_id
from workflows import service_tasks

PROCESS_KEY = 'service_object_entry'
FORM_KEY = 'service_object_entry.json'
GENDER_LABELS = {'male': _l('男'), 'female': _l('女')}
# the roles that review service objects, and so have a library of their area (SPEC §1, §2.1)
LIBRARY_ROLES = frozenset({'station_admin', 'street_admin', 'district_admin', 'association_admin'})
STATUS_LABELS = {'pending': _l('审核中'), 'approved': _l('已通过'), 'rejected': _l('未通过'),
                 'abandoned': _l('已终止'), 'withdrawn': _l('已撤回')}


station_code = forms.station_code  # a street's 社工站, which reviews its entries first (forms.station_streets)


def _check_identity(clean: dict, errors: dict) -> None:
    idn = clean['id_number']
    gender, age = id_gender(idn), age_on(idn, date.today())
    if clean.get('gender') and clean['gender'] != gender:
        errors['gender'] = [_l('性别与身份证号码不符：身份证显示为%(g)s', g=GENDER_LABELS[gender])]
    if clean.get('age') is not None and clean['age'] != age:
        errors['age'] = [_l('年龄与身份证号码不符：身份证显示为 %(a)s 岁', a=age)]
    clean['gender'], clean['age'] = gender, age


def _check_duplicate(user, clean: dict, instance, errors: dict) -> None:
    """An ID number already entered is refused; whether it is approved or under review, and whose it is, is said
    only to someone who may see that object (`visible_instance`): to others the ID number would reveal them. Its
    submitter is told plainly (the name they typed, and when); a reviewer by the name masked (陈*)."""
    from app.services.errors import NotFound
    from app.services.tasks import visible_instance
    dup = db.session.scalar(select(ServiceObject).where(
        ServiceObject.id_number == clean['id_number'], ServiceObject.instance_id != instance.id,
        ServiceObject.status.in_(['pending', 'approved'])).limit(1))
    if dup is None:
        return
    try:
        visible_instance(user, dup.instance_id)
    except NotFound:
        errors['id_number'] = [_l('该身份证号码已登记，请勿重复录入；如有疑问请联系社工站')]
        return
    if dup.submitted_by_id == user.id:  # their own entry: by the name they typed, when, and what became of it
        said = {'date': format_date(dup.created_at, 'yyyy-MM-dd'), 'name': dup.name}
        errors['id_number'] = [_l('您已于 %(date)s 录入过该身份证号码（%(name)s），已审核通过，请勿重复录入', **said)
                               if dup.status == 'approved' else
                               _l('您已于 %(date)s 录入过该身份证号码（%(name)s），正在审核中，请勿重复录入', **said)]
        return
    where = _l('服务对象库') if dup.status == 'approved' else _l('审核中的录入')
    errors['id_number'] = [_l('该身份证号码已存在于%(where)s（%(name)s），请勿重复录入', where=where,
                              name=mask_name(dup.name))]


def _check_files(user, instance, ids, errors: dict) -> set:
    """Adds an error when a proof file is neither the user's nor already on this case; returns the case's files."""
    attached = set(db.session.scalars(select(InstanceFile.file_id).where(InstanceFile.instance_id == instance.id)))
    try:
        files.check_owned(user, ids, allowed_extra=attached)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    return attached


def _insert_live(user, obj: ServiceObject, clean: dict, instance) -> None:
    """Insert the new version; a same-ID entry committed meanwhile (the unique live index) is a field error."""
    try:
        with db.session.begin_nested():
            db.session.add(obj)
            db.session.flush()
    except IntegrityError:
        errors: dict = {}
        _check_duplicate(user, clean, instance, errors)
        if not errors:
            raise
        raise ValidationFailed(errors) from None


class ServiceObjectHooks(ProcessHooks):
    process_key = PROCESS_KEY
    start_roles = {'volunteer', 'station_admin'}
    display_form = FORM_KEY
    # what prepare puts into the case data besides the form's fields
    scope_variables = {
        'street_scope': CaseVariable(_l('服务对象的户籍街道和居住街道'), 'street'),
        'station_scope': CaseVariable(_l('这两个街道的社工站'), 'station'),
    }
    data_variables = {
        'service_object_id': CaseVariable(_l('服务对象记录的编号')),
        'revision': CaseVariable(_l('第几次提交（退回后再提交加 1）')),
    }

    def problems(self, user, instance, task, form_key, valid):
        """With other field errors: the gender and age against the ID number, an ID number already entered and
        photos that are not the user's, read without writing, so that one refused submission names every problem."""
        if form_key != FORM_KEY:
            return {}
        errors: dict = {}
        if 'id_number' in valid:
            _check_identity(dict(valid), errors)
            _check_duplicate(user, valid, instance, errors)
        if valid.get('proof_files'):
            _check_files(user, instance, valid['proof_files'], errors)
        return errors

    def prepare(self, user, instance, task, form_key, clean):
        if form_key != FORM_KEY:
            return clean
        errors: dict = {}
        _check_identity(clean, errors)
        _check_duplicate(user, clean, instance, errors)
        attached = _check_files(user, instance, clean['proof_files'], errors)
        if errors:
            raise ValidationFailed(errors)
        streets = {u.code: u for u in org_cache.by_codes([clean['household_street'], clean['residence_street']])}
        previous = db.session.scalar(select(func.max(ServiceObject.version)).where(
            ServiceObject.instance_id == instance.id)) or 0
        obj = ServiceObject(id_number=clean['id_number'], version=previous + 1, instance_id=instance.id,
                            status='pending', name=clean['name'], phone=clean['phone'], category=clean['category'],
                            gender=clean['gender'], birth_date=id_birth_date(clean['id_number']).isoformat(),
                            household_street=streets[clean['household_street']],
                            residence_street=streets[clean['residence_street']],
                            data_json=json.dumps(clean, ensure_ascii=False), submitted_by_id=user.id)
        _insert_live(user, obj, clean, instance)
        for fid in set(clean['proof_files']) - attached:
            db.session.add(InstanceFile(instance_id=instance.id, file_id=fid))
        db.session.flush()
        instance.title = PERSON_TITLE % {'text': clean['name'], 'note': mask_id(clean['id_number'])}  # shown: stored_text
        instance.business_key = f'so:{obj.id}'
        codes = list(dict.fromkeys([clean['household_street'], clean['residence_street']]))
        return {**clean, 'service_object_id': obj.id, 'revision': obj.version,
                'street_scope': codes, 'station_scope': [station_code(c) for c in codes]}

    def on_reset(self, instance, run, step, reason):
        """Sent back to the submitter (提交服务对象信息) by an operator: the version under review is withdrawn, so
        the corrected one can be entered (one pending or approved version per ID number, uq_service_object_live_idno)."""
        if 'submit' not in run.ready_bpmn_ids():
            return
        _withdraw_pending(instance)

    def on_withdraw(self, instance, reason):
        """The submitter withdrew the entry: its version under review is withdrawn (the ID number may be entered
        again)."""
        _withdraw_pending(instance)

    def may_view(self, user, instance):
        """Whoever finds the object in their library (服务对象库) may open its case: the association, the district,
        a station or street of its streets, not only those who reviewed it (never the veterans bureau, a team or a
        provider: they do not work on service objects)."""
        listed = library_query(user, 'all').where(ServiceObject.instance_id == instance.id).limit(1)
        return db.session.scalar(listed.with_only_columns(ServiceObject.id)) is not None

    def display(self, instance):
        obj = latest_version(instance.id)
        if obj is None:
            return {}
        data = json.loads(obj.data_json)
        data['service_object_id'], data['version'], data['status'] = obj.id, obj.version, obj.status
        return data


register(ServiceObjectHooks())


def _withdraw_pending(instance) -> None:
    """The case's version under review no longer stands (status withdrawn, 已撤回)."""
    db.session.execute(update(ServiceObject).where(ServiceObject.instance_id == instance.id,
                                                   ServiceObject.status == 'pending')
                       .values(status='withdrawn', decided_at=utcnow()).execution_options(synchronize_session='fetch'))


def latest_version(instance_id) -> ServiceObject | None:
    return db.session.scalar(select(ServiceObject).where(ServiceObject.instance_id == instance_id)
                             .order_by(ServiceObject.version.desc()).limit(1))


def _set_status(data: dict, status: str, outcome=None) -> dict:
    """One UPDATE of the version under review (no read first: this runs inside every final decision)."""
    db.session.execute(update(ServiceObject).where(ServiceObject.id == data['service_object_id'])
                       .values(status=status, decided_at=utcnow()).execution_options(synchronize_session='fetch'))
    if outcome:
        db.session.get(WorkflowInstance, data['instance_id']).outcome = outcome
    return {'status': status}


@service_tasks.register('service_object.approve')
def _approve(data, params):
    return _set_status(data, 'approved', 'approved')


@service_tasks.register('service_object.reject')
def _reject(data, params):
    return _set_status(data, 'rejected')


@service_tasks.register('service_object.abandon')
def _abandon(data, params):
    return _set_status(data, 'abandoned', 'abandoned')


def may_use_library(user) -> bool:
    """Whether the user works on service objects, i.e. has a library (服务对象库) of their area."""
    return any(m.role in LIBRARY_ROLES for m in user.memberships)


def _area_paths(user) -> list[str]:
    """Geographic area of each membership of a role that works on service objects (LIBRARY_ROLES): a station
    covers its street. Other roles (veterans bureau, teams, providers) have no area here, only what they submitted."""
    paths = []
    for m in user.memberships:
        unit = m.org_unit
        if m.role not in LIBRARY_ROLES:
            continue
        if unit.kind == 'station' and unit.parent is not None:
            unit = unit.parent
        paths.append(unit.path)
    return paths


_LAST4 = re.compile(r'[0-9]{3}[0-9X]')


def search_condition(q):
    """The library's search, by the inbox's rules (tasks.filter_tasks): a full ID number (spaces, dashes and
    full-width digits read) matches that person exactly; the last 4 characters of one, typed alone or as the list
    shows the number (4401**********3519), match the numbers ending so; any text matches a name containing it."""
    from app.services.instances import searchable
    from app.services.tasks import full_id_number
    if (number := full_id_number(q)) is not None:
        return ServiceObject.id_number == number
    term = searchable(q.strip())[:50]
    cond = ServiceObject.name.contains(term, autoescape=True)
    last4 = normalize_id(term)
    if _LAST4.fullmatch(last4):
        cond = or_(cond, func.substr(ServiceObject.id_number, 15, 4) == last4)
    return cond


def library_query(user, view='approved', q=None):
    """Select of the service objects of the library within the user's area, newest first."""
    hh, rs = aliased(OrgUnit), aliased(OrgUnit)
    area = [or_(and_(hh.path >= lo, hh.path < hi), and_(rs.path >= lo, rs.path < hi))
            for lo, hi in map(path_range, _area_paths(user))]
    cond = or_(ServiceObject.submitted_by_id == user.id, *area)
    if view == 'approved':
        newer = aliased(ServiceObject)
        cond = and_(cond, ServiceObject.status == 'approved', ~exists(select(newer.id).where(
            newer.id_number == ServiceObject.id_number, newer.status == 'approved',
            newer.version > ServiceObject.version)))
    if q and q.strip():
        cond = and_(cond, search_condition(q))
    return select(ServiceObject).join(hh, ServiceObject.household_street_id == hh.id).join(
        rs, ServiceObject.residence_street_id == rs.id).where(cond).order_by(ServiceObject.id.desc())


def library(user, view='approved', q=None, page=1, per_page=20):
    """(rows, total) of the service-object library within the user's area."""
    return paged(library_query(user, view, q), page, per_page)
