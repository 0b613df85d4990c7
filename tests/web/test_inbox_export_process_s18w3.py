"""The inbox's 导出 Excel link keeps the list's 类型 (process) filter: the export page and the list of exports name it
by the process's name, not its key, and the file holds that process's tasks only."""
import html
import re
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.web.conftest import submit


@pytest.fixture(autouse=True)
def jobs_inline(app, monkeypatch):
    monkeypatch.setitem(app.config, 'REDIS_URL', None)  # the export job runs right after the request's commit


def _text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def _visible(page: str) -> str:
    return re.sub(r'<[^>]+>', ' ', page)  # the words on the page (a hidden field's value is no word of it)


def test_the_inbox_export_keeps_the_type_filter_and_names_it(api, login):
    submit(api('vol_zhang'), 0)
    station = login('station_xicun')
    inbox = _text(station.get('/inbox?state=open&process=service_object_entry'))
    link = re.search(r'<a class="btn export-link" href="([^"]+)"', inbox).group(1)
    assert 'process=service_object_entry' in link and 'kind=tasks' in link

    page = _text(station.get(link))
    kept = page.split('class="muted export-filters">', 1)[1].split('</p>', 1)[0]
    assert '类型：服务对象录入' in kept and 'service_object_entry' not in kept
    assert '<input type="hidden" name="process" value="service_object_entry">' in page

    sent = station.post('/exports', data={'kind': 'tasks', 'state': 'open', 'process': 'service_object_entry'})
    assert sent.status_code == 302
    listed = _text(station.get('/exports'))
    row = listed.split('<tbody>', 1)[1].split('</tr>', 1)[0]
    assert '类型：服务对象录入' in _visible(row) and 'service_object_entry' not in _visible(row)

    job = api('station_xicun').get('/exports').get_json()['items'][0]
    assert job['params']['process'] == 'service_object_entry'
    rows = [list(r) for r in load_workbook(BytesIO(station.get(f'/exports/{job["id"]}/download').data),
                                           read_only=True).worksheets[0].iter_rows(values_only=True)]
    assert len(rows) == 2 and rows[1][1].startswith('长者〇〇号')

    none_of_them = station.post('/exports', data={'kind': 'tasks', 'state': 'open', 'process': 'v_order'})
    assert none_of_them.status_code == 302
    job = api('station_xicun').get('/exports').get_json()['items'][0]
    assert job['total_rows'] == 0  # the other process's tasks only: none
    assert '类型：耆望成真V订单' in _visible(_text(station.get('/exports')))


def test_an_unpublished_process_key_is_shown_as_it_was_given(login):
    page = _text(login('station_xicun').get('/exports?kind=tasks&state=open&process=no_such_process'))
    assert '类型：no_such_process' in page
