"""Activity publishing through the API: every path of the chain, lists, sensitive words, public list."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Activity, AuditLog, HumanTask, ListVersion, SensitiveWord, WorkflowInstance
from app.models.base import utcnow
from app.services import sensitive_words
from workflows import service_tasks


def activity_data(**overrides) -> dict:
    data = {'title': '重阳节敬老探访', 'service_field': 'elderly_care', 'tags': ['elderly'], 'street': 'xicun',
            'place': '西村街长者饭堂', 'start_at': '2030-10-11T09:00', 'end_at': '2030-10-11T12:00',
            'recruit_count': 12, 'description': '陪伴社区长者聊天、量血压。'}
    data.update(overrides)
    return data


def publish(client, **overrides):
    return client.post('/processes/activity_publish/instances', json={'data': activity_data(**overrides)})


def started(client, **overrides) -> dict:
    resp = publish(client, **overrides)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()['instance']


def open_task(client, instance_id):
    items = client.get('/tasks?state=open&process=activity_publish').get_json()['items']
    return next((t for t in items if t['instance_id'] == instance_id), None)


def decide(client, instance_id, decision='approve', reason=None):
    task = open_task(client, instance_id)
    assert task is not None, 'no open task'
    resp = client.post(f'/tasks/{task["id"]}/complete', json={'decision': decision, 'reason': reason})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()['instance']


def delete(api_client, url, **kw):
    return api_client.client.delete('/api/v1' + url, headers=api_client.headers, **kw)


def public_titles(client):
    resp = client.get('/api/v1/activities?state=published')
    assert resp.status_code == 200
    return [a['title'] for a in resp.get_json()['items']]


def test_ordinary_activity_published_after_association_approval(api, client):
    team, gzva, vet = api('team_a'), api('gzva'), api('veterans')
    inst = started(team)
    assert inst['status_label'] == '待广志协审核'
    task = open_task(gzva, inst['id'])
    assert task['lane'] == 'association_admin' and task['scope'] == ['gz']
    assert open_task(vet, inst['id']) is None
    assert public_titles(client) == []
    done = decide(gzva, inst['id'])
    assert done['status'] == 'completed' and done['status_label'] == '已通过'
    assert public_titles(client) == ['重阳节敬老探访']
    item = client.get('/api/v1/activities').get_json()['items'][0]
    assert item['team']['code'] == 'team_a' and item['tags'] == ['elderly'] and item['is_veterans'] is False


def test_veterans_tag_needs_bureau_final_approval(api, client):
    team, gzva, vet = api('team_a'), api('gzva'), api('veterans')
    inst = started(team, tags=['veterans', '拥军'])
    after = decide(gzva, inst['id'])
    assert after['status'] == 'running' and after['status_label'] == '待退役军人事务局终审'
    assert public_titles(client) == []
    assert open_task(gzva, inst['id']) is None
    task = open_task(vet, inst['id'])
    assert task['lane'] == 'veterans_admin' and task['scope'] == ['gz']
    decide(vet, inst['id'])
    assert public_titles(client) == ['重阳节敬老探访']


def test_veterans_team_activity_needs_bureau_without_tag(api, client):
    team, gzva, vet = api('team_vet'), api('gzva'), api('veterans')
    inst = started(team, tags=[])
    decide(gzva, inst['id'])
    assert public_titles(client) == []
    decide(vet, inst['id'])
    assert public_titles(client) == ['重阳节敬老探访']


def test_whitelisted_team_skips_review_and_history_says_so(api, client):
    gzva, team = api('gzva'), api('team_a')
    assert gzva.post('/unit-lists/white', json={'org_unit': 'team_a'}).status_code == 201
    inst = started(team)
    assert inst['status'] == 'completed' and inst['status_label'] == '已通过'
    assert public_titles(client) == ['重阳节敬老探访']
    history = team.get(f'/instances/{inst["id"]}').get_json()['history']
    assert [h['decision'] for h in history] == ['submit', 'auto']
    assert history[1]['task'] == '广志协审核（白名单免审）' and '白名单' in history[1]['reason']
    assert gzva.get('/tasks?state=open').get_json()['total'] == 0


def test_whitelisted_veterans_team_is_never_published_without_bureau(api, client):
    gzva, team, vet = api('gzva'), api('team_vet'), api('veterans')
    gzva.post('/unit-lists/white', json={'org_unit': 'team_vet'})
    inst = started(team)
    assert inst['status'] == 'running' and [t['lane'] for t in inst['open_tasks']] == ['veterans_admin']
    assert public_titles(client) == []
    task_id = inst['open_tasks'][0]['id']
    assert gzva.post(f'/tasks/{task_id}/complete', json={'decision': 'approve'}).status_code == 404
    assert team.post(f'/tasks/{task_id}/complete', json={'decision': 'approve'}).status_code == 404
    assert public_titles(client) == []
    r = vet.post(f'/tasks/{task_id}/complete', json={'decision': 'reject', 'reason': '请补充安全预案'})
    assert r.status_code == 200 and public_titles(client) == []
    mine = team.get('/tasks?state=open').get_json()['items'][0]
    r = team.post(f'/tasks/{mine["id"]}/complete', json={'data': activity_data(description='已补充安全预案。')})
    assert r.status_code == 200, r.get_json()
    assert public_titles(client) == []
    decide(vet, inst['id'])
    assert public_titles(client) == ['重阳节敬老探访']
    assert [h['decision'] for h in team.get(f'/instances/{inst["id"]}').get_json()['history']] == [
        'submit', 'auto', 'reject', 'submit', 'auto', 'approve']


def test_blacklisted_team_cannot_skip_review(api):
    gzva, team = api('gzva'), api('team_a')
    gzva.post('/unit-lists/white', json={'org_unit': 'team_a'})
    assert gzva.post('/unit-lists/black', json={'org_unit': 'team_a', 'reason': '发布虚假信息'}).status_code == 201
    inst = started(team)
    assert inst['status'] == 'running'
    assert open_task(gzva, inst['id'])['lane'] == 'association_admin'
    # and a blacklisted unit cannot be whitelisted again
    delete(gzva, '/unit-lists/white', json={'org_unit': 'team_a'})
    r = gzva.post('/unit-lists/white', json={'org_unit': 'team_a'})
    assert r.status_code == 422 and '黑名单' in r.get_json()['errors']['org_unit'][0]


def test_association_reject_then_resubmit_is_published_once(api, client):
    team, gzva = api('team_a'), api('gzva')
    inst = started(team)
    task = open_task(gzva, inst['id'])
    r = gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject'})
    assert r.status_code == 422 and 'reason' in r.get_json()['errors']
    decide(gzva, inst['id'], 'reject', '活动地点请写具体门牌号')
    view = team.get(f'/instances/{inst["id"]}').get_json()
    assert view['status_label'] == '审核不通过，待修改' and view['history'][-1]['reason'] == '活动地点请写具体门牌号'
    mine = team.get('/activities?state=mine').get_json()['items']
    assert mine[0]['status'] == 'rejected' and mine[0]['reject_reason'] == '活动地点请写具体门牌号'
    own = open_task(team, inst['id'])
    r = team.post(f'/tasks/{own["id"]}/complete', json={'data': activity_data(place='西村街环市西路 100 号长者饭堂')})
    assert r.status_code == 200, r.get_json()
    decide(gzva, inst['id'])
    items = client.get('/api/v1/activities').get_json()['items']
    assert [(a['place'], a['version']) for a in items] == [('西村街环市西路 100 号长者饭堂', 2)]


def _counts():
    db.session.expire_all()
    return [db.session.scalar(select(func.count()).select_from(m)) for m in (WorkflowInstance, HumanTask, Activity)]


def test_sensitive_words_in_mixed_width_and_spaced_text_are_refused(api):
    gzva, team = api('gzva'), api('team_a')
    assert gzva.post('/sensitive-words', json={'word': '敏感词'}).status_code == 201
    assert gzva.post('/sensitive-words', json={'word': 'ABC'}).status_code == 201
    before = _counts()
    resp = publish(team, title='ａｂｃ 公益行', description='这段介绍里藏着 敏 感 词。')
    assert resp.status_code == 422
    errors = resp.get_json()['errors']
    assert 'ABC' in errors['title'][0] and '敏感词' in errors['description'][0]
    assert _counts() == before == [0, 0, 0]
    assert gzva.get('/tasks?state=open').get_json()['total'] == 0


def test_sensitive_word_on_resubmission_is_refused_and_nothing_changes(api):
    gzva, team = api('gzva'), api('team_a')
    inst = started(team)
    decide(gzva, inst['id'], 'reject', '请修改标题')
    gzva.post('/sensitive-words', json={'word': '违禁'})
    own = open_task(team, inst['id'])
    r = team.post(f'/tasks/{own["id"]}/complete', json={'data': activity_data(title='违 禁 活动')})
    assert r.status_code == 422 and '违禁' in r.get_json()['errors']['title'][0]
    assert open_task(team, inst['id'])['id'] == own['id']
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 1
    # a removed word no longer blocks (the cached matcher is rebuilt)
    assert delete(gzva, '/sensitive-words', json={'word': '违禁'}).status_code == 200
    r = team.post(f'/tasks/{own["id"]}/complete', json={'data': activity_data(title='违 禁 活动')})
    assert r.status_code == 200, r.get_json()


def test_list_and_word_administration_is_association_only(api, client):
    for user in ('team_a', 'veterans', 'station_xicun'):
        c = api(user)
        for method, url, body in [('get', '/sensitive-words', None), ('post', '/sensitive-words', {'word': 'x'}),
                                  ('delete', '/sensitive-words', {'word': 'x'}), ('get', '/unit-lists/white', None),
                                  ('post', '/unit-lists/black', {'org_unit': 'team_a'}),
                                  ('delete', '/unit-lists/white', {'org_unit': 'team_a'})]:
            resp = getattr(c.client, method)('/api/v1' + url, headers=c.headers, json=body)
            assert resp.status_code == 403, (user, method, url)
            assert '广志协' in resp.get_json()['message']
    assert client.get('/api/v1/sensitive-words').status_code == 401
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action.like('%word%'))) == 0


def test_administration_crud_is_audited(api):
    gzva = api('gzva')
    assert gzva.post('/sensitive-words', json={'words': ['赌博', '传销']}).status_code == 201
    assert gzva.post('/sensitive-words', json={'word': '赌 博'}).status_code == 422
    assert delete(gzva, '/sensitive-words', json={'word': '传销'}).status_code == 200
    assert delete(gzva, '/sensitive-words', json={'word': '传销'}).status_code == 404
    words = gzva.get('/sensitive-words').get_json()
    assert [w['word'] for w in words['items']] == ['赌博'] and words['version'] == 2
    assert gzva.post('/unit-lists/white', json={'org_unit': 'team_vet'}).status_code == 201
    assert gzva.post('/unit-lists/black', json={'org_unit': 'xicun_station', 'reason': '发布虚假信息'}).status_code == 201
    assert gzva.post('/unit-lists/black', json={'org_unit': 'xicun', 'reason': '发布虚假信息'}).status_code == 422
    assert gzva.post('/unit-lists/grey', json={'org_unit': 'team_a'}).status_code == 404
    assert [e['org_unit']['code'] for e in gzva.get('/unit-lists/white').get_json()['items']] == ['team_vet']
    assert delete(gzva, '/unit-lists/white', json={'org_unit': 'team_vet'}).status_code == 200
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ['sensitive_word.add', 'sensitive_word.add', 'sensitive_word.remove',
                       'unit_list.white.add', 'unit_list.black.add', 'unit_list.white.remove']
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == 'unit_list.black.add'))
    assert row.actor_id is not None and row.target == 'xicun_station'


def test_publish_step_refuses_a_veterans_activity_without_bureau_approval(api):
    """Even if an edited diagram routed around the bureau, the publish step itself refuses."""
    inst = started(api('team_vet'))
    act = db.session.scalar(select(Activity).where(Activity.instance_id == inst['id']))
    with pytest.raises(RuntimeError, match='退役军人事务局'):
        service_tasks.call('activity.publish', {'activity_id': act.id, 'instance_id': inst['id']}, {})
    db.session.rollback()
    assert db.session.get(Activity, act.id).status == 'pending'


def _resubmit(team, instance_id, **overrides):
    own = open_task(team, instance_id)
    assert own is not None and own['lane'] == 'submitter'
    r = team.post(f'/tasks/{own["id"]}/complete', json={'data': activity_data(**overrides)})
    assert r.status_code == 200, r.get_json()
    return r.get_json()['instance']


def test_bureau_rejects_then_resubmission_goes_through_association_and_bureau_again(api, client):
    team, gzva, vet = api('team_a'), api('gzva'), api('veterans')
    inst = started(team, tags=['veterans'])
    decide(gzva, inst['id'])
    decide(vet, inst['id'], 'reject', '请补充安全预案')
    mine = team.get('/activities?state=mine').get_json()['items'][0]
    assert (mine['status'], mine['reject_reason']) == ('rejected', '请补充安全预案')
    view = team.get(f'/instances/{inst["id"]}').get_json()
    assert view['history'][-1]['lane'] == 'veterans_admin' and view['history'][-1]['reason'] == '请补充安全预案'
    assert public_titles(client) == []
    after = _resubmit(team, inst['id'], tags=['veterans'], description='已补充安全预案。')
    assert [t['lane'] for t in after['open_tasks']] == ['association_admin']
    assert open_task(vet, inst['id']) is None
    decide(gzva, inst['id'])
    assert public_titles(client) == []
    decide(vet, inst['id'])
    items = client.get('/api/v1/activities').get_json()['items']
    assert [(a['title'], a['version'], a['is_veterans']) for a in items] == [('重阳节敬老探访', 2, True)]
    assert [h['decision'] for h in team.get(f'/instances/{inst["id"]}').get_json()['history']] == [
        'submit', 'approve', 'reject', 'submit', 'approve', 'approve']


def test_veterans_activity_rejected_by_association_never_reaches_the_bureau(api, client):
    team, gzva, vet = api('team_vet'), api('gzva'), api('veterans')
    inst = started(team)
    decide(gzva, inst['id'], 'reject', '时间与其他活动冲突')
    assert open_task(vet, inst['id']) is None and vet.get('/tasks?state=open').get_json()['total'] == 0
    assert team.get('/activities?state=mine').get_json()['items'][0]['reject_reason'] == '时间与其他活动冲突'
    # the team is whitelisted before resubmitting: the association step is skipped, the bureau's is not
    assert gzva.post('/unit-lists/white', json={'org_unit': 'team_vet'}).status_code == 201
    after = _resubmit(team, inst['id'], start_at='2030-10-12T09:00', end_at='2030-10-12T12:00')
    assert [t['lane'] for t in after['open_tasks']] == ['veterans_admin']
    assert public_titles(client) == []
    decide(vet, inst['id'])
    assert public_titles(client) == ['重阳节敬老探访']


def test_twenty_first_version_ends_the_case_unpublished(api, client):
    team, gzva = api('team_a'), api('gzva')
    inst = started(team)
    for n in range(2, 22):
        decide(gzva, inst['id'], 'reject', f'第 {n - 1} 次退回')
        after = _resubmit(team, inst['id'], description=f'第 {n} 版介绍。')
    assert after['status'] == 'completed' and after['open_tasks'] == []
    mine = team.get('/activities?state=mine').get_json()['items'][0]
    assert (mine['version'], mine['status']) == (21, 'abandoned')
    assert public_titles(client) == [] and open_task(gzva, inst['id']) is None


def test_my_activities_need_the_callers_own_token(api, client):
    """state=mine on the public endpoint: 401 without a token, and each caller sees only their own."""
    resp = client.get('/api/v1/activities?state=mine')
    assert resp.status_code == 401
    team, vet_team, gzva = api('team_a'), api('team_vet'), api('gzva')
    started(team, title='长者关爱队的活动')
    started(vet_team, title='退役军人队的活动')
    gzva.get('/tasks?state=open')
    assert [a['title'] for a in team.get('/activities?state=mine').get_json()['items']] == ['长者关爱队的活动']
    assert [a['title'] for a in vet_team.get('/activities?state=mine').get_json()['items']] == ['退役军人队的活动']
    assert gzva.get('/activities?state=mine').get_json()['items'] == []
    bad = client.get('/api/v1/activities?state=mine', headers={'Authorization': 'Bearer nope'})
    assert bad.status_code == 401


def test_skip_step_refuses_a_blacklisted_team_even_if_a_diagram_routed_it_there(api):
    gzva = api('gzva')
    gzva.post('/unit-lists/white', json={'org_unit': 'team_a'})
    # blacklisting also takes it off the whitelist
    gzva.post('/unit-lists/black', json={'org_unit': 'team_a', 'reason': '发布虚假信息'})
    inst = started(api('team_a'))
    data = {'instance_id': inst['id'], 'team_unit': 'team_a'}
    with pytest.raises(RuntimeError, match='黑名单'):
        service_tasks.call('activity.skip_review', data, {})
    db.session.rollback()
    delete(gzva, '/unit-lists/black', json={'org_unit': 'team_a'})
    assert gzva.post('/unit-lists/white', json={'org_unit': 'team_a'}).status_code == 201
    db.session.expire_all()
    assert service_tasks.call('activity.skip_review', data, {}) == {'skipped': True}
    db.session.rollback()


def test_matcher_is_rebuilt_when_the_database_is_recreated_with_the_same_version_number(api):
    gzva = api('gzva')
    gzva.post('/sensitive-words', json={'word': '甲乙'})
    assert sensitive_words.find('甲 乙') == ['甲乙']
    # a restored or recreated database: the list and its counter start again from scratch
    db.session.execute(SensitiveWord.__table__.delete())
    db.session.execute(ListVersion.__table__.delete())
    db.session.commit()
    assert gzva.post('/sensitive-words', json={'word': '丙丁'}).get_json()['items'][0]['word'] == '丙丁'
    assert sensitive_words.current_version() == 1
    assert sensitive_words.find('甲乙 丙 丁') == ['丙丁']


def test_public_list_shows_coming_activities_soonest_first_and_ended_ones_last(api, client):
    assert api('gzva').post('/unit-lists/white', json={'org_unit': 'team_a'}).status_code == 201
    team = api('team_a')
    for title, start in (('秋季探访', '2030-10-11T09:00'), ('春季探访', '2030-05-01T09:00'), ('已办探访', '2030-01-01T09:00')):
        started(team, title=title, start_at=start, end_at=start[:11] + '12:00')
    done = db.session.scalar(select(Activity).where(Activity.title == '已办探访'))
    done.start_at, done.end_at = utcnow() - timedelta(days=3, hours=3), utcnow() - timedelta(days=3)
    db.session.commit()
    listed = [a['title'] for a in client.get('/api/v1/activities').get_json()['items']]
    assert listed == ['春季探访', '秋季探访', '已办探访']
    html = client.get('/activities').get_data(as_text=True)
    assert html.index('春季探访') < html.index('秋季探访') < html.index('已办探访')
    assert html.count('>已结束<') == 1
