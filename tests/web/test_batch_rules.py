"""Batch decisions are for reviews only: a form of its own (accepting an order) is never completed by one."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import Decision, VOrderVolunteer
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task
from tests.web.test_v_order_rules import publish


def _open_order(api, so=None):
    """An order of vol_zhang's open to the street's volunteers: (instance, the accept task); `so`: the approved
    service object to order for (one is entered and approved when None)."""
    so = so or approved_object(api)
    inst = publish(api('vol_zhang'), so)
    inst['service_object_id'] = so
    complete(api('station_xicun'), open_task(api('station_xicun'), inst['id']), decision='approve',
             data={'dispatch_mode': 'open'})
    return inst, open_task(api('vol_wang'), inst['id'])


def _acceptors():
    return db.session.scalar(select(func.count()).select_from(VOrderVolunteer))


def test_a_batch_rejection_does_not_accept_an_order(api, login):
    inst, accept = _open_order(api)
    assert accept['title'] == '志愿者接单'
    page = login('vol_wang')
    inbox = page.get('/inbox').get_data(as_text=True)
    assert f'name="task_ids" value="{accept["id"]}"' not in inbox, 'no checkbox on a form of its own'
    assert '需单独办理' in inbox and '批量不通过' not in inbox, 'nothing here can be batch-decided'
    decisions = db.session.scalar(select(func.count()).select_from(Decision).where(Decision.instance_id == inst['id']))
    html = page.post('/inbox/batch', follow_redirects=True, data={'task_ids': [str(accept['id'])], 'decision': 'reject',
                                           'reason': '不想接'}).get_data(as_text=True)
    assert '成功 0 条，失败 1 条' in html and '“志愿者接单”不是审核，不能批量处理' in html
    result = api('vol_wang').post('/tasks/batch', json={'task_ids': [accept['id']], 'decision': 'approve'}).get_json()
    assert [(r['ok'], r['code']) for r in result['results']] == [(False, 'not_a_review')]
    assert _acceptors() == 0, 'nobody became an acceptor'
    assert db.session.scalar(select(func.count()).select_from(Decision).where(
        Decision.instance_id == inst['id'])) == decisions, 'no decision recorded'
    assert open_task(api('vol_wang'), inst['id'])['id'] == accept['id'], 'the order is still open to accept'


def test_the_order_page_sends_a_volunteer_to_the_phone_list_to_accept(api, login):
    inst, accept = _open_order(api)
    order_id = int(inst['business_key'].split(':')[1])
    html = login('vol_wang').get(f'/orders/{order_id}').get_data(as_text=True)
    assert f'href="/m/orders/open#task-{accept["id"]}"' in html and '我要接单' in html and '去处理：志愿者接单' not in html


def test_a_batch_failure_names_the_missing_field(api, login):
    so = approved_object(api)
    inst = publish(api('vol_zhang'), so)
    review = open_task(api('station_xicun'), inst['id'])
    html = login('station_xicun').post('/inbox/batch', data={'task_ids': [str(review['id'])], 'decision': 'reject',
                                                             'reason': ' '}, follow_redirects=True).get_data(as_text=True)
    assert '审核意见 / 不通过原因：此项为必填项' in html, 'the batch row says which field the review still needs'


def test_the_task_page_says_what_was_decided_and_who_reads_a_reason(api, login, case_at_street):
    inst_id, street_task = case_at_street()
    page = login('street_xicun')
    html = page.get(f'/inbox/tasks/{street_task}').get_data(as_text=True)
    assert '为什么在我的待办中' in html and '审核流程第 1 版' in html
    assert '不通过的原因会显示给提交人' in html
    done = page.post(f'/inbox/tasks/{street_task}/decide', data={'decision': 'approve', 'reason': ''},
                     follow_redirects=True).get_data(as_text=True)
    assert '已提交：镇街终审 · ' in done and '审核结果：通过' in done, 'the flash names the step, the case and the result'
    handled = page.get(f'/inbox/tasks/{street_task}').get_data(as_text=True)
    assert '该任务已处理' in handled and '为什么在我的待办中' not in handled, 'a handled task is no longer "in my inbox"'


def test_an_acceptor_review_says_the_acceptor_is_told(api, login):
    inst, accept = _open_order(api)
    complete(api('vol_wang'), accept, data={'note': ''})
    review = open_task(api('station_xicun'), inst['id'])
    html = login('station_xicun').get(f'/inbox/tasks/{review["id"]}').get_data(as_text=True)
    assert '不通过的原因会告知该接单人和下单人' in html and '请写清楚需要怎样修改' not in html


def test_the_reviewer_who_decides_sees_the_whole_id_number(api, login, case_at_street):
    """The reviewer checks the ID number against the proof photo: in full on the open task; masked on lists, on
    the handled task and on the case page."""
    from app.services.validators import mask_id
    from tests.helpers import ELDER_ID
    inst_id, street_task = case_at_street()
    page = login('street_xicun')
    assert ELDER_ID in page.get(f'/inbox/tasks/{street_task}').get_data(as_text=True)
    inbox = page.get('/inbox').get_data(as_text=True)
    assert ELDER_ID not in inbox and mask_id(ELDER_ID) in inbox
    page.post(f'/inbox/tasks/{street_task}/decide', data={'decision': 'approve', 'reason': ''})
    for url in (f'/inbox/tasks/{street_task}', f'/cases/{inst_id}'):
        html = page.get(url).get_data(as_text=True)
        assert ELDER_ID not in html and mask_id(ELDER_ID) in html, url


def test_an_order_past_its_start_with_an_acceptor_under_review_says_acceptance_closed(api, login):
    from datetime import timedelta

    from app.models import VOrder
    from app.models.base import utcnow
    inst, accept = _open_order(api)
    complete(api('vol_wang'), accept, data={'note': ''})
    order_id = int(inst['business_key'].split(':')[1])
    publisher = api('vol_zhang')
    assert publisher.get(f'/orders/{order_id}').get_json()['accepting_closed'] is False
    order = db.session.get(VOrder, order_id)
    order.start_at, order.end_at = utcnow() - timedelta(minutes=5), utcnow() + timedelta(hours=2)
    db.session.commit()
    view = publisher.get(f'/orders/{order_id}').get_json()
    assert view['status_label'] == '待接单' and view['accepting_closed'] is True
    html = login('vol_zhang').get(f'/orders/{order_id}').get_data(as_text=True)
    assert '已到开始时间，停止接单；正在等待社工站审核已接单的志愿者' in html


def test_open_orders_count_only_orders_to_accept(api, login):
    """vol_zhang's own order waits for their rating: that step is not an order to accept, so the list neither
    shows it nor counts it (the pager said 共 1 条 under 暂时没有可接的订单)."""
    so = approved_object(api)
    inst = publish(api('vol_zhang'), so)
    station, vol_li = api('station_xicun'), api('vol_li')
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    complete(vol_li, open_task(vol_li, inst['id']))
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    assert open_task(api('vol_zhang'), inst['id'])['title'] == '确认完成并评价'
    html = login('vol_zhang').get('/m/orders/open').get_data(as_text=True)
    assert '暂时没有可接的订单' in html and '共 1 条' not in html
    other = publish(api('vol_wang'), so)  # another order, open to the street's volunteers
    complete(station, open_task(station, other['id']), decision='approve', data={'dispatch_mode': 'open'})
    html = login('vol_zhang').get('/m/orders/open').get_data(as_text=True)
    assert html.count('order-open" id="task-') == 1 and '共 1 条' in html


def _unread(username):
    from app.models import Message, User
    rows = db.session.scalars(select(Message).join(User, User.id == Message.user_id).where(
        User.username == username, Message.read_at.is_(None))).all()
    return [(m.title, m.link) for m in rows]


def test_aborting_an_order_tells_its_volunteer_and_cancelling_settles_the_offer(api):
    inst, accept = _open_order(api)
    order_id = int(inst['business_key'].split(':')[1])
    complete(api('vol_li'), open_task(api('vol_li'), inst['id']), data={'note': ''})
    complete(api('station_xicun'), open_task(api('station_xicun'), inst['id'], '接单人审核'), decision='approve')
    resp = api('station_xicun').post(f'/orders/{order_id}/abort', json={'reason': '长者住院'})
    assert resp.status_code == 200, resp.get_json()
    told = 'V订单「陪陈伯复诊」已被西村街社工站中止，原因：长者住院'
    assert (told, f'/orders/{order_id}') in _unread('vol_li'), 'the confirmed volunteer learns it will not happen'
    assert (told, f'/orders/{order_id}') in _unread('vol_zhang'), 'so does the publisher'
    assert not any('中止' in t for t, _ in _unread('station_xicun')), 'not the one who did it'

    other, accept = _open_order(api, inst['service_object_id'])
    assert any(link == f'/m/orders/open#task-{accept["id"]}' for _, link in _unread('vol_wang'))
    other_id = int(other['business_key'].split(':')[1])
    assert api('vol_zhang').post(f'/orders/{other_id}/cancel', json={'reason': '家属已安排'}).status_code == 200
    assert not any(link == f'/m/orders/open#task-{accept["id"]}' for _, link in _unread('vol_wang')), \
        'the offer to accept a cancelled order no longer waits unread'
