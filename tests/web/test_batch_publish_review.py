"""Batch approval of V-order publish reviews (opened to volunteers unless the batch's `data` says otherwise), the
refusal to cancel or abort an order that has already ended, and a certification naming all its problems at once."""
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import InstanceFile, VOrder
from tests.helpers import served_day
from tests.web.conftest import unique_id
from tests.web.test_qa_fixes import _at_certification, _certificate
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task
from tests.web.test_v_order_rules import publish

BATCH_HINT = '批量通过的订单将开放给志愿者接单；需派给服务商的订单请单独办理'


def _orders(api, n):
    """n orders of vol_zhang waiting for the station's publish review: (instance ids, review task ids)."""
    so = approved_object(api)
    insts = [publish(api('vol_zhang'), so, title=f'助餐订单{i}')['id'] for i in range(n)]
    station = api('station_xicun')
    return insts, [open_task(station, i)['id'] for i in insts]


def _order(inst_id) -> VOrder:
    db.session.expire_all()
    return db.session.scalar(select(VOrder).where(VOrder.instance_id == inst_id))


def test_a_batch_approval_opens_publish_reviews_to_volunteers(api):
    insts, reviews = _orders(api, 2)
    results = api('station_xicun').post('/tasks/batch', json={'task_ids': reviews, 'decision': 'approve'}).get_json()
    assert [(r['ok'], r['error']) for r in results['results']] == [(True, None)] * 2, results
    assert [r['done'] for r in results['results']] == ['已通过，开放给志愿者接单'] * 2
    assert [(_order(i).status, _order(i).dispatch_mode) for i in insts] == [('open', 'open')] * 2
    assert open_task(api('vol_wang'), insts[0])['title'] == '志愿者接单'


def test_batch_data_is_checked_against_each_task_form(api):
    insts, reviews = _orders(api, 2)
    station = api('station_xicun')
    body = {'task_ids': reviews[:1], 'decision': 'approve', 'data': {'dispatch_mode': 'provider'}}
    [refused] = station.post('/tasks/batch', json=body).get_json()['results']
    assert not refused['ok'] and '服务商：此项为必填项' in refused['error'], refused
    assert _order(insts[0]).status == 'pending_review', 'nothing decided'
    body['data'] = {'dispatch_mode': 'nowhere'}
    [bad] = station.post('/tasks/batch', json=body).get_json()['results']
    assert not bad['ok'] and bad['error'].startswith('派单方式：'), bad
    body = {'task_ids': reviews, 'decision': 'approve', 'data': {'dispatch_mode': 'provider', 'provider': 'provider_a'}}
    results = station.post('/tasks/batch', json=body).get_json()['results']
    assert [r['ok'] for r in results] == [True, True], results
    assert all('服务商' in r['done'] for r in results), results
    assert [_order(i).status for i in insts] == ['awaiting_dispatch'] * 2


def test_the_inbox_batch_bar_explains_publish_reviews(api, login, case_at_street):
    page = login('station_xicun')
    case_at_street(name='李阿婆', id_number=unique_id(7))  # a review at the street: nothing of the station's
    assert BATCH_HINT not in page.get('/inbox').get_data(as_text=True)
    insts, reviews = _orders(api, 2)
    inbox = page.get('/inbox').get_data(as_text=True)
    assert BATCH_HINT in inbox and f'name="task_ids" value="{reviews[0]}"' in inbox
    html = page.post('/inbox/batch', follow_redirects=True, data={'task_ids': [str(t) for t in reviews], 'decision': 'approve'}
                     ).get_data(as_text=True)
    assert '成功 2 条，失败 0 条' in html and html.count('已通过，开放给志愿者接单') == 2, html
    assert [_order(i).status for i in insts] == ['open'] * 2
    street = login('street_xicun').get('/inbox').get_data(as_text=True)
    assert '批量通过' in street and BATCH_HINT not in street, 'only shown where publish reviews are listed'


def test_a_closed_order_says_it_has_ended_when_cancelled_or_aborted_again(api):
    so = approved_object(api)
    publisher = api('vol_zhang')
    inst = publish(publisher, so)
    order_id = int(inst['business_key'].split(':')[1])
    assert publisher.post(f'/orders/{order_id}/cancel', json={'reason': '家属已安排'}).status_code == 200
    again = publisher.post(f'/orders/{order_id}/cancel', json={'reason': '家属已安排'})
    assert again.status_code == 409
    assert again.get_json()['message'] == '订单已结束（已取消），不能取消', again.get_json()
    aborted = api('station_xicun').post(f'/orders/{order_id}/abort', json={'reason': '长者住院'})
    assert aborted.status_code == 409 and aborted.get_json()['message'] == '订单已结束（已取消），不能中止'


def test_a_certification_names_every_problem_at_once(api, login, row_counts):
    inst = _at_certification(api)
    station = api('station_xicun')
    task = open_task(station, inst['id'])
    day = date.fromisoformat(served_day())
    data = _certificate(station, service_start_date=(day - timedelta(days=3)).isoformat(), service_hours=400,
                        volunteer_count=7, photos=[])
    before = row_counts()
    files = db.session.scalar(select(func.count()).select_from(InstanceFile))
    resp = station.post(f'/tasks/{task["id"]}/complete', json={'data': data})
    assert resp.status_code == 422
    errors = resp.get_json()['errors']
    assert set(errors) == {'photos', 'service_hours', 'service_start_date', 'volunteer_count'}, errors
    assert '（1 人）' in errors['volunteer_count'][0]
    page = login('station_xicun').post(f'/inbox/tasks/{task["id"]}/decide', data={
        k: v for k, v in data.items() if k != 'photos'}, content_type='multipart/form-data')
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert all(f'class="field has-error" id="field-{f}"' in html
               for f in ('photos', 'service_hours', 'service_start_date', 'volunteer_count')), html
    # the form is right but its rules are not: both rule problems still come together
    rules = _certificate(station, service_start_date=(day - timedelta(days=3)).isoformat(), volunteer_count=7)
    resp = station.post(f'/tasks/{task["id"]}/complete', json={'data': rules})
    assert set(resp.get_json()['errors']) == {'service_start_date', 'volunteer_count'}, resp.get_json()
    db.session.expire_all()
    assert row_counts() == before and db.session.scalar(select(func.count()).select_from(InstanceFile)) == files
    complete(station, task, data=_certificate(station))
