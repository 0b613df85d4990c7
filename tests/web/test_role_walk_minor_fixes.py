"""Walk 14 (less-walked roles), the small things an office worker trips over:
- the district's resource review shows the count of every tab, not only of the open one;
- a team's own activity page does not show the association's white/black list status (a review aid);
- the activity list does not invite volunteers to sign up where there is no sign-up;
- the district bureau lands on its resource review, not on an inbox no diagram ever fills;
- an approval tells the submitter what comes next (a veterans team: the bureau), or that the review is complete."""
import re

from tests.web.test_activity_flow import started


def test_resource_review_tabs_all_show_their_counts(login):
    html = login('district_liwan').get('/shop/review').get_data(as_text=True)
    counts = dict(re.findall(r'(未审核|已通过|未通过)<span class="count">(\d+)</span>', html))
    assert set(counts) == {'未审核', '已通过', '未通过'}, counts
    approved = login('district_liwan').get('/shop/review?status=approved').get_data(as_text=True)
    assert dict(re.findall(r'(未审核|已通过|未通过)<span class="count">(\d+)</span>', approved)) == counts
    assert int(counts['已通过']) > 0


def test_a_blacklisted_team_is_not_shown_its_list_status_but_the_reviewer_is(api, login):
    gzva, team = api('gzva'), api('team_a')
    assert gzva.post('/unit-lists/black', json={'org_unit': 'team_a', 'reason': '发布虚假信息'}).status_code == 201
    inst = started(team)
    own = login('team_a').get(f'/activities/cases/{inst["id"]}').get_data(as_text=True)
    assert '黑名单' not in own and '名单状态' not in own
    task = next(t for t in gzva.get('/tasks?state=open').get_json()['items'] if t['instance_id'] == inst['id'])
    assert '黑名单（不可免审）' in login('gzva').get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)


def test_the_activity_list_does_not_promise_a_sign_up(login):
    html = login('vol_zhang').get('/activities').get_data(as_text=True)
    assert '欢迎报名参加' not in html and '打开活动即可报名' in html and '报名请联系发布活动的团队' not in html


def test_the_district_bureau_lands_on_its_resource_review_not_an_always_empty_inbox(login):
    resp = login('district_liwan').get('/')
    assert resp.status_code == 302 and resp.headers['Location'].endswith('/shop/review')
    assert login('station_xicun').get('/').headers['Location'].endswith('/inbox')


def test_a_team_is_told_whether_its_approved_activity_still_waits_for_the_bureau(api):
    from tests.web.test_activity_flow import decide
    team = api('team_vet')
    inst = started(team)
    decide(api('gzva'), inst['id'])
    titles = [m['title'] for m in team.get('/messages').get_json()['items']]
    assert titles[0].endswith('广志协审核：已通过，下一步：退役军人事务局终审'), titles
    decide(api('veterans'), inst['id'])
    assert team.get('/messages').get_json()['items'][0]['title'].endswith('：已通过，审核已全部完成')


def test_statistics_name_the_date_box_and_say_when_a_day_does_not_exist(login):
    page = login('district_liwan')
    resp = page.get('/stats', query_string={'from': '2026-02-30', 'to': '２０２６-０３-３１'})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert '开始日期：日期不存在：2026-02-30 这一天没有，请检查月份和日期' in html
    assert '结束日期' not in html.split('filter-errors', 1)[1].split('</div>', 1)[0], 'full-width digits are read'


def test_roles_without_a_library_do_not_get_an_empty_one(login):
    for username in ('veterans', 'team_a', 'provider_a'):
        assert login(username).get('/library').status_code == 404, username
    assert login('station_xicun').get('/library').status_code == 200
