"""walk17's reviewer and admin findings: a reason longer than 500 characters is refused with a counter instead of
being cut short (7), a resubmission is named 重新提交（修改后） in every history (8), the inbox's 发布单位 column
keeps its place (12), and the version diff says old → new (14)."""
import re
from html import unescape

from app.extensions import db
from app.models import Decision, HumanTask
from tests.helpers import entry_data, upload_png
from tests.web.conftest import open_task, submit
from tests.web.test_process_admin import BASE, KEY, draft, street_to_association
from tests.web.test_v_order_lifecycle import approved_object, order_data

LONG = '请补充长者近三个月的就诊记录和社区出具的独居证明。' * 24 + '（详见附件说明）'  # 608 characters


def _text(html: str) -> str:
    return unescape(re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', html)))


def _textarea(html: str, box_id: str) -> str:
    return re.search(rf'<textarea id="{box_id}"[^>]*>', html).group(0)


def _at_station(api, i=1) -> tuple[int, int]:
    """vol_zhang's service-object entry number i waiting at station_xicun: (instance id, task id)."""
    inst_id = submit(api('vol_zhang'), i)
    return inst_id, open_task(api('station_xicun'), inst_id)['id']


def _open_task_rows():
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(HumanTask).where(HumanTask.status == 'open'))


# ---------------------------------------------------------------- 7. reason length

def test_the_reason_box_counts_and_does_not_cut_a_pasted_reason(api, login):
    _inst, task_id = _at_station(api)
    page = login('station_xicun')
    html = page.get(f'/inbox/tasks/{task_id}').get_data(as_text=True)
    box = _textarea(html, 'f-reason')
    assert 'maxlength' not in box and 'data-count-max="500"' in box and 'count-f-reason' in box
    assert '已输入 0 / 500' in _text(html)

    resp = page.post(f'/inbox/tasks/{task_id}/decide', data={'decision': 'reject', 'reason': LONG})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    text = _text(html)
    assert '不能超过 500 个字' in text
    assert f'已输入 {len(LONG)} / 500，超出 {len(LONG) - 500} 个字，请删减' in text
    # everything typed is still there, to shorten; nothing was decided or stored cut short
    assert unescape(re.search(r'<textarea id="f-reason"[^>]*>(.*?)</textarea>', html, re.S).group(1)) == LONG
    assert db.session.scalar(db.select(HumanTask.status).where(HumanTask.id == task_id)) == 'open'
    assert not db.session.scalar(db.select(db.func.count()).select_from(Decision).where(Decision.decision == 'reject'))

    # 500 characters exactly are taken, in full
    resp = page.post(f'/inbox/tasks/{task_id}/decide', data={'decision': 'reject', 'reason': LONG[:500]})
    assert resp.status_code == 302
    assert db.session.scalar(db.select(Decision.reason).where(Decision.decision == 'reject')) == LONG[:500]


def test_a_v_order_review_form_counts_its_reason_too(api, login):
    so = approved_object(api)
    resp = api('vol_zhang').post('/processes/v_order/instances', json={'data': order_data([so])})
    assert resp.status_code == 201, resp.get_json()
    task = open_task(api('station_xicun'), resp.get_json()['instance']['id'])
    html = login('station_xicun').get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    box = _textarea(html, 'f-reason')
    assert 'maxlength' not in box and 'data-count-max="500"' in box and 'count-f-reason' in box
    assert '已输入 0 / 500' in _text(html)


def test_a_batch_with_a_too_long_reason_is_refused_with_everything_kept(api, login):
    first, second = _at_station(api, 1)[1], _at_station(api, 2)[1]
    page = login('station_xicun')
    html = page.get('/inbox').get_data(as_text=True)
    box = _textarea(html, 'f-batch-reason')
    assert 'maxlength' not in box and 'data-count-max="500"' in box
    assert '已输入 0 / 500' in _text(html)

    resp = page.post('/inbox/batch', data={'task_ids': [first, second], 'decision': 'reject', 'reason': LONG})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    text = _text(html)
    assert f'意见不能超过 500 个字（现有 {len(LONG)} 个字），请删减后再提交' in text
    assert f'已输入 {len(LONG)} / 500，超出 {len(LONG) - 500} 个字' in text
    assert unescape(re.search(r'<textarea id="f-batch-reason"[^>]*>(.*?)</textarea>', html, re.S).group(1)) == LONG
    for tid in (first, second):  # the ticks stay
        assert re.search(rf'value="{tid}" checked', html)
    assert _open_task_rows() == 2 and not db.session.scalar(db.select(db.func.count()).select_from(Decision)
                                                            .where(Decision.decision == 'reject'))


def test_the_api_refuses_a_too_long_reason_as_a_field_error(api):
    first, second = _at_station(api, 1)[1], _at_station(api, 2)[1]
    station = api('station_xicun')
    resp = station.post('/tasks/batch', json={'task_ids': [first, second], 'decision': 'reject', 'reason': LONG})
    assert resp.status_code == 422
    assert resp.get_json()['errors'] == {'reason': [f'意见不能超过 500 个字（现有 {len(LONG)} 个字），请删减后再提交']}
    resp = station.post(f'/tasks/{first}/complete', json={'decision': 'reject', 'reason': LONG})
    assert resp.status_code == 422 and resp.get_json()['errors']['reason'] == ['不能超过 500 个字']
    assert _open_task_rows() == 2


def test_the_admin_reset_reason_counts_too(api, login):
    inst_id, _task = _at_station(api)
    html = login('admin').get(f'/admin/instances/{inst_id}').get_data(as_text=True)
    box = _textarea(html, 'f-reset-reason')
    assert 'maxlength' not in box and 'data-count-max="500"' in box
    assert '已输入 0 / 500' in _text(html)


# ---------------------------------------------------------------- 8. 重新提交（修改后）

def _resubmitted_entry(api) -> tuple[int, int]:
    """vol_zhang's entry rejected by station_xicun and sent again: (instance id, the station's new task id)."""
    vol, station = api('vol_zhang'), api('station_xicun')
    inst_id, task_id = _at_station(api)
    r = station.post(f'/tasks/{task_id}/complete', json={'decision': 'reject', 'reason': '电话打不通'})
    assert r.status_code == 200, r.get_json()
    mine = open_task(vol, inst_id)
    r = vol.post(f'/tasks/{mine["id"]}/complete',
                 json={'data': entry_data([upload_png(vol)], phone='13912345678')})
    assert r.status_code == 200, r.get_json()
    return inst_id, open_task(station, inst_id)['id']


def _history_heads(html: str) -> list[str]:
    return [_text(h).strip() for h in re.findall(r'<div class="h-head">(.*?)</div>', html, re.S)]


def test_a_resubmission_is_named_so_in_every_history(api, login):
    inst_id, task_id = _resubmitted_entry(api)
    expected = ['提交服务对象信息 提交', '社工站初审 不通过', '提交服务对象信息 重新提交（修改后）']
    station, vol = login('station_xicun'), login('vol_zhang')
    assert _history_heads(station.get(f'/inbox/tasks/{task_id}').get_data(as_text=True)) == expected
    assert _history_heads(station.get(f'/cases/{inst_id}').get_data(as_text=True)) == expected
    assert _history_heads(vol.get(f'/m/cases/{inst_id}').get_data(as_text=True)) == expected
    admin = _text(login('admin').get(f'/admin/instances/{inst_id}').get_data(as_text=True))
    assert '提交服务对象信息 · 提交' in admin and '提交服务对象信息 · 重新提交（修改后）' in admin
    # a case in its first round has a plain 提交
    first_round, _task = _at_station(api, 2)
    html = vol.get(f'/m/cases/{first_round}').get_data(as_text=True)
    assert _history_heads(html) == ['提交服务对象信息 提交'] and '重新提交（修改后）' not in html


def test_a_resubmitted_v_order_says_so_on_its_order_page(api, login):
    so = approved_object(api)
    vol, station = api('vol_zhang'), api('station_xicun')
    inst = vol.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    r = station.post(f'/tasks/{open_task(station, inst["id"])["id"]}/complete',
                     json={'decision': 'reject', 'reason': '时间写错了'})
    assert r.status_code == 200, r.get_json()
    r = vol.post(f'/tasks/{open_task(vol, inst["id"])["id"]}/complete',
                 json={'data': order_data([so], needs='陪同复诊，另需轮椅')})
    assert r.status_code == 200, r.get_json()
    order_id = int(inst['business_key'].split(':')[1])
    heads = _history_heads(login('vol_zhang').get(f'/orders/{order_id}').get_data(as_text=True))
    assert heads[:3] == ['填写订单 提交', '社工站发布审核 不通过', '填写订单 重新提交（修改后）']
    assert _history_heads(login('vol_zhang').get(f'/m/cases/{inst["id"]}').get_data(as_text=True))[2] == \
        '填写订单 重新提交（修改后）'


# ---------------------------------------------------------------- 12. 发布单位 column

def test_the_publisher_column_is_there_for_a_reviewer_even_when_no_row_has_one(api, login):
    inst_id, task_id = _at_station(api)  # a volunteer's own entry: no publishing unit
    assert api('station_xicun').post(f'/tasks/{task_id}/complete', json={'decision': 'approve'}).status_code == 200
    for user in ('station_xicun', 'street_xicun'):
        for state in ('open', 'approved'):
            html = login(user).get(f'/inbox?state={state}').get_data(as_text=True)
            assert '<th>发布单位</th>' in html, (user, state)
    html = login('street_xicun').get('/inbox').get_data(as_text=True)
    row = re.search(r'<tr>\s*<td class="pick">.*?</tr>', html, re.S).group(0)
    assert re.search(r'<td data-label="发布单位"><span class="muted">—</span></td>', row)
    # an empty list keeps the header too
    assert '<th>发布单位</th>' in login('street_xinshi').get('/inbox').get_data(as_text=True)
    # a volunteer's list (orders to accept) has no such column
    assert '发布单位' not in login('vol_li').get('/inbox').get_data(as_text=True)


# ---------------------------------------------------------------- 14. diff old → new

def test_the_version_diff_says_what_each_changed_field_was_and_is(api, login):
    admin = api('admin')
    renamed = street_to_association(BASE).replace('name="社工站初审"'.encode(), 'name="社工站初审（含入户核查）"'.encode())
    assert renamed != street_to_association(BASE)
    resp = draft(admin, renamed)
    assert resp.status_code == 201 and resp.get_json()['problems'] == []
    assert admin.post(f'/processes/{KEY}/drafts/{resp.get_json()["draft_id"]}/publish').status_code == 201

    diff = admin.get(f'/processes/{KEY}/diff?a=1&b=2').get_json()
    changed = {c['id']: c for c in diff['changed']}
    name = next(c for c in changed['station_review']['changes'] if c['field'] == 'bpmn_name')
    assert name == {'field': 'bpmn_name', 'label': '名称', 'old': '社工站初审', 'new': '社工站初审（含入户核查）'}
    lane = next(c for c in changed['street_review']['changes'] if c['field'] == 'lane')
    assert lane['label'] == '泳道（角色）'
    assert lane['old'] == '镇（街）管理员（street_admin）' and lane['new'] == '广志协（association_admin）'
    # the same on the editor's own endpoint (its 版本 tab → 比较)
    page_diff = login('admin').get(f'/admin/api/processes/{KEY}/diff?a=1&b=2')
    assert page_diff.status_code == 200 and page_diff.get_json()['changed'] == diff['changed']


def test_the_api_history_marks_a_resubmission(api):
    inst_id, _task = _resubmitted_entry(api)
    history = api('vol_zhang').get(f'/instances/{inst_id}').get_json()['history']
    assert [(h['decision'], h['resubmitted']) for h in history] == [
        ('submit', False), ('reject', False), ('submit', True)]
