"""Web-test fixtures: row counters and small builders for service-object cases."""
from io import BytesIO

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Decision, HumanTask, ServiceObject, WorkflowInstance
from tests.helpers import entry_data, name_no, png_bytes, start_entry

COUNTED = {'workflow_instance': WorkflowInstance, 'human_task': HumanTask,
           'service_object': ServiceObject, 'decision': Decision}


@pytest.fixture
def row_counts():
    """row_counts() -> {table: rows} for the tables a submission or decision writes."""
    def _counts():
        db.session.expire_all()
        return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in COUNTED.items()}
    return _counts


def open_task(api_client, instance_id):
    """The caller's open task of an instance (None when not in their list)."""
    items = api_client.get('/tasks?state=open&page=1').get_json()['items']
    return next((t for t in items if t['instance_id'] == instance_id), None)


def page_form(**overrides) -> dict:
    """Form fields of the phone page (no files)."""
    data = entry_data([], **overrides)
    data.pop('proof_files')
    return {k: v for k, v in data.items() if v is not None}


def png_upload(name='proof.png'):
    return (BytesIO(png_bytes()), name)


@pytest.fixture
def case_at_street(api):
    """case_at_street(**overrides) -> (instance_id, street_task_id): submitted by vol_zhang and
    approved by station_xicun, so the street task is open."""
    def _make(**overrides):
        vol, station = api('vol_zhang'), api('station_xicun')
        resp = start_entry(vol, **overrides)
        assert resp.status_code == 201, resp.get_json()
        inst_id = resp.get_json()['instance']['id']
        task = open_task(station, inst_id)
        r = station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'})
        assert r.status_code == 200, r.get_json()
        street_task = next(t for t in r.get_json()['instance']['open_tasks'] if t['lane'] == 'street_admin')
        return inst_id, street_task['id']
    return _make


def unique_id(i: int) -> str:
    """A checksum-valid ID number of an elder, distinct for each i (duplicates are refused)."""
    from datetime import date

    from app.services.demo import make_id
    return make_id('440105', date(1940 + i % 20, 1 + i % 12, 1 + i % 28), 300 + i)


def submit(api_client, i, **overrides) -> int:
    """Start entry number i (its own name and ID number); returns the instance id."""
    overrides.setdefault('name', f'长者{name_no(i)}号')
    overrides.setdefault('id_number', unique_id(i))
    resp = start_entry(api_client, **overrides)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()['instance']['id']
