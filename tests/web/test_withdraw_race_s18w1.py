"""撤回 racing a reviewer's decision on PostgreSQL: exactly one of them wins, and the loser changes nothing."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Decision, GiftRequest, HumanTask, ServiceObject, WorkflowInstance
from app.services import ledger_checks
from tests.helpers import name_no, post_together, upload_png
from tests.web.conftest import open_task, submit
from tests.web.shop_helpers import award, elder_id, gift_data, points

ROUNDS = 8


@pytest.fixture(autouse=True)
def _postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip('row locks and concurrent transactions need PostgreSQL')


def _one_winner(results):
    codes = sorted(code for code, _ in results)
    assert codes == [200, 409], results
    return results[0][0] == 200  # the withdrawal won


def _count(model, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_withdrawing_a_gift_while_the_association_approves_it(app, api):
    li, gzva = api('vol_li'), api('gzva')
    award('vol_li', 30 * ROUNDS)
    withdrawn = 0
    for n in range(ROUNDS):
        body = {'data': gift_data([upload_png(li)], relative_name=f'父亲{name_no(n)}', relative_id_number=elder_id(n))}
        resp = li.post('/processes/relative_gift/instances', json=body)
        assert resp.status_code == 201, resp.get_json()
        inst_id = resp.get_json()['instance']['id']
        task = next(t for t in gzva.get('/tasks?state=open&process=relative_gift').get_json()['items']
                    if t['instance_id'] == inst_id)
        results = post_together(app, [
            (li.headers, f'/api/v1/instances/{inst_id}/withdraw', {'reason': '不需要了'}),
            (gzva.headers, f'/api/v1/tasks/{task["id"]}/complete', {'decision': 'approve'})])
        won = _one_winner(results)
        withdrawn += won
        db.session.expire_all()
        gift = db.session.scalar(select(GiftRequest).where(GiftRequest.instance_id == inst_id))
        inst = db.session.get(WorkflowInstance, inst_id)
        if won:
            assert (gift.status, inst.outcome) == ('withdrawn', 'withdrawn')
            assert '不能撤回' not in str(results[1][1])
        else:
            assert (gift.status, inst.outcome) == ('approved', 'approved')
            assert '不能撤回' in results[0][1]['message']
        assert _count(Decision, Decision.instance_id == inst_id, Decision.decision.in_(['withdraw', 'approve'])) == 1
        assert _count(HumanTask, HumanTask.instance_id == inst_id, HumanTask.status == 'open') == 0
    spent = 30 * (ROUNDS - withdrawn)
    assert points(li) == (30 * ROUNDS - spent, 0, 30 * ROUNDS - spent)
    assert ledger_checks.check_invariants() == []


def test_withdrawing_an_entry_while_the_station_decides_it(app, api):
    zhang, station = api('vol_zhang'), api('station_xicun')
    for n in range(ROUNDS):
        inst_id = submit(zhang, 40 + n)
        task = open_task(station, inst_id)
        results = post_together(app, [
            (zhang.headers, f'/api/v1/instances/{inst_id}/withdraw', {}),
            (station.headers, f'/api/v1/tasks/{task["id"]}/complete', {'decision': 'approve'})])
        won = _one_winner(results)
        db.session.expire_all()
        obj = db.session.scalar(select(ServiceObject).where(ServiceObject.instance_id == inst_id))
        open_lanes = [t.lane for t in db.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == inst_id, HumanTask.status == 'open'))]
        if won:
            assert obj.status == 'withdrawn' and open_lanes == []
        else:
            assert obj.status == 'pending' and open_lanes == ['street_admin']
            assert '西村街社工站已审核' in results[0][1]['message']
    assert _count(WorkflowInstance, WorkflowInstance.outcome == 'withdrawn') == _count(
        ServiceObject, ServiceObject.status == 'withdrawn')
