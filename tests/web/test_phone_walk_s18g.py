"""Phone walk (walk_phone items 4, 6, 12, 14): unread messages are marked, decision and offer messages can be worded
by their process in the reader's words (sign-ups: 报名成功 / 报名未通过; V-orders: 有新的订单可以接), the order page
has a back link that fits who reads it, the volunteer home has the points tiles, and 我的提交 filters by kind and
tells when a corrected case was sent again."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Decision, Message, User
from app.services import messages, transaction
from app.services.hooks import ProcessHooks
from app.services.service_objects import ServiceObjectHooks
from tests.helpers import entry_data, start_entry, upload_png
from tests.web.conftest import open_task, unique_id
from tests.web.test_activity_signups import publish as publish_activity
from tests.web.test_activity_signups import sign_up, signup_tasks
from tests.web.test_v_order_lifecycle import approved_object, complete
from tests.web.test_v_order_lifecycle import open_task as order_task
from tests.web.test_v_order_rules import publish as publish_order


def user(name) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def titles(username, **where) -> list[str]:
    db.session.expire_all()
    stmt = select(Message.title).where(Message.user_id == user(username).id).order_by(Message.id)
    for column, value in where.items():
        stmt = stmt.where(getattr(Message, column) == value)
    return list(db.session.scalars(stmt))


# ---- 1. unread and read messages look different -------------------------------------------------------------

def _rows(html: str) -> dict[str, str]:
    """{title: its table row's html} of the message list."""
    found = {}
    for row in re.findall(r'<tr class="(?:unread|read)">.*?</tr>', html, re.S):
        link = re.search(r'<a href="/messages/\d+">(.*?)</a>', row, re.S).group(1)
        found[re.sub(r'<[^>]+>|（未读）', '', link).strip()] = row
    return found


def test_an_unread_message_has_a_dot_and_bold_title_and_a_read_one_neither(login):
    zhang = user('vol_zhang')
    with transaction():
        messages.send([zhang.id], kind='info', title='还没看的消息', link='/m/')
        [seen] = messages.send([zhang.id], kind='info', title='已经看过的消息', link='/m/points')
    messages.mark_read(zhang, seen.id)
    rows = _rows(login('vol_zhang').get('/messages').get_data(as_text=True))
    unread, read = rows['还没看的消息'], rows['已经看过的消息']
    assert 'class="unread-dot"' in unread and '<strong>' in unread
    assert '<span class="sr-only">（未读）</span>' in unread  # the screen reader still hears it
    assert 'unread-dot' not in read and '<strong>' not in read and '（未读）' not in read


def test_the_stylesheet_sets_read_titles_in_normal_weight_and_draws_the_dot(client):
    css = client.get('/static/css/app.css').get_data(as_text=True)
    assert re.search(r'table\.messages tr\.read td\.title-cell a \{[^}]*font-weight:400', css)
    assert re.search(r'table\.messages \.unread-dot \{[^}]*background:var\(--brand\)', css)


# ---- 2. a process words its messages (the generic mechanism) ---------------------------------------------

def test_a_process_may_word_the_submitters_decision_message(api, monkeypatch):
    def decision_text(self, instance, decision):
        return f'退回：{instance.title}（{decision.reason}）' if decision.decision == 'reject' else None
    monkeypatch.setattr(ServiceObjectHooks, 'decision_text', decision_text, raising=False)
    inst = start_entry(api('vol_zhang')).get_json()['instance']
    station = api('station_xicun')
    complete(station, open_task(station, inst['id']), decision='reject', reason='照片不清晰')
    [told] = titles('vol_zhang', kind='decision')
    assert told == f'退回：{inst["title"]}（照片不清晰）'
    assert '您的提交' not in told


def test_without_its_own_words_the_decision_message_is_the_generic_one(api):
    assert ProcessHooks().decision_text(None, None) is None and ProcessHooks().task_title(None) is None
    inst = start_entry(api('vol_zhang')).get_json()['instance']
    station = api('station_xicun')
    complete(station, open_task(station, inst['id']), decision='reject', reason='照片不清晰')
    assert titles('vol_zhang', kind='decision') == [f'您的提交「{inst["title"]}」社工站初审：不通过，原因：照片不清晰']


def test_a_process_may_word_the_new_task_message(api, monkeypatch):
    monkeypatch.setattr(ServiceObjectHooks, 'task_title',
                        lambda self, task: f'请初审：{task.instance.title}' if task.bpmn_id == 'station_review' else None,
                        raising=False)
    inst = start_entry(api('vol_zhang')).get_json()['instance']
    assert titles('station_xicun', kind='task') == [f'请初审：{inst["title"]}']


# ---- 2. sign-up results and order offers in the volunteer's words (SignupHooks / VOrderHooks) ---------------

def test_a_sign_up_result_tells_the_volunteer_in_their_words(api):
    act = publish_activity(api)
    li, wang, team = api('vol_li'), api('vol_wang'), api('team_a')
    assert sign_up(li, act).status_code == 201 and sign_up(wang, act).status_code == 201
    first, second = sorted(signup_tasks(team), key=lambda t: t['id'])
    complete(team, first, decision='approve')
    complete(team, second, decision='reject', reason='名额已满，欢迎报名下次活动')
    assert titles('vol_li', kind='decision') == ['报名成功：您已被录取参加「重阳节敬老探访」（2030-10-11 09:00，西村街长者饭堂）']
    assert titles('vol_wang', kind='decision') == ['报名未通过：「重阳节敬老探访」，原因：名额已满，欢迎报名下次活动']


def test_an_order_open_to_volunteers_is_offered_in_their_words(api):
    so = approved_object(api)
    station = api('station_xicun')
    inst = publish_order(station, so)
    complete(station, order_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    for name in ('vol_li', 'vol_wang', 'vol_zhang'):
        assert titles(name, kind='task') == ['有新的订单可以接：陪陈伯复诊'], name


# ---- 3. the order page's back link --------------------------------------------------------------------------

def _back(html: str) -> tuple[str, str]:
    match = re.search(r'<p class="back"><a href="([^"]*)">‹ ([^<]*)</a></p>', html)
    assert match, 'the order page has no back link'
    return match.group(1).replace('&amp;', '&'), match.group(2)


def _accepted_order(api) -> int:
    """An order open to volunteers that vol_li accepted; its id."""
    so = approved_object(api)
    station, li = api('station_xicun'), api('vol_li')
    inst = publish_order(station, so)
    complete(station, order_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    complete(li, order_task(li, inst['id'], '志愿者接单'), data={'note': '我有空'})
    return int(inst['business_key'].split(':')[1])


def test_the_order_page_leads_a_volunteer_back_to_my_orders(api, login):
    order = _accepted_order(api)
    # opened from a message: the message list is no order list
    page = login('vol_li').get(f'/orders/{order}', headers={'Referer': 'http://localhost/messages'})
    assert _back(page.get_data(as_text=True)) == ('/m/orders', '我的订单')


def test_the_order_page_leads_back_office_users_to_the_order_list_they_came_from(api, login):
    order = _accepted_order(api)
    station = login('station_xicun')
    assert _back(station.get(f'/orders/{order}').get_data(as_text=True)) == ('/orders', '订单管理')
    came = station.get(f'/orders/{order}', headers={'Referer': 'http://localhost/orders?status=open&page=2'})
    assert _back(came.get_data(as_text=True)) == ('/orders?status=open&page=2', '订单管理')
    mine = station.get(f'/orders/{order}', headers={'Referer': 'http://localhost/m/orders'})
    assert _back(mine.get_data(as_text=True)) == ('/m/orders', '我的订单')
    elsewhere = station.get(f'/orders/{order}', headers={'Referer': 'http://other.example/orders?status=open'})
    assert _back(elsewhere.get_data(as_text=True)) == ('/orders', '订单管理')


# ---- 4. home tiles, 我的提交's 类型 filter and resubmission time -----------------------------------------------

def _tiles(html: str) -> dict[str, str]:
    """{tile words: address} of the phone home's tiles."""
    return {re.sub(r'<[^>]+>', '', m.group(2)).strip(): m.group(1) for m in re.finditer(
        r'<a class="tile[^"]*" href="([^"]*)"><span class="tile-icon" aria-hidden="true">[^<]*</span>([^<]*)</a>', html)}


def test_the_volunteer_home_has_the_points_shop_and_my_points_tiles(login):
    tiles = _tiles(login('vol_zhang').get('/m/').get_data(as_text=True))
    assert tiles['积分商城'] == '/m/shop' and tiles['我的积分'] == '/m/points'
    station = _tiles(login('station_xicun').get('/m/').get_data(as_text=True))
    assert '积分商城' not in station and '我的积分' not in station  # a station account has no points


def _cards(html: str) -> list[str]:
    return [re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', c)).strip()
            for c in re.findall(r'<li class="card case">(.*?)</li>', html, re.S)]


def test_my_submissions_filter_by_kind_and_keep_it_across_pages(api, login):
    act = publish_activity(api)
    zhang = api('vol_zhang')
    assert sign_up(zhang, act).status_code == 201
    for i, name in enumerate('甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌'):  # 21 elders: a second page
        assert start_entry(zhang, id_number=unique_id(i), name=f'长者{name}').status_code == 201
    page = login('vol_zhang')
    html = page.get('/m/cases').get_data(as_text=True)
    chips = dict(re.findall(r'<a href="(/m/cases[^"]*)"[^>]*>([^<]+)<span class="count">', html))
    assert chips == {'/m/cases': '全部', '/m/cases?process=service_object_entry': '服务对象',
                     '/m/cases?process=activity_signup': '活动报名'}
    signups = page.get('/m/cases?process=activity_signup').get_data(as_text=True)
    assert [c.split(' ')[0] for c in _cards(signups)] == ['张建国报名「重阳节敬老探访」']
    assert 'href="/m/cases?process=activity_signup" aria-current="page"' in signups
    objects = page.get('/m/cases?process=service_object_entry').get_data(as_text=True)
    assert len(_cards(objects)) == 20 and '第 1 / 2 页，共 21 条' in objects
    assert 'href="/m/cases?process=service_object_entry&amp;page=2"' in objects
    second = page.get('/m/cases?process=service_object_entry&page=2').get_data(as_text=True)
    assert len(_cards(second)) == 1 and '活动报名' not in ''.join(_cards(second))
    # a kind one never submitted shows everything, not an empty list
    assert '共 22 条' in page.get('/m/cases?process=nonsense').get_data(as_text=True)


def test_a_resubmitted_case_shows_when_it_was_sent_again(api, login):
    zhang, station = api('vol_zhang'), api('station_xicun')
    inst = start_entry(zhang).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='reject', reason='照片不清晰')
    first = db.session.scalar(select(Decision).where(Decision.instance_id == inst['id'], Decision.decision == 'submit'))
    first.at = first.at.replace(year=2026, month=11, day=30, hour=11, minute=40)  # 19:40 Beijing, the day before
    db.session.commit()
    task = open_task(zhang, inst['id'])
    complete(zhang, task, data=entry_data([upload_png(zhang)], name='陈伯伯'))
    [card] = _cards(login('vol_zhang').get('/m/cases').get_data(as_text=True))
    assert '首次提交于 2026-11-30 19:40' in card and '重新提交于 ' in card
    assert '重新提交于 2026-11-30 19:40' not in card
