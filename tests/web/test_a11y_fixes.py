"""Accessibility audit fixes seen through the test client: star radios named "N 星" in drawn order, the exports page
follows its progress through a small JSON status instead of reloading itself, the task page links its hint and marks
the whole decision group invalid, table headers have names, the editor's upload is a named file box the keyboard
reaches, and a batch decision asks for confirmation naming the count."""
import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import ExportJob
from app.models.base import utcnow
from tests.web.conftest import open_task, submit
from tests.web.test_v_order_lifecycle import travel_past_service
from tests.web.test_v_order_rules import staffed_order


@pytest.fixture(autouse=True)
def jobs_inline(app, monkeypatch):
    monkeypatch.setitem(app.config, 'REDIS_URL', None)


def test_each_star_is_a_radio_named_by_its_count_in_drawn_order(api, login):
    inst = staffed_order(api)
    travel_past_service(inst['id'])
    html = login('vol_zhang').get(f'/m/cases/{inst["id"]}/resubmit').get_data(as_text=True)
    group = html[html.index('id="f-rating_overall"'):]
    group = group[:group.index('</div>')]
    assert re.findall(r'value="(\d)"', group) == ['1', '2', '3', '4', '5']
    names = re.findall(r'<span class="sr-only">([^<]+)</span>', group)
    assert names == ['1 星', '2 星', '3 星', '4 星', '5 星']


def _busy_export(api):
    submit(api('vol_zhang'), 0)
    station = api('station_xicun')
    job_id = station.post('/exports', json={'kind': 'tasks'}).get_json()['id']
    job = db.session.get(ExportJob, job_id)
    job.status, job.started_at, job.done_rows, job.content = 'running', utcnow() - timedelta(seconds=5), 0, None
    db.session.commit()
    return job_id


def test_a_running_export_is_followed_without_reloading_the_page(api, login):
    job_id = _busy_export(api)
    client = login('station_xicun')
    page = client.get('/exports').get_data(as_text=True)
    assert 'location.reload' not in page and '<script nonce' not in page.split('</head>', 1)[1]
    assert 'data-progress="/exports/progress"' in page and 'aria-live="polite"' in page
    assert re.search(r'<a class="nojs-only" href="/exports">刷新</a>', page)
    status = client.get('/exports/progress').get_json()
    assert status['busy'] is True
    item = next(i for i in status['items'] if i['id'] == job_id)
    assert item['status_label'] == '生成中' and item['download_url'] is None and item['progress'] == 0

    job = db.session.get(ExportJob, job_id)
    job.status, job.done_rows, job.content, job.finished_at = 'done', job.total_rows, b'x', utcnow()
    db.session.commit()
    status = client.get('/exports/progress').get_json()
    item = next(i for i in status['items'] if i['id'] == job_id)
    assert status['busy'] is False and item['status_label'] == '已完成' and item['progress'] == 100
    assert item['download_url'] == f'/exports/{job_id}/download' and item['rows_text'] == '1 行'
    page = client.get('/exports').get_data(as_text=True)
    assert 'data-progress' not in page and '刷新' not in page


def test_the_progress_shows_only_ones_own_exports(api, login):
    _busy_export(api)
    assert login('station_shipai').get('/exports/progress').get_json() == {'items': [], 'busy': False}
    assert login('station_xicun').get('/exports/progress', headers={'Accept': 'application/json'}).status_code == 200


def test_the_task_page_links_its_hint_and_marks_both_decisions_invalid(api, login):
    inst = submit(api('vol_zhang'), 0)
    task = open_task(api('station_xicun'), inst)
    client = login('station_xicun')
    page = client.get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    assert re.search(r'<textarea id="f-reason"[^>]*aria-describedby="hint-reason[ "]', page)
    assert '<p class="hint" id="hint-reason">' in page
    page = client.post(f'/inbox/tasks/{task["id"]}/decide', data={'reason': ''}).get_data(as_text=True)
    radios = re.findall(r'<input type="radio"[^>]*name="decision"[^>]*>', page)
    assert len(radios) == 2 and all('aria-invalid="true"' in r and 'aria-describedby="err-decision"' in r for r in radios)
    assert re.search(r'<fieldset[^>]*id="field-decision" aria-describedby="err-decision"', page)


def test_table_headers_of_the_action_columns_have_names(login):
    for user, url in (('admin', '/admin/processes'), ('station_xicun', '/teams')):
        page = login(user).get(url).get_data(as_text=True)
        assert '<th></th>' not in page
        assert '<th><span class="sr-only">操作</span></th>' in page, url


def test_the_diagram_upload_is_a_named_file_box_the_keyboard_reaches(login):
    page = login('admin').get('/admin/processes/service_object_entry').get_data(as_text=True)
    box = re.search(r'<input type="file" id="upload-file"[^>]*>', page).group(0)
    assert 'aria-label="上传 .bpmn"' in box and ' hidden' not in box and 'tabindex="-1"' not in box
    assert '<label class="btn" for="upload-file" id="btn-upload" aria-hidden="true">上传 .bpmn</label>' in page
    assert 'role="region" aria-label="流程图"' in page
    assert 'aria-controls="pane-problems"' in page and 'aria-labelledby="tab-problems"' in page


def test_batch_buttons_come_with_a_confirmation_naming_the_count(api, login):
    for i in range(2):
        submit(api('vol_zhang'), i)
    page = login('station_xicun').get('/inbox').get_data(as_text=True)
    assert 'data-approve="确认对 %(n)s 件任务执行批量通过？"' in page
    assert 'data-reject="确认对 %(n)s 件任务执行批量不通过？"' in page
    # without JavaScript the form still posts straight to the batch result page
    ids = [t['id'] for t in api('station_xicun').get('/tasks?state=open').get_json()['items']]
    resp = login('station_xicun').post('/inbox/batch', data={'task_ids': ids, 'decision': 'approve'})
    assert resp.status_code in (200, 302)
    db.session.expire_all()
    assert not api('station_xicun').get('/tasks?state=open').get_json()['items']


def test_no_inline_script_is_left_on_the_exports_page(login):
    page = login('station_xicun').get('/exports').get_data(as_text=True)
    assert not re.search(r'<script(?! type="application/json")(?! src=)', page.split('</head>', 1)[1])


def test_a_radio_groups_label_names_the_group_not_its_first_option(api, login):
    """The V-order publish review's 审核结果 / 派单方式 are radio groups labelled by aria-labelledby; a <label for> on
    the first option made it read as "审核结果 通过" and left the others as "不通过" alone."""
    from tests.web.test_v_order_lifecycle import approved_object
    from tests.web.test_v_order_rules import publish
    inst = publish(api('vol_zhang'), approved_object(api))
    task = open_task(api('station_xicun'), inst['id'])
    page = login('station_xicun').get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    for name in ('decision', 'dispatch_mode'):
        label = re.search(rf'<label class="label"[^>]*id="lbl-{name}"', page).group(0)
        assert 'for=' not in label, label
        assert re.search(rf'<div class="radios" role="radiogroup" aria-labelledby="lbl-{name}"', page)
