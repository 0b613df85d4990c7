"""The inbox's 类型 choice and 排序 switch (the page, 办理下一件 and the API), and a decision that came too late saying
who handled the task, when and how, with what the reviewer typed kept on the page."""
import re
from html import escape, unescape

from tests.web.conftest import open_task, submit
from tests.web.test_v_order_lifecycle import approved_object, order_data


def _links(html, task_ids):
    """The task ids the page links, in page order (each once), among `task_ids`."""
    seen = []
    for m in re.finditer(r'/inbox/tasks/(\d+)["?]', html):
        tid = int(m.group(1))
        if tid in task_ids and tid not in seen:
            seen.append(tid)
    return seen


def _options(html, name):
    """{value: (text, selected)} of the page's <select name=...>."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f'no {name} select'
    return {m.group(1): (unescape(m.group(3)).strip(), bool(m.group(2)))
            for m in re.finditer(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(1))}


def _station_entries(api, n, start=0, names=()):
    """n service-object entries at the station step, oldest first (named 长者… unless `names` says): [task id]."""
    vol, station = api('vol_zhang'), api('station_xicun')
    named = dict(enumerate(names))
    return [open_task(station, submit(vol, i, **({'name': named[k]} if k in named else {})))['id']
            for k, i in enumerate(range(start, start + n))]


def _order_at_station(api):
    """A V-order waiting for the station's 发布审核 (its service object approved first): the task id."""
    so = approved_object(api, name='陈伯')
    resp = api('vol_zhang').post('/processes/v_order/instances', json={'data': order_data([so])})
    assert resp.status_code == 201, resp.get_json()
    return open_task(api('station_xicun'), resp.get_json()['instance']['id'])['id']


def test_type_choice_offers_the_tabs_processes_with_counts_and_filters_the_list(api, login):
    entries = _station_entries(api, 3, names=('李桂芳', '王秀英', '陈志强'))
    order_task = _order_at_station(api)  # the station also approved the order's service object
    page = login('station_xicun')
    html = page.get('/inbox').get_data(as_text=True)
    assert _options(html, 'process') == {'': ('全部类型（4）', False), 'service_object_entry': ('服务对象录入（3）', False),
                                         'v_order': ('耆望成真V订单（1）', False)}
    assert 'method="get"' in html and '>筛选</button>' in html, 'works without JavaScript: a GET form and its button'

    html = page.get('/inbox?process=v_order').get_data(as_text=True)
    assert _links(html, entries + [order_task]) == [order_task]
    assert _options(html, 'process')['v_order'] == ('耆望成真V订单（1）', True)
    assert '未审核<span class="count">1</span>' in html
    assert re.search(r'href="/inbox\?state=approved[^"]*process=v_order', html), 'the tabs keep the type'
    assert '已通过<span class="count">0</span>' in html, "the approved tab's count follows the type"

    # 已通过 has only the approved service object: its choice offers only that process
    approved = page.get('/inbox?state=approved').get_data(as_text=True)
    assert _options(approved, 'process') == {'': ('全部类型（1）', False), 'service_object_entry': ('服务对象录入（1）', False)}
    # the chosen process stays shown, with 0, on a tab that has none of it
    approved = page.get('/inbox?state=approved&process=v_order').get_data(as_text=True)
    assert _options(approved, 'process')['v_order'] == ('耆望成真V订单（0）', True)
    # a search narrows the counts too
    searched = page.get('/inbox?q=王秀英').get_data(as_text=True)
    assert _options(searched, 'process') == {'': ('全部类型（1）', False), 'service_object_entry': ('服务对象录入（1）', False)}


def test_oldest_first_is_kept_across_paging_tabs_search_and_the_task_page(api, login):
    ids = _station_entries(api, 23)  # oldest first
    page = login('station_xicun')
    newest = page.get('/inbox').get_data(as_text=True)
    assert _links(newest, ids) == ids[::-1][:20]
    assert 'aria-sort="descending"' in newest

    first = page.get('/inbox?sort=oldest').get_data(as_text=True)
    assert _links(first, ids) == ids[:20]
    assert _options(first, 'sort') == {'newest': ('最新到达', False), 'oldest': ('最早到达', True)}
    assert 'aria-sort="ascending"' in first
    pager = re.search(r'href="([^"]*page=2[^"]*)"', first).group(1)
    assert 'sort=oldest' in unescape(pager)
    second = page.get(unescape(pager)).get_data(as_text=True)
    assert _links(second, ids) == ids[20:]
    tabs = re.findall(r'<a class="tab[^"]*" href="([^"]*)"', first)
    assert len(tabs) == 3 and all('sort=oldest' in unescape(h) for h in tabs), tabs
    task_links = re.findall(rf'href="(/inbox/tasks/{ids[0]}[^"]*)"', first)
    assert task_links and 'sort=oldest' in unescape(task_links[0])

    task_page = page.get(unescape(task_links[0])).get_data(as_text=True)
    back = re.search(r'<p class="back"><a href="([^"]*)"', task_page).group(1)
    assert 'sort=oldest' in unescape(back), '返回待办 goes back to the oldest-first list'
    assert 'name="list_sort" value="oldest"' in task_page, 'the decision form carries the order'

    searched = page.get('/inbox?sort=oldest&q=长者').get_data(as_text=True)
    assert _links(searched, ids) == ids[:20]
    assert _options(searched, 'sort')['oldest'][1]
    # an unknown order is the default one
    assert _links(page.get('/inbox?sort=sideways').get_data(as_text=True), ids) == ids[::-1][:20]


def test_decided_tab_orders_by_the_time_of_the_decision(api, login):
    ids = _station_entries(api, 3)
    station = api('station_xicun')
    for tid in (ids[1], ids[0], ids[2]):  # decided in another order than they arrived
        assert station.post(f'/tasks/{tid}/complete', json={'decision': 'approve'}).status_code == 200
    page = login('station_xicun')
    html = page.get('/inbox?state=approved&sort=oldest').get_data(as_text=True)
    assert _links(html, ids) == [ids[1], ids[0], ids[2]]
    assert _options(html, 'sort') == {'newest': ('最近处理', False), 'oldest': ('最早处理', True)}
    assert _links(page.get('/inbox?state=approved').get_data(as_text=True), ids) == [ids[2], ids[0], ids[1]]
    assert [t['id'] for t in station.get('/tasks?state=approved&sort=oldest').get_json()['items']] == [ids[1], ids[0], ids[2]]


def test_submit_and_next_follows_the_oldest_first_order(api, login):
    ids = _station_entries(api, 3)
    page = login('station_xicun')
    r = page.post(f'/inbox/tasks/{ids[0]}/decide', data={'decision': 'approve', 'reason': '', 'then': 'next',
                                                        'list_sort': 'oldest'})
    assert r.status_code == 302 and 'sort=oldest' in r.headers['Location']
    r = page.get(r.headers['Location'])
    assert r.status_code == 302 and f'/inbox/tasks/{ids[1]}?' in r.headers['Location'], r.headers['Location']
    assert 'sort=oldest' in r.headers['Location']
    # newest first (the default) goes the other way: after the newest comes the one before it
    r = page.post(f'/inbox/tasks/{ids[2]}/decide', data={'decision': 'approve', 'reason': '', 'then': 'next'})
    r = page.get(r.headers['Location'])
    assert f'/inbox/tasks/{ids[1]}' in r.headers['Location'] and 'sort=' not in r.headers['Location']
    # 办理下一件 after a plain 提交 keeps the order too
    more = _station_entries(api, 2, start=10)
    r = page.post(f'/inbox/tasks/{ids[1]}/decide', data={'decision': 'approve', 'reason': '', 'list_sort': 'oldest'})
    listing = page.get(r.headers['Location']).get_data(as_text=True)
    next_link = unescape(re.search(r'href="(/inbox/next[^"]*)"', listing).group(1))
    assert 'sort=oldest' in next_link
    assert f'/inbox/tasks/{more[0]}' in page.get(next_link).headers['Location']


def test_api_takes_the_process_and_the_order(api):
    ids = _station_entries(api, 3)
    order_task = _order_at_station(api)
    station = api('station_xicun')
    oldest = station.get('/tasks?sort=oldest').get_json()
    assert [t['id'] for t in oldest['items']][:3] == ids
    newest = station.get('/tasks?sort=newest').get_json()
    assert [t['id'] for t in newest['items']][0] == order_task
    only = station.get('/tasks?process=service_object_entry&sort=oldest').get_json()
    assert [t['id'] for t in only['items']] == ids and only['total'] == 3
    bad = station.get('/tasks?sort=latest')
    assert bad.status_code == 400
    body = bad.get_json()
    assert body['error'] == 'bad_sort' and 'oldest' in body['errors']['sort'][0]


def test_a_late_decision_says_who_handled_it_when_and_how_and_keeps_the_typed_reason(login, case_at_street, row_counts):
    inst_id, tid = case_at_street()
    xicun, xinshi = login('street_xicun'), login('street_xinshi')
    assert 'name="decision"' in xinshi.get(f'/inbox/tasks/{tid}').get_data(as_text=True)
    assert xicun.post(f'/inbox/tasks/{tid}/decide', data={'decision': 'approve', 'reason': '资料齐全'}).status_code == 302
    before = row_counts()
    typed = '户口本照片模糊，\n请重新上传 <清晰版>'
    r = xinshi.post(f'/inbox/tasks/{tid}/decide', data={'decision': 'reject', 'reason': typed})
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and row_counts() == before
    flash = unescape(re.search(r'<div class="flash error"[^>]*>(.*?)</div>', html, re.S).group(1))
    said = r'该任务已被处理：西村街道办 于 \d{4}-\d\d-\d\d \d\d:\d\d 办理，结果为“通过”。您的意见未提交'
    assert re.fullmatch(said, flash), flash
    assert '请刷新' not in html
    unsent = re.search(r'<section class="card unsent".*?</section>', html, re.S).group(0)
    shown = dict(re.findall(r'<dt>([^<]*)</dt><dd class="unsent-text">([^<]*)</dd>', unsent))
    assert shown == {'审核结果': '不通过', '审核意见 / 不通过原因': escape(typed)}, shown


def test_the_same_reviewer_in_two_tabs_is_told_it_was_them(api, login):
    tid = _station_entries(api, 1)[0]
    tab_a, tab_b = login('station_xicun'), login('station_xicun')
    assert tab_a.post(f'/inbox/tasks/{tid}/decide', data={'decision': 'approve', 'reason': ''}).status_code == 302
    r = tab_b.post(f'/inbox/tasks/{tid}/decide', data={'decision': 'reject', 'reason': '材料不全'})
    html = unescape(r.get_data(as_text=True))
    assert r.status_code == 409
    assert '该任务已被处理：您本人 于 ' in html and ' 办理，结果为“通过”。您的意见未提交' in html
    assert '材料不全' in html and '您填写的内容（未提交）' in html


def test_a_decision_refused_by_another_reviewers_claim_keeps_the_typed_reason(login, case_at_street):
    _inst_id, tid = case_at_street()
    xicun, xinshi = login('street_xicun'), login('street_xinshi')
    assert 'name="decision"' in xinshi.get(f'/inbox/tasks/{tid}').get_data(as_text=True)
    assert xicun.post(f'/inbox/tasks/{tid}/claim').status_code == 302
    r = xinshi.post(f'/inbox/tasks/{tid}/decide', data={'decision': 'approve', 'reason': '同意入库'})
    html = unescape(r.get_data(as_text=True))
    assert r.status_code == 409 and '该任务已被其他审核人认领' in html
    assert '您填写的内容（未提交）' in html and '同意入库' in html and 'name="decision"' not in html


def test_a_batch_returns_to_the_list_in_its_order_and_type(api, login):
    ids = _station_entries(api, 2)
    page = login('station_xicun')
    listing = page.get('/inbox?sort=oldest&process=service_object_entry').get_data(as_text=True)
    assert 'name="list_sort" value="oldest"' in listing and 'name="list_process" value="service_object_entry"' in listing
    r = page.post('/inbox/batch', data={'task_ids': [str(i) for i in ids], 'decision': 'approve', 'reason': '',
                                        'list_sort': 'oldest', 'list_process': 'service_object_entry'},
                  follow_redirects=True)
    back = unescape(re.search(r'href="(/inbox\?[^"]*)">返回待办', r.get_data(as_text=True)).group(1))
    assert 'sort=oldest' in back and 'process=service_object_entry' in back
