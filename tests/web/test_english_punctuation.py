"""English pages punctuate in English: "Status: ", "Station first review (西村街社工站)", "李晓敏 (Confirmed)",
never the full-width "：（），；" Chinese pages write after a label; Chinese pages keep them exactly as before.

Each builder below walks a case, an order or an export to a page worth reading and returns the pages as
{name: (client, url)}; the tests read every page in both languages (?lang=en and the default)."""
import html as html_lib
import re

import pytest

from tests.web.conftest import open_task as my_task
from tests.web.conftest import page_form, submit

# an English word touching full-width punctuation ("Status：", "（Confirmed）", "Role X，Scope"); stored Chinese data
# ("李晓敏：我有空", "长者03号（补正）") touches it only with Chinese characters, so it never matches. ('、' is left
# out: stored Chinese values may contain it)
MIXED = re.compile(r'[A-Za-z][：（），；]|[：（），；][A-Za-z]')


def visible(page: str) -> str:
    """The text a reader sees: no scripts, styles or tags (adjacent elements stay adjacent), entities decoded."""
    text = re.sub(r'<(script|style)\b.*?</\1>', ' ', page, flags=re.S)
    return html_lib.unescape(re.sub(r'<[^>]+>', '', text))


def mixed(page: str) -> list[str]:
    """The places where English text touches full-width punctuation, with a little context each."""
    text = visible(page)
    return [text[max(m.start() - 30, 0):m.end() + 30].replace('\n', ' ') for m in MIXED.finditer(text)]


def english(client, url, **kw) -> str:
    resp = client.get(url + ('&' if '?' in url else '?') + 'lang=en', **kw)
    assert resp.status_code == 200, (url, resp.status_code)
    page = resp.get_data(as_text=True)
    assert '<html lang="en">' in page, url
    return page


def chinese(client, url) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return resp.get_data(as_text=True)


def text_of(page: str) -> str:
    """Visible text with runs of white space as one space, for asserting phrases that span elements."""
    return re.sub(r'\s+', ' ', visible(page))


@pytest.fixture(autouse=True)
def jobs_inline(app, monkeypatch):
    """Exports run right after the request's commit (no Redis), as in test_exports.py."""
    monkeypatch.setitem(app.config, 'REDIS_URL', None)


# ----------------------------------------------------------------------------------------------- builders

def review_pages(api, login) -> dict:
    """A case the station approved with a comment, now claimed at the street; a second case the station rejected;
    a third one waiting for the station."""
    vol, station = api('vol_zhang'), api('station_xicun')
    inst = submit(vol, 1, notes='行动不便，需上门')
    first = my_task(station, inst)['id']
    r = station.post(f'/tasks/{first}/complete', json={'decision': 'approve', 'reason': '已电话核实身份'})
    street_task = next(t for t in r.get_json()['instance']['open_tasks'] if t['lane'] == 'street_admin')['id']
    street = login('street_xinshi')
    assert street.post(f'/inbox/tasks/{street_task}/claim').status_code == 302
    rejected = submit(vol, 2)
    t = my_task(station, rejected)['id']
    assert station.post(f'/tasks/{t}/complete', json={'decision': 'reject', 'reason': '身份证照片不清晰'}).status_code == 200
    submit(vol, 3)  # waits for the station: a row in its inbox and an unread message
    web, phone = login('station_xicun'), login('vol_zhang')
    return {'street task': (street, f'/inbox/tasks/{street_task}'), 'handled task': (web, f'/inbox/tasks/{first}'),
            'case': (web, f'/cases/{inst}'), 'rejected case': (web, f'/cases/{rejected}'),
            'phone case': (phone, f'/m/cases/{rejected}'), 'phone resubmit': (phone, f'/m/cases/{rejected}/resubmit'),
            'admin instance': (login('admin'), f'/admin/instances/{inst}'),
            'admin editor': (login('admin'), '/admin/processes/service_object_entry'),
            'messages': (web, '/messages'), 'inbox': (web, '/inbox')}


def order_pages(api, login) -> dict:
    """A finished order (vol_li got 3 points), an open order two volunteers accepted and the station approved
    on the batch page, and a cancelled order with its reason."""
    from tests.web.test_v_order_lifecycle import complete, open_task, test_provider_lifecycle_awards_points_once
    from tests.web.test_v_order_rules import publish
    test_provider_lifecycle_awards_points_once(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    so = station.get('/service-objects?view=approved').get_json()['items'][0]['id']
    done_id = station.get('/orders').get_json()['items'][0]['id']
    inst = publish(publisher, so, volunteers_needed=2)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    li, wang = login('vol_li'), login('vol_wang')
    accept = open_task(api('vol_li'), inst['id'])['id']
    assert li.post(f'/m/orders/accept/{accept}', data={'note': '我有空'}).status_code == 302
    assert wang.post(f'/m/orders/accept/{accept}', data={'note': ''}).status_code == 302
    reviews = [t['id'] for t in station.get('/tasks?state=open').get_json()['items'] if t['instance_id'] == inst['id']]
    assert len(reviews) == 2
    waiting = publish(publisher, so, title='等人接的订单')
    complete(station, open_task(station, waiting['id']), decision='approve', data={'dispatch_mode': 'open'})
    cancelled = publish(publisher, so, title='取消的订单')
    cancelled_id = int(cancelled['business_key'].split(':')[1])
    assert publisher.post(f'/orders/{cancelled_id}/cancel', json={'reason': '家属已安排'}).status_code == 200
    order_id = int(inst['business_key'].split(':')[1])
    owner = login('vol_zhang')
    return {'open orders': (wang, '/m/orders/open'), 'batch': (login('station_xicun'), reviews),
            'finished order': (owner, f'/orders/{done_id}'), 'accepted order': (owner, f'/orders/{order_id}'),
            'cancelled order': (owner, f'/orders/{cancelled_id}')}


def export_pages(api, login) -> dict:
    submit(api('vol_zhang'), 0)
    station = api('station_xicun')
    assert station.post('/exports', json={'kind': 'tasks', 'state': 'approve', 'q': '长者'}).status_code == 202
    return {'exports': (login('station_xicun'), '/exports?kind=tasks&state=approve&view=all&q=长者')}


def activity_pages(api, login) -> dict:
    from tests.web.test_activity_flow import decide
    from tests.web.test_activity_pages import FORM
    team = login('team_a')
    resp = team.post('/activities/new', data={**FORM, 'tags_extra': '理发，修甲'})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    inst = int(re.search(r'/activities/cases/(\d+)', resp.headers['Location']).group(1))
    decide(api('gzva'), inst, 'reject', '请注明需要几名理发师')
    api('gzva').post('/sensitive-words', json={'word': '义剪'})
    return {'activity case': (team, f'/activities/cases/{inst}'),
            'activity resubmit': (team, f'/activities/cases/{inst}/resubmit'),
            'activity admin': (login('gzva'), '/activities/admin')}


def batch_result(client, task_ids, lang='') -> str:
    resp = client.post('/inbox/batch' + lang, data={'task_ids': [str(i) for i in task_ids], 'decision': 'approve'},
                       follow_redirects=True)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


# ----------------------------------------------------------------------------------------------- English

def assert_english(pages: dict):
    for name, (client, url) in pages.items():
        page = english(client, url)
        assert not mixed(page), (name, mixed(page))


def test_review_pages_punctuate_in_english(api, login):
    pages = review_pages(api, login)
    assert_english(pages)
    street = text_of(english(*pages['street task']))
    assert re.search(r'Why this is in my reviews: Role [^,]+, Scope 新市街', street), street
    assert 'Claimed by: ' in street and 'Comment: 已电话核实身份' in street
    assert '张建国 (西村街) · ' in street, 'who submitted, then their unit in brackets'
    assert 'This task has been handled: Approve' in text_of(english(*pages['handled task']))
    assert 'Status: ' in text_of(english(*pages['case']))
    phone = text_of(english(*pages['phone case']))
    assert 'Status: ' in phone and '(西村街社工站)' in phone and '身份证照片不清晰' in phone
    admin = text_of(english(*pages['admin instance']))
    assert 'Current step: ' in admin and 'Claimed by: ' in admin
    assert 'Process editor: ' in text_of(english(*pages['admin editor']))
    assert re.search(r'社工站, \S+社工站', text_of(english(*pages['inbox']))), 'the scopes of a row'


def test_order_pages_punctuate_in_english(api, login):
    pages = order_pages(api, login)
    client, reviews = pages.pop('batch')
    done = batch_result(client, reviews, '?lang=en')
    assert not mixed(done), mixed(done)
    assert 'Approve selected: 2 succeeded, 0 failed' in text_of(done)
    assert_english(pages)
    finished = text_of(english(*pages['finished order']))
    assert 'Status: ' in finished and '李晓敏 (Confirmed, 3 points)' in finished
    accepted = text_of(english(*pages['accepted order']))
    assert '李晓敏 (Confirmed)' in accepted and '王小明 (Confirmed)' in accepted
    assert 'Acceptor review (李晓敏)' in accepted and 'Acceptor review (王小明)' in accepted
    assert 'Reason: 家属已安排' in text_of(english(*pages['cancelled order']))


def test_exports_page_punctuates_in_english(api, login):
    pages = export_pages(api, login)
    assert_english(pages)
    page = text_of(english(*pages['exports']))
    assert re.search(r'Review list \(filtered by [^)]+\)', page), page
    assert re.search(r'Filters kept from the list: Review status: Approved; ', page), page


def test_activity_pages_punctuate_in_english(api, login):
    pages = activity_pages(api, login)
    assert_english(pages)
    admin = text_of(english(*pages['activity admin']))
    assert re.search(r'Sensitive words \(\d+\)', admin) and re.search(r'\w \(0\)', admin), admin
    resubmit = english(*pages['activity resubmit'])
    assert 'value="理发, 修甲"' in resubmit
    case = text_of(english(*pages['activity case']))
    assert re.search(r'[A-Za-z], 理发, 修甲', case) and '、' not in case.split('理发')[0][-3:], 'tags joined the English way'


def test_form_errors_punctuate_in_english(login):
    phone = login('vol_zhang')
    resp = phone.post('/m/service-objects/new?lang=en', data=page_form(name='', community=''))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert not mixed(page), mixed(page)
    assert re.search(r'Name: This field is required', text_of(page)), text_of(page)


# ----------------------------------------------------------------------------------------------- Chinese

def test_chinese_pages_keep_full_width_punctuation(api, login):
    pages = review_pages(api, login)
    street = text_of(chinese(*pages['street task']))
    assert re.search(r'为什么在我的待办中：角色 \S+，范围 新市街', street), street
    assert '认领人：' in street and '意见：已电话核实身份' in street and '张建国（西村街） · ' in street
    assert '该任务已处理：通过' in text_of(chinese(*pages['handled task']))
    assert '状态：' in text_of(chinese(*pages['case']))
    phone = chinese(*pages['phone case'])
    assert '<p class="reason-who">社工站初审（西村街社工站）的意见：</p>' in phone
    admin = text_of(chinese(*pages['admin instance']))
    assert '当前步骤：' in admin and '认领人：' in admin
    assert '流程编辑：' in text_of(chinese(*pages['admin editor']))
    assert '<span class="sr-only">（未读）</span>' in chinese(*pages['messages'])

    assert re.search(r'社工站、\S+社工站', text_of(chinese(*pages['inbox'])))

    form = login('vol_zhang').post('/m/service-objects/new', data=page_form(name='')).get_data(as_text=True)
    assert '姓名：此项为必填项' in text_of(form)

    activity = activity_pages(api, login)
    admin = chinese(*activity['activity admin'])
    assert '<h2>白名单（0）</h2>' in admin and '<h2>敏感词（1）</h2>' in admin
    assert '<p class="reason-who">广志协审核（广州市）的意见：</p>' in chinese(*activity['activity case'])
    assert 'value="理发，修甲"' in chinese(*activity['activity resubmit'])


def test_chinese_order_and_export_pages_keep_full_width_punctuation(api, login):
    pages = order_pages(api, login)
    client, reviews = pages.pop('batch')
    assert '批量通过：成功 2 条，失败 0 条' in text_of(batch_result(client, reviews))
    finished = chinese(*pages['finished order'])
    assert '<p class="status-line">状态：<strong' in finished and '李晓敏（已确定，3 积分）' in text_of(finished)
    accepted = text_of(chinese(*pages['accepted order']))
    assert '李晓敏（已确定）' in accepted and '王小明（已确定）' in accepted
    assert '原因：家属已安排' in text_of(chinese(*pages['cancelled order']))
    assert '时间：' in text_of(chinese(*pages['open orders'])) and '地址：' in text_of(chinese(*pages['open orders']))
    exports = text_of(chinese(*export_pages(api, login)['exports']))
    assert re.search(r'审核列表（按\S+筛选）', exports) and '沿用列表的筛选条件：审核状态：已通过；' in exports


# ----------------------------------------------------------------------------------------------- the filters

@pytest.mark.parametrize('lang, shown', [('zh', ['状态：', 'a&lt;b：', '<i>x</i>：', '李晓敏（0）', '李晓敏', '李晓敏']),
                                         ('en', ['状态: ', 'a&lt;b: ', '<i>x</i>: ', '李晓敏 (0)', '李晓敏', '李晓敏'])])
def test_colon_and_paren_filters(app, lang, shown):
    """Labels and notes are escaped unless already markup; a note of 0 is shown, None or '' is no note."""
    with app.test_request_context(f'/?lang={lang}'):
        template = app.jinja_env.from_string(
            "{{ '状态'|colon }}|{{ 'a<b'|colon }}|{{ x|colon }}|{{ '李晓敏'|paren(0) }}|{{ '李晓敏'|paren(none) }}"
            "|{{ '李晓敏'|paren('') }}")
        from markupsafe import Markup
        assert template.render(x=Markup('<i>x</i>')).split('|') == shown
