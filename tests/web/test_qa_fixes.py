"""Found walking the app as its users: a rejected V-order is corrected on the phone with its own form, an open
order cannot be locked by claiming its accept task, and nobody accepts an order whose service has started."""
import re
from datetime import date, timedelta

from app.extensions import db
from app.models import VOrder
from app.models.base import utcnow
from app.services.exports import BEIJING
from tests.helpers import served_day, upload_png
from tests.web.test_v_order_dispatch import RATINGS
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data, travel_past_service


def _rejected_order(api):
    so = approved_object(api)
    vol, station = api('vol_zhang'), api('station_xicun')
    inst = vol.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='reject', reason='地址不完整')
    return so, inst


def test_a_rejected_order_is_corrected_on_its_own_form_with_what_was_sent(api, login):
    so, inst = _rejected_order(api)
    web = login('vol_zhang')
    task = open_task(api('vol_zhang'), inst['id'])
    r = web.get(f'/inbox/tasks/{task["id"]}')
    assert r.status_code == 302 and r.headers['Location'].endswith(f'/m/cases/{inst["id"]}/resubmit?back=inbox')
    page = web.get(f'/m/cases/{inst["id"]}/resubmit').get_data(as_text=True)
    assert 'name="title"' in page and 'value="陪陈伯复诊"' in page and 'id_number' not in page
    sent = db.session.scalar(db.select(VOrder).where(VOrder.instance_id == inst['id']))
    shown = sent.start_at.astimezone(BEIJING).strftime('%Y-%m-%dT%H:%M')  # the API sent UTC; the form shows Beijing
    assert f'value="{shown}"' in page, shown
    assert re.search(rf'<option value="{so}"[^>]*selected', page) or re.search(rf'value="{so}"[^>]*checked', page)
    values = order_data([so], address='荔湾区西村街 1 号 3 栋 201')
    form = {k: v for k, v in values.items() if k not in ('location', 'service_object_ids')}
    start = (utcnow() + timedelta(days=1)).astimezone(BEIJING)
    form.update({'service_object_ids': str(so), 'location.lat': '23.13', 'location.lng': '113.25',
                 'start_at': start.strftime('%Y-%m-%dT%H:%M'),
                 'end_at': (start + timedelta(hours=2)).strftime('%Y-%m-%dT%H:%M')})
    r = web.post(f'/m/cases/{inst["id"]}/resubmit', data=form)
    body = r.get_data(as_text=True)
    if r.status_code != 302:
        raise AssertionError(re.findall(r'class="field-error"[^>]*>(.*?)</p>', body)[:5])
    db.session.expire_all()
    order = db.session.scalar(db.select(VOrder).where(VOrder.instance_id == inst['id']))
    assert order.status == 'pending_review' and order.address == '荔湾区西村街 1 号 3 栋 201'


def test_an_accept_task_cannot_be_claimed(api):
    so = approved_object(api)
    vol, station, li = api('vol_zhang'), api('station_xicun'), api('vol_li')
    inst = vol.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    task = open_task(li, inst['id'])  # not the publisher's: nobody is offered their own order
    r = li.post(f'/tasks/{task["id"]}/claim')
    assert r.status_code == 409 and r.get_json()['message'] == '接单任务不能认领，请直接接单'
    assert r.get_json()['error'] == 'not_claimable'
    complete(li, open_task(li, inst['id']), data={'note': '可以'})


def test_nobody_accepts_an_order_whose_service_has_started(api):
    so = approved_object(api)
    vol, station, li = api('vol_zhang'), api('station_xicun'), api('vol_li')
    inst = vol.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    order = db.session.scalar(db.select(VOrder).where(VOrder.instance_id == inst['id']))
    order.start_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    r = li.post(f'/tasks/{open_task(li, inst["id"])["id"]}/complete', json={'data': {'note': '可以'}})
    assert r.status_code == 422 and r.get_json()['errors']['note'] == ['该订单的服务已开始，不能再接单']


def _at_certification(api):
    so = approved_object(api)
    vol, station, li = api('vol_zhang'), api('station_xicun'), api('vol_li')
    inst = vol.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    complete(li, open_task(li, inst['id']), data={'note': '可以'})
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    travel_past_service(inst['id'])
    complete(vol, open_task(vol, inst['id']), data={**RATINGS, 'rating_skill': 4, 'comment': '很耐心'})
    return inst


def _certificate(client, **overrides):
    day = served_day()
    data = {'service_start_date': day, 'service_end_date': day, 'person_times': 1, 'object_count': 1,
            'volunteer_count': 1, 'service_hours': 3, 'summary': '陪同复诊顺利', 'results': '长者满意',
            'photos': [upload_png(client)]}
    return {**data, **overrides}


def test_a_certification_must_fit_the_order(api):
    inst = _at_certification(api)
    station = api('station_xicun')
    task = open_task(station, inst['id'])
    day = date.fromisoformat(served_day())
    cases = {'service_start_date': _certificate(station, service_start_date=(day - timedelta(days=3)).isoformat()),
             'service_hours': _certificate(station, service_hours=30),
             'volunteer_count': _certificate(station, volunteer_count=7),
             'object_count': _certificate(station, object_count=2)}
    for field, data in cases.items():
        r = station.post(f'/tasks/{task["id"]}/complete', json={'data': data})
        assert r.status_code == 422 and list(r.get_json()['errors']) == [field], (field, r.get_json())
    assert '（1 人）' in station.post(f'/tasks/{task["id"]}/complete', json={'data': cases['volunteer_count']}
                                      ).get_json()['errors']['volunteer_count'][0]
    complete(station, task, data=_certificate(station))


def test_the_association_sees_what_it_certifies_and_a_returned_certification_is_kept(api, login):
    inst = _at_certification(api)
    station, gzva = api('station_xicun'), api('gzva')
    cert = _certificate(station)
    complete(station, open_task(station, inst['id']), data=cert)
    review = open_task(gzva, inst['id'])
    page = login('gzva').get(f'/inbox/tasks/{review["id"]}').get_data(as_text=True)
    for text in ('认证·服务情况纪要', '陪同复诊顺利', '长者满意', '认证·每位志愿者服务时长（小时）',
                 '评价·服务技能', '★★★★☆', '很耐心', f'/files/{cert["photos"][0]}'):
        assert text in page, text
    complete(gzva, review, decision='reject', reason='照片看不清')
    again = open_task(station, inst['id'])
    page = login('station_xicun').get(f'/inbox/tasks/{again["id"]}').get_data(as_text=True)
    assert 'value="陪同复诊顺利"' in page or '>陪同复诊顺利</textarea>' in page
    assert f'name="photos" value="{cert["photos"][0]}"' in page


def test_a_provider_dispatches_only_to_its_own_volunteers(api, login):
    so = approved_object(api)
    vol, station, provider = api('vol_zhang'), api('station_xicun'), api('provider_a')
    inst = vol.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    task = open_task(provider, inst['id'])
    page = login('provider_a').get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    options = re.findall(r'<option value="(vol_[a-z]+)"', page)
    assert options == ['vol_li']


def test_an_id_number_of_someone_born_before_1900_is_refused(api):
    from app.services.validators import id_check_digit, is_valid_id
    old = '44010518000101300'
    assert not is_valid_id(old + id_check_digit(old))
    r = api('vol_zhang').post('/processes/service_object_entry/instances', json={'data': {
        'id_number': old + id_check_digit(old)}})
    assert r.status_code == 422 and 'id_number' in r.get_json()['errors']
    fine = '44010519000101300'
    assert is_valid_id(fine + id_check_digit(fine))


def _unread(username):
    from sqlalchemy import select

    from app.models import Message, User
    db.session.expire_all()
    return db.session.scalars(select(Message).join(User, User.id == Message.user_id).where(
        User.username == username, Message.read_at.is_(None))).all()


def test_handled_tasks_leave_no_unread_messages_and_volunteers_are_sent_to_the_open_orders(api, login):
    so = approved_object(api)
    vol, station, li, wang = api('vol_zhang'), api('station_xicun'), api('vol_li'), api('vol_wang')
    inst = vol.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    review = open_task(station, inst['id'])
    assert [m.link for m in _unread('station_xicun')] == [f'/inbox/tasks/{review["id"]}']
    complete(station, review, decision='approve', data={'dispatch_mode': 'open'})
    assert _unread('station_xicun') == []  # the review is done: its 新待办 no longer waits for anybody
    accept = open_task(li, inst['id'])
    assert f'/m/orders/open#task-{accept["id"]}' in [m.link for m in _unread('vol_wang')]
    page = login('vol_wang').get('/m/orders/open').get_data(as_text=True)
    assert f'id="task-{accept["id"]}"' in page
    complete(li, accept, data={'note': '可以'})
    assert not [m for m in _unread('vol_wang') if m.link.endswith(f'#task-{accept["id"]}')]
    assert wang.get('/messages?unread=1').status_code == 200


def test_volunteers_hear_about_their_points(api):
    from tests.web.test_v_order_lifecycle import test_provider_lifecycle_awards_points_once
    test_provider_lifecycle_awards_points_once(api)
    titles = [m.title for m in _unread('vol_li')]
    assert any(t.startswith('养老时间积分到账：+3 分（V订单「陪陈伯复诊」，3.5 小时）') for t in titles), titles


def test_the_process_admin_starts_at_the_review_chains(login):
    r = login('admin').get('/')
    assert r.status_code == 302 and r.headers['Location'].endswith('/admin/processes')
    assert login('station_xicun').get('/').headers['Location'].endswith('/inbox')


def test_a_page_past_the_end_offers_the_way_back(login):
    page = login('station_xicun').get('/inbox?page=99').get_data(as_text=True)
    assert '回到最后一页' in page and '上一页' not in page


def test_a_volunteer_reads_messages_in_the_phone_layout(login):
    assert 'class="phone"' in login('vol_zhang').get('/messages').get_data(as_text=True)
    assert 'class="phone"' not in login('station_xicun').get('/messages').get_data(as_text=True)


def test_the_order_list_exports_what_it_shows(login):
    page = login('station_xicun').get('/orders?status=done&q=陪&from=2026-11-01&to=2026-11-30').get_data(as_text=True)
    link = re.search(r'href="(/exports\?[^"]+)"', page).group(1).replace('&amp;', '&')
    form = login('station_xicun').get(link).get_data(as_text=True)
    assert 'value="orders" selected' in form and 'name="status" value="done"' in form
    assert 'value="2026-11-01"' in form and 'value="2026-11-30"' in form and 'value="陪"' in form


def test_the_reason_of_a_rejection_goes_once_the_corrected_version_is_approved(api, login):
    from tests.helpers import entry_data, start_entry
    vol, station, street = api('vol_zhang'), api('station_xicun'), api('street_xicun')
    inst = start_entry(vol).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='reject', reason='证明材料不清晰')
    page = login('vol_zhang')
    assert '查看原因' in page.get(f'/m/cases/{inst["id"]}').get_data(as_text=True)
    complete(vol, open_task(vol, inst['id']), data=entry_data([upload_png(vol)], name='陈伯'))
    # sent again: back under review, the reason is in the history, not a 查看原因 button beside 待社工站初审
    again = page.get(f'/m/cases/{inst["id"]}').get_data(as_text=True)
    assert '查看原因' not in again and '证明材料不清晰' in again
    complete(station, open_task(station, inst['id']), decision='approve')
    complete(street, open_task(street, inst['id']), decision='approve')
    case = page.get(f'/m/cases/{inst["id"]}').get_data(as_text=True)
    assert '查看原因' not in case and '证明材料不清晰' in case  # still in the history, no longer the outcome
