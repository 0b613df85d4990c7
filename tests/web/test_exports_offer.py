"""导出 Excel offers each role only the lists its pages show, and 我的导出 labels a file with the filters it really
applies: the period a 统计 file covers when no dates were typed, the library's view when none was picked."""
import html
import re
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import ExportJob
from app.services import stats

BACK_OFFICE = {'tasks', 'service_objects', 'orders', 'certifications', 'service_records'}
OFFERED = {  # the demo's roles (API.md) and the lists their menus lead to
    'admin': {'tasks', 'ledger', 'stats'},  # process admin: no library, no order list; the city's figures and points
    'gzva': BACK_OFFICE | {'ledger', 'stats'},
    'veterans': {'tasks'},
    'district_liwan': BACK_OFFICE | {'stats'},
    'station_xicun': BACK_OFFICE,
    'street_xicun': BACK_OFFICE,
    'provider_a': {'tasks', 'orders', 'certifications', 'service_records'},
    'team_a': {'tasks'},
    'team_vet': {'tasks'},
    'vol_zhang': {'service_records', 'ledger'},  # 我的订单, 我的积分
}
ALL_KINDS = set().union(*OFFERED.values())


@pytest.fixture(autouse=True)
def jobs_inline(app, monkeypatch):
    monkeypatch.setitem(app.config, 'REDIS_URL', None)


def _jobs() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ExportJob))


def _offered(page: str) -> set[str]:
    select_box = re.search(r'<select id="f-kind" name="kind">(.*?)</select>', page, re.S).group(1)
    return set(re.findall(r'<option value="([a-z_]+)"', select_box))


def _filter_cell(page: str, job_id: int) -> str:
    row = re.search(rf'<tr id="export-{job_id}".*?</tr>', page, re.S).group(0)
    return html.unescape(re.findall(r'<td data-label="筛选条件">(.*?)</td>', row, re.S)[0])


@pytest.mark.parametrize('username', sorted(OFFERED))
def test_each_role_is_offered_only_the_lists_it_can_read(api, login, username):
    web = login(username)
    assert _offered(web.get('/exports').get_data(as_text=True)) == OFFERED[username]
    assert (web.get('/library').status_code == 200) == ('service_objects' in OFFERED[username])
    assert (web.get('/stats').status_code == 200) == ('stats' in OFFERED[username])
    client = api(username)
    for kind in sorted(ALL_KINDS - OFFERED[username]):
        r = client.post('/exports', json={'kind': kind})
        assert r.status_code == 422 and r.get_json()['errors'] == {'kind': ['您的账号不能导出该列表']}, kind
        forged = web.post('/exports', data={'kind': kind})
        assert forged.status_code == 422 and '您的账号不能导出该列表' in forged.get_data(as_text=True)
    assert _jobs() == 0


def test_a_stats_export_without_dates_is_labelled_with_the_month_it_covers(api, login):
    start, end = (d.isoformat() for d in stats.current_month())
    web = login('district_liwan')
    r = web.post('/exports', data={'kind': 'stats'})
    assert r.status_code == 302
    job_id = int(r.headers['Location'].rsplit('export-', 1)[1])
    cell = _filter_cell(web.get('/exports').get_data(as_text=True), job_id)
    assert cell == f'开始日期：{start}；结束日期：{end}', 'not 全部: the file holds this month only'
    client = api('district_liwan')
    assert client.get(f'/exports/{job_id}').get_json()['params'] == {'from': start, 'to': end}
    book = load_workbook(BytesIO(client.get(f'/exports/{job_id}/file').data), read_only=True)
    assert next(book.worksheets[0].iter_rows(values_only=True))[0] == f'时间银行统计 — 荔湾区 — {start} 至 {end}'
    one_day = client.post('/exports', json={'kind': 'stats', 'from': '2026-11-05'}).get_json()
    assert one_day['params'] == {'from': '2026-11-05', 'to': '2026-11-30'}, 'the rest of that month, as the page'


def test_the_library_export_offers_and_names_its_view(api, login):
    web = login('station_xicun')
    form = web.get('/exports?kind=service_objects').get_data(as_text=True)
    view_box = re.search(r'<select id="f-view" name="view">(.*?)</select>', form, re.S).group(1)
    assert re.findall(r'<option value="(\w+)">([^<]+)</option>', view_box) == [
        ('approved', '已通过（最新版本）'), ('all', '全部版本')]
    r = web.post('/exports', data={'kind': 'service_objects', 'view': 'all'})
    all_versions = int(r.headers['Location'].rsplit('export-', 1)[1])
    latest = api('station_xicun').post('/exports', json={'kind': 'service_objects'}).get_json()
    assert latest['params'] == {'view': 'approved'}
    page = web.get('/exports').get_data(as_text=True)
    assert _filter_cell(page, latest['id']) == '范围：已通过（最新版本）', 'not 全部: only the latest approved versions'
    assert _filter_cell(page, all_versions) == '范围：全部版本'
    # from the library's 导出 link the view it shows is kept (a hidden field) and not asked again
    link = re.search(r'<a class="btn export-link" href="([^"]+)"', web.get('/library?view=all').get_data(as_text=True))
    form = web.get(html.unescape(link.group(1))).get_data(as_text=True)
    assert '<input type="hidden" name="view" value="all">' in form and 'id="f-view"' not in form


def test_a_filter_value_the_file_would_ignore_is_refused(api):
    before = _jobs()
    r = api('station_xicun').post('/exports', json={'kind': 'service_objects', 'view': 'everything'})
    assert r.status_code == 422 and r.get_json()['errors'] == {'view': ['范围无效']}
    r = api('gzva').post('/exports', json={'kind': 'ledger', 'point_type': 'gold'})
    assert r.status_code == 422 and r.get_json()['errors'] == {'point_type': ['积分类型无效']}
    r = api('station_xicun').post('/exports', json={'kind': 'tasks', 'state': 'maybe'})
    assert r.status_code == 422 and r.get_json()['errors'] == {'state': ['审核状态无效']}
    assert _jobs() == before
