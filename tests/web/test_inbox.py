"""Reviewer inbox (pages and API): tabs, search, claim, task page, batch, pagination, library, resubmit."""
import json
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Decision, ServiceObject
from tests.helpers import entry_data, name_no, upload_png
from tests.web.conftest import open_task, submit, unique_id


def _link(task_id, html):
    """The page links the task (plain, or with the list it was opened from: ?state=...)."""
    return re.search(rf'/inbox/tasks/{task_id}["?]', html) is not None


def _station_tasks(api, n, start=0):
    """n cases at the station step; [(instance_id, station task id, name)]."""
    vol, station = api('vol_zhang'), api('station_xicun')
    out = []
    for i in range(start, start + n):
        inst = submit(vol, i)
        out.append((inst, open_task(station, inst)['id'], f'长者{name_no(i)}号'))
    return out


def test_tabs_list_open_approved_and_rejected_tasks(api, login):
    station = api('station_xicun')
    (_, t_ok, n_ok), (_, t_bad, n_bad), (_, t_open, n_open) = _station_tasks(api, 3)
    assert station.post(f'/tasks/{t_ok}/complete', json={'decision': 'approve'}).status_code == 200
    assert station.post(f'/tasks/{t_bad}/complete', json={'decision': 'reject', 'reason': '照片模糊'}).status_code == 200
    page = login('station_xicun')
    tabs = {state: page.get(f'/inbox?state={state}').get_data(as_text=True) for state in ('open', 'approved', 'rejected')}
    assert '未审核' in tabs['open'] and '已通过' in tabs['open'] and '未通过' in tabs['open']
    expected = {'open': t_open, 'approved': t_ok, 'rejected': t_bad}
    for state, html in tabs.items():
        for other in (t_ok, t_bad, t_open):
            assert _link(other, html) == (other == expected[state]), (state, other)
    assert n_open in tabs['open'] and n_ok in tabs['approved'] and n_bad in tabs['rejected']
    api_lists = {s: [t['id'] for t in station.get(f'/tasks?state={s}').get_json()['items']]
                 for s in ('open', 'approved', 'rejected')}
    assert api_lists == {'open': [t_open], 'approved': [t_ok], 'rejected': [t_bad]}
    assert sorted(t['id'] for t in station.get('/tasks?state=done').get_json()['items']) == sorted([t_ok, t_bad])


def test_search_filters_by_name(api, login):
    rows = _station_tasks(api, 3)
    station = api('station_xicun')
    _, tid, name = rows[1]
    found = station.get(f'/tasks?q={name}').get_json()
    assert found['total'] == 1 and found['items'][0]['id'] == tid
    assert station.get('/tasks?q=不存在的人').get_json()['total'] == 0
    html = login('station_xicun').get(f'/inbox?q={name}').get_data(as_text=True)
    assert _link(tid, html) and not _link(rows[0][1], html) and not _link(rows[2][1], html)


def test_claim_blocks_the_other_street_until_unclaimed(api, case_at_street, row_counts):
    inst_id, tid = case_at_street()
    xicun, xinshi = api('street_xicun'), api('street_xinshi')
    r = xicun.post(f'/tasks/{tid}/claim')
    assert r.status_code == 200 and r.get_json()['claimed_by'] == 'street_xicun'
    assert [t['claimed_by'] for t in xinshi.get('/tasks').get_json()['items'] if t['id'] == tid] == ['street_xicun']
    before = row_counts()
    r = xinshi.post(f'/tasks/{tid}/complete', json={'decision': 'approve'})
    assert r.status_code == 409 and '认领' in r.get_json()['message']
    r = xinshi.post(f'/tasks/{tid}/claim')
    assert r.status_code == 409 and '认领' in r.get_json()['message']
    assert xinshi.post(f'/tasks/{tid}/unclaim').status_code == 409  # not theirs to release
    assert row_counts() == before
    assert xicun.post(f'/tasks/{tid}/unclaim').get_json()['claimed_by'] is None
    r = xinshi.post(f'/tasks/{tid}/complete', json={'decision': 'approve'})
    assert r.status_code == 200 and r.get_json()['instance']['status'] == 'completed'


def test_claim_and_unclaim_through_the_pages(api, login, case_at_street):
    inst_id, tid = case_at_street()
    xicun, xinshi = login('street_xicun'), login('street_xinshi')
    r = xicun.post(f'/inbox/tasks/{tid}/claim', follow_redirects=True)
    assert r.status_code == 200 and '已认领' in r.get_data(as_text=True)
    assert '西村街道办' in xicun.get('/inbox').get_data(as_text=True)
    other_view = xinshi.get(f'/inbox/tasks/{tid}').get_data(as_text=True)
    assert '西村街道办' in other_view and 'name="decision"' not in other_view
    r = xinshi.post(f'/inbox/tasks/{tid}/decide', data={'decision': 'approve'})
    assert r.status_code == 409 and '认领' in r.get_data(as_text=True)
    r = xinshi.post(f'/inbox/tasks/{tid}/claim', follow_redirects=True)
    assert '认领' in r.get_data(as_text=True)
    assert api('street_xinshi').get(f'/tasks/{tid}').get_json()['claimed_by'] == 'street_xicun'
    r = xicun.post(f'/inbox/tasks/{tid}/unclaim', follow_redirects=True)
    assert '已取消认领' in r.get_data(as_text=True)
    r = xinshi.post(f'/inbox/tasks/{tid}/decide', data={'decision': 'approve', 'reason': '同意'})
    assert r.status_code == 302
    assert api('vol_zhang').get(f'/instances/{inst_id}').get_json()['status_label'] == '已通过'


def test_task_page_shows_data_history_and_why(api, login):
    vol, station = api('vol_zhang'), api('station_xicun')
    inst = submit(vol, 1, notes='行动不便，需上门')
    t1 = open_task(station, inst)['id']
    r = station.post(f'/tasks/{t1}/complete', json={'decision': 'approve', 'reason': '已电话核实身份'})
    t2 = next(t for t in r.get_json()['instance']['open_tasks'] if t['lane'] == 'street_admin')['id']
    html = login('street_xinshi').get(f'/inbox/tasks/{t2}').get_data(as_text=True)
    assert '长者〇一号' in html and '行动不便，需上门' in html and '白云区新市街新市路 2 号' in html
    assert '长者' in html and '独居' in html  # option labels, not codes
    assert 'elderly' not in html and 'alone' not in html
    assert '已电话核实身份' in html and '西村街社工站' in html
    why = re.search(r'为什么在我的待办中(.*?)</p>', html, re.S).group(1)
    assert '镇（街）管理员' in why and '新市街' in why and '西村街' not in why
    detail = api('street_xinshi').get(f'/tasks/{t2}').get_json()
    assert detail['why'] == {'role': 'street_admin', 'scope': ['新市街']}
    assert [(h['decision'], h['reason']) for h in detail['history']] == [('submit', None), ('approve', '已电话核实身份')]
    assert detail['data']['notes'] == '行动不便，需上门' and detail['form']['title'] == '审核'


def test_decision_row_is_a_full_audit_record(api, case_at_street):
    inst_id, tid = case_at_street()
    r = api('street_xinshi').post(f'/tasks/{tid}/complete', json={'decision': 'approve', 'reason': '材料齐全'})
    assert r.status_code == 200
    row = db.session.scalar(select(Decision).where(Decision.human_task_id == tid))
    assert row.actor.username == 'street_xinshi' and row.role == 'street_admin'
    assert row.org_unit.code == 'xinshi' and row.decision == 'approve' and row.reason == '材料齐全'
    assert row.version == 1 and row.at is not None and row.lane == 'street_admin'
    data = json.loads(row.data_json)
    assert data['form'] == {'decision': 'approve', 'reason': '材料齐全'}
    assert data['subject']['name'] == '陈伯' and data['subject']['id_number'] == entry_data([])['id_number']
    assert data['subject']['household_street'] == 'xicun' and data['subject']['version'] == 1
    rejected = db.session.scalars(select(Decision).where(Decision.instance_id == inst_id).order_by(Decision.id)).all()
    assert [d.decision for d in rejected] == ['submit', 'approve', 'approve']
    assert rejected[1].org_unit.code == 'xicun_station' and rejected[1].role == 'station_admin'


def test_batch_approve_reports_each_item_via_api(api):
    rows = _station_tasks(api, 3)
    station = api('station_xicun')
    ids = [tid for _, tid, _ in rows]
    assert station.post(f'/tasks/{ids[1]}/complete', json={'decision': 'approve'}).status_code == 200
    r = station.post('/tasks/batch', json={'task_ids': ids, 'decision': 'approve'})
    assert r.status_code == 200
    results = {x['task_id']: x for x in r.get_json()['results']}
    assert [results[i]['ok'] for i in ids] == [True, False, True]
    assert '已被处理' in results[ids[1]]['error'] and results[ids[1]]['code'] == 'already_handled'
    assert [results[i]['title'].startswith(name) for (_, i, name) in rows] == [True, True, True]
    assert [(results[i]['step'], results[i]['subject']) for i in ids] == [('社工站初审', None)] * 3
    assert station.get('/tasks?state=open').get_json()['total'] == 0
    # a task of another street's inbox: refused like a forged id, without revealing whose case it is
    shipai = api('station_shipai').post('/tasks/batch', json={'task_ids': [ids[0], 999999], 'decision': 'approve'})
    assert [(x['ok'], x['title'], x['step']) for x in shipai.get_json()['results']] == [(False, None, None)] * 2
    assert db.session.scalar(select(Decision.id).where(Decision.human_task_id == ids[1], Decision.decision == 'approve'))
    assert len(db.session.scalars(select(Decision).where(Decision.human_task_id == ids[1])).all()) == 1


def test_batch_approve_through_the_page(api, login):
    rows = _station_tasks(api, 3)
    ids = [tid for _, tid, _ in rows]
    assert api('station_xicun').post(f'/tasks/{ids[0]}/complete', json={'decision': 'approve'}).status_code == 200
    page = login('station_xicun')
    r = page.post('/inbox/batch', data={'task_ids': [str(i) for i in ids], 'decision': 'approve', 'reason': ''},
                  follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and '成功 2 条，失败 1 条' in html
    assert '该任务已被处理' in html and all(name in html for _, _, name in rows)
    assert api('station_xicun').get('/tasks?state=approved').get_json()['total'] == 3


def test_batch_reject_without_reason_fails_every_item(api, login, row_counts):
    rows = _station_tasks(api, 3)
    ids = [tid for _, tid, _ in rows]
    station = api('station_xicun')
    before = row_counts()
    results = station.post('/tasks/batch', json={'task_ids': ids, 'decision': 'reject'}).get_json()['results']
    assert [x['ok'] for x in results] == [False] * 3
    assert all('必填' in x['error'] for x in results), results
    html = login('station_xicun').post('/inbox/batch', data={'task_ids': [str(i) for i in ids], 'decision': 'reject',
                                                             'reason': '  '}, follow_redirects=True).get_data(as_text=True)
    assert '成功 0 条，失败 3 条' in html and html.count('此项为必填项') == 3
    assert row_counts() == before
    assert station.get('/tasks?state=open').get_json()['total'] == 3
    results = station.post('/tasks/batch', json={'task_ids': ids, 'decision': 'reject', 'reason': '批量退回'}).get_json()
    assert [x['ok'] for x in results['results']] == [True] * 3


def test_pagination_of_25_open_tasks(api, login):
    _station_tasks(api, 25)
    station = api('station_xicun')
    p1, p2 = station.get('/tasks?page=1').get_json(), station.get('/tasks?page=2').get_json()
    assert (len(p1['items']), len(p2['items']), p1['total'], p2['total']) == (20, 5, 25, 25)
    assert not {t['id'] for t in p1['items']} & {t['id'] for t in p2['items']}
    past_the_end = station.get('/tasks?page=3').get_json()
    assert past_the_end['items'] == [] and past_the_end['total'] == 25  # the total is still told
    page = login('station_xicun')
    h1, h2 = page.get('/inbox').get_data(as_text=True), page.get('/inbox?page=2').get_data(as_text=True)
    assert len(re.findall(r'name="task_ids"', h1)) == 20 and len(re.findall(r'name="task_ids"', h2)) == 5
    assert '共 25 条' in h1


def test_library_views_after_reject_and_resubmit(api, login):
    vol, station = api('vol_zhang'), api('station_xicun')
    approved_inst = submit(vol, 7)
    for _ in range(2):
        task = open_task(station, approved_inst) or open_task(api('street_xicun'), approved_inst)
        who = station if task['lane'] == 'station_admin' else api('street_xicun')
        assert who.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    inst = submit(vol, 8)
    t = open_task(station, inst)['id']
    assert station.post(f'/tasks/{t}/complete', json={'decision': 'reject', 'reason': '地址不全'}).status_code == 200
    mine = open_task(vol, inst)
    fid = upload_png(vol)
    r = vol.post(f'/tasks/{mine["id"]}/complete',
                 json={'data': entry_data([fid], name='长者〇八号', id_number=unique_id(8))})
    assert r.status_code == 200, r.get_json()
    lib_all = station.get('/service-objects?view=all').get_json()
    assert sorted((o['name'], o['version'], o['status']) for o in lib_all['items']) == [
        ('长者〇七号', 1, 'approved'), ('长者〇八号', 1, 'rejected'), ('长者〇八号', 2, 'pending')]
    approved = station.get('/service-objects?view=approved').get_json()
    assert [(o['name'], o['status']) for o in approved['items']] == [('长者〇七号', 'approved')]
    html = login('station_xicun').get('/library?view=all').get_data(as_text=True)
    assert 'v1' in html and 'v2' in html and '未通过' in html and '审核中' in html
    html = login('station_xicun').get('/library').get_data(as_text=True)
    assert '长者〇七号' in html and '长者〇八号' not in html


def test_volunteer_sees_reason_and_resubmits_from_the_phone(api, login):
    vol, station = api('vol_zhang'), api('station_xicun')
    inst = submit(vol, 3)
    t = open_task(station, inst)['id']
    assert station.post(f'/tasks/{t}/complete', json={'decision': 'reject', 'reason': '身份证照片不清晰'}).status_code == 200
    phone = login('vol_zhang')
    html = phone.get(f'/m/cases/{inst}').get_data(as_text=True)
    assert '查看原因' in html and '身份证照片不清晰' in html and '审核不通过，待修改' in html
    form = phone.get(f'/m/cases/{inst}/resubmit').get_data(as_text=True)
    assert 'value="长者〇三号"' in form
    kept = re.findall(r'name="proof_files" value="(\d+)" checked', form)
    assert kept, 'the earlier proof files should be offered again'
    data = {k: v for k, v in entry_data([], name='长者〇三号补正', id_number=unique_id(3)).items()
            if k != 'proof_files'}
    data['proof_files'] = kept
    r = phone.post(f'/m/cases/{inst}/resubmit', data=data, content_type='multipart/form-data')
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    versions = db.session.scalars(select(ServiceObject).where(ServiceObject.instance_id == inst)
                                  .order_by(ServiceObject.version)).all()
    assert [(o.version, o.status, o.name) for o in versions] == [(1, 'rejected', '长者〇三号'),
                                                                  (2, 'pending', '长者〇三号补正')]
    view = vol.get(f'/instances/{inst}').get_json()
    assert view['status_label'] == '待社工站初审'
    assert [h['decision'] for h in view['history']] == ['submit', 'reject', 'submit']
    # back under review: the reason stands in the history, no longer as a 查看原因 button beside 待社工站初审
    page = phone.get(f'/m/cases/{inst}').get_data(as_text=True)
    assert '查看原因' not in page and '身份证照片不清晰' in page
    again = open_task(station, inst)
    assert again is not None and station.get(f'/tasks/{again["id"]}').get_json()['data']['name'] == '长者〇三号补正'
    # sent again (Back and 提交): nothing more is stored, and the case page says where it stands
    twice = phone.post(f'/m/cases/{inst}/resubmit', data=data, content_type='multipart/form-data')
    assert twice.status_code == 302 and twice.headers['Location'].endswith(f'/m/cases/{inst}')
    assert '这一步已经提交，无需再次提交' in phone.get(twice.headers['Location']).get_data(as_text=True)
    assert len(db.session.scalars(select(ServiceObject).where(ServiceObject.instance_id == inst)).all()) == 2


def _open_index():
    """{task id: {(lane, scope path)}} as the inbox index (open scope rows) has it, and as the open tasks say."""
    from app.models import HumanTask, HumanTaskScope
    db.session.expire_all()
    indexed, expected = {}, {}
    for s in db.session.scalars(select(HumanTaskScope).where(HumanTaskScope.is_open)):
        indexed.setdefault(s.human_task_id, set()).add((s.lane, s.path))
    for t in db.session.scalars(select(HumanTask).where(HumanTask.status == 'open', HumanTask.assignee_id.is_(None))):
        expected[t.id] = {(t.lane, s.path) for s in t.scopes}
    return indexed, expected


def test_inbox_index_follows_every_completion_rejection_and_reset(api, case_at_street):
    """The open-task index the inbox reads stays equal to the open tasks through decisions, a rejection
    and an operator's reset; a decided task leaves the inbox and a reset one comes back."""
    from app.models import User
    from app.services.instances import reset_instance
    inst_a, street_a = case_at_street()
    station, xicun, vol = api('station_xicun'), api('street_xicun'), api('vol_zhang')
    inst_b = submit(vol, 40)
    t_b = open_task(station, inst_b)['id']
    assert station.post(f'/tasks/{t_b}/complete', json={'decision': 'reject', 'reason': '材料不全'}).status_code == 200
    assert open_task(station, inst_b) is None
    indexed, expected = _open_index()
    assert indexed == expected and street_a in indexed and t_b not in indexed
    assert xicun.post(f'/tasks/{street_a}/complete', json={'decision': 'approve'}).status_code == 200
    assert open_task(xicun, inst_a) is None
    indexed, expected = _open_index()
    assert indexed == expected and street_a not in indexed
    admin = db.session.scalar(select(User).where(User.username == 'admin'))
    reset_instance(admin, inst_a, 'street_review', '误批，重新审核')
    again = open_task(xicun, inst_a)
    assert again is not None and again['id'] != street_a
    indexed, expected = _open_index()
    assert indexed == expected and again['id'] in indexed


def test_search_and_process_filter_on_the_open_tab(api):
    """Search and the process filter narrow the open tab and its total, and page like the plain list."""
    station = api('station_xicun')
    vol = api('vol_zhang')
    for i in range(23):
        submit(vol, 50 + i, name=f'梁{name_no(i)}号' if i % 2 else f'长者{name_no(i)}号')
    body = station.get('/tasks?state=open&q=梁').get_json()
    assert body['total'] == 11 and all('梁' in t['instance_title'] for t in body['items'])
    assert station.get('/tasks?state=open&process=service_object_entry').get_json()['total'] == 23
    assert station.get('/tasks?state=open&process=v_order').get_json()['total'] == 0
    first, second = (station.get(f'/tasks?state=open&page={p}').get_json() for p in (1, 2))
    assert first['total'] == second['total'] == 23 and len(first['items']) == 20 and len(second['items']) == 3
    assert not {t['id'] for t in first['items']} & {t['id'] for t in second['items']}


def test_late_decision_on_the_page_is_409_with_the_task_as_it_is_now(login, case_at_street, row_counts):
    """Two streets open the same task; the second to click gets 409 on the task page itself: the
    "already handled" message, the first street's decision in the history and a link to the case."""
    inst_id, tid = case_at_street()
    xicun, xinshi = login('street_xicun'), login('street_xinshi')
    assert 'name="decision"' in xinshi.get(f'/inbox/tasks/{tid}').get_data(as_text=True)
    assert xicun.post(f'/inbox/tasks/{tid}/decide', data={'decision': 'reject', 'reason': '材料不全'}).status_code == 302
    before = row_counts()
    r = xinshi.post(f'/inbox/tasks/{tid}/decide', data={'decision': 'approve', 'reason': '同意'})
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    assert 'class="flash error"' in html and '该任务已被处理' in html
    assert '该任务已处理' in html and '不通过' in html and '材料不全' in html
    assert f'/cases/{inst_id}' in html and 'name="decision"' not in html
    assert row_counts() == before
