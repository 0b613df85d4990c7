"""Activity pages: public list, the team's publish / reason / resubmit pages, gzva's lists and inbox."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Activity, AuditLog, SensitiveWord
from tests.web.test_activity_flow import decide, started

FORM = {'title': '社区义剪', 'service_field': 'community', 'tags': ['elderly'], 'tags_extra': '理发',
        'street': 'xicun', 'place': '西村社区活动室', 'start_at': '2031-03-05T09:00', 'end_at': '2031-03-05T11:30',
        'recruit_count': '6', 'description': '为长者免费理发。'}


def _case_id(resp):
    return int(re.search(r'/activities/cases/(\d+)', resp.headers['Location']).group(1))


def test_public_list_shows_published_only_without_login(api, client):
    gzva, team = api('gzva'), api('team_a')
    done = started(team, title='已发布的活动')
    decide(gzva, done['id'])
    started(team, title='还在审核的活动')
    page = client.get('/activities')
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '已发布的活动' in html and '还在审核的活动' not in html
    assert 'name="viewport"' in html
    ids = [int(i) for i in re.findall(r'/activities/(\d+)"', html)]
    assert client.get(f'/activities/{ids[0]}').status_code == 200
    pending_id = db.session.scalar(select(Activity.id).where(Activity.status == 'pending'))
    assert client.get(f'/activities/{pending_id}').status_code == 404


def test_team_publishes_from_page_sees_reason_and_resubmits(login, api, client):
    team = login('team_a')
    assert '我的活动' in team.get('/activities/mine').get_data(as_text=True)
    resp = team.post('/activities/new', data=FORM)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    inst_id = _case_id(resp)
    decide(api('gzva'), inst_id, 'reject', '请注明需要几名理发师')
    case = team.get(f'/activities/cases/{inst_id}').get_data(as_text=True)
    assert '查看原因' in case and '请注明需要几名理发师' in case and '修改后重新提交' in case
    assert '查看原因' in team.get('/activities/mine').get_data(as_text=True)
    form = team.get(f'/activities/cases/{inst_id}/resubmit').get_data(as_text=True)
    assert 'value="社区义剪"' in form and 'value="2031-03-05T09:00"' in form and '理发' in form
    resp = team.post(f'/activities/cases/{inst_id}/resubmit', data={**FORM, 'description': '需要 3 名理发师。'})
    assert resp.status_code == 302
    decide(api('gzva'), inst_id)
    assert '社区义剪' in client.get('/activities').get_data(as_text=True)


def test_sensitive_word_on_page_is_named_and_input_kept(login, api):
    api('gzva').post('/sensitive-words', json={'word': '义剪'})
    team = login('team_a')
    resp = team.post('/activities/new', data={**FORM, 'title': '社区 义 剪'})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and '包含敏感词：义剪' in html and 'value="社区 义 剪"' in html


def test_blacklisted_rows_are_bold_red_in_gzva_inbox(login, api):
    gzva_api = api('gzva')
    gzva_api.post('/unit-lists/black', json={'org_unit': 'team_vet', 'reason': '发布虚假信息'})
    black = started(api('team_vet'), title='黑名单团队的活动')
    normal = started(api('team_a'), title='普通团队的活动')
    gzva = login('gzva')
    html = gzva.get('/inbox').get_data(as_text=True)
    rows = {m.group(2): m.group(1) for m in re.finditer(r'<tr([^>]*)>(?:(?!</tr>).)*?task_ids" value="(\d+)"', html, re.S)}
    tasks = {t['instance_id']: str(t['id']) for t in gzva_api.get('/tasks').get_json()['items']}
    assert 'class="blacklisted"' in rows[tasks[black['id']]]
    assert 'blacklisted' not in rows[tasks[normal['id']]]
    detail = gzva_api.get(f'/tasks/{tasks[black["id"]]}').get_json()
    assert detail['data']['list_status'] == '黑名单（不可免审）'
    page = gzva.get(f'/inbox/tasks/{tasks[black["id"]]}').get_data(as_text=True)
    assert '黑名单（不可免审）' in page and '西村街退役军人志愿服务队' in page


def test_gzva_manages_lists_on_pages_and_others_cannot(login):
    gzva = login('gzva')
    page = gzva.get('/activities/admin')
    assert page.status_code == 200 and '名单与敏感词' in page.get_data(as_text=True)
    assert gzva.post('/activities/admin/words', data={'words': '甲词\n乙词'}).status_code == 302
    assert gzva.post('/activities/admin/lists/white', data={'org_unit': 'team_a'}).status_code == 302
    html = gzva.get('/activities/admin').get_data(as_text=True)
    assert '甲词' in html and '西村街长者关爱志愿服务队' in html
    assert gzva.post('/activities/admin/words/delete', data={'word': '甲词', 'confirm': 'yes'}).status_code == 302
    assert sorted(db.session.scalars(select(SensitiveWord.word))) == ['乙词']
    assert len(db.session.scalars(select(AuditLog)).all()) == 4
    team = login('team_a')
    assert team.get('/activities/admin').status_code == 403
    assert team.post('/activities/admin/words', data={'words': 'x'}).status_code == 403
    assert team.post('/activities/admin/lists/black', data={'org_unit': 'team_vet'}).status_code == 403


def test_returned_form_also_works_from_the_generic_inbox_page(login, api):
    team_api, gzva = api('team_a'), api('gzva')
    inst = started(team_api)
    decide(gzva, inst['id'], 'reject', '请补充标签')
    own = next(t for t in team_api.get('/tasks').get_json()['items'] if t['instance_id'] == inst['id'])
    team = login('team_a')
    page = team.get(f'/inbox/tasks/{own["id"]}')
    assert page.status_code == 200 and 'name="tags"' in page.get_data(as_text=True)
    data = {k: v for k, v in FORM.items() if k != 'tags_extra'}
    resp = team.post(f'/inbox/tasks/{own["id"]}/decide', data={**data, 'tags': '退役军人志愿活动，助老'})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:800]
    decide(gzva, inst['id'])
    view = team_api.get(f'/instances/{inst["id"]}').get_json()
    assert view['status_label'] == '待退役军人事务局终审'
    detail = api('veterans').get(f'/tasks/{view["open_tasks"][0]["id"]}').get_json()
    assert detail['data']['tags'] == '退役军人志愿活动、助老' and detail['data']['team_name'] == '西村街长者关爱志愿服务队'


def test_every_list_change_shows_in_the_change_log_with_who_and_what(login, api):
    gzva_api = api('gzva')
    gzva_api.post('/sensitive-words', json={'words': ['赌博', '传销']})
    gzva_api.client.delete('/api/v1/sensitive-words', headers=gzva_api.headers, json={'word': '传销'})
    gzva = login('gzva')
    gzva.post('/activities/admin/lists/white', data={'org_unit': 'team_a'})
    gzva.post('/activities/admin/lists/white/delete', data={'org_unit': 'team_a', 'confirm': 'yes'})
    gzva.post('/activities/admin/lists/black', data={'org_unit': 'team_vet', 'reason': '发布虚假信息'})
    html = gzva.get('/activities/admin').get_data(as_text=True)
    log = html[html.index('id="changes"'):]
    rows = re.findall(r'<tr><td class="title-cell">.*?</tr>', log, re.S)
    text = [re.sub(r'<[^>]+>|\s+', ' ', r).split() for r in rows]
    team = ['志愿服务团队', '·', '荔湾区', '·', '西村街']  # what and where the unit is, not its code
    assert [t[3:] for t in text] == [
        ['加入黑名单', '西村街退役军人志愿服务队', *team, '原因：发布虚假信息'],
        ['移出白名单', '西村街长者关爱志愿服务队', *team],
        ['加入白名单', '西村街长者关爱志愿服务队', *team], ['删除敏感词', '传销'], ['添加敏感词', '传销'],
        ['添加敏感词', '赌博']]
    assert all(t[2] == '广州市志愿者协会' for t in text)
    assert '共 6 条' in log
    english = gzva.get('/activities/admin?lang=en').get_data(as_text=True)
    assert 'Change log' in english and 'Added to the blacklist' in english
