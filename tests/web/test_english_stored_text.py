"""Texts the app stores in Chinese when it writes a record read in the reader's language: a V-order dispatch's
history row (社工站发布审核（派给服务商：…）), case titles it builds (赠予…：…, …报名「…」, a service object's name
and masked ID number), the whitelist skip's reason; the editor's Version tab names steps in English; a star is
"1 star"; a duplicate ID number tells its own submitter plainly which entry it is. Chinese pages read as before."""
import re
from html import unescape

from sqlalchemy import select

from app.extensions import db
from app.models import Decision, VOrder, WorkflowInstance
from app.services.step_names import SEPARATOR
from tests.helpers import start_entry
from tests.web.shop_helpers import BATH, award, review_task, started_gift
from tests.web.test_activity_pages import FORM as ACTIVITY_FORM
from tests.web.test_activity_signups import publish as publish_activity
from tests.web.test_activity_signups import sign_up, signup_tasks
from tests.web.test_dispatch_choice_history_s18e import PROVIDER_ROW, VOLUNTEER_ROW, _published
from tests.web.test_v_order_lifecycle import complete, open_task, travel_past_service
from tests.web.test_v_order_rules import staffed_order


def _text(html):
    return unescape(re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', html)))


def _heads(html):
    return [_text(h).strip() for h in re.findall(r'<div class="h-head"><strong>(.*?)</strong>', html, re.S)]


def _h1(html):
    return _text(re.search(r'<h1>(.*?)</h1>', html, re.S).group(1)).strip()


def test_dispatch_history_rows_name_step_and_choice_in_english(api, login):
    inst = _published(api)
    station = api('station_xicun')
    complete(station, open_task(station, inst['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    provider = api('provider_a')
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    # stored in Chinese, as before: rows written earlier read the same way
    titles = db.session.scalars(select(Decision.task_title).where(Decision.instance_id == inst['id'])).all()
    assert PROVIDER_ROW in titles and VOLUNTEER_ROW in titles
    order = db.session.scalar(select(VOrder.id).where(VOrder.instance_id == inst['id']))
    page = login('provider_a')
    en = _heads(page.get(f'/orders/{order}?lang=en').get_data(as_text=True))
    assert 'Station publish review (offered to service provider: 颐康居家养老服务中心)' in en, en
    assert 'Provider dispatch (dispatched to volunteer: 李晓敏)' in en, en
    assert not any('（' in h for h in en), en
    zh = _heads(page.get(f'/orders/{order}?lang=zh').get_data(as_text=True))
    assert PROVIDER_ROW in zh and VOLUNTEER_ROW in zh, zh
    mine = login('vol_zhang').get(f'/m/cases/{inst["id"]}?lang=en').get_data(as_text=True)
    assert 'Provider dispatch (dispatched to volunteer: 李晓敏)' in _heads(mine)


def test_an_order_opened_to_volunteers_reads_in_english_on_the_case_page(api, login):
    inst = staffed_order(api)
    station = login('station_xicun')
    en = _heads(station.get(f'/cases/{inst["id"]}?lang=en').get_data(as_text=True))
    assert 'Station publish review (open to volunteers)' in en, en
    assert '社工站发布审核（开放给志愿者接单）' in _heads(station.get(f'/cases/{inst["id"]}?lang=zh').get_data(as_text=True))


def test_a_gift_title_reads_in_english_on_pages_and_in_the_new_task_message(api, login):
    award('vol_li', 60)
    inst = started_gift(api('vol_li'), relative_name='Zhang Senior')
    stored = db.session.get(WorkflowInstance, inst['id']).title
    assert stored == f'赠予Zhang Senior：{BATH}'  # stored as before
    english = f'Gift to Zhang Senior: {BATH}'
    assert _h1(login('vol_li').get(f'/m/cases/{inst["id"]}?lang=en').get_data(as_text=True)) == english
    assert _h1(login('vol_li').get(f'/m/cases/{inst["id"]}?lang=zh').get_data(as_text=True)) == stored
    task = review_task(api('gzva'), inst['id'])
    gzva = login('gzva')
    assert _h1(gzva.get(f'/inbox/tasks/{task["id"]}?lang=en').get_data(as_text=True)).endswith(f' · {english}')
    assert _h1(gzva.get(f'/inbox/tasks/{task["id"]}?lang=zh').get_data(as_text=True)).endswith(f' · {stored}')
    [told_en] = [m['title'] for m in api('gzva', lang='en').get('/messages').get_json()['items'] if m['kind'] == 'task']
    assert told_en.startswith('New task: ') and told_en.endswith(f' · {english}'), told_en
    [told] = [m['title'] for m in api('gzva').get('/messages').get_json()['items'] if m['kind'] == 'task']
    assert told.startswith('新待办：') and told.endswith(f' · {stored}'), told


def test_a_sign_up_title_reads_in_english_and_a_typed_title_stays_as_typed(api, login):
    activity = publish_activity(api, title='重阳节敬老探访（示例）')
    assert sign_up(api('vol_li'), activity, phone='13800000002').status_code == 201
    [task] = signup_tasks(api('team_a'))
    team = login('team_a')
    assert _h1(team.get(f'/inbox/tasks/{task["id"]}?lang=en').get_data(as_text=True)).endswith(
        ' · 李晓敏 signed up for “重阳节敬老探访（示例）”')
    assert _h1(team.get(f'/inbox/tasks/{task["id"]}?lang=zh').get_data(as_text=True)).endswith(
        ' · 李晓敏报名「重阳节敬老探访（示例）」')
    # an order's title is typed by its publisher: its brackets are its own
    inst = _published(api, title='陪周奶奶复诊（上午）')
    assert _h1(login('vol_zhang').get(f'/m/cases/{inst["id"]}?lang=en').get_data(as_text=True)) == '陪周奶奶复诊（上午）'


def test_a_service_object_title_uses_the_readers_brackets(api, login):
    resp = start_entry(api('vol_zhang'), name='Test Elder')
    assert resp.status_code == 201
    inst = resp.get_json()['instance']
    stored = db.session.get(WorkflowInstance, inst['id']).title
    name, masked = re.fullmatch(r'(.+)（(\d{4}\*{10}\w{4})）', stored).groups()
    page = login('vol_zhang')
    assert _h1(page.get(f'/m/cases/{inst["id"]}?lang=en').get_data(as_text=True)) == f'Test Elder ({masked})'
    assert _h1(page.get(f'/m/cases/{inst["id"]}?lang=zh').get_data(as_text=True)) == stored


def test_the_whitelist_skip_reason_reads_in_english(login, api):
    assert api('gzva').post('/unit-lists/white', json={'org_unit': 'team_a'}).status_code == 201
    team = login('team_a')
    case_url = team.post('/activities/new', data=ACTIVITY_FORM).headers['Location']
    en = _text(team.get(case_url + '?lang=en').get_data(as_text=True))
    assert "Whitelisted unit: the association's review is skipped, as the process provides" in en
    assert '白名单单位' not in en
    assert '白名单单位，按流程免予广志协审核' in _text(team.get(case_url + '?lang=zh').get_data(as_text=True))


def test_the_version_tab_names_running_steps_in_the_readers_language(api, login):
    start_entry(api('vol_zhang'))
    admin = login('admin')
    [v1] = admin.get('/admin/api/processes/service_object_entry/versions?lang=en').get_json()
    assert v1['steps'] == [{'bpmn_id': 'station_review', 'title': '社工站初审', 'label': 'Station first review',
                            'count': 1}], v1['steps']
    [v1] = admin.get('/admin/api/processes/service_object_entry/versions?lang=zh').get_json()
    assert v1['steps'][0]['label'] == '社工站初审'
    # the list separator editor.js joins them with (JSON in the page: 、 may be written as \u3001)
    assert '"list_sep": ", "' in admin.get('/admin/processes/service_object_entry?lang=en').get_data(as_text=True)
    zh = admin.get('/admin/processes/service_object_entry?lang=zh').get_data(as_text=True)
    assert '"list_sep": "\\u3001"' in zh or f'"list_sep": "{SEPARATOR}"' in zh


def test_one_star_is_singular_in_english(api, login):
    inst = staffed_order(api)
    travel_past_service(inst['id'])
    page = login('vol_zhang')

    def names(lang):
        html = page.get(f'/m/cases/{inst["id"]}/resubmit?lang={lang}').get_data(as_text=True)
        group = html[html.index('id="f-rating_overall"'):]
        return re.findall(r'<span class="sr-only">([^<]+)</span>', group[:group.index('</div>')])
    assert names('en') == ['1 star', '2 stars', '3 stars', '4 stars', '5 stars']
    assert names('zh') == ['1 星', '2 星', '3 星', '4 星', '5 星']


def test_a_duplicate_id_tells_its_own_submitter_plainly_which_entry_it_is(api, case_at_street):
    case_at_street(name='Test Elder')  # vol_zhang's entry, under review
    en = start_entry(api('vol_zhang', lang='en'), name='Test Elder').get_json()['errors']['id_number'][0]
    day = re.fullmatch(r'You already entered this ID number on (\d{4}-\d\d-\d\d) \(Test Elder\), and that entry is under '
                       r'review\. Do not enter it twice', en).group(1)
    zh = start_entry(api('vol_zhang'), name='Test Elder').get_json()['errors']['id_number'][0]
    assert zh == f'您已于 {day} 录入过该身份证号码（Test Elder），正在审核中，请勿重复录入'
    # a reviewer who may see it is told as before, the name masked
    assert '（T*********）' in start_entry(api('station_xicun'), name='x').get_json()['errors']['id_number'][0]
