"""撤回: the submitter withdraws a service-object entry or a relative gift before it is reviewed (walk_phone item 3)."""
import json
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Decision, HumanTask, Message, ServiceObject, WorkflowInstance
from tests.helpers import start_entry
from tests.web.conftest import open_task
from tests.web.shop_helpers import BATH, award, points, review_task, shop_item, started_gift, user


@pytest.fixture
def li(api):
    award('vol_li', 60)
    return api('vol_li')


def _entry(api):
    resp = start_entry(api('vol_zhang'))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()['instance']['id']


def _open_rows(instance_id):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == 'open'))


def test_entry_withdrawn_before_station_review_leaves_the_inbox_and_frees_the_id(api):
    vol, station = api('vol_zhang'), api('station_xicun')
    inst_id = _entry(api)
    assert open_task(station, inst_id) is not None
    unread_before = db.session.scalar(select(func.count()).select_from(Message).where(
        Message.user_id == user('station_xicun').id, Message.read_at.is_(None)))
    r = vol.post(f'/instances/{inst_id}/withdraw', json={'reason': '录错了老人的地址'})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body['status_label'], body['outcome']) == ('已撤回', 'withdrawn')
    assert body['open_tasks'] == [] and _open_rows(inst_id) == 0
    assert open_task(station, inst_id) is None  # gone from the station's inbox
    # the station is not messaged; its 新待办 no longer counts as unread
    unread_after = db.session.scalar(select(func.count()).select_from(Message).where(
        Message.user_id == user('station_xicun').id, Message.read_at.is_(None)))
    assert unread_after < unread_before
    row = body['history'][-1]
    assert (row['task'], row['decision'], row['reason']) == ('提交人撤回', 'withdraw', '录错了老人的地址')
    obj = db.session.scalar(select(ServiceObject).where(ServiceObject.instance_id == inst_id))
    assert obj.status == 'withdrawn'
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == 'instance.withdraw'))
    assert audit.target == f'instance:{inst_id}' and json.loads(audit.detail_json)['reason'] == '录错了老人的地址'
    # the same person can be entered again
    assert start_entry(vol).status_code == 201
    # a second withdrawal is refused with words
    again = vol.post(f'/instances/{inst_id}/withdraw', json={})
    assert again.status_code == 409 and '已撤回' in again.get_json()['message']


def test_entry_cannot_be_withdrawn_once_the_station_decided(api, case_at_street):
    inst_id, _street = case_at_street()
    r = api('vol_zhang').post(f'/instances/{inst_id}/withdraw', json={'reason': '不要了'})
    assert r.status_code == 409
    assert '不能撤回' in r.get_json()['message'] and '社工站' in r.get_json()['message']
    db.session.expire_all()
    assert db.session.get(WorkflowInstance, inst_id).status == 'running' and _open_rows(inst_id) == 1


def test_entry_returned_to_the_submitter_may_be_withdrawn(api):
    vol, station = api('vol_zhang'), api('station_xicun')
    inst_id = _entry(api)
    task = open_task(station, inst_id)
    r = station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject', 'reason': '照片不清楚'})
    assert r.status_code == 200, r.get_json()
    r = vol.post(f'/instances/{inst_id}/withdraw', json={})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()['status_label'] == '已撤回' and _open_rows(inst_id) == 0


def test_others_cases_are_not_found_and_a_long_reason_is_refused(api):
    inst_id = _entry(api)
    assert api('vol_li').post(f'/instances/{inst_id}/withdraw', json={}).status_code == 404
    assert api('station_xicun').post(f'/instances/{inst_id}/withdraw', json={}).status_code == 404
    r = api('vol_zhang').post(f'/instances/{inst_id}/withdraw', json={'reason': '长' * 201})
    assert r.status_code == 422 and '200' in r.get_json()['errors']['reason'][0]
    assert _open_rows(inst_id) == 1


def test_gift_withdrawn_releases_points_and_stock_with_the_relative_named(api, li):
    inst = started_gift(li)
    assert points(li) == (60, 30, 30)
    assert shop_item(li, BATH)['available'] == 19
    r = li.post(f'/instances/{inst["id"]}/withdraw', json={'reason': '家里已经安排了'})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()['status_label'] == '已撤回'
    assert points(li) == (60, 0, 60)
    assert shop_item(li, BATH)['available'] == 20
    assert review_task(api('gzva'), inst['id']) is None
    entries = li.get('/me/points').get_json()['entries']
    assert entries[0]['kind'] == 'void_hold' and '李大爷' in entries[0]['reason'] and '撤回' in entries[0]['reason']
    gift = next(g for g in li.get('/gifts').get_json()['items'] if g['instance_id'] == inst['id'])
    assert (gift['status'], gift['status_label']) == ('withdrawn', '已撤回，积分已解冻')
    db.session.expire_all()
    assert db.session.get(WorkflowInstance, inst['id']).next_timer_at is None  # no 30-day expiry left to fire


def test_gift_decided_by_the_association_cannot_be_withdrawn(api, li):
    inst = started_gift(li)
    gzva = api('gzva')
    task = review_task(gzva, inst['id'])
    assert gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    r = li.post(f'/instances/{inst["id"]}/withdraw', json={})
    assert r.status_code == 409 and '不能撤回' in r.get_json()['message']
    assert points(li) == (30, 0, 30)


def test_phone_case_page_offers_withdraw_with_a_confirmation(api, li, login):
    inst = started_gift(li)
    page = login('vol_li')
    html = page.get(f'/m/cases/{inst["id"]}').get_data(as_text=True)
    url = f'/m/cases/{inst["id"]}/withdraw'
    assert re.search(rf'<a class="btn block withdraw" href="{url}">撤回</a>', html)
    confirm = page.get(url).get_data(as_text=True)
    assert '确认撤回' in confirm and '冻结的 30 养老时间积分将解冻' in confirm
    assert points(li) == (60, 30, 30)  # looking at the confirmation changes nothing
    refused = page.post(url, data={'reason': '长' * 201})
    assert refused.status_code == 422 and '长' * 201 in refused.get_data(as_text=True)
    r = page.post(url, data={'reason': '不需要了'}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert html.count('撤回，冻结的积分已解冻') == 1  # said once, by the case page's own note, not again by a flash
    assert '撤回原因：不需要了' in html and '提交人撤回' in html
    assert 'class="btn block withdraw"' not in html
    assert points(li) == (60, 0, 60)
    # Back + confirm again: nothing twice, the case says where it stands
    again = page.post(url, data={'reason': '不需要了'}, follow_redirects=True).get_data(as_text=True)
    assert '该案件已撤回，无需再次撤回' in again and points(li) == (60, 0, 60)
    assert db.session.scalar(select(func.count()).select_from(Decision).where(
        Decision.instance_id == inst['id'], Decision.decision == 'withdraw')) == 1


def test_phone_page_has_no_withdraw_after_the_station_decided_and_others_get_404(api, login, case_at_street):
    inst_id, _street = case_at_street()
    zhang = login('vol_zhang')
    assert 'class="btn block withdraw"' not in zhang.get(f'/m/cases/{inst_id}').get_data(as_text=True)
    r = zhang.get(f'/m/cases/{inst_id}/withdraw', follow_redirects=True)
    assert '西村街社工站已审核' in r.get_data(as_text=True)
    assert login('station_xicun').get(f'/m/cases/{inst_id}/withdraw').status_code == 404


def test_the_station_opening_a_withdrawn_task_is_told_who_withdrew_it_and_why(api, login):
    vol, station = api('vol_zhang'), api('station_xicun')
    inst_id = _entry(api)
    task_id = open_task(station, inst_id)['id']
    assert vol.post(f'/instances/{inst_id}/withdraw', json={'reason': '录错了老人的地址'}).status_code == 200
    html = login('station_xicun').get(f'/inbox/tasks/{task_id}').get_data(as_text=True)
    assert '该任务已无需处理：提交人撤回（张建国，' in html and '原因：录错了老人的地址' in html
    assert '该任务已撤销，无需处理' not in html
    case = login('vol_zhang').get(f'/m/cases/{inst_id}').get_data(as_text=True)
    assert re.search(r'class="badge s-ended">\s*已撤回', case), 'a withdrawn case is not shown as waiting'
