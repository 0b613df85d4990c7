"""Export retention (PIPL): a finished file is kept EXPORT_KEEP_DAYS days, then the timer sweep deletes it; the row
stays as 已过期, a download is refused in Chinese, and the same export can be asked for again."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.jobs.timers import sweep_due_timers
from app.models import ExportJob
from app.models.base import utcnow
from tests.web.conftest import submit


@pytest.fixture(autouse=True)
def jobs_inline(app, monkeypatch):
    monkeypatch.setitem(app.config, 'REDIS_URL', None)


def _finished(station, **body) -> int:
    r = station.post('/exports', json={'kind': 'tasks', 'state': 'open', **body})
    assert r.status_code == 202 and r.get_json()['status'] == 'done', r.get_json()
    return r.get_json()['id']


def _age(job_id, days):
    db.session.execute(update(ExportJob).where(ExportJob.id == job_id)
                       .values(finished_at=utcnow() - timedelta(days=days)))
    db.session.commit()


def _job(job_id) -> ExportJob:
    db.session.expire_all()
    return db.session.get(ExportJob, job_id)


def test_the_sweep_deletes_a_file_past_its_keeping_period_and_the_export_can_be_asked_again(api, login):
    vol, station = api('vol_zhang'), api('station_xicun')
    submit(vol, 0)
    old, recent = _finished(station, q='长者〇〇号'), _finished(station)
    web = login('station_xicun')
    assert '文件保留 7 天' in web.get('/exports').get_data(as_text=True)
    _age(old, 8)
    _age(recent, 6)

    sweep_due_timers()  # what `flask worker` repeats every minute and the web process runs inline

    gone = _job(old)
    assert gone.status == 'expired' and gone.content is None and gone.size is None, 'the file content is deleted'
    assert gone.kind == 'tasks' and gone.finished_at is not None, 'the row stays'
    assert _job(recent).status == 'done' and station.get(f'/exports/{recent}/file').status_code == 200

    r = station.get(f'/exports/{old}/file')
    assert r.status_code == 410 and r.get_json()['error'] == 'expired' and '请重新导出' in r.get_json()['message']
    assert station.get(f'/exports/{old}').get_json()['status_label'] == '已过期'
    r = web.get(f'/exports/{old}/download')
    assert r.status_code == 302 and r.headers['Location'].endswith(f'/exports#export-{old}')
    page = web.get('/exports').get_data(as_text=True)
    assert '已超过保留期限并已删除，请重新导出' in page, 'the flash says why'
    row = page[page.index(f'id="export-{old}"'):]
    row = row[:row.index('</tr>')]
    assert '已过期' in row and '请重新导出' in row and f'/exports/{old}/download' not in row
    again = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', row))
    assert again['kind'] == 'tasks' and again['state'] == 'open' and again['q'] == '长者〇〇号'

    r = web.post('/exports', data=again)
    assert r.status_code == 302
    fresh = max(j['id'] for j in station.get('/exports').get_json()['items'])
    assert fresh > recent and _job(fresh).status == 'done' and _job(fresh).params_json == gone.params_json
    assert station.get(f'/exports/{fresh}/file').status_code == 200


def test_a_file_past_its_period_is_refused_before_the_sweep_gets_to_it(api, login):
    submit(api('vol_zhang'), 0)
    station = api('station_xicun')
    job_id = _finished(station)
    _age(job_id, 7.1)
    assert station.get(f'/exports/{job_id}/file').status_code == 410
    assert '已过期' in login('station_xicun').get('/exports').get_data(as_text=True)


def test_keep_days_zero_keeps_files_for_good(app, api, login, monkeypatch):
    monkeypatch.setitem(app.config, 'EXPORT_KEEP_DAYS', 0)
    submit(api('vol_zhang'), 0)
    station = api('station_xicun')
    job_id = _finished(station)
    _age(job_id, 3650)
    sweep_due_timers()
    assert _job(job_id).status == 'done' and _job(job_id).content
    assert station.get(f'/exports/{job_id}/file').status_code == 200
    assert station.get(f'/exports/{job_id}').get_json()['expires_at'] is None
    assert '文件保留' not in login('station_xicun').get('/exports').get_data(as_text=True)


def test_the_cron_command_deletes_expired_files_too(app, api):
    station = api('station_xicun')
    submit(api('vol_zhang'), 0)
    old = _finished(station)
    _age(old, 8)
    result = app.test_cli_runner().invoke(args=['fire-timers'])
    assert result.exit_code == 0, result.output
    assert _job(old).status == 'expired'
