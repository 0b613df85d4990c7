"""Exactly once: two reviewers click "approve" on the same task at the same moment (PostgreSQL only)."""
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Decision, HumanTask, ServiceObject, WorkflowInstance
from app.services.demo import make_id
from tests.helpers import entry_data, name_no, start_entry, upload_png
from tests.web.conftest import open_task

ROUNDS = 50


@pytest.fixture(autouse=True)
def _postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip('row locks and concurrent transactions need PostgreSQL')


def _race(app, headers_a, headers_b, task_ids, body):
    """Both clients POST complete on each task, released together by a barrier; {task_id: [status, status]}."""
    barrier = threading.Barrier(2, timeout=30)
    results = {tid: [] for tid in task_ids}
    lock = threading.Lock()
    failures = []

    def worker(headers):
        try:
            with app.app_context():
                client = app.test_client()
                for tid in task_ids:
                    barrier.wait()
                    resp = client.post(f'/api/v1/tasks/{tid}/complete', json=body, headers=headers)
                    with lock:
                        results[tid].append((resp.status_code, resp.get_json()))
        except Exception as exc:  # surfaced in the main thread
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(h,)) for h in (headers_a, headers_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures
    assert not any(t.is_alive() for t in threads)
    return results


def _assert_one_winner(results):
    for tid, pair in results.items():
        codes = sorted(code for code, _ in pair)
        assert codes == [200, 409], (tid, pair)
        loser = next(body for code, body in pair if code == 409)
        assert loser['error'] == 'already_handled', loser


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _cases_at_street(api, n):
    vol, station = api('vol_zhang'), api('station_xicun')
    out = []
    for i in range(n):
        resp = start_entry(vol, name=f'长者{name_no(i)}', id_number=make_id('440103', date(1945, 1, 1 + i % 28), 100 + i))
        assert resp.status_code == 201, resp.get_json()
        inst_id = resp.get_json()['instance']['id']
        r = station.post(f'/tasks/{open_task(station, inst_id)["id"]}/complete', json={'decision': 'approve'})
        assert r.status_code == 200, r.get_json()
        street = next(t for t in r.get_json()['instance']['open_tasks'] if t['lane'] == 'street_admin')
        out.append((inst_id, street['id']))
    return out


def test_two_streets_approve_the_same_task_at_once(app, api):
    cases = _cases_at_street(api, ROUNDS)
    xicun, xinshi = api('street_xicun'), api('street_xinshi')
    results = _race(app, xicun.headers, xinshi.headers, [tid for _, tid in cases], {'decision': 'approve'})
    _assert_one_winner(results)

    db.session.expire_all()
    for inst_id, tid in cases:
        assert _count(Decision, Decision.human_task_id == tid, Decision.decision == 'approve') == 1
        assert _count(Decision, Decision.instance_id == inst_id) == 3  # submit, station, street
        inst = db.session.get(WorkflowInstance, inst_id)
        assert (inst.status, inst.outcome) == ('completed', 'approved')
        assert _count(HumanTask, HumanTask.instance_id == inst_id) == 3
        assert _count(HumanTask, HumanTask.instance_id == inst_id, HumanTask.status == 'open') == 0
        objs = db.session.scalars(select(ServiceObject).where(ServiceObject.instance_id == inst_id)).all()
        assert [(o.version, o.status) for o in objs] == [(1, 'approved')]
        task = db.session.get(HumanTask, tid)
        winner = next(body for code, body in results[tid] if code == 200)
        assert winner['instance']['status'] == 'completed'
        assert task.completed_by.username in ('street_xicun', 'street_xinshi')
    lib = xicun.get('/service-objects?view=approved').get_json()
    assert lib['total'] == ROUNDS


def test_race_between_approve_and_reject(app, api):
    cases = _cases_at_street(api, 10)
    xicun, xinshi = api('street_xicun'), api('street_xinshi')
    task_ids = [tid for _, tid in cases]
    barrier = threading.Barrier(2, timeout=30)
    results = {tid: [] for tid in task_ids}

    def worker(headers, body):
        with app.app_context():
            client = app.test_client()
            for tid in task_ids:
                barrier.wait()
                resp = client.post(f'/api/v1/tasks/{tid}/complete', json=body, headers=headers)
                results[tid].append((resp.status_code, body['decision']))

    threads = [threading.Thread(target=worker, args=(xicun.headers, {'decision': 'approve'})),
               threading.Thread(target=worker, args=(xinshi.headers, {'decision': 'reject', 'reason': '材料不全'}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    db.session.expire_all()
    for inst_id, tid in cases:
        assert sorted(code for code, _ in results[tid]) == [200, 409], results[tid]
        won = next(d for code, d in results[tid] if code == 200)
        decisions = db.session.scalars(select(Decision.decision).where(Decision.human_task_id == tid)).all()
        assert decisions == [won]
        obj = db.session.scalar(select(ServiceObject).where(ServiceObject.instance_id == inst_id))
        assert obj.status == ('approved' if won == 'approve' else 'rejected')


def test_same_station_user_with_two_tokens_completes_once(app, api):
    vol = api('vol_zhang')
    inst_ids = []
    for i in range(20):
        resp = start_entry(vol, name=f'站点{name_no(i)}', id_number=make_id('440104', date(1950, 3, 1 + i), 200 + i))
        assert resp.status_code == 201, resp.get_json()
        inst_ids.append(resp.get_json()['instance']['id'])
    first, second = api('station_xicun'), api('station_xicun')
    assert first.headers != second.headers
    task_ids = [open_task(first, iid)['id'] for iid in inst_ids]
    results = _race(app, first.headers, second.headers, task_ids, {'decision': 'approve'})
    _assert_one_winner(results)
    db.session.expire_all()
    for iid, tid in zip(inst_ids, task_ids):
        assert _count(Decision, Decision.human_task_id == tid) == 1
        street = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == iid,
                                                            HumanTask.lane == 'street_admin')).all()
        assert len(street) == 1 and street[0].status == 'open'


def test_same_id_number_submitted_twice_at_once_is_stored_once(app, api):
    """Two submitters (or a double tap) send the same elder at the same moment: one entry, one 422."""
    rounds = 20
    clients = (api('vol_zhang'), api('station_xicun'))
    files = {c.headers['Authorization']: [upload_png(c, f'p{i}.png') for i in range(rounds)] for c in clients}
    ids = [make_id('440105', date(1944, 5, 1 + i), 300 + i) for i in range(rounds)]
    barrier = threading.Barrier(2, timeout=30)
    results = {idn: [] for idn in ids}
    failures = []

    def worker(headers):
        try:
            with app.app_context():
                client = app.test_client()
                for i, idn in enumerate(ids):
                    body = {'data': entry_data([files[headers['Authorization']][i]], id_number=idn, name=f'重复{name_no(i)}')}
                    barrier.wait()
                    resp = client.post('/api/v1/processes/service_object_entry/instances', json=body, headers=headers)
                    results[idn].append((resp.status_code, resp.get_json()))
        except Exception as exc:  # surfaced in the main thread
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(c.headers,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures
    db.session.expire_all()
    for idn in ids:
        codes = sorted(code for code, _ in results[idn])
        assert codes == [201, 422], (idn, results[idn])
        loser = next(body for code, body in results[idn] if code == 422)
        assert '请勿重复录入' in loser['errors']['id_number'][0], loser
        assert _count(ServiceObject, ServiceObject.id_number == idn) == 1
    assert _count(WorkflowInstance) == rounds
