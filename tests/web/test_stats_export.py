"""统计 export: the figures a district bureau or the association reads on /stats, as .xlsx, with the page's filters;
nobody else may ask for it."""
import html
import re
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.web.test_district_stats import ZERO, month  # noqa: F401  (the fixture: a month of real work)

FIGURES = list(ZERO)


@pytest.fixture(autouse=True)
def jobs_inline(app, monkeypatch):
    monkeypatch.setitem(app.config, 'REDIS_URL', None)


def _sheet(content: bytes) -> list[list]:
    return [list(r) for r in load_workbook(BytesIO(content), read_only=True).worksheets[0].iter_rows(values_only=True)]


def _page_cells(body) -> list[list]:
    rows = [[r['district_name'], r['street_name'], *(r[k] for k in FIGURES)] for r in body['rows']]
    return rows + [[None, '合计', *(body['total'][k] for k in FIGURES)]]


def _export_link(web, query='') -> dict:
    page = web.get('/stats' + query).get_data(as_text=True)
    href = html.unescape(re.search(r'<a class="btn export-link" href="([^"]+)"', page).group(1))
    assert href.startswith('/exports?')
    return dict(p.split('=', 1) for p in href.split('?', 1)[1].split('&'))


def _export_through_the_page(web, link) -> list[list]:
    form = web.get('/exports', query_string=link).get_data(as_text=True)
    assert '<option value="stats" selected>' in form
    if link.get('district'):
        assert f'<input type="hidden" name="district" value="{link["district"]}">' in form
    r = web.post('/exports', data=link)
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    job_id = int(r.headers['Location'].rsplit('export-', 1)[1])
    f = web.get(f'/exports/{job_id}/download')
    assert f.status_code == 200
    return _sheet(f.data)


def test_a_district_bureau_exports_what_its_page_shows(api, login, month):  # noqa: F811
    web = login('district_liwan')
    link = _export_link(web)
    assert link['kind'] == 'stats' and 'district' not in link
    rows = _export_through_the_page(web, link)
    assert rows[0][0].startswith('时间银行统计 — 荔湾区 — ')  # the title row, then the header row
    rows = rows[1:]
    assert rows[0] == ['区', '街道', '新增服务对象', '服务对象总数', '发布订单', '已完成', '已取消', '已过期', '已中止',
                       '认证时数', '发放积分', '服务志愿者', '亲属兑换']
    body = api('district_liwan').get('/stats').get_json()
    assert rows[1:] == _page_cells(body)
    xicun = next(r for r in rows if r[1] == '西村街')
    assert (xicun[0], xicun[9], xicun[10], xicun[4]) == ('荔湾区', 2.5, 2, 2), 'hours 2.5, points 2, 2 orders published'


def test_the_association_exports_one_district_or_the_city_for_the_period(api, login, month):  # noqa: F811
    web = login('gzva')
    link = _export_link(web, '?district=baiyun&from=2020-01-01&to=2099-12-31')
    assert (link['district'], link['from'], link['to']) == ('baiyun', '2020-01-01', '2099-12-31')
    rows = _export_through_the_page(web, link)[1:]  # below the title row
    assert rows[1:] == _page_cells(api('gzva').get('/stats?district=baiyun&from=2020-01-01&to=2099-12-31').get_json())
    assert [r[1] for r in rows[1:]] == ['新市街', '合计']
    page = web.get('/exports').get_data(as_text=True)
    assert '区域：白云区' in page, 'the list shows the district by name'

    city = _export_through_the_page(web, _export_link(web))[1:]
    body = api('gzva').get('/stats').get_json()
    assert city[1:] == _page_cells(body) and len(city) == len(body['rows']) + 2


def test_the_file_speaks_the_requesters_language(api, month):  # noqa: F811
    en = api('district_liwan', lang='en')
    job = en.post('/exports', json={'kind': 'stats'}).get_json()
    assert job['status'] == 'done', job
    rows = _sheet(en.get(f'/exports/{job["id"]}/file').data)[1:]
    assert rows[0][:3] == ['District', 'Street', 'New service objects'] and rows[-1][1] == 'Total'


@pytest.mark.parametrize('username', ['vol_zhang', 'station_xicun', 'street_xicun', 'veterans'])
def test_other_roles_cannot_ask_for_it(api, login, username):
    r = api(username).post('/exports', json={'kind': 'stats'})
    assert r.status_code == 422 and r.get_json()['errors']['kind'] == ['您的账号不能导出该列表']
    assert 'value="stats"' not in login(username).get('/exports?kind=stats').get_data(as_text=True)
    assert login(username).post('/exports', data={'kind': 'stats'}).status_code == 422


def test_a_district_bureau_cannot_export_another_district(login):
    assert login('district_liwan').post('/exports', data={'kind': 'stats', 'district': 'baiyun'}).status_code == 404


def test_the_api_export_keeps_the_district(api, month):  # noqa: F811
    gzva = api('gzva')
    job = gzva.post('/exports', json={'kind': 'stats', 'district': 'baiyun', 'from': '2020-01-01',
                                      'to': '2099-12-31'}).get_json()
    assert job['status'] == 'done', job
    rows = _sheet(gzva.get(f'/exports/{job["id"]}/file').data)[1:]
    assert [r[1] for r in rows[1:]] == ['新市街', '合计'], 'one district, not the whole city'
