"""站内信: new-task messages to the lane's users in scope, decisions to the submitter, badge, open, API."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import Message, User
from app.services import messages, transaction
from app.services.errors import Conflict
from tests.helpers import start_entry
from tests.web.conftest import open_task


def _submit(api):
    vol = api('vol_zhang')
    resp = start_entry(vol)
    assert resp.status_code == 201, resp.get_json()
    return vol, resp.get_json()['instance']['id']


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def test_submission_messages_the_station_in_scope_only(api):
    vol, inst_id = _submit(api)
    station = api('station_xicun')
    task = open_task(station, inst_id)
    body = station.get('/messages').get_json()
    assert body['total'] == 1 and body['unread'] == 1
    item = body['items'][0]
    assert item['kind'] == 'task' and item['read'] is False
    assert item['title'].startswith('新待办：社工站初审 · 陈伯（')
    assert item['link'] == f'/inbox/tasks/{task["id"]}'
    assert api('station_shipai').get('/messages').get_json()['total'] == 0
    assert vol.get('/messages').get_json()['total'] == 0  # nothing about one's own submission


def test_open_marks_read_and_leads_to_the_task(api, login):
    _, inst_id = _submit(api)
    page = login('station_xicun')
    html = page.get('/inbox').get_data(as_text=True)
    assert 'unread-count">(1)' in html
    listing = page.get('/messages').get_data(as_text=True)
    assert '<strong>新待办：社工站初审' in listing and '全部标为已读' in listing
    msg_id = api('station_xicun').get('/messages').get_json()['items'][0]['id']
    resp = page.get(f'/messages/{msg_id}')
    assert resp.status_code == 302
    assert page.get(resp.headers['Location']).status_code == 200  # the task page
    assert resp.headers['Location'].endswith(f'/inbox/tasks/{open_task(api("station_xicun"), inst_id)["id"]}')
    assert 'unread-count' not in page.get('/inbox').get_data(as_text=True)
    assert '<strong>' not in page.get('/messages').get_data(as_text=True)


def test_someone_elses_message_is_404(api, login):
    _submit(api)
    msg_id = api('station_xicun').get('/messages').get_json()['items'][0]['id']
    assert login('station_shipai').get(f'/messages/{msg_id}').status_code == 404
    assert api('station_shipai').post(f'/messages/{msg_id}/read').status_code == 404
    assert login('station_shipai').get('/messages/999999').status_code == 404
    assert api('station_xicun').get('/messages').get_json()['unread'] == 1


def test_rejection_messages_the_submitter_once_with_the_reason(api):
    vol, inst_id = _submit(api)
    station = api('station_xicun')
    task = open_task(station, inst_id)
    r = station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject', 'reason': '身份证照片不清晰'})
    assert r.status_code == 200, r.get_json()
    body = vol.get('/messages').get_json()
    assert body['total'] == 1, body  # the decision, not also a separate "resubmit" task message
    item = body['items'][0]
    assert item['kind'] == 'decision' and item['link'] == f'/m/cases/{inst_id}'
    assert '社工站初审：不通过，原因：身份证照片不清晰' in item['title'] and item['title'].startswith('您的提交「陈伯')


def test_approval_messages_submitter_and_next_lane(api):
    vol, inst_id = _submit(api)
    station = api('station_xicun')
    task = open_task(station, inst_id)
    assert station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    titles = [m['title'] for m in vol.get('/messages').get_json()['items']]
    # the submitter learns what comes next, and at the end that the review is complete
    assert len(titles) == 1 and titles[0].endswith('社工站初审：已通过，下一步：镇街终审')
    street = api('street_xinshi').get('/messages').get_json()
    assert street['total'] == 1 and street['items'][0]['title'].startswith('新待办：镇街终审')
    final = open_task(api('street_xinshi'), inst_id)
    assert api('street_xinshi').post(f'/tasks/{final["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    items = vol.get('/messages').get_json()['items']
    assert items[0]['title'].endswith('镇街终审：已通过，审核已全部完成')
    english = api('vol_zhang', lang='en').get('/messages').get_json()['items']
    assert english[1]['title'].endswith(': approved; next: Street final review'), english[1]['title']


def test_rolled_back_decision_leaves_no_message(api, monkeypatch):
    vol, inst_id = _submit(api)
    station = api('station_xicun')
    task = open_task(station, inst_id)

    added = []
    real_send = messages.send

    def send_then_lose(*args, **kwargs):  # the decision message is added, then the step fails
        added.extend(real_send(*args, **kwargs))
        raise Conflict()

    monkeypatch.setattr(messages, 'send', send_then_lose)
    r = station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject', 'reason': '材料不全'})
    assert r.status_code == 409 and len(added) == 1
    monkeypatch.undo()
    assert vol.get('/messages').get_json()['total'] == 0


def test_api_unread_filter_read_and_mark_all(api, login):
    _submit(api)
    station = api('station_xicun')
    with transaction():
        messages.send([_user('station_xicun').id], kind='info', title='系统通知', body='周末维护')
    assert station.get('/messages?unread=1').get_json()['total'] == 2
    msg_id = station.get('/messages').get_json()['items'][0]['id']
    r = station.post(f'/messages/{msg_id}/read')
    assert r.status_code == 200 and r.get_json()['read'] is True
    body = station.get('/messages?unread=1').get_json()
    assert body['total'] == 1 and body['unread'] == 1
    page = login('station_xicun')
    assert page.post('/messages/read-all').status_code == 302
    assert station.get('/messages').get_json()['unread'] == 0


def test_list_pages_of_twenty_newest_first(api, login):
    uid = _user('vol_zhang').id
    for i in range(25):
        with transaction():
            messages.send([uid, uid], kind='info', title=f'通知{i:02d}', link=f'/m/cases/{i}')
    assert db.session.scalar(select(func.count()).select_from(Message)) == 25  # ids deduplicated
    vol = api('vol_zhang')
    first = vol.get('/messages').get_json()
    assert first['total'] == 25 and len(first['items']) == 20 and first['items'][0]['title'] == '通知24'
    assert len(vol.get('/messages?page=2').get_json()['items']) == 5
    html = login('vol_zhang').get('/messages?page=2').get_data(as_text=True)
    assert '通知00' in html and '通知24' not in html


def test_unread_reminders_are_flashed_after_login(app):
    with transaction():
        messages.send([_user('station_xicun').id], kind='reminder', title='认证将于 2 天后逾期', link='/inbox')
    client = app.test_client()
    resp = client.post('/login', data={'username': 'station_xicun', 'password': 'demo1234'}, follow_redirects=True)
    assert '提醒：认证将于 2 天后逾期' in resp.get_data(as_text=True)


def test_recipients_follow_the_inbox_predicate(api):
    from app.models import HumanTask
    _, inst_id = _submit(api)
    task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst_id, HumanTask.status == 'open'))
    names = {db.session.get(User, uid).username for uid in messages.recipients_for_task(task)}
    assert 'station_xicun' in names and 'station_shipai' not in names
