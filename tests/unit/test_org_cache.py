"""The process-wide copy of the organisation tree never shows a unit that is not in the database and never
misses one that is: adding, renaming or rolling back a unit is seen by the very next lookup."""
from sqlalchemy import select

from app.extensions import db
from app.models import OrgUnit
from app.services import forms, org_cache, transaction
from app.services.instances import scope_units
from workflows.runner import ReadyTask


def _street_options():
    return dict(forms.option_list({'x-options': 'streets'}))


def _ready(scope):
    return ReadyTask(guid='g', bpmn_id='t', name='t', lane='street_admin', form=None, scope_var='scope',
                     due_at=None, data={'scope': scope})


def test_lookups_match_the_database(app):
    units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    assert org_cache.by_code('xicun') is units['xicun']  # the session's own object, no second copy
    assert _street_options()['xicun'] == f"{units['liwan'].name} · {units['xicun'].name}"
    assert [u.code for u in scope_units(_ready(['xinshi', 'xicun', 'nowhere']))] == ['xinshi', 'xicun']
    assert [u.id for u in scope_units(_ready(None))] == [units['gz'].id]  # no scope: the city
    assert org_cache.by_code('nowhere') is None and org_cache.by_code('') is None


def test_a_unit_added_or_renamed_is_seen_at_once(app):
    assert 'newtown' not in _street_options()
    with transaction():
        liwan = db.session.scalar(select(OrgUnit).where(OrgUnit.code == 'liwan'))
        db.session.add(OrgUnit(code='newtown', name='新镇街', kind='street', parent=liwan, path=liwan.path + 'newtown/'))
    assert _street_options()['newtown'] == f'{liwan.name} · 新镇街'
    db.session.remove()
    with transaction():
        db.session.scalar(select(OrgUnit).where(OrgUnit.code == 'newtown')).name = '新镇街道'
    assert _street_options()['newtown'].endswith('新镇街道')
    assert org_cache.by_code('newtown').name == '新镇街道'


def test_a_rolled_back_unit_is_forgotten(app):
    liwan = db.session.scalar(select(OrgUnit).where(OrgUnit.code == 'liwan'))
    db.session.add(OrgUnit(code='ghost', name='幽灵街', kind='street', parent=liwan, path=liwan.path + 'ghost/'))
    db.session.flush()
    assert org_cache.by_code('ghost') is not None  # visible inside its own transaction
    db.session.rollback()
    assert org_cache.by_code('ghost') is None
    assert 'ghost' not in _street_options()
