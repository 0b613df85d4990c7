"""A V-order open to a street's volunteers is offered to each of them once (有新的订单可以接：…), however often an
acceptance replaces its accept task: the unread offers follow the current task, the acceptor's own is read, and
the offers are read once nobody can accept any more (staffed, cancelled, start time passed). An order that
closed and opens again (a rejected acceptor freed the only place) is offered again."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Membership, Message, OrgUnit, User
from app.services import timers
from app.services.auth import hash_password
from tests.conftest import PASSWORD
from tests.web.shop_helpers import move_clock
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task
from tests.web.test_v_order_rules import publish

OFFER = '有新的订单可以接：陪陈伯复诊'


def _add_volunteers(n: int) -> list[str]:
    """n more volunteers of 西村街 (the demo has vol_zhang, vol_li and vol_wang there)."""
    street = db.session.scalar(select(OrgUnit).where(OrgUnit.code == 'xicun'))
    hashed, names = hash_password(PASSWORD), [f'extra{i}' for i in range(n)]
    for i, name in enumerate(names):
        db.session.add(User(username=name, display_name=f'志愿者{i}', password_hash=hashed, phone=f'1360000{i:04d}',
                            home_unit=street, memberships=[Membership(role='volunteer', org_unit=street)]))
    db.session.commit()
    return names


def _offers() -> list[tuple[str, str, bool]]:
    """(username, link, unread) of every 接单 offer written."""
    db.session.expire_all()
    return db.session.execute(select(User.username, Message.link, Message.read_at.is_(None))
                              .join(User, User.id == Message.user_id)
                              .where(Message.title == OFFER).order_by(User.username)).all()


def _unread_offers() -> dict[str, str]:
    return {user: link for user, link, unread in _offers() if unread}


def _offer_id(username: str) -> int:
    return db.session.scalar(select(Message.id).join(User, User.id == Message.user_id)
                             .where(User.username == username, Message.title == OFFER))


def _volunteers_in_street() -> set[str]:
    return set(db.session.scalars(select(User.username).join(Membership).join(OrgUnit)
                                  .where(OrgUnit.code == 'xicun', Membership.role == 'volunteer')))


def _open_order(api, needed: int):
    so = approved_object(api)
    station = api('station_xicun')  # the publisher is no volunteer: every volunteer of the street is offered it
    inst = publish(station, so, volunteers_needed=needed)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    return inst


def _accept(api, username, inst):
    client = api(username)
    complete(client, open_task(client, inst['id'], '志愿者接单'), data={'note': ''})


def test_three_acceptances_write_the_offer_once_per_volunteer(api, login):
    extra = _add_volunteers(47)
    everyone = _volunteers_in_street()
    assert len(everyone) == 50
    inst = _open_order(api, needed=4)
    first = open_task(api('vol_li'), inst['id'])
    assert _unread_offers() == dict.fromkeys(everyone, f'/m/orders/open#task-{first["id"]}')
    login('vol_wang').get(f'/messages/{_offer_id("vol_wang")}')  # read, not acted on
    read_before = {u for u, _l, unread in _offers() if not unread}
    assert read_before == {'vol_wang'}

    acceptors = ['vol_zhang', 'vol_li', extra[0]]
    for username in acceptors:
        _accept(api, username, inst)

    assert len(_offers()) == 50, 'three acceptances write no new offer: each volunteer was told once'
    current = open_task(api(extra[1]), inst['id'], '志愿者接单')
    assert current['id'] != first['id'], 'each acceptance replaced the accept task'
    link = f'/m/orders/open#task-{current["id"]}'
    unread = _unread_offers()
    assert unread == dict.fromkeys(everyone - set(acceptors) - read_before, link), \
        'the unread offers lead to the current task; the acceptors have none left unread'
    # clicking the offer opens the list of open orders at the order's current task
    page = login(extra[1])
    resp = page.get(f'/messages/{_offer_id(extra[1])}')
    assert resp.status_code == 302 and resp.headers['Location'].endswith(link), resp.headers.get('Location')
    assert f'id="task-{current["id"]}"' in page.get('/m/orders/open').get_data(as_text=True)


def test_the_last_place_taken_leaves_no_offer_unread(api):
    _add_volunteers(5)
    inst = _open_order(api, needed=2)
    _accept(api, 'vol_zhang', inst)
    assert len(_unread_offers()) == 7, 'the order is still open to the others'
    _accept(api, 'vol_li', inst)
    assert _unread_offers() == {}, 'both places are taken: nobody can accept any more'
    assert len(_offers()) == 8


def test_an_order_open_again_after_a_rejection_is_offered_again(api):
    """The only place was taken, so the offers were read; the station rejects the acceptor and the order opens
    again: that is news, and everyone but the rejected acceptor is told once more."""
    _add_volunteers(5)
    inst = _open_order(api, needed=1)
    _accept(api, 'vol_li', inst)
    assert _unread_offers() == {}
    station = api('station_xicun')
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='reject', reason='时间不合适')
    again = open_task(api('vol_zhang'), inst['id'], '志愿者接单')
    assert _unread_offers() == dict.fromkeys(_volunteers_in_street() - {'vol_li'}, f'/m/orders/open#task-{again["id"]}')
    assert len(_offers()) == 8 + 7


def test_cancelling_an_order_settles_the_offers_that_moved_on(api):
    _add_volunteers(3)
    inst = _open_order(api, needed=3)
    _accept(api, 'vol_zhang', inst)
    assert len(_unread_offers()) == 5
    order_id = int(inst['business_key'].split(':')[1])
    assert api('station_xicun').post(f'/orders/{order_id}/cancel', json={'reason': '家属已安排'}).status_code == 200
    assert _unread_offers() == {}


def test_the_start_time_passing_settles_the_offers(api):
    inst = _open_order(api, needed=2)
    assert len(_unread_offers()) == 3
    move_clock(inst['id'], timedelta(hours=3))
    assert timers.fire_due() == 1
    assert _unread_offers() == {}, 'the order expired: its offers no longer wait unread'
    assert db.session.scalar(select(func.count()).select_from(Message).where(Message.title == OFFER)) == 3


@pytest.mark.parametrize('needed', [1, 2])  # the last place (no successor task), one of several (the offer moves on)
def test_the_acceptors_own_offer_then_leads_to_the_order_they_took(api, login, needed):
    """Clicking the 接单 offer after accepting opened the list of open orders, which no longer shows the order:
    to an elderly volunteer it looked as if the order had vanished. Their message now leads to the order."""
    inst = _open_order(api, needed=needed)
    order_id = int(inst['business_key'].split(':')[1])
    _accept(api, 'vol_zhang', inst)
    mine = db.session.scalar(select(Message).join(User, User.id == Message.user_id).where(
        User.username == 'vol_zhang', Message.title == OFFER).order_by(Message.id.desc()))
    assert mine.read_at is not None and mine.link == f'/orders/{order_id}', (needed, mine.link)
    page = login('vol_zhang')
    resp = page.get(f'/messages/{mine.id}')
    assert resp.status_code == 302 and resp.headers['Location'].endswith(f'/orders/{order_id}')
    assert '陪陈伯复诊' in page.get(f'/orders/{order_id}').get_data(as_text=True)
    others = {u: link for u, link, _unread in _offers() if u == 'vol_wang'}
    assert others['vol_wang'].startswith('/m/orders/open#task-'), 'the others keep the offer to the list'
