"""A volunteer keeps the phone menu on desktop pages; reviewers' menu is unchanged; a message's comment is part of
its title cell; activity-form hints speak to users; tabs wrap on a phone instead of scrolling out of sight."""
import os
import re

from tests.helpers import start_entry
from tests.web.conftest import open_task as open_case_task
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data

MAIN_NAV = re.compile(r'<nav class="mainnav"[^>]*>(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"\s*(aria-current="page")?\s*>([^<]+)</a>')
CSS = os.path.join(os.path.dirname(__file__), '..', '..', 'app', 'static', 'css', 'app.css')
PHONE_MENU = [('/m/', '首页'), ('/m/cases', '我的提交'), ('/m/shop', '积分商城'), ('/m/points', '我的积分')]


def _nav(html) -> list[tuple[str, str, bool]]:
    """(href, text, current) of the main menu's links, in order."""
    found = MAIN_NAV.search(html)
    assert found, 'no main navigation on the page'
    return [(href, text.strip(), bool(cur)) for href, cur, text in LINK.findall(found.group(1))]


def _links(html) -> list[tuple[str, str]]:
    return [(href, text) for href, text, _ in _nav(html)]


def _current(html) -> list[str]:
    return [text for _, text, cur in _nav(html) if cur]


def test_volunteer_keeps_the_phone_menu_on_desktop_pages(login):
    page = login('vol_wang')
    phone = _links(page.get('/m/').get_data(as_text=True))
    assert phone[:4] == PHONE_MENU
    assert ('/activities', '志愿活动') in phone, 'activities are reachable from the phone pages too'
    for url, here in (('/activities', '志愿活动'), ('/exports', '导出 Excel')):
        html = page.get(url).get_data(as_text=True)
        links = _links(html)
        assert links[:4] == PHONE_MENU, (url, links)
        assert ('/activities', '志愿活动') in links and ('/exports', '导出 Excel') in links
        assert not {'待办审核', '服务对象库', '订单管理'} & {t for _, t in links}
        assert _current(html) == [here]
    for href, _ in PHONE_MENU:
        assert page.get(href).status_code == 200, href


def test_volunteer_task_page_from_a_message_keeps_the_phone_menu(api, login):
    so = approved_object(api)
    inst = api('vol_zhang').post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    station = api('station_xicun')
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    task = open_task(api('vol_li'), inst['id'])
    resp = login('vol_li').get(f'/inbox/tasks/{task["id"]}')
    assert resp.status_code == 200
    links = _links(resp.get_data(as_text=True))
    assert links[:4] == PHONE_MENU and ('/activities', '志愿活动') in links


def test_volunteer_menu_in_english(login):
    page = login('vol_zhang')
    page.get('/lang/en')
    texts = [t for _, t in _links(page.get('/activities').get_data(as_text=True))]
    assert texts[:4] == ['Home', 'My submissions', 'Points shop', 'My points'], texts
    assert 'Volunteer activities' in texts and 'Export to Excel' in texts


def test_reviewer_and_admin_menus_are_unchanged(login):
    station = _links(login('station_xicun').get('/inbox').get_data(as_text=True))
    assert [t for _, t in station] == ['待办审核', '服务对象库', '订单管理', '我的提交', '兑换记录', '志愿活动', '我的活动',
                                       '团队志愿者', '导出 Excel']  # 兑换记录: the station holds shop items
    assert ('/m/', '我的提交') in station
    admin = [t for _, t in _links(login('admin').get('/inbox').get_data(as_text=True))]
    assert admin[0] == '待办审核' and '服务对象库' not in admin and '流程管理' in admin  # no service objects
    assert not {'首页', '积分商城', '我的积分'} & set(admin)
    district = [t for _, t in _links(login('district_liwan').get('/shop/review').get_data(as_text=True))]
    assert '兑换资源审核' in district and not {'首页', '积分商城', '我的积分'} & set(district)


def test_message_comment_is_under_its_title(api, login):
    vol = api('vol_zhang')
    inst_id = start_entry(vol).get_json()['instance']['id']
    station = api('station_xicun')
    complete(station, open_case_task(station, inst_id), decision='approve', reason='同意入库')
    html = login('vol_zhang').get('/messages').get_data(as_text=True)
    cell = re.search(r'<td class="title-cell">(.*?)</td>', html, re.S).group(1)
    assert '社工站初审：已通过' in cell
    assert '<div class="muted msg-body">同意入库</div>' in cell, cell
    css = open(CSS, encoding='utf-8').read()
    assert re.search(r'table\.messages td\.title-cell \{ display:block; \}', css), 'the body must flow under the title'


def test_activity_form_hints_speak_to_users(login):
    page = login('station_xicun')
    html = page.get('/activities/new').get_data(as_text=True)
    assert '（veterans）' not in html and 'veterans）' not in html
    assert '例如 2030' not in html and not re.search(r'\d{4}-\d\d-\d\dT\d\d:\d\d', html.split('<form', 1)[1])
    assert '退役军人志愿服务团队发布的活动，以及勾选“退役军人志愿活动”的活动，还需经退役军人事务局终审' in html
    assert '北京时间，不能早于现在' in html and '北京时间，须晚于开始时间' in html
    assert 'id="field-tags" aria-describedby="hint-tags"' in html and 'id="hint-tags"' in html
    assert 'id="f-start_at" name="start_at" type="datetime-local"' in html
    english = page.get('/activities/new?lang=en').get_data(as_text=True)
    assert '北京时间' not in english and '退役军人事务局终审' not in english


def test_activity_with_veterans_tag_still_goes_to_the_veterans_bureau(login, api):
    form = {'title': '慰问退役老兵', 'service_field': 'community', 'tags': ['veterans'], 'tags_extra': '',
            'street': 'xicun', 'place': '西村社区活动室', 'start_at': '2031-03-05T09:00', 'end_at': '2031-03-05T11:30',
            'recruit_count': '6', 'description': '上门慰问。'}
    team = login('team_a')
    bad = team.post('/activities/new', data={**form, 'start_at': '2031-03-05T12:00'})
    assert bad.status_code == 422 and '结束时间须晚于开始时间' in bad.get_data(as_text=True)
    resp = team.post('/activities/new', data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    case = team.get(resp.headers['Location']).get_data(as_text=True)
    assert '退役军人志愿活动' in case


def test_tabs_wrap_on_a_phone_instead_of_scrolling(login):
    page = login('vol_zhang')
    page.get('/lang/en')
    html = page.get('/m/points').get_data(as_text=True)
    tabs = re.search(r'<nav class="tabs".*?</nav>', html, re.S).group(0)
    assert 'Elderly-care time points' in tabs and 'Volunteer service points' in tabs
    css = open(CSS, encoding='utf-8').read()
    tab_rule = re.search(r'\n\.tab \{([^}]*)\}', css).group(1)
    assert 'nowrap' not in tab_rule, 'a tab label must be allowed to wrap'
    phone = css[css.index('@media (max-width: 700px)'):]
    assert re.search(r'\.tabs \{ flex-wrap:wrap;', phone) and re.search(r'\.tab \{ flex:1 1 0;', phone)
