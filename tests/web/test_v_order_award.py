"""Points for a certification: paid once however often the award step runs, and a corrected certification
(the operator resets 时数认证) settles the difference with new entries, never a second full payment."""
from app.extensions import db
from app.models import LedgerEntry, User
from app.services import ledger, ledger_checks
from app.services.instances import reset_instance
from tests.web.test_v_order_lifecycle import complete, open_task
from tests.web.test_v_order_rules import certification, certified


def reset(instance_id, step):
    admin = db.session.scalar(db.select(User).where(User.username == 'admin'))
    reset_instance(admin, instance_id, step, '复核认证')


def recertify(api, inst, hours):
    station, gzva = api('station_xicun'), api('gzva')
    reset(inst['id'], 'certify')
    complete(station, open_task(station, inst['id']), data=certification(station, service_hours=hours))
    return gzva.post(f'/tasks/{open_task(gzva, inst["id"])["id"]}/complete', json={'decision': 'approve'})


def volunteer_view(api, inst):
    order_id = int(inst['business_key'].split(':')[1])
    return api('vol_zhang').get(f'/orders/{order_id}').get_json()['volunteers'][0]


def award_amounts():
    db.session.expire_all()
    rows = db.session.scalars(db.select(LedgerEntry).order_by(LedgerEntry.id)).all()
    return [(e.kind, max(p.amount for p in e.postings)) for e in rows]


def test_corrected_hours_settle_the_difference_and_repeats_pay_nothing(api, app):
    inst = certified(api, 5.99)
    vol_li = api('vol_li')
    assert vol_li.get('/me/points').get_json()['balance'] == 5

    resp = recertify(api, inst, 8.2)  # more hours: only the 3 missing points are added
    assert resp.status_code == 200, resp.get_json()
    assert vol_li.get('/me/points').get_json()['balance'] == 8
    assert (volunteer_view(api, inst)['hours'], volunteer_view(api, inst)['points']) == (8.2, 8)
    reset(inst['id'], 'certify_review')  # the award step runs again with the same certification
    complete(api('gzva'), open_task(api('gzva'), inst['id']), decision='approve')
    assert vol_li.get('/me/points').get_json()['balance'] == 8
    assert award_amounts() == [('award', 5), ('award', 3)]

    resp = recertify(api, inst, 2.5)  # fewer hours: the earlier awards are reversed, 2 points awarded
    assert resp.status_code == 200, resp.get_json()
    assert vol_li.get('/me/points').get_json()['balance'] == 2
    assert volunteer_view(api, inst)['points'] == 2
    assert award_amounts() == [('award', 5), ('award', 3), ('reversal', 5), ('reversal', 3), ('award', 2)]
    assert ledger_checks.check_invariants() == []
    assert app.test_cli_runner().invoke(args=['ledger-check']).exit_code == 0


def test_a_correction_that_would_take_back_spent_points_is_refused(api):
    inst = certified(api, 4)
    li = db.session.scalar(db.select(User).where(User.username == 'vol_li'))
    ledger.spend(li, 3, key='shop:test:1', reason='兑换')
    db.session.commit()
    before = award_amounts()
    resp = recertify(api, inst, 1)
    assert resp.status_code == 409
    assert '李晓敏已使用本订单发放的积分' in resp.get_json()['message']
    assert award_amounts() == before
    assert api('vol_li').get('/me/points').get_json()['balance'] == 1
    assert open_task(api('gzva'), inst['id'])['title'] == '广志协认证审核', 'the review stays open'


def messages_of(api_client):
    return [m['title'] for m in api_client.get('/messages').get_json()['items']]


def test_each_correction_tells_the_volunteer_the_new_hours_and_what_happened_to_the_points(api):
    inst = certified(api, 3)
    vol_li = api('vol_li')
    before = messages_of(vol_li)

    assert recertify(api, inst, 0.5).status_code == 200  # down to under 1 hour: the 3 points are taken back
    told = [t for t in messages_of(vol_li) if t not in before]
    assert len(told) == 1, told
    assert '服务时数已更正为 0.5 小时（原 3 小时），扣回积分 3 分' in told[0]
    assert vol_li.get('/me/points').get_json()['balance'] == 0

    seen = messages_of(vol_li)
    assert recertify(api, inst, 2.5).status_code == 200  # up again: 2 points added
    told = [t for t in messages_of(vol_li) if t not in seen]
    assert any('服务时数已更正为 2.5 小时（原 0.5 小时），补发积分 +2 分' in t for t in told), told

    seen = messages_of(vol_li)
    assert recertify(api, inst, 2.9).status_code == 200  # same whole hours: the hours change, the points do not
    told = [t for t in messages_of(vol_li) if t not in seen]
    assert any('服务时数已更正为 2.9 小时（原 2.5 小时），积分不变' in t for t in told), told
    assert vol_li.get('/me/points').get_json()['balance'] == 2
