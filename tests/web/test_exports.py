"""Excel exports (SPEC §3): a reviewer downloads the list they see as .xlsx, filtered by a Beijing date range;
nobody else can download it; bad ranges are refused in Chinese and store nothing."""
from datetime import timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import ExportJob, Message, User
from app.models.base import utcnow
from app.services.exports import BEIJING
from tests.web.conftest import submit
from tests.web.test_district_stats import ZERO, month  # noqa: F401  (the fixture: a month of real work)


@pytest.fixture(autouse=True)
def jobs_inline(app, monkeypatch):
    """The embedded default: no Redis, so the export job runs right after the request's commit (CI sets
    REDIS_URL; tests/jobs/test_export_worker.py covers the worker)."""
    monkeypatch.setitem(app.config, 'REDIS_URL', None)


def _sheet(content: bytes) -> list[list]:
    book = load_workbook(BytesIO(content), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def _export(client, **body):
    r = client.post('/exports', json=body)
    assert r.status_code == 202, r.get_json()
    job = r.get_json()
    assert job['status'] == 'done', job  # no REDIS_URL: the job ran inline right after the request's commit
    f = client.get(f'/exports/{job["id"]}/file')
    assert f.status_code == 200
    assert f.mimetype == 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
    return job, _sheet(f.data)


def _name(title: str) -> str:
    return title.split('（')[0]  # a case title is the elder's name and the masked ID number


def _jobs():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ExportJob))


def test_station_exports_its_open_review_list(api):
    vol, station = api('vol_zhang'), api('station_xicun')
    for i in range(3):
        submit(vol, i)
    job, rows = _export(station, kind='tasks', state='open')
    assert rows[0][:3] == ['任务编号', '事项', '步骤']
    assert sorted(_name(r[1]) for r in rows[1:]) == ['长者〇〇号', '长者〇一号', '长者〇二号']
    assert {r[3] for r in rows[1:]} == {'社工站账号'} and all('西村街社工站' in r[4] for r in rows[1:])
    assert job['total_rows'] == job['done_rows'] == 3 and job['progress'] == 100
    assert job['file_name'].startswith('审核列表_') and job['file_name'].endswith('.xlsx')


def test_the_export_follows_the_list_search_and_decided_tab(api):
    vol, station = api('vol_zhang'), api('station_xicun')
    first, second = submit(vol, 0), submit(vol, 1)
    tasks = station.get('/tasks?state=open').get_json()['items']
    by_instance = {t['instance_id']: t['id'] for t in tasks}
    assert station.post(f'/tasks/{by_instance[first]}/complete', json={'decision': 'approve'}).status_code == 200
    r = station.post(f'/tasks/{by_instance[second]}/complete', json={'decision': 'reject', 'reason': '照片不清晰'})
    assert r.status_code == 200
    _, rejected = _export(station, kind='tasks', state='reject')
    assert [(_name(r[1]), r[6], r[7], r[8]) for r in rejected[1:]] == [('长者〇一号', '不通过', '照片不清晰', '西村街社工站')]
    _, found = _export(station, kind='tasks', state='done', q='〇〇号')
    assert [_name(r[1]) for r in found[1:]] == ['长者〇〇号']


def test_another_street_exports_none_of_it_and_cannot_fetch_it(api, login):
    vol, station, shipai = api('vol_zhang'), api('station_xicun'), api('station_shipai')
    submit(vol, 0)
    job, rows = _export(station, kind='tasks', state='open')
    assert len(rows) == 2
    _, theirs = _export(shipai, kind='tasks', state='open')
    assert theirs == [theirs[0]]  # the header row only
    assert shipai.get(f'/exports/{job["id"]}').status_code == 404
    assert shipai.get(f'/exports/{job["id"]}/file').status_code == 404
    assert login('station_shipai').get(f'/exports/{job["id"]}/download').status_code == 404
    assert all(j['id'] != job['id'] for j in shipai.get('/exports').get_json()['items'])


def test_library_export_masks_id_numbers_and_keeps_to_the_date_range(api):
    from tests.helpers import ELDER_ID
    from tests.web.test_service_object_flow import test_full_approval_lands_in_library
    test_full_approval_lands_in_library(api)
    street = api('street_xinshi')
    today = utcnow().astimezone(BEIJING).date()
    _, rows = _export(street, kind='service_objects', view='approved', **{'from': today.isoformat()})
    assert rows[0][:2] == ['姓名', '身份证号'] and len(rows) == 2
    assert rows[1][1] != ELDER_ID and rows[1][1].endswith(ELDER_ID[-4:]) and '*' in rows[1][1]
    assert rows[1][5:9] == ['西村街', '新市街', 1, '已通过']
    _, later = _export(street, kind='service_objects', **{'from': (today + timedelta(days=1)).isoformat()})
    assert len(later) == 1
    _, shipai = _export(api('street_shipai'), kind='service_objects', view='all')
    assert len(shipai) == 1


def test_bad_ranges_are_refused_in_chinese_and_store_nothing(api):
    station = api('station_xicun')
    r = station.post('/exports', json={'kind': 'tasks', 'from': '2026-12-05', 'to': '2026-12-01'})
    assert r.status_code == 422 and r.get_json()['errors']['from'] == ['开始日期不能晚于结束日期']
    r = station.post('/exports', json={'kind': 'tasks', 'from': '2026-13-01'})
    assert r.status_code == 422 and '日期格式不正确' in r.get_json()['errors']['from'][0]
    r = station.post('/exports', json={'kind': 'tasks', 'from': '2020-01-01', 'to': '2026-01-01'})
    assert r.status_code == 422 and '3 年' in r.get_json()['errors']['to'][0]
    r = station.post('/exports', json={'kind': 'nothing'})
    assert r.status_code == 422 and r.get_json()['errors']['kind'] == ['没有这种导出']
    assert station.post('/exports', json={}).status_code == 422
    assert _jobs() == 0


def test_a_volunteer_cannot_export_review_lists(api, login):
    vol = api('vol_zhang')
    for kind in ('tasks', 'service_objects'):
        r = vol.post('/exports', json={'kind': kind})
        assert r.status_code == 422 and r.get_json()['errors']['kind'] == ['您的账号不能导出该列表']
    page = login('vol_zhang').get('/exports').get_data(as_text=True)
    assert 'value="tasks"' not in page and 'value="ledger"' in page
    assert _jobs() == 0


def test_english_reader_gets_english_headers(api):
    station = api('station_xicun', lang='en')
    submit(api('vol_zhang'), 0)
    job, rows = _export(station, kind='tasks')
    assert rows[0][:3] == ['Task no.', 'Item', 'Step']
    assert job['file_name'].startswith('Review list_')


def test_the_page_asks_downloads_and_messages_the_requester(api, login):
    submit(api('vol_zhang'), 0)
    web = login('station_xicun')
    page = web.get('/exports?kind=tasks&state=approve&q=长者').get_data(as_text=True)
    assert 'name="state" value="approve"' in page and '审核状态：已通过' in page and 'value="长者"' in page
    r = web.post('/exports', data={'csrf_token': _csrf(web), 'kind': 'tasks', 'state': 'open', 'from': '',
                                   'to': ''}, follow_redirects=True)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and '已开始导出“审核列表”' in body and '审核状态：未审核' in body
    job = db.session.scalars(select(ExportJob)).one()
    assert job.status == 'done' and f'/exports/{job.id}/download' in body
    f = web.get(f'/exports/{job.id}/download')
    assert f.status_code == 200 and 'attachment' in f.headers['Content-Disposition']
    assert len(_sheet(f.data)) == 2
    station = db.session.scalar(select(User).where(User.username == 'station_xicun'))
    done = db.session.scalars(select(Message).where(Message.user_id == station.id, Message.title == '导出完成：审核列表')).one()
    assert done.title_en == 'Export ready: Review list', done.title_en
    # its 点击下载 means what it says: opening the message downloads the file
    opened = web.get(f'/messages/{done.id}', follow_redirects=True)
    assert opened.status_code == 200 and 'attachment' in opened.headers['Content-Disposition']
    assert opened.data == f.data


def test_the_page_keeps_input_and_explains_a_bad_range(login):
    web = login('station_xicun')
    r = web.post('/exports', data={'csrf_token': _csrf(web), 'kind': 'service_objects', 'from': '2026-12-05',
                                   'to': '2026-12-01', 'q': '王'})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and '开始日期不能晚于结束日期' in body
    assert 'value="2026-12-05"' in body and 'value="王"' in body and 'value="service_objects" selected' in body
    assert _jobs() == 0


def _csrf(web):
    import re
    page = web.get('/exports').get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_order_certification_service_record_and_ledger_exports_after_a_lifecycle(api):
    from tests.web.test_v_order_lifecycle import test_provider_lifecycle_awards_points_once
    test_provider_lifecycle_awards_points_once(api)  # vol_li served 3.5 hours on 陪陈伯复诊 and got 3 points
    station, gzva, vol_li = api('station_xicun'), api('gzva'), api('vol_li')
    _, orders = _export(station, kind='orders')
    assert orders[0][:2] == ['订单号', '订单标题']
    assert [(r[1], r[2], r[3], r[4], r[7], r[8]) for r in orders[1:]] == [
        ('陪陈伯复诊', '西村街', '通用型养老志愿服务', '陪同外出', '已完成', '1/1')]
    _, done = _export(station, kind='orders', status='done')
    assert len(done) == 2
    _, none = _export(station, kind='orders', status='cancelled')
    assert len(none) == 1
    _, certs = _export(gzva, kind='certifications')
    assert [(r[1], r[5], r[8], r[9], r[11], r[12], r[13]) for r in certs[1:]] == [
        ('陪陈伯复诊', 1, 3.5, '陪同复诊顺利', 1, '已认证', 3)]
    _, records = _export(station, kind='service_records')
    assert [(r[0], r[1], r[3], r[7], r[8]) for r in records[1:]] == [('李晓敏', 'vol_li', '陪陈伯复诊', 3.5, 3)]
    _, mine = _export(vol_li, kind='service_records')
    assert [r[1] for r in mine[1:]] == ['vol_li']
    _, nobody = _export(api('vol_zhang'), kind='service_records')
    assert len(nobody) == 1
    _, ledger = _export(gzva, kind='ledger')
    assert [(r[2], r[4], r[5], r[6]) for r in ledger[1:]] == [('发放', '李晓敏', 'vol_li', 3)]
    _, own = _export(vol_li, kind='ledger')
    assert [r[6] for r in own[1:]] == [3]
    assert len(_export(api('vol_wang'), kind='ledger')[1]) == 1
    assert _export(api('station_shipai'), kind='orders')[1] == [orders[0]]
    assert api('vol_li').post('/exports', json={'kind': 'orders'}).get_json()['errors']['kind'] == ['您的账号不能导出该列表']


def test_an_export_whose_worker_died_stops_showing_progress(api, login):
    from datetime import timedelta
    submit(api('vol_zhang'), 0)
    station = api('station_xicun')
    job_id = station.post('/exports', json={'kind': 'tasks'}).get_json()['id']
    job = db.session.get(ExportJob, job_id)
    job.status, job.started_at = 'running', utcnow() - timedelta(minutes=20)
    db.session.commit()
    body = station.get(f'/exports/{job_id}').get_json()
    assert body['status'] == 'failed' and '重试' in body['error']
    page = login('station_xicun').get('/exports').get_data(as_text=True)
    assert 'data-progress=' not in page and '导出失败' in page


def test_typed_text_that_looks_like_a_formula_stays_text(api):
    vol, station = api('vol_zhang'), api('station_xicun')
    submit(vol, 0)
    task = station.get('/tasks?state=open').get_json()['items'][0]
    evil = '=HYPERLINK("http://example.com/steal","点此查看")'
    assert station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject', 'reason': evil}).status_code == 200
    job = station.post('/exports', json={'kind': 'tasks', 'state': 'reject'}).get_json()
    book = load_workbook(BytesIO(station.get(f'/exports/{job["id"]}/file').data))
    cell = book.worksheets[0].cell(row=2, column=8)
    assert cell.value == evil and cell.data_type == 's'


# ---------------------------------------------------------------- the 统计 file names its report, area and period

def _stats_file(client, **body):
    job, rows = _export(client, kind='stats', **body)
    book = load_workbook(BytesIO(client.get(f'/exports/{job["id"]}/file').data))
    return rows, book.worksheets[0]['A1']


def _figures(body) -> list[list]:
    cells = [[r['district_name'], r['street_name'], *(r[k] for k in ZERO)] for r in body['rows']]
    return cells + [[None, '合计', *(body['total'][k] for k in ZERO)]]


def test_the_stats_file_starts_with_a_title_naming_the_district_and_the_period(api, month):  # noqa: F811
    liwan = api('district_liwan')
    rows, title = _stats_file(liwan, **{'from': '2020-01-01', 'to': '2099-12-31'})
    assert rows[0] == ['时间银行统计 — 荔湾区 — 2020-01-01 至 2099-12-31'] and title.font.bold
    assert rows[1][:4] == ['区', '街道', '新增服务对象', '服务对象总数'] and len(rows[1]) == 13  # the header row next
    body = liwan.get('/stats?from=2020-01-01&to=2099-12-31').get_json()
    assert rows[2:] == _figures(body)  # the same numbers as the page, below the title and the header
    assert next(r for r in rows[2:] if r[1] == '西村街')[9] == 2.5

    gzva = api('gzva')
    city, _title = _stats_file(gzva)  # no filters: the whole city, this month
    month_body = gzva.get('/stats').get_json()
    assert city[0] == [f'时间银行统计 — 全市 — {month_body["from"]} 至 {month_body["to"]}']
    assert city[2:] == _figures(month_body)
    one, _title = _stats_file(gzva, district='baiyun', **{'from': '2026-01-01', 'to': '2026-11-30'})
    assert one[0] == ['时间银行统计 — 白云区 — 2026-01-01 至 2026-11-30'] and one[1][1] == '街道'
    assert [r[1] for r in one[2:]] == ['新市街', '合计']


def test_the_stats_title_follows_the_requesters_language_and_other_lists_have_none(api, month):  # noqa: F811
    rows, _title = _stats_file(api('gzva', lang='en'), **{'from': '2026-01-01', 'to': '2026-11-30'})
    assert 'Whole city' in rows[0][0] and '2026-01-01' in rows[0][0] and '2026-11-30' in rows[0][0]
    assert rows[1][:2] == ['District', 'Street']
    _job, tasks = _export(api('station_xicun'), kind='tasks')
    assert tasks[0][0] == '任务编号'  # a list of records starts with its header row, as before
