"""A volunteer declines a provider's dispatch (拒绝派单) or gives up an accepted order (放弃接单) before the service
starts, with a reason: only their place ends, the station (and the dispatching provider) learn why, and the order
is offered again where it is staffed. After the start it is refused with a pointer to the station."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Decision, HumanTask, Message, User, VOrder
from app.models.base import utcnow
from tests.web.test_v_order_dispatch import _dispatched_order
from tests.web.test_v_order_lifecycle import complete, open_task
from tests.web.test_v_order_rules import staffed_order


def _order(order_id) -> VOrder:
    db.session.expire_all()
    return db.session.get(VOrder, order_id)


def _titles(username, order_id):
    user = db.session.scalar(select(User).where(User.username == username))
    return [m.title for m in db.session.scalars(select(Message).where(
        Message.user_id == user.id, Message.link == f'/orders/{order_id}').order_by(Message.id))]


def _open_titles(client, instance_id):
    return [t['title'] for t in client.get('/tasks?state=open').get_json()['items'] if t['instance_id'] == instance_id]


def _open_accept(instance_id) -> bool:
    return db.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.status == 'open',
                                                        HumanTask.bpmn_id == 'accept')) is not None


def _order_id(inst) -> int:
    return int(inst['business_key'].split(':')[1])


def test_a_dispatched_volunteer_declines_and_the_order_goes_back_to_the_provider(api):
    inst, order_id, provider = _dispatched_order(api)
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    station, li = api('station_xicun'), api('vol_li')
    assert '接单人审核' in _open_titles(station, inst['id'])

    assert li.post(f'/orders/{order_id}/withdraw', json={'reason': '  '}).status_code == 422
    too_long = li.post(f'/orders/{order_id}/withdraw', json={'reason': '忙' * 201})
    assert too_long.status_code == 422 and '200' in too_long.get_json()['errors']['reason'][0]
    assert api('vol_wang').post(f'/orders/{order_id}/withdraw', json={'reason': '不是我'}).status_code == 404

    resp = li.post(f'/orders/{order_id}/withdraw', json={'reason': '那天要陪母亲住院'})
    assert resp.status_code == 200, resp.get_json()
    view = resp.get_json()
    assert view['status'] == 'awaiting_dispatch'
    assert [(v['username'], v['status'], v['status_label']) for v in view['volunteers']] == [
        ('vol_li', 'declined', '已拒绝派单')]
    # the station no longer reviews her; the provider dispatches again (not to her: she is on the order)
    assert '接单人审核' not in _open_titles(station, inst['id'])
    assert _open_titles(provider, inst['id']) == ['服务商派单']
    for who in ('station_xicun', 'provider_a'):
        assert any('李晓敏拒绝了派单' in t and '那天要陪母亲住院' in t for t in _titles(who, order_id)), who
    history = db.session.scalar(select(Decision).where(Decision.instance_id == inst['id'],
                                                       Decision.task_title == '志愿者拒绝派单'))
    assert history is not None and history.reason == '那天要陪母亲住院'
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == 'v_order.declined',
                                                    AuditLog.target == f'v_order:{order_id}')) is not None
    # once is enough: a second try is refused with what became of her place
    again = li.post(f'/orders/{order_id}/withdraw', json={'reason': '再点一次'})
    assert again.status_code == 409 and '已拒绝派单' in again.get_json()['message']


def test_giving_up_a_staffed_order_reopens_it_to_volunteers(api):
    inst = staffed_order(api)
    order_id = _order_id(inst)
    publisher = api('vol_zhang')
    assert _open_titles(publisher, inst['id']) == ['确认完成并评价']
    resp = api('vol_li').post(f'/orders/{order_id}/withdraw', json={'reason': '临时要出差'})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()['status'] == 'open' and resp.get_json()['volunteers_approved'] == 0
    assert _open_titles(publisher, inst['id']) == [], 'nothing to rate: nobody serves now'
    assert any('李晓敏放弃了接单' in t and '临时要出差' in t for t in _titles('station_xicun', order_id))
    assert any('李晓敏放弃了接单' in t for t in _titles('vol_zhang', order_id)), 'the publisher is told'
    # another volunteer takes the place, the station approves: the order runs again
    wang, station = api('vol_wang'), api('station_xicun')
    complete(wang, open_task(wang, inst['id']))
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    assert _order(order_id).status == 'in_progress'
    assert _open_titles(publisher, inst['id']) == ['确认完成并评价']
    statuses = {v.user.username: v.status for v in _order(order_id).volunteers}
    assert statuses == {'vol_li': 'withdrawn', 'vol_wang': 'approved'}


@pytest.mark.parametrize('leaving, staying', [('vol_wang', 'vol_li'), ('vol_li', 'vol_wang')])
def test_with_two_volunteers_only_her_place_ends(api, leaving, staying):
    """王小明 was approved first, 李晓敏's approval staffed the order: either one giving up leaves the other on it,
    approved, and told nothing new."""
    inst = staffed_order(api, needed=2)
    order_id = _order_id(inst)
    told_before = len(_titles(staying, order_id))
    resp = api(leaving).post(f'/orders/{order_id}/withdraw', json={'reason': '家里有事'})
    assert resp.status_code == 200, resp.get_json()
    statuses = {v['username']: v['status'] for v in resp.get_json()['volunteers']}
    assert statuses == {leaving: 'withdrawn', staying: 'approved'}, leaving
    assert resp.get_json()['status'] == 'open'
    assert len(_titles(staying, order_id)) == told_before, 'no second 接单人审核通过 for the one who stays'
    assert '确认完成并评价' not in _open_titles(api('vol_zhang'), inst['id'])
    # the free place is offered to volunteers again
    assert _open_accept(inst['id'])


def test_after_the_start_it_is_refused_with_a_pointer_to_the_station(api):
    inst = staffed_order(api)
    order_id = _order_id(inst)
    order = _order(order_id)
    order.start_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    resp = api('vol_li').post(f'/orders/{order_id}/withdraw', json={'reason': '来不了'})
    assert resp.status_code == 409 and '联系社工站' in resp.get_json()['message'], resp.get_json()
    assert {v.user.username: v.status for v in _order(order_id).volunteers} == {'vol_li': 'approved'}


def test_the_order_page_offers_it_on_the_phone_and_keeps_what_was_typed(api, login):
    inst, order_id, provider = _dispatched_order(api)
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    page = login('vol_li')
    html = page.get(f'/orders/{order_id}').get_data(as_text=True)
    assert '拒绝派单' in html and 'data-count-max="200"' in html and '已输入 0 / 200' in html
    assert login('vol_wang').get(f'/orders/{order_id}').status_code == 404
    refused = page.post(f'/orders/{order_id}/withdraw', data={'reason': '忙' * 205})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and '忙' * 205 in text and '超出 5 个字' in text
    done = page.post(f'/orders/{order_id}/withdraw', data={'reason': '要去外地'}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert '已拒绝派单，社工站和服务商会收到您的原因' in text and '李晓敏（已拒绝派单）' in text
    assert 'id="withdraw"' not in text, 'nothing left to decline'
