"""Exports with Redis: the request only queues the job; the rq worker writes the file and reports progress."""
from io import BytesIO

from openpyxl import load_workbook
from rq import Queue, SimpleWorker
from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.models import ExportJob
from app.services import exports
from tests.web.conftest import submit


def test_the_worker_writes_the_file_the_request_queued(api, login, with_redis, monkeypatch):
    vol, station = api('vol_zhang'), api('station_xicun')
    for i in range(5):
        submit(vol, i)
    monkeypatch.setattr(exports, 'CHUNK', 2)  # three chunks: progress is committed after each of them
    r = station.post('/exports', json={'kind': 'tasks', 'state': 'open'})
    assert r.status_code == 202 and r.get_json()['status'] == 'queued' and r.get_json()['total_rows'] == 5
    job_id = r.get_json()['id']
    page = login('station_xicun').get('/exports').get_data(as_text=True)
    assert '排队中' in page and 'data-progress=' in page and f'/exports/{job_id}/download' not in page
    assert station.get(f'/exports/{job_id}/file').status_code == 404

    seen = []
    real = exports._progress
    monkeypatch.setattr(exports, '_progress', lambda job, **v: (seen.append(v), real(job, **v)))
    SimpleWorker([Queue(jobs.QUEUE_NAME, connection=with_redis)], connection=with_redis).work(burst=True)

    assert [v['done_rows'] for v in seen if 'done_rows' in v] == [2, 4, 5]
    db.session.expire_all()
    job = db.session.scalars(select(ExportJob)).one()
    assert job.status == 'done' and job.done_rows == job.total_rows == 5
    body = station.get(f'/exports/{job_id}').get_json()
    assert body['progress'] == 100 and body['status_label'] == '已完成'
    data = station.get(f'/exports/{job_id}/file').data
    rows = list(load_workbook(BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 6
    page = login('station_xicun').get('/exports').get_data(as_text=True)
    assert f'/exports/{job_id}/download' in page and 'data-progress=' not in page


def test_a_job_taken_twice_writes_once(api, with_redis):
    submit(api('vol_zhang'), 0)
    job_id = api('station_xicun').post('/exports', json={'kind': 'tasks'}).get_json()['id']
    assert exports.run(job_id) is True
    assert exports.run(job_id) is False  # a second delivery of the same job finds it done
