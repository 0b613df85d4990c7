"""Walk 19 findings: the inbox after the last task of its last page, the 用户管理 list beyond its end, the 撤回 reason
named as 撤回原因, and a case past its first review saying why it has no 撤回."""
import re

from tests.web.conftest import open_task, submit


def test_deciding_the_last_task_of_the_last_page_goes_on_at_the_new_last_page(api, login):
    vol = api('vol_zhang')
    for i in range(1, 22):  # 21 open tasks: page 2 holds one
        submit(vol, i)
    page = login('station_xicun')
    listing = page.get('/inbox?sort=oldest&page=2').get_data(as_text=True)
    shown = re.findall(r'href="/inbox/tasks/(\d+)\?', listing)
    assert shown and len(set(shown)) == 1, shown
    task_id = int(shown[0])
    resp = page.post(f'/inbox/tasks/{task_id}/decide', data={'decision': 'approve', 'list_sort': 'oldest',
                                                             'list_page': '2'})
    assert resp.status_code == 302
    assert 'page=2' in resp.headers['Location'] and f'done={task_id}' in resp.headers['Location']
    back = page.get(resp.headers['Location'])
    assert back.status_code == 302  # page 2 is past the end now: on to page 1, the 办理下一件 offer kept
    location = back.headers['Location']
    assert 'page=' not in location and f'done={task_id}' in location and 'sort=oldest' in location
    html = page.get(location).get_data(as_text=True)
    assert '已超出列表末尾' not in html and '第 1 / 1 页，共 20 条' in html


def test_a_typed_page_past_the_end_still_says_so(login, api):
    submit(api('vol_zhang'), 1)
    html = login('station_xicun').get('/inbox?page=3').get_data(as_text=True)
    assert '第 3 页已超出列表末尾（共 1 页）。' in html


def test_the_user_list_past_its_end_links_to_the_last_page(login):
    html = login('admin').get('/admin/users?page=9').get_data(as_text=True)
    assert '第 9 页已超出列表末尾（共 1 页）。' in html and '回到最后一页（第 1 页）' in html
    assert '暂无账号' not in html and '第 9 / 1 页' not in html


def test_a_too_long_withdraw_reason_is_named_as_such(api, login):
    inst_id = submit(api('vol_zhang'), 1)
    page = login('vol_zhang')
    resp = page.post(f'/m/cases/{inst_id}/withdraw', data={'reason': '错' * 205})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert '撤回原因不能超过 200 个字（现有 205 个字），请删减后再提交' in html and '意见不能超过' not in html
    api_resp = api('vol_zhang').post(f'/instances/{inst_id}/withdraw', json={'reason': '错' * 205})
    assert api_resp.get_json()['errors']['reason'] == ['撤回原因不能超过 200 个字（现有 205 个字），请删减后再提交']


def test_a_case_past_its_first_review_says_why_it_cannot_be_withdrawn(api, login):
    inst_id = submit(api('vol_zhang'), 1)
    page = login('vol_zhang')
    before = page.get(f'/m/cases/{inst_id}').get_data(as_text=True)
    assert 'class="btn block withdraw"' in before and 'no-withdraw' not in before
    station = api('station_xicun')
    assert station.post(f'/tasks/{open_task(station, inst_id)["id"]}/complete',
                        json={'decision': 'approve'}).status_code == 200
    after = page.get(f'/m/cases/{inst_id}').get_data(as_text=True)
    assert 'class="btn block withdraw"' not in after
    note = re.search(r'<p class="muted no-withdraw">(.*?)</p>', after, re.S).group(1)
    assert note == '西村街社工站已审核（社工站初审），不能撤回；如需更改，请联系西村街社工站'
    # another person's view of the case (the station's) has no such note
    assert 'no-withdraw' not in login('station_xicun').get(f'/inbox/cases/{inst_id}').get_data(as_text=True)


def test_a_withdrawal_in_the_history_is_named_once_with_its_reason(api, login):
    inst_id = submit(api('vol_zhang'), 1)
    page = login('vol_zhang')
    assert page.post(f'/m/cases/{inst_id}/withdraw', data={'reason': '录错了地址'}).status_code == 302
    html = page.get(f'/m/cases/{inst_id}').get_data(as_text=True)
    row = re.search(r'<li class="h-withdraw">(.*?)</li>', html, re.S).group(1)
    assert '<strong>提交人撤回</strong>' in row and 'h-decision' not in row  # no second 撤回 after it
    assert '原因：录错了地址' in row and '意见' not in row


def test_a_review_with_a_form_of_its_own_is_submitted_as_every_review(api, login):
    from tests.web.test_dispatch_choice_history_s18e import _published
    inst = _published(api)
    task = open_task(api('station_xicun'), inst['id'])
    html = login('station_xicun').get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    buttons = re.findall(r'<button class="btn primary" type="submit"[^>]*>([^<]*)</button>', html)
    assert buttons == ['提交审核结果']  # as on 社工站初审, 活动审核…: the publish review decides approve / reject


def test_a_sign_up_reviewed_from_the_list_of_sign_ups_returns_to_it(api, login):
    from tests.web.test_activity_signups import publish, sign_up, signup_tasks
    act = publish(api)
    for name in ('vol_li', 'vol_wang'):
        assert sign_up(api(name), act, phone='13800138000').status_code == 201
    team = login('team_a')
    listing = team.get(f'/activities/{act}/signups').get_data(as_text=True)
    links = re.findall(r'href="(/inbox/tasks/(\d+)\?from=signups)"', listing)
    assert len(links) == 2, listing
    url, task_id = links[0]
    page = team.get(url).get_data(as_text=True)
    assert f'<a href="/activities/{act}/signups">‹ 返回报名名单</a>' in page and '返回待办' not in page
    assert '<input type="hidden" name="list_from" value="signups">' in page
    resp = team.post(f'/inbox/tasks/{task_id}/decide', data={'decision': 'approve', 'list_from': 'signups'})
    assert resp.status_code == 302 and resp.headers['Location'] == f'/activities/{act}/signups'
    assert '已提交' in team.get(resp.headers['Location']).get_data(as_text=True)  # the result, said on the list
    # opened from the inbox, the other one goes back to the inbox, whose links carry no `from`
    [left] = signup_tasks(api('team_a'))
    resp = team.post(f'/inbox/tasks/{left["id"]}/decide', data={'decision': 'approve'})
    assert resp.headers['Location'].startswith('/inbox?') and 'from=' not in resp.headers['Location']
    assert 'from=signups' not in team.get('/inbox?from=signups&state=approved').get_data(as_text=True)
