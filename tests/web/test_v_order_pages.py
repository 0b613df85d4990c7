"""V-order pages: a volunteer publishes on the phone form, another accepts from the open-orders page."""
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Message, User
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task


def test_publish_accept_and_cancel_through_pages(api, login):
    so = approved_object(api)
    page = login('vol_zhang')
    form = page.get('/m/orders/new').get_data(as_text=True)
    assert '陈伯' in form and '为他人下单' in form and 'datetime-local' in form
    start = (datetime.now(UTC) + timedelta(days=1)).astimezone().strftime('%Y-%m-%dT%H:%M')
    end = (datetime.now(UTC) + timedelta(days=1, hours=2)).astimezone().strftime('%Y-%m-%dT%H:%M')
    data = {'title': '助洁', 'demand_type': 'others', 'service_object_ids': [str(so)], 'category': 'general',
            'service_item': 'cleaning', 'street': 'xicun', 'location.lat': '23.13', 'location.lng': '113.25',
            'address': '西村街 3 号', 'start_at': end, 'end_at': start, 'volunteers_needed': '1', 'needs': '打扫卫生'}
    bad = page.post('/m/orders/new', data=data)
    assert bad.status_code == 422 and '结束时间必须晚于开始时间' in bad.get_data(as_text=True)
    assert '西村街 3 号' in bad.get_data(as_text=True), 'typed values stay in the form'
    resp = page.post('/m/orders/new', data={**data, 'start_at': start, 'end_at': end})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    detail = page.get(resp.headers['Location']).get_data(as_text=True)
    assert '待审核' in detail and '陈伯' in detail
    station = api('station_xicun')
    inst_id = station.get('/tasks').get_json()['items'][0]['instance_id']
    complete(station, open_task(station, inst_id), decision='approve', data={'dispatch_mode': 'open'})
    li = login('vol_li')
    listing = li.get('/m/orders/open').get_data(as_text=True)
    assert '助洁' in listing and '我要接单' in listing
    task_id = open_task(api('vol_li'), inst_id)['id']
    assert li.post(f'/m/orders/accept/{task_id}', data={'note': '周末可以'}).status_code == 302
    assert '助洁' not in li.get('/m/orders/open').get_data(as_text=True)
    assert '我发布的订单' in page.get('/m/orders').get_data(as_text=True)
    order_url = resp.headers['Location']
    refused = page.post(order_url + '/cancel', data={'reason': ''})  # said at the reason box, the page kept
    assert refused.status_code == 422 and '请填写原因' in refused.get_data(as_text=True)
    assert '待审核' in page.get(order_url).get_data(as_text=True) or '待接单' in page.get(order_url).get_data(as_text=True)


def test_station_certifies_with_photos_on_the_task_page(api, login):
    from io import BytesIO

    from tests.helpers import png_bytes, served_day
    from tests.web.test_v_order_lifecycle import order_data, travel_past_service
    so = approved_object(api)
    publisher, station_api, vol_li = api('vol_zhang'), api('station_xicun'), api('vol_li')
    inst = publisher.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    station = login('station_xicun')
    review = open_task(station_api, inst['id'])
    page = station.get(f'/inbox/tasks/{review["id"]}').get_data(as_text=True)
    assert '派单方式' in page and '开放给志愿者接单' in page
    resp = station.post(f'/inbox/tasks/{review["id"]}/decide', data={'decision': 'approve', 'dispatch_mode': 'open'})
    assert resp.status_code == 302
    complete(vol_li, open_task(vol_li, inst['id']))
    complete(station_api, open_task(station_api, inst['id'], '接单人审核'), decision='approve')
    travel_past_service(inst['id'])
    ratings = {k: 5 for k in ('rating_overall', 'rating_arrangement', 'rating_effect', 'rating_attitude', 'rating_skill',
                              'rating_efficiency')}
    confirm = open_task(publisher, inst['id'])
    assert '★' in login('vol_zhang').get(f'/inbox/tasks/{confirm["id"]}', follow_redirects=True).get_data(as_text=True)
    complete(publisher, confirm, data=ratings)
    certify = open_task(station_api, inst['id'])
    today = served_day()
    form = {'service_start_date': today, 'service_end_date': today, 'person_times': '1', 'object_count': '1',
            'volunteer_count': '1', 'service_hours': '0', 'summary': '顺利', 'results': '满意'}
    bad = station.post(f'/inbox/tasks/{certify["id"]}/decide', content_type='multipart/form-data',
                       data={**form, 'photos_new': [(BytesIO(png_bytes()), 'a.png')]})
    assert bad.status_code == 422 and '应大于 0' in bad.get_data(as_text=True)
    kept = __import__('re').findall(r'name="photos" value="(\d+)"', bad.get_data(as_text=True))
    assert kept, 'the good photo is kept for the retry'
    ok = station.post(f'/inbox/tasks/{certify["id"]}/decide', data={**form, 'service_hours': '2', 'photos': kept})
    assert ok.status_code == 302
    assert open_task(api('gzva'), inst['id'])['title'] == '广志协认证审核'


def test_accepting_a_taken_full_or_cancelled_order_says_why(api, login):
    from tests.web.test_v_order_rules import publish
    so = approved_object(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    inst = publish(publisher, so)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    li, wang = login('vol_li'), login('vol_wang')
    listing = wang.get('/m/orders/open').get_data(as_text=True)
    assert '<span class="badge s-pending">待接单</span>' in listing
    task_id = open_task(api('vol_wang'), inst['id'])['id']
    assert li.post(f'/m/orders/accept/{task_id}', data={'note': ''}).status_code == 302
    late = wang.post(f'/m/orders/accept/{task_id}', data={'note': ''}, follow_redirects=True).get_data(as_text=True)
    assert '该订单的名额已被接满，正在等待社工站审核接单人' in late
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    full = wang.post(f'/m/orders/accept/{task_id}', data={'note': ''}, follow_redirects=True).get_data(as_text=True)
    assert '该订单志愿者人数已满，不能再接单' in full

    other = publish(publisher, so, title='取消的订单')
    complete(station, open_task(station, other['id']), decision='approve', data={'dispatch_mode': 'open'})
    task_id = open_task(api('vol_wang'), other['id'])['id']
    order_id = int(other['business_key'].split(':')[1])
    assert publisher.post(f'/orders/{order_id}/cancel', json={'reason': '家属已安排'}).status_code == 200
    gone = wang.post(f'/m/orders/accept/{task_id}', data={'note': ''}, follow_redirects=True).get_data(as_text=True)
    assert '该订单已取消，不能再接单' in gone


def test_several_volunteers_accept_before_the_station_reviews_any(api, login):
    """Acceptors are reviewed while the order stays open: a list shown before someone else accepted still works
    (the order's current accept task is taken), and the station reviews both acceptors in either order."""
    from tests.web.test_v_order_rules import publish
    so = approved_object(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    inst = publish(publisher, so, volunteers_needed=2)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    li, wang = login('vol_li'), login('vol_wang')
    shown = open_task(api('vol_wang'), inst['id'])['id']  # both phones show the order now
    assert li.post(f'/m/orders/accept/{shown}', data={'note': '我有空'}).status_code == 302
    listing = li.get('/m/orders/open').get_data(as_text=True)
    assert '陪陈伯复诊' in listing and '您已接此单' in listing, 'one place left: the order stays in the list'
    unread = {u: [m.title for m in db.session.scalars(select(Message).join(User, User.id == Message.user_id).where(
        User.username == u, Message.kind == 'task', Message.read_at.is_(None)))] for u in ('vol_li', 'vol_wang')}
    db.session.remove()
    assert unread == {'vol_li': [], 'vol_wang': ['有新的订单可以接：陪陈伯复诊']}, \
        'the place left is announced again, not to the volunteer who already took one'
    ok = wang.post(f'/m/orders/accept/{shown}', data={'note': ''}, follow_redirects=True).get_data(as_text=True)
    assert '已接单，等待社工站审核' in ok, 'the list was stale; the current accept task of the order was taken'
    reviews = [t for t in station.get('/tasks?state=open').get_json()['items']
               if t['instance_id'] == inst['id'] and t['title'] == '接单人审核']
    assert len(reviews) == 2, 'both acceptors wait for the station at the same time'
    assert sorted(t['subject'] for t in reviews) == ['李晓敏', '王小明'], 'the API names each review\'s acceptor'
    inbox = login('station_xicun').get('/inbox').get_data(as_text=True)
    assert '接单人审核（李晓敏）' in inbox and '接单人审核（王小明）' in inbox, 'the two rows can be told apart'
    found = station.get('/tasks?state=open&q=王小明').get_json()['items']
    assert [t['subject'] for t in found] == ['王小明'], 'the inbox search finds the acceptor'
    station_page = login('station_xicun')
    named = [re.search(r'本次审核的接单人</dt>\s*<dd[^>]*>([^<]*)<', station_page.get(f'/inbox/tasks/{t["id"]}')
                       .get_data(as_text=True)) for t in reviews]
    assert sorted(m.group(1).strip() for m in named) == ['李晓敏：我有空', '王小明'], 'each review names its acceptor'
    accepts = [t for t in api('vol_li').get('/tasks?state=open').get_json()['items'] if t['instance_id'] == inst['id']]
    assert accepts == [], 'both places taken: nobody else may accept'
    order = publisher.get(f'/orders/{int(inst["business_key"].split(":")[1])}').get_json()
    assert order['status_label'] == '待接单' and order['volunteers_approved'] == 0
    done = station_page.post('/inbox/batch', follow_redirects=True, data={'task_ids': [str(t['id']) for t in reversed(reviews)],
                                                  'decision': 'approve'}).get_data(as_text=True)
    assert '成功 2 条，失败 0 条' in done
    assert '接单人审核（李晓敏）' in done and '接单人审核（王小明）' in done, 'the batch result names whom each row was on'
    order = publisher.get(f'/orders/{order["id"]}').get_json()
    assert order['status_label'] == '进行中' and order['volunteers_approved'] == 2
    from app.services.tasks import instance_history
    history = instance_history(inst['id'])
    audited = [h['data']['subject'].get('acceptor_under_review') for h in history if h['task'] == '接单人审核']
    assert sorted(audited) == ['李晓敏：我有空', '王小明'], 'the audit keeps whom each decision was on'
    page = publisher.get(f'/instances/{inst["id"]}').get_json()['history']
    assert sorted(h['subject'] for h in page if h['task'] == '接单人审核') == ['李晓敏', '王小明']
    shown = login('vol_zhang').get(f'/orders/{order["id"]}').get_data(as_text=True)
    assert '接单人审核（李晓敏）' in shown and '接单人审核（王小明）' in shown, 'the history says whom each review was on'


def test_order_page_shows_rating_certification_and_the_deadline(api, login):
    from tests.web.test_v_order_lifecycle import travel_past_service
    from tests.web.test_v_order_rules import RATINGS, certification, publish
    so = approved_object(api)
    publisher, station, vol_li, gzva = api('vol_zhang'), api('station_xicun'), api('vol_li'), api('gzva')
    inst = publish(publisher, so)
    order_id = int(inst['business_key'].split(':')[1])
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    complete(vol_li, open_task(vol_li, inst['id']))
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    page = login('station_xicun')
    assert '10 个工作日' not in page.get(f'/orders/{order_id}').get_data(as_text=True), 'not before the service ends'
    travel_past_service(inst['id'])
    complete(publisher, open_task(publisher, inst['id']), data={**RATINGS, 'rating_skill': 3, 'comment': '很耐心'})
    end = publisher.get(f'/orders/{order_id}').get_json()['end_at']
    due = (datetime.fromisoformat(end) + timedelta(days=14)).astimezone(__import__('zoneinfo').ZoneInfo('Asia/Shanghai'))
    html = page.get(f'/orders/{order_id}').get_data(as_text=True)
    assert f'时数认证须在服务结束后 10 个工作日内完成，截止 {due:%Y-%m-%d %H:%M}' in html
    assert '服务评价' in html and '服务技能' in html and '很耐心' in html
    complete(station, open_task(station, inst['id']), data=certification(station, summary='陪同复诊两次'))
    complete(gzva, open_task(gzva, inst['id']), decision='approve')
    html = page.get(f'/orders/{order_id}').get_data(as_text=True)
    assert '陪同复诊两次' in html and '10 个工作日' not in html
    assert '<strong class="badge s-approved">已完成</strong>' in html


def test_publish_review_page_says_when_each_conditional_field_is_required(api, login):
    """The reason, the dispatch mode and the provider are refused empty under a condition: the labels say which,
    instead of 选填, in both languages."""
    import html
    import re

    from tests.web.test_v_order_lifecycle import order_data
    inst = api('vol_zhang').post('/processes/v_order/instances',
                                 json={'data': order_data([approved_object(api)])}).get_json()['instance']
    review = open_task(api('station_xicun'), inst['id'])
    station = login('station_xicun')

    def labels(page):
        return {m[0]: html.unescape(re.sub(r'<[^>]+>', '', m[1])) for m in re.findall(r'id="lbl-(\w+)">(.*?)</label>', page)}
    zh = labels(station.get(f'/inbox/tasks/{review["id"]}').get_data(as_text=True))
    assert zh['reason'] == '审核意见 / 不通过原因（审核结果为“不通过”时必填）'
    assert zh['dispatch_mode'] == '派单方式（审核结果为“通过”时必填）'
    assert zh['provider'] == '服务商（派单方式为“派给服务商”时必填）'
    assert not any('选填' in text for text in zh.values())
    en = labels(station.get(f'/inbox/tasks/{review["id"]}?lang=en').get_data(as_text=True))
    assert en['reason'] == 'Comment / reason for rejection (required when Decision is "Reject")'
    # what the label promises, the form enforces
    resp = station.post(f'/inbox/tasks/{review["id"]}/decide', data={'decision': 'reject'})
    assert resp.status_code == 422 and '此项为必填项' in resp.get_data(as_text=True)
