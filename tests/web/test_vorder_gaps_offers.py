"""A volunteer's 新待办 offer of a V-order that was then cancelled or expired led to the list of open orders, where
the order no longer is: to them it had vanished. The offer now leads to a page that says what became of it — 已取消
by whom and why, 已过期 and why — and, while the offer stands, still to the order on the open list."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Membership, Message, OrgUnit, User
from app.services import timers
from app.services.auth import hash_password
from tests.conftest import PASSWORD
from tests.web.shop_helpers import move_clock
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task
from tests.web.test_v_order_rules import publish

OFFER = '有新的订单可以接：陪陈伯复诊'


def _open_order(api, publisher='station_xicun', needed=1):
    so = approved_object(api)
    station = api('station_xicun')
    inst = publish(api(publisher), so, volunteers_needed=needed)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    return inst


def _order_id(inst) -> int:
    return int(inst['business_key'].split(':')[1])


def _offer(username) -> Message:
    db.session.expire_all()
    return db.session.scalar(select(Message).join(User, User.id == Message.user_id)
                             .where(User.username == username, Message.title == OFFER).order_by(Message.id.desc()))


def _follow(page, username) -> tuple[str, str]:
    """(where the user's offer message leads, the text of that page)."""
    resp = page.get(f'/messages/{_offer(username).id}')
    assert resp.status_code == 302, resp.status_code
    where = resp.headers['Location']
    shown = page.get(where)
    assert shown.status_code == 200, (where, shown.status_code)
    return where, shown.get_data(as_text=True)


def test_the_offer_of_a_cancelled_order_says_who_cancelled_it_and_why(api, login):
    inst = _open_order(api, publisher='vol_zhang')  # the station cancels an order a volunteer published
    vol_wang = login('vol_wang')
    where, _html = _follow(vol_wang, 'vol_wang')
    assert '/m/orders/open' in where, 'while the offer stands it leads to the order on the open list'
    assert api('station_xicun').post(f'/orders/{_order_id(inst)}/cancel', json={'reason': '家属已安排'}).status_code == 200
    where, html = _follow(vol_wang, 'vol_wang')
    assert '/m/orders/open' not in where, where
    for text in ('陪陈伯复诊', '已取消', '西村街社工站', '家属已安排'):
        assert text in html, text
    assert _offer('vol_li').read_at is not None, 'nobody is left with the offer unread'


def test_the_offer_read_before_someone_accepted_also_learns_of_the_cancellation(api, login):
    """The only place was taken (the acceptor waits for the station), so the offer was over for the others; then
    the publisher cancels: the others' offers now say so, the acceptor's own leads to the order."""
    inst = _open_order(api, publisher='vol_zhang')
    vol_li = api('vol_li')
    complete(vol_li, open_task(vol_li, inst['id']), data={'note': ''})
    assert api('vol_zhang').post(f'/orders/{_order_id(inst)}/cancel', json={'reason': '长者身体不适'}).status_code == 200
    where, html = _follow(login('vol_wang'), 'vol_wang')
    assert '/m/orders/open' not in where
    assert '已取消' in html and '发布人' in html and '长者身体不适' in html
    assert _offer('vol_li').link == f'/orders/{_order_id(inst)}', "the acceptor's offer leads to the order she took"


def test_the_offer_of_an_expired_order_says_it_expired(api, login):
    inst = _open_order(api)
    move_clock(inst['id'], timedelta(hours=3))
    assert timers.fire_due() == 1
    where, html = _follow(login('vol_li'), 'vol_li')
    assert '/m/orders/open' not in where
    assert '已过期' in html and '开始时间已到仍无人接单' in html


def test_only_those_it_was_offered_to_see_what_became_of_it(api, login):
    inst = _open_order(api)
    assert api('station_xicun').post(f'/orders/{_order_id(inst)}/cancel', json={'reason': '家属已安排'}).status_code == 200
    link = _offer('vol_wang').link
    street = db.session.scalar(select(OrgUnit).where(OrgUnit.code == 'xinshi'))
    db.session.add(User(username='vol_xinshi', display_name='新市志愿者', password_hash=hash_password(PASSWORD),
                        home_unit=street, memberships=[Membership(role='volunteer', org_unit=street)]))
    db.session.commit()
    assert login('vol_xinshi').get(link).status_code == 404
    assert login('station_xinshi').get(link).status_code == 404
