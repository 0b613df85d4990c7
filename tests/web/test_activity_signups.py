"""Activity sign-ups (活动报名): a volunteer signs up to a published activity, the publishing unit reviews it in the
normal inbox, the volunteer sees the result and may cancel; refusals say why and store nothing."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Activity, ActivitySignup, AuditLog, Decision, HumanTask, Message, User, WorkflowInstance
from app.models.base import utcnow
from tests.helpers import post_together
from tests.web.test_activity_flow import activity_data


def publish(api, publisher='team_a', **overrides) -> int:
    """A published activity's id (the team's or station's, approved by 广志协)."""
    resp = api(publisher).post('/processes/activity_publish/instances', json={'data': activity_data(**overrides)})
    assert resp.status_code == 201, resp.get_json()
    instance_id = resp.get_json()['instance']['id']
    gzva = api('gzva')
    task = next(t for t in gzva.get('/tasks?process=activity_publish').get_json()['items']
                if t['instance_id'] == instance_id)
    assert gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    return db.session.scalar(select(Activity.id).where(Activity.instance_id == instance_id,
                                                       Activity.status == 'published'))


def sign_up(client, activity_id, **body):
    return client.post(f'/activities/{activity_id}/signups', json=body)


def signup_tasks(client):
    return client.get('/tasks?state=open&process=activity_signup').get_json()['items']


def counts():
    return (db.session.scalar(select(func.count()).select_from(ActivitySignup)),
            db.session.scalar(select(func.count()).select_from(WorkflowInstance)
                              .where(WorkflowInstance.process_key == 'activity_signup')))


def user(name) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def test_team_admin_reviews_in_inbox_and_volunteer_sees_the_result(api):
    act = publish(api)
    li, team = api('vol_li'), api('team_a')
    resp = sign_up(li, act, note='会量血压')
    assert resp.status_code == 201, resp.get_json()
    signup = resp.get_json()['signup']
    assert signup['status'] == 'pending' and signup['status_label'] == '待审核'
    assert signup['phone'] == user('vol_li').phone and signup['note'] == '会量血压'
    [task] = signup_tasks(team)
    assert task['lane'] == 'team_admin' and task['scope'] == ['team_a'] and task['title'] == '团队审核报名'
    assert task['instance_title'] == '李晓敏报名「重阳节敬老探访」'
    # only the publishing unit's admins see it
    assert signup_tasks(api('team_vet')) == [] and signup_tasks(api('station_xicun')) == []
    assert db.session.scalar(select(func.count()).select_from(Message).where(
        Message.user_id == user('team_a').id, Message.kind == 'task', Message.title.contains('团队审核报名'))) == 1
    detail = team.get(f'/tasks/{task["id"]}').get_json()
    assert detail['data']['volunteer_name'] == '李晓敏' and detail['data']['places'] == '已录取 0 / 招募 12'
    done = team.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'})
    assert done.status_code == 200 and done.get_json()['instance']['status_label'] == '已录取'
    [mine] = li.get(f'/activities/{act}/signups').get_json()['items']
    assert mine['status'] == 'approved'
    listed = team.get(f'/activities/{act}/signups').get_json()
    assert (listed['approved'], listed['recruit_count'], listed['total']) == (1, 12, 1)
    told = db.session.scalars(select(Message.title).where(Message.user_id == user('vol_li').id,
                                                          Message.kind == 'decision')).all()
    assert told == ['报名成功：您已被录取参加「重阳节敬老探访」（2030-10-11 09:00，西村街长者饭堂）']


def test_station_published_activity_goes_to_the_station_lane(api):
    act = publish(api, 'station_xicun')
    assert sign_up(api('vol_li'), act).status_code == 201
    [task] = signup_tasks(api('station_xicun'))
    assert task['lane'] == 'station_admin' and task['scope'] == ['xicun_station'] and task['title'] == '社工站审核报名'
    assert signup_tasks(api('team_a')) == [] and signup_tasks(api('station_xinshi')) == []


def test_refusals_say_why_and_store_nothing(api):
    act = publish(api)
    li = api('vol_li')
    assert sign_up(li, act).status_code == 201
    before = counts()
    again = sign_up(li, act)
    assert again.status_code == 409 and again.get_json()['message'] == '您已报名该活动（待审核），请勿重复报名'
    not_volunteer = sign_up(api('team_a'), act)
    assert not_volunteer.status_code == 403 and not_volunteer.get_json()['message'] == '只有志愿者可以报名参加志愿活动'
    bad_phone = sign_up(api('vol_wang'), act, phone='123')
    assert bad_phone.status_code == 422 and 'phone' in bad_phone.get_json()['errors']
    a = db.session.get(Activity, act)
    a.start_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    started = sign_up(api('vol_wang'), act)
    assert started.status_code == 409 and started.get_json()['message'] == '活动已开始或已结束，不能报名'
    assert counts() == before
    pending = api('team_a').post('/processes/activity_publish/instances', json={'data': activity_data(title='待审活动')})
    unpublished = db.session.scalar(select(Activity.id).where(Activity.instance_id == pending.get_json()['instance']['id']))
    assert sign_up(li, unpublished).status_code == 404
    assert counts() == before


def test_a_full_activity_refuses_sign_ups_and_approvals(api):
    act = publish(api, recruit_count=1)
    li, wang, team = api('vol_li'), api('vol_wang'), api('team_a')
    assert sign_up(li, act).status_code == 201 and sign_up(wang, act).status_code == 201
    first, second = sorted(signup_tasks(team), key=lambda t: t['id'])
    assert team.post(f'/tasks/{first["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    over = team.post(f'/tasks/{second["id"]}/complete', json={'decision': 'approve'})
    assert over.status_code == 409
    assert over.get_json()['message'].startswith('活动名额已满（已录取 1 / 招募 1），不能再录取')
    assert [t['id'] for t in signup_tasks(team)] == [second['id']]  # still waiting, nothing changed
    full = sign_up(api('vol_zhang'), act)
    assert full.status_code == 409 and full.get_json()['message'] == '活动名额已满（已录取 1 / 招募 1）'
    # a batch approval says so for the item, and a rejection still goes through
    batch = team.post('/tasks/batch', json={'task_ids': [second['id']], 'decision': 'approve'}).get_json()
    assert batch['results'][0]['ok'] is False and '活动名额已满' in batch['results'][0]['error']
    no_reason = team.post(f'/tasks/{second["id"]}/complete', json={'decision': 'reject'})
    assert no_reason.status_code == 422
    assert team.post(f'/tasks/{second["id"]}/complete',
                     json={'decision': 'reject', 'reason': '名额已满，欢迎报名下次活动'}).status_code == 200
    [mine] = wang.get(f'/activities/{act}/signups').get_json()['items']
    assert mine['status'] == 'rejected' and mine['reason'] == '名额已满，欢迎报名下次活动'


def test_two_reviewers_cannot_fill_more_than_the_recruit_count(app, api, is_postgres):
    if not is_postgres:
        pytest.skip('row locks need PostgreSQL')
    act = publish(api, recruit_count=1)
    assert sign_up(api('vol_li'), act).status_code == 201 and sign_up(api('vol_wang'), act).status_code == 201
    team = api('team_a')
    ids = [t['id'] for t in signup_tasks(team)]
    results = post_together(app, [(team.headers, f'/api/v1/tasks/{i}/complete', {'decision': 'approve'}) for i in ids])
    assert sorted(code for code, _ in results) == [200, 409]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ActivitySignup)
                             .where(ActivitySignup.status == 'approved')) == 1


def test_unique_index_holds_one_active_sign_up_per_volunteer(api):
    act = publish(api)
    resp = sign_up(api('vol_li'), act)
    row = db.session.get(ActivitySignup, resp.get_json()['signup']['id'])
    db.session.add(ActivitySignup(activity_id=act, volunteer_id=row.volunteer_id, instance_id=row.instance_id,
                                  status='approved', phone='13700000001'))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_cancel_frees_the_place_and_is_audited(api):
    act = publish(api, recruit_count=1)
    li, team = api('vol_li'), api('team_a')
    signup = sign_up(li, act).get_json()['signup']
    [task] = signup_tasks(team)
    team.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'})
    assert sign_up(api('vol_wang'), act).status_code == 409  # full
    done = li.post(f'/signups/{signup["id"]}/cancel', json={'reason': '临时有事'})
    assert done.status_code == 200 and done.get_json()['signup']['status'] == 'cancelled'
    assert team.get(f'/activities/{act}/signups').get_json()['approved'] == 0
    assert sign_up(api('vol_wang'), act).status_code == 201  # the place is free again
    history = db.session.scalars(select(Decision).where(Decision.instance_id == signup['instance_id'],
                                                        Decision.decision == 'withdraw')).all()
    assert [(h.task_title, h.reason) for h in history] == [('志愿者取消报名', '临时有事')]
    assert db.session.scalar(select(func.count()).select_from(AuditLog)
                             .where(AuditLog.action == 'activity_signup.cancel')) == 1
    assert any('取消了「重阳节敬老探访」的报名' in t for t in db.session.scalars(
        select(Message.title).where(Message.user_id == user('team_a').id)))
    again = li.post(f'/signups/{signup["id"]}/cancel')
    assert again.status_code == 409 and again.get_json()['message'] == '该报名已取消，无需取消'
    assert api('vol_wang').post(f'/signups/{signup["id"]}/cancel').status_code == 404


def test_cancelling_a_pending_sign_up_ends_its_review(api):
    act = publish(api)
    li, team = api('vol_li'), api('team_a')
    signup = sign_up(li, act).get_json()['signup']
    [task] = signup_tasks(team)
    assert li.post(f'/signups/{signup["id"]}/cancel').status_code == 200
    assert signup_tasks(team) == []
    assert db.session.get(HumanTask, task['id']).status == 'cancelled'
    assert team.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code in (404, 409)
    case = li.get(f'/instances/{signup["instance_id"]}').get_json()
    assert case['status'] == 'cancelled' and case['status_label'] == '已取消'
    # the volunteer may sign up again
    assert sign_up(li, act).status_code == 201


def test_no_cancel_after_the_activity_started(api):
    act = publish(api)
    li = api('vol_li')
    signup = sign_up(li, act).get_json()['signup']
    db.session.get(Activity, act).start_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    resp = li.post(f'/signups/{signup["id"]}/cancel')
    assert resp.status_code == 409 and resp.get_json()['message'] == '活动已开始，不能取消报名'


def test_sign_up_list_shows_own_rows_to_others(api):
    act = publish(api)
    sign_up(api('vol_li'), act)
    sign_up(api('vol_wang'), act)
    assert [s['volunteer'] for s in api('vol_wang').get(f'/activities/{act}/signups').get_json()['items']] == ['vol_wang']
    assert api('vol_zhang').get(f'/activities/{act}/signups').get_json()['items'] == []
    assert len(api('team_a').get(f'/activities/{act}/signups').get_json()['items']) == 2
    assert api('team_vet').get(f'/activities/{act}/signups').get_json()['items'] == []


# ---- pages --------------------------------------------------------------------------------------------------

def test_pages_sign_up_review_and_cancel(api, login, client):
    act = publish(api)
    public = client.get(f'/activities/{act}').get_data(as_text=True)
    assert '已录取 0 / 招募 12' in public and f'/activities/{act}/signup' in public
    assert '报名请联系发布活动的团队' not in client.get('/activities').get_data(as_text=True)
    li = login('vol_li')
    form = li.get(f'/activities/{act}/signup').get_data(as_text=True)
    assert f'value="{user("vol_li").phone}"' in form
    refused = li.post(f'/activities/{act}/signup', data={'phone': '12', 'note': '我会开车'})
    assert refused.status_code == 422 and '我会开车' in refused.get_data(as_text=True)
    resp = li.post(f'/activities/{act}/signup', data={'phone': '13700000001', 'note': '我会开车'})
    assert resp.status_code == 302 and resp.headers['Location'].endswith('/activities/signups/mine')
    mine = li.get('/activities/signups/mine').get_data(as_text=True)
    assert '重阳节敬老探访' in mine and '待审核' in mine and '取消报名' in mine
    twice = li.post(f'/activities/{act}/signup', data={'phone': '13700000001'})
    assert twice.status_code == 409 and '您已报名该活动（待审核），请勿重复报名' in twice.get_data(as_text=True)
    team = login('team_a')
    listing = team.get(f'/activities/{act}/signups').get_data(as_text=True)
    assert '李晓敏' in listing and '我会开车' in listing and '已录取 0 / 招募 12' in listing
    assert '团队审核报名' in team.get('/inbox').get_data(as_text=True)
    task = db.session.scalar(select(HumanTask).where(HumanTask.bpmn_id == 'team_review'))
    page = team.get(f'/inbox/tasks/{task.id}').get_data(as_text=True)
    assert '李晓敏' in page and '13700000001' in page
    team.post(f'/inbox/tasks/{task.id}/decide', data={'decision': 'reject', 'reason': '本次只招有护理经验的志愿者'})
    mine = li.get('/activities/signups/mine').get_data(as_text=True)
    assert '未通过' in mine and '查看原因' in mine and '本次只招有护理经验的志愿者' in mine
    assert '取消报名' not in mine


def test_volunteer_cancels_from_the_phone_page(api, login):
    act = publish(api)
    li = login('vol_li')
    li.post(f'/activities/{act}/signup', data={'phone': '13700000001'})
    signup = db.session.scalar(select(ActivitySignup))
    assert '确认取消' in li.get(f'/activities/signups/{signup.id}/cancel').get_data(as_text=True)
    resp = li.post(f'/activities/signups/{signup.id}/cancel', data={'reason': '身体不适'}, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert '已取消报名' in page and '已取消' in page
    assert login('vol_wang').get(f'/activities/signups/{signup.id}/cancel').status_code == 404


def test_api_sign_up_refuses_a_malformed_body_and_stores_nothing(api):
    activity_id = publish(api)
    before = counts()
    li = api('vol_li')
    resp = li.post(f'/activities/{activity_id}/signups', json={'phone': 13800001111})  # a number, not text
    assert resp.status_code == 422 and resp.get_json()['errors'] == {'phone': ['应为文字']}
    resp = li.post(f'/activities/{activity_id}/signups', json=['13800001111'])
    assert resp.status_code == 422 and '_body' in resp.get_json()['errors']
    assert counts() == before


def test_a_batch_gives_the_last_places_to_those_who_signed_up_first(api, login):
    act = publish(api, recruit_count=1)
    for name in ('vol_li', 'vol_wang', 'vol_zhang'):
        assert sign_up(api(name), act).status_code == 201
    team = api('team_a')
    listed = [t['id'] for t in signup_tasks(team)]  # the inbox lists the newest first
    results = team.post('/tasks/batch', json={'task_ids': listed, 'decision': 'approve'}).get_json()['results']
    assert [r['ok'] for r in results] == [True, False, False]
    rows = {r['volunteer']: r['status'] for r in api('team_a').get(f'/activities/{act}/signups').get_json()['items']}
    assert rows == {'vol_li': 'approved', 'vol_wang': 'pending', 'vol_zhang': 'pending'}
    # the web batch decides in the same order
    page = login('team_a')
    html = page.get('/activities').get_data(as_text=True)
    assert '名额已满' in html and '已录取 1 / 招募 1' in html


def test_the_sign_up_list_page_is_the_publishing_units_and_the_form_knows_a_sign_up(api, login):
    act = publish(api)
    assert sign_up(api('vol_li'), act).status_code == 201
    assert login('team_a').get(f'/activities/{act}/signups').status_code == 200
    for other in ('team_vet', 'station_shipai', 'vol_li', 'vol_zhang'):
        assert login(other).get(f'/activities/{act}/signups').status_code == 404, other
    li = login('vol_li')
    resp = li.get(f'/activities/{act}/signup')  # already signed up: the activity's page says where it stands
    assert resp.status_code == 302 and resp.headers['Location'].endswith(f'/activities/{act}')
    assert '您已报名该活动（待审核），请勿重复报名' in li.get(resp.headers['Location']).get_data(as_text=True)


def test_a_too_long_cancel_reason_is_kept_and_refused(api, login):
    act = publish(api)
    signup = sign_up(api('vol_li'), act).get_json()['signup']
    long_reason = '临时有事，' * 41  # 205 characters
    resp = login('vol_li').post(f'/activities/signups/{signup["id"]}/cancel', data={'reason': long_reason})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert long_reason in html and '意见不能超过 200 个字（现有 205 个字），请删减后再提交' in html
    db.session.expire_all()
    assert db.session.get(ActivitySignup, signup['id']).status == 'pending'


def test_the_sign_up_form_of_a_full_activity_says_so_instead_of_showing_the_form(api, login):
    act = publish(api, recruit_count=1)
    team = api('team_a')
    assert sign_up(api('vol_li'), act).status_code == 201
    [task] = signup_tasks(team)
    assert team.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    page = login('vol_wang')
    resp = page.get(f'/activities/{act}/signup')
    assert resp.status_code == 302 and resp.headers['Location'].endswith(f'/activities/{act}')
    html = page.get(f'/activities/{act}').get_data(as_text=True)
    assert '名额已满' in html and 'name="note"' not in html
