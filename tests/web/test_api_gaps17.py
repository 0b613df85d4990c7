"""API gaps against the pages: the 已办理 tab in GET /tasks, the blacklist's reason in the unit-list API, discarding a
process draft by DELETE, and the volunteer's message when certified hours earn 0 points."""
import json
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, UnitListEntry, User, WorkflowDraft
from app.services.instances import reset_instance
from tests.web.test_process_admin import BASE, KEY, draft
from tests.web.test_v_order_lifecycle import complete, open_task
from tests.web.test_v_order_rules import certified

TASK_STEP = re.compile(r'<td data-label="步骤">([^<]*)</td>')


def delete(api_client, url, **kw):
    return api_client.client.delete('/api/v1' + url, headers=api_client.headers, **kw)


# ---------------------------------------------------------------- 1. GET /tasks?state=handled (已办理)

def test_tasks_api_lists_the_handled_tab_like_the_inbox_page(api, login):
    inst = certified(api, 2)
    station = api('station_xicun')
    resp = station.get('/tasks?state=handled')
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    page = login('station_xicun').get('/inbox?state=handled').get_data(as_text=True)
    assert [t['title'] for t in body['items']] == TASK_STEP.findall(page) == ['时数认证']
    assert body['total'] == 1 and body['items'][0]['instance_id'] == inst['id']
    assert body['items'][0]['status'] == 'completed' and body['items'][0]['decision'] not in ('approve', 'reject')
    # reviews stay in 已通过, not in 已办理
    approved = station.get('/tasks?state=approved').get_json()['items']
    assert approved and all(t['decision'] == 'approve' for t in approved)
    # the same search and process filter as the page
    title = inst['title']
    assert station.get('/tasks', query_string={'state': 'handled', 'q': title}).get_json()['total'] == 1
    assert station.get('/tasks', query_string={'state': 'handled', 'q': '没有这个订单'}).get_json() == {
        'items': [], 'total': 0, 'page': 1}
    assert station.get('/tasks?state=handled&process=service_object_entry').get_json()['total'] == 0
    assert station.get('/tasks?state=handled&page=2').get_json()['items'] == []


def test_tasks_api_refuses_an_unknown_state_with_a_clear_400(api):
    resp = api('station_xicun').get('/tasks?state=finished')
    assert resp.status_code == 400
    body = resp.get_json()
    assert body['error'] == 'bad_state'
    assert 'handled' in body['message'] and 'open' in body['message'] and 'state' in body['errors']
    assert api('station_xicun').get('/tasks').status_code == 200, 'no state is the open list'


# ---------------------------------------------------------------- 2. the blacklist's reason

def unit_entries():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(UnitListEntry))


def test_blacklisting_by_api_needs_a_reason_and_stores_nothing_without_one(api):
    gzva = api('gzva')
    before = unit_entries()
    for body in ({'org_unit': 'team_a'}, {'org_unit': 'team_a', 'reason': '   '}):
        resp = gzva.post('/unit-lists/black', json=body)
        assert resp.status_code == 422, resp.get_json()
        assert resp.get_json()['errors'] == {'reason': ['请填写加入黑名单的原因']}
    assert unit_entries() == before
    assert gzva.get('/unit-lists/black').get_json()['items'] == []
    # an unknown unit and no reason: both problems at once
    resp = gzva.post('/unit-lists/black', json={'org_unit': 'nowhere'})
    assert set(resp.get_json()['errors']) == {'org_unit', 'reason'}


def test_the_blacklist_reason_is_stored_and_returned_in_the_list(api):
    gzva = api('gzva')
    assert gzva.post('/unit-lists/white', json={'org_unit': 'team_a'}).status_code == 201
    resp = gzva.post('/unit-lists/black', json={'org_unit': 'team_a', 'reason': ' 多次发布  虚假招募 '})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()['reason'] == '多次发布 虚假招募' and resp.get_json()['moved'] is True
    items = gzva.get('/unit-lists/black').get_json()['items']
    assert [(i['org_unit']['code'], i['reason']) for i in items] == [('team_a', '多次发布 虚假招募')]
    assert gzva.get('/unit-lists/white').get_json()['items'] == [], 'blacklisting moved it off the whitelist'
    # a whitelisting needs no reason; its list item says none
    assert gzva.post('/unit-lists/white', json={'org_unit': 'team_vet'}).status_code == 201
    assert [i['reason'] for i in gzva.get('/unit-lists/white').get_json()['items']] == [None]


# ---------------------------------------------------------------- 3. DELETE /admin/processes/<key>/draft

def drafts():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(WorkflowDraft))


def test_the_api_discards_the_editors_draft_with_the_same_audit_row(api):
    admin = api('admin')
    saved = draft(admin, BASE.replace('name="社工站初审"'.encode(), 'name="社工站初审（新）"'.encode()))
    assert saved.status_code == 201, saved.get_json()
    draft_id = saved.get_json()['draft_id']
    resp = delete(admin, f'/admin/processes/{KEY}/draft')
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()['discarded'] == draft_id and f'已放弃草稿 #{draft_id}' in resp.get_json()['message']
    assert drafts() == 0
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == 'process.draft_discard'))
    assert row.target == f'{KEY} draft {draft_id}' and db.session.get(User, row.actor_id).username == 'admin'
    assert json.loads(row.detail_json)['diff']['changed'], 'what the draft changed is on record'
    # nothing left to discard: 404, and no second audit row
    again = delete(admin, f'/admin/processes/{KEY}/draft')
    assert again.status_code == 404 and again.get_json()['error'] == 'not_found'
    assert AuditLog.query.filter_by(action='process.draft_discard').count() == 1
    assert api('admin').get(f'/processes/{KEY}/versions').status_code == 200


def test_discarding_a_draft_by_api_is_for_process_admins_only(api):
    admin = api('admin')
    draft_id = draft(admin, BASE.replace('name="社工站初审"'.encode(), 'name="初审"'.encode())).get_json()['draft_id']
    assert delete(api('gzva'), f'/admin/processes/{KEY}/draft').status_code == 403
    assert delete(admin, '/admin/processes/no_such_process/draft').status_code == 404
    assert drafts() == 1 and AuditLog.query.filter_by(action='process.draft_discard').count() == 0
    assert delete(admin, f'/admin/processes/{KEY}/draft?draft_id={draft_id}').get_json()['discarded'] == draft_id


# ---------------------------------------------------------------- 4. certified hours under 1 hour: 0 points

def titles_of(api_client):
    return [m['title'] for m in api_client.get('/messages').get_json()['items']]


def test_a_volunteer_certified_under_an_hour_is_told_the_hours_earn_no_points(api):
    inst = certified(api, 0.5)
    vol_li = api('vol_li')
    assert vol_li.get('/me/points').get_json()['balance'] == 0
    told = [t for t in titles_of(vol_li) if t.startswith('服务时数已记录')]
    order_title = inst['title']
    assert told == [f'服务时数已记录：V订单「{order_title}」0.5 小时。积分按整小时发放（每满 1 小时 1 分），'
                    '本次不足 1 小时，积分为 0'], titles_of(vol_li)
    assert not any(t.startswith('养老时间积分到账') for t in titles_of(vol_li))
    # the award step running again (an operator reset) with the same hours tells nobody twice
    admin = db.session.scalar(select(User).where(User.username == 'admin'))
    reset_instance(admin, inst['id'], 'certify_review', '复核认证')
    complete(api('gzva'), open_task(api('gzva'), inst['id']), decision='approve')
    assert len([t for t in titles_of(vol_li) if t.startswith('服务时数已记录')]) == 1

