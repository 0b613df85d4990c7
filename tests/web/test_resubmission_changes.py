"""本次修改: the reviewer of a corrected resubmission sees which fields the submitter changed since the version
that was sent back (a summary above the data, 已修改 and the earlier value next to each changed field), on the task
page in both languages and as `changed` in the API's task detail; nothing of it on a first round."""
import re
from zoneinfo import ZoneInfo

from tests.helpers import entry_data, upload_png
from tests.web.conftest import open_task

BEIJING = ZoneInfo('Asia/Shanghai')
OLD_PHONE, NEW_PHONE = '13800138000', '13912345678'


def _first_round(api, **first):
    """vol_zhang's entry with two photos, waiting for station_xicun: (instance id, station task id, photo ids)."""
    vol, station = api('vol_zhang'), api('station_xicun')
    photos = [upload_png(vol, 'a.png'), upload_png(vol, 'b.png')]
    resp = vol.post('/processes/service_object_entry/instances',
                    json={'data': entry_data(photos, **{'phone': OLD_PHONE, **first})})
    assert resp.status_code == 201, resp.get_json()
    inst_id = resp.get_json()['instance']['id']
    return inst_id, open_task(station, inst_id)['id'], photos


def _rejected_and_resubmitted(api, first=None, **changes):
    """The first round (`first`: its own values) rejected by station_xicun with a reason, then resubmitted by
    vol_zhang with `changes` (`photos`: a function of the first round's photo ids); returns (instance id, the
    station's new task id)."""
    vol, station = api('vol_zhang'), api('station_xicun')
    inst_id, task_id, photos = _first_round(api, **(first or {}))
    r = station.post(f'/tasks/{task_id}/complete', json={'decision': 'reject', 'reason': '电话打不通，第二张照片看不清'})
    assert r.status_code == 200, r.get_json()
    mine = open_task(vol, inst_id)
    new_photos = changes.pop('photos', lambda old: old)(photos)
    r = vol.post(f'/tasks/{mine["id"]}/complete', json={'data': entry_data(new_photos, **{'phone': OLD_PHONE, **changes})})
    assert r.status_code == 200, r.get_json()
    return inst_id, open_task(station, inst_id)['id']


def _replace_second(api):
    return lambda old: [old[0], upload_png(api('vol_zhang'), 'c.png')]


def _marked(html) -> list[str]:
    """The labels of the rows marked 已修改 (已修改 is in the row's text, not only its colour)."""
    return re.findall(r'<div class="row changed">\s*<dt>([^<]*?) <span class="changed-mark">', html)


def _was(html) -> list[str]:
    return [re.sub(r'\s+', ' ', w).strip() for w in re.findall(r'<p class="was">(.*?)</p>', html, re.S)]


def test_the_station_sees_what_the_resubmission_changed(api, login):
    inst_id, task_id = _rejected_and_resubmitted(api, phone=NEW_PHONE, photos=_replace_second(api))
    html = login('station_xicun').get(f'/inbox/tasks/{task_id}').get_data(as_text=True)
    assert _marked(html) == ['联系电话', '证明材料']
    assert '提交人修改了 2 项：联系电话、证明材料' in html
    assert _was(html) == [f'原为：{OLD_PHONE}', '图片有变动']
    assert NEW_PHONE in html
    # unchanged fields are shown as before, without a marker
    assert re.search(r'<div class="row">\s*<dt>姓名</dt>', html)
    assert html.count('>已修改<') == 2


def test_the_api_lists_the_changed_fields_with_their_earlier_values(api):
    inst_id, task_id = _rejected_and_resubmitted(api, phone=NEW_PHONE, photos=_replace_second(api))
    body = api('station_xicun').get(f'/tasks/{task_id}').get_json()
    changed = body['changed']
    assert [c['field'] for c in changed] == ['phone', 'proof_files']
    assert changed[0] == {'field': 'phone', 'label': '联系电话', 'before': OLD_PHONE}
    assert changed[1]['label'] == '证明材料' and len(changed[1]['before']) == 2
    assert len(set(changed[1]['before']) & set(body['data']['proof_files'])) == 1  # one photo kept, one replaced
    # the fixed fields of API.md are still there
    assert {'id', 'title', 'form', 'data', 'why', 'history'} <= set(body)


def test_a_first_round_task_has_no_marker(api, login):
    _inst_id, task_id, _photos = _first_round(api)
    html = login('station_xicun').get(f'/inbox/tasks/{task_id}').get_data(as_text=True)
    assert 'changed-mark' not in html and 'changes-summary' not in html and '已修改' not in html
    assert '<dt>联系电话</dt>' in html
    assert api('station_xicun').get(f'/tasks/{task_id}').get_json()['changed'] == []


def test_a_resubmission_without_changes_says_so(api, login):
    _inst_id, task_id = _rejected_and_resubmitted(api)
    html = login('station_xicun').get(f'/inbox/tasks/{task_id}').get_data(as_text=True)
    assert '与上次提交相比没有修改' in html
    assert _marked(html) == [] and '提交人修改了' not in html
    assert api('station_xicun').get(f'/tasks/{task_id}').get_json()['changed'] == []


def test_photos_in_another_order_and_an_emptied_optional_field_are_no_change(api):
    _inst_id, task_id = _rejected_and_resubmitted(api, photos=lambda old: old[::-1], notes='')
    assert api('station_xicun').get(f'/tasks/{task_id}').get_json()['changed'] == []


def test_options_and_streets_show_their_earlier_labels(api):
    _inst_id, task_id = _rejected_and_resubmitted(api, living_status='with_spouse', residence_street='fengyuan')
    changed = api('station_xicun').get(f'/tasks/{task_id}').get_json()['changed']
    assert [(c['field'], c['before']) for c in changed] == [('living_status', '独居'),
                                                             ('residence_street', '白云区 · 新市街')]


def test_a_cleared_field_is_marked_with_what_it_said(api, login):
    _inst_id, task_id = _rejected_and_resubmitted(api, first={'notes': '行动不便，需上门'}, notes='')
    html = login('station_xicun').get(f'/inbox/tasks/{task_id}').get_data(as_text=True)
    assert _marked(html) == ['备注']
    assert _was(html) == ['原为：行动不便，需上门']
    assert re.search(r'<dt>备注 <span class="changed-mark">已修改</span></dt>\s*<dd>\s*<span class="muted">未填写</span>', html)
    changed = api('station_xicun').get(f'/tasks/{task_id}').get_json()['changed']
    assert changed == [{'field': 'notes', 'label': '备注', 'before': '行动不便，需上门'}]


def test_the_street_sees_the_changes_after_the_station_approved_the_correction(api, login):
    inst_id, station_task = _rejected_and_resubmitted(api, phone=NEW_PHONE)
    r = api('station_xicun').post(f'/tasks/{station_task}/complete', json={'decision': 'approve'})
    assert r.status_code == 200, r.get_json()
    street_task = open_task(api('street_xicun'), inst_id)['id']
    html = login('street_xicun').get(f'/inbox/tasks/{street_task}').get_data(as_text=True)
    assert _marked(html) == ['联系电话']
    # the decided station task no longer shows markers: its page shows the case as it is now
    done = login('station_xicun').get(f'/inbox/tasks/{station_task}').get_data(as_text=True)
    assert 'changed-mark' not in done


def test_the_english_page_names_the_changed_fields_in_english(api, login):
    _inst_id, task_id = _rejected_and_resubmitted(api, phone=NEW_PHONE, photos=_replace_second(api))
    html = login('station_xicun').get(f'/inbox/tasks/{task_id}?lang=en').get_data(as_text=True)
    assert _marked(html) == ['Phone', 'Proof documents']
    assert 'Phone, Proof documents' in html
    body = api('station_xicun', lang='en').get(f'/tasks/{task_id}').get_json()
    assert [c['label'] for c in body['changed']] == ['Phone', 'Proof documents']


def test_a_corrected_v_order_names_its_earlier_objects_and_time_and_later_steps_show_nothing(api):
    """A V-order's submitted values read as its order form defines them (service objects by name, a time in
    Beijing time); the acceptor review that follows other forms (接单) compares nothing."""
    from datetime import UTC, datetime, timedelta

    from tests.helpers import ELDER_ID, ELDER_ID_2
    from tests.web.test_v_order_lifecycle import approved_object, order_data
    approved_object(api, name='陈伯', id_number=ELDER_ID)
    approved_object(api, name='林婆婆', id_number=ELDER_ID_2)
    station, vol = api('station_xicun'), api('vol_zhang')
    objects = {o['name']: o['id'] for o in station.get('/service-objects?view=approved').get_json()['items']}
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=1, minute=0, second=0, microsecond=0)  # 09:00 Beijing
    first = order_data([objects['陈伯']], start_at=start.isoformat(), end_at=(start + timedelta(hours=3)).isoformat())
    resp = station.post('/processes/v_order/instances', json={'data': first})
    assert resp.status_code == 201, resp.get_json()
    inst_id = resp.get_json()['instance']['id']
    review = open_task(station, inst_id)
    r = station.post(f'/tasks/{review["id"]}/complete', json={'decision': 'reject', 'reason': '时间改到上午十点'})
    assert r.status_code == 200, r.get_json()
    mine = next(t for t in r.get_json()['tasks'] if t['instance_id'] == inst_id)
    later = start + timedelta(hours=1)
    again = {**first, 'service_object_ids': [objects['陈伯'], objects['林婆婆']], 'start_at': later.isoformat()}
    r = station.post(f'/tasks/{mine["id"]}/complete', json={'data': again})
    assert r.status_code == 200, r.get_json()
    review = open_task(station, inst_id)
    changed = station.get(f'/tasks/{review["id"]}').get_json()['changed']
    assert [(c['field'], c['label'], c['before']) for c in changed] == [
        ('service_object_ids', '服务对象', '陈伯'),
        ('start_at', '开始时间', start.astimezone(BEIJING).strftime('%Y-%m-%d %H:%M'))]
    r = station.post(f'/tasks/{review["id"]}/complete', json={'decision': 'approve', 'data': {'dispatch_mode': 'open'}})
    assert r.status_code == 200, r.get_json()
    accept = open_task(vol, inst_id)
    assert vol.post(f'/tasks/{accept["id"]}/complete', json={'data': {}}).status_code == 200
    acceptor_review = open_task(station, inst_id)
    assert acceptor_review is not None and acceptor_review['title'] == '接单人审核'
    assert station.get(f'/tasks/{acceptor_review["id"]}').get_json()['changed'] == []
