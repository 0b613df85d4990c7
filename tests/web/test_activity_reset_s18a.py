"""A published activity that a process admin sends back (回退) is not public while it is reviewed again: not listed,
its page says so, 报名 is refused in words (pages and API) and no sign-up is admitted. Approved again, it is published
again and its sign-ups carry on; rejected (or sent back to the team to be changed), its pending and admitted sign-ups
end as 活动已撤销: their reviews leave the inbox, the history and the audit log say why, each volunteer is told once."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Activity, ActivitySignup, AuditLog, Decision, Message, User
from tests.web.test_activity_flow import activity_data, open_task
from tests.web.test_activity_signups import publish, sign_up, signup_tasks

REASON = '活动地点需要复核'


def reset(login, instance_id, step='association_review'):
    resp = login('admin').post(f'/admin/instances/{instance_id}/reset',
                               data={'bpmn_id': step, 'reason': REASON, 'confirm': '1'}, follow_redirects=True)
    assert resp.status_code == 200 and '已回退到' in resp.get_data(as_text=True), resp.get_data(as_text=True)[-800:]


def instance_of(activity_id) -> int:
    return db.session.get(Activity, activity_id).instance_id


def statuses(activity_id) -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.scalars(select(ActivitySignup).where(ActivitySignup.activity_id == activity_id))
    return {s.volunteer.username: s.status for s in rows}


def decision_messages(username) -> list[Message]:
    uid = db.session.scalar(select(User.id).where(User.username == username))
    return list(db.session.scalars(select(Message).where(Message.user_id == uid, Message.kind == 'decision')))


def listed(client) -> list[str]:
    return [a['title'] for a in client.get('/activities').get_json()['items']]


def with_signups(api):
    """A published activity: vol_li's sign-up waits for the team, vol_wang's is admitted."""
    act = publish(api)
    li, wang, team = api('vol_li'), api('vol_wang'), api('team_a')
    assert sign_up(li, act).status_code == 201 and sign_up(wang, act).status_code == 201
    wang_task = next(t for t in signup_tasks(team) if t['instance_title'].startswith('王'))
    assert team.post(f'/tasks/{wang_task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    assert statuses(act) == {'vol_li': 'pending', 'vol_wang': 'approved'}
    return act


def test_while_reviewed_again_the_activity_is_not_public_and_takes_no_sign_up(api, login, client):
    act = with_signups(api)
    reset(login, instance_of(act))
    assert '重阳节敬老探访' not in listed(api('vol_zhang'))
    assert '重阳节敬老探访' not in client.get('/activities').get_data(as_text=True)
    zhang = login('vol_zhang')
    page = zhang.get(f'/activities/{act}').get_data(as_text=True)
    assert '重新审核中' in page and '该活动已退回重新审核' in page and '已发布' not in page
    assert f'/activities/{act}/signup"' not in page  # no 报名 button
    refused = sign_up(api('vol_zhang'), act)
    assert refused.status_code == 409
    assert refused.get_json()['message'] == '该活动已退回重新审核，审核期间暂停报名；审核通过重新发布后可以报名'
    typed = zhang.post(f'/activities/{act}/signup', data={'phone': '13800001111', 'note': '周末都有空'})
    body = typed.get_data(as_text=True)
    assert typed.status_code == 409 and '审核期间暂停报名' in body and '周末都有空' in body
    assert 'vol_zhang' not in statuses(act)
    # the team cannot admit a waiting volunteer meanwhile; the waiting sign-up stays
    team = api('team_a')
    [waiting] = signup_tasks(team)
    approve = team.post(f'/tasks/{waiting["id"]}/complete', json={'decision': 'approve'})
    assert approve.status_code == 409 and approve.get_json()['message'].startswith('该活动已退回重新审核，重新发布前不能录取')
    assert statuses(act) == {'vol_li': 'pending', 'vol_wang': 'approved'}
    # approved again: published again, the sign-ups carry on and can be admitted
    gzva = api('gzva')
    task = open_task(gzva, instance_of(act))
    assert gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    assert '重阳节敬老探访' in listed(api('vol_zhang'))
    assert '已发布' in zhang.get(f'/activities/{act}').get_data(as_text=True)
    assert team.post(f'/tasks/{waiting["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    assert statuses(act) == {'vol_li': 'approved', 'vol_wang': 'approved'}
    assert decision_messages('vol_li') and not any('撤销' in m.title for m in decision_messages('vol_li'))


def test_rejected_after_the_reset_its_sign_ups_end_and_the_volunteers_are_told(api, login):
    act = with_signups(api)
    team = api('team_a')
    [waiting] = signup_tasks(team)
    told_before = {u: len(decision_messages(u)) for u in ('vol_li', 'vol_wang')}
    reset(login, instance_of(act))
    gzva = api('gzva')
    task = open_task(gzva, instance_of(act))
    done = gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject', 'reason': '回退后复核：活动暂停'})
    assert done.status_code == 200, done.get_json()
    assert statuses(act) == {'vol_li': 'withdrawn', 'vol_wang': 'withdrawn'}
    assert db.session.get(Activity, act).status == 'rejected'
    assert signup_tasks(team) == []  # the waiting review left the inbox
    again = team.post(f'/tasks/{waiting["id"]}/complete', json={'decision': 'approve'})
    assert again.status_code in (404, 409)
    assert statuses(act)['vol_li'] == 'withdrawn'
    # one message each, pending and admitted alike
    for name in ('vol_li', 'vol_wang'):
        new = decision_messages(name)[told_before[name]:]
        assert [m.title for m in new] == ['您报名的活动「重阳节敬老探访」重新审核未通过，已撤销发布，您的报名已结束']
    # the volunteer's list, the activity's page, the team's 报名名单, the case history and the audit log say why
    li = login('vol_li')
    mine = li.get('/activities/signups/mine').get_data(as_text=True)
    assert '活动已撤销' in mine and '重新审核未通过' in mine and '取消报名' not in mine
    page = li.get(f'/activities/{act}').get_data(as_text=True)
    assert '已撤销' in page and '不再接受报名' in page
    names = login('team_a').get(f'/activities/{act}/signups').get_data(as_text=True)
    assert len(re.findall(r'>活动已撤销<', names)) == 2
    signup = db.session.scalar(select(ActivitySignup).join(User, User.id == ActivitySignup.volunteer_id)
                               .where(User.username == 'vol_li'))
    row = db.session.scalar(select(Decision).where(Decision.instance_id == signup.instance_id,
                                                   Decision.bpmn_id == 'activity_withdrawn'))
    assert row.task_title == '活动撤销，报名结束' and '重新审核未通过' in row.reason
    history = li.get(f'/m/cases/{signup.instance_id}').get_data(as_text=True)
    assert '活动撤销，报名结束' in history and '活动已撤销' in history
    audited = db.session.scalars(select(AuditLog).where(AuditLog.action == 'activity_signup.withdrawn')).all()
    assert sorted(a.target for a in audited) == sorted(f'activity_signup:{s}' for s in
                                                       db.session.scalars(select(ActivitySignup.id)))
    assert sign_up(api('vol_zhang'), act).get_json()['message'] == '该活动已撤销，不能报名'


def test_sent_back_to_the_team_to_be_changed_the_old_version_is_withdrawn_with_its_sign_ups(api, login):
    act = with_signups(api)
    instance_id = instance_of(act)
    reset(login, instance_id, 'submit')
    assert statuses(act) == {'vol_li': 'withdrawn', 'vol_wang': 'withdrawn'}
    assert signup_tasks(api('team_a')) == []
    assert '已退回发布单位修改' in decision_messages('vol_li')[-1].title
    assert '重阳节敬老探访' not in listed(api('vol_zhang'))
    # the corrected version is a new activity: published on approval, open to sign-ups again
    team = api('team_a')
    task = open_task(team, instance_id)
    assert team.post(f'/tasks/{task["id"]}/complete',
                     json={'data': activity_data(place='西村街长者活动中心')}).status_code == 200
    gzva = api('gzva')
    assert gzva.post(f'/tasks/{open_task(gzva, instance_id)["id"]}/complete',
                     json={'decision': 'approve'}).status_code == 200
    new = db.session.scalar(select(Activity.id).where(Activity.instance_id == instance_id,
                                                      Activity.status == 'published'))
    assert new != act and listed(api('vol_zhang')).count('重阳节敬老探访') == 1
    assert sign_up(api('vol_li'), new).status_code == 201
    assert '已撤销' in login('vol_li').get(f'/activities/{act}').get_data(as_text=True)


def test_an_activity_never_published_stays_unknown_to_volunteers(api):
    pending = api('team_a').post('/processes/activity_publish/instances', json={'data': activity_data(title='待审活动')})
    act = db.session.scalar(select(Activity.id).where(Activity.instance_id == pending.get_json()['instance']['id']))
    assert sign_up(api('vol_li'), act).status_code == 404
