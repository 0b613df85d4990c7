"""Three volunteers accept a two-place order at the same moment (PostgreSQL only): two places, two acceptors.

The phone list each of them saw names the same accept task; the first acceptance replaces it, the second takes
the replacement, and the third finds both places taken and is told so."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import VOrder, VOrderVolunteer
from tests.helpers import run_together
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task
from tests.web.test_v_order_rules import publish

ROUNDS = 8
VOLUNTEERS = ('vol_zhang', 'vol_li', 'vol_wang')


@pytest.fixture(autouse=True)
def _postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip('row locks and concurrent transactions need PostgreSQL')


def _accept_together(app, task_id) -> dict:
    """Each volunteer's phone posts 接单 on the same task, released together; {username: open-orders page}."""
    def accept(username):
        def action(client, go):
            assert client.post('/login', data={'username': username, 'password': 'demo1234'}).status_code == 302
            go()
            assert client.post(f'/m/orders/accept/{task_id}', data={'note': ''}).status_code == 302
            return client.get('/m/orders/open').get_data(as_text=True)
        return action
    return dict(zip(VOLUNTEERS, run_together(app, [accept(u) for u in VOLUNTEERS])))


def test_three_volunteers_race_for_two_places(app, api):
    station = api('station_xicun')
    so = approved_object(api)
    for n in range(ROUNDS):
        inst = publish(station, so, title=f'抢单{n}', volunteers_needed=2)
        complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
        said = _accept_together(app, open_task(api('vol_li'), inst['id'])['id'])
        order_id = int(inst['business_key'].split(':')[1])
        rows = db.session.scalars(select(VOrderVolunteer).where(VOrderVolunteer.order_id == order_id)).all()
        db.session.remove()
        assert len(rows) == 2 and {r.status for r in rows} == {'pending'}, (n, [(r.user_id, r.status) for r in rows])
        accepted = sum('已接单，等待社工站审核' in page for page in said.values())
        refused = sum('该订单的名额已被接满，正在等待社工站审核接单人' in page for page in said.values())
        assert (accepted, refused) == (2, 1), n
        reviews = [t for t in station.get('/tasks?state=open').get_json()['items']
                   if t['instance_id'] == inst['id'] and t['title'] == '接单人审核']
        assert len(reviews) == 2, n
        order = db.session.get(VOrder, order_id)
        assert order.status == 'open'
        db.session.remove()
