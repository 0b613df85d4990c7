"""An operator's reset (回退到已完成的步骤): V-orders at every phase, a finished case running again, and what the
people concerned see and are told about the tasks the reset withdrew."""
import pytest

from app.extensions import db
from app.models import HumanTask, User, VOrder, VOrderVolunteer
from app.services import process_admin
from app.services.errors import Conflict
from app.services.instances import reset_instance
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_of, travel_past_service
from tests.web.test_v_order_rules import RATINGS, certification, certified, publish, staffed_order
from workflows import InstanceRun

REASON = '派单方式选错，重新审核'


def admin():
    return db.session.scalar(db.select(User).where(User.username == 'admin'))


def accepting(api):
    """A V-order for 2 volunteers in 待接单: vol_li accepted (under review), the accept task is open again."""
    so = approved_object(api)
    publisher, station, vol_li = api('vol_zhang'), api('station_xicun'), api('vol_li')
    inst = publish(publisher, so, volunteers_needed=2)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    complete(vol_li, open_task(vol_li, inst['id']))
    assert order_of(publisher, inst)['status_label'] == '待接单'
    return inst


def reset_on_page(login, instance_id, step):
    web = login('admin')
    return web.post(f'/admin/instances/{instance_id}/reset', data={'bpmn_id': step, 'reason': REASON, 'confirm': '1'},
                    follow_redirects=True)


def offered(instance_id):
    return [s['bpmn_id'] for s in process_admin.reset_steps(admin(), instance_id)]


def volunteers(instance_id):
    db.session.expire_all()
    order = db.session.scalar(db.select(VOrder).where(VOrder.instance_id == instance_id))
    return {v.user.username: v.status for v in order.volunteers}


def unread(client, text):
    return [m for m in client.get('/messages').get_json()['items'] if text in m['title'] and not m['read']]


@pytest.mark.parametrize('step, status, now', [('publish_review', '待审核', '社工站发布审核'),
                                              ('accept', '待接单', '志愿者接单'),
                                              ('submit', '审核不通过', '填写订单')])
def test_an_order_in_acceptance_goes_back_to_each_step(api, login, step, status, now):
    inst = accepting(api)
    assert set(offered(inst['id'])) == {'submit', 'publish_review', 'accept'}
    resp = reset_on_page(login, inst['id'], step)
    assert resp.status_code == 200, resp.get_data(as_text=True)[-600:]
    assert f'当前步骤：{now}' in resp.get_data(as_text=True)
    publisher, vol_li = api('vol_zhang'), api('vol_li')
    assert order_of(publisher, inst)['status_label'] == status
    body = publisher.get(f'/instances/{inst["id"]}').get_json()
    assert body['status'] == 'running' and [t['title'] for t in body['open_tasks']] == [now]
    # vol_li's acceptance was undone with the steps after it: withdrawn and told, not left waiting for a review
    assert volunteers(inst['id']) == {}
    told = unread(vol_li, '您的接单已撤销')
    assert len(told) == 1 and REASON in told[0]['title'], vol_li.get('/messages').get_json()['items']
    assert api('station_xicun').get('/tasks?state=open').get_json()['total'] == (1 if step == 'publish_review' else 0)


def test_after_a_reset_to_the_acceptance_the_volunteer_may_accept_again_and_the_order_runs_on(api, login):
    inst = accepting(api)
    assert reset_on_page(login, inst['id'], 'accept').status_code == 200
    station, vol_li, vol_wang = api('station_xicun'), api('vol_li'), api('vol_wang')
    complete(vol_li, open_task(vol_li, inst['id']))
    complete(vol_wang, open_task(vol_wang, inst['id']))
    for _ in range(2):
        complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    assert volunteers(inst['id']) == {'vol_li': 'approved', 'vol_wang': 'approved'}
    assert order_of(api('vol_zhang'), inst)['status_label'] == '进行中'


def test_an_order_in_progress_goes_back_to_the_acceptor_review(api, login):
    inst = staffed_order(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    assert order_of(publisher, inst)['status_label'] == '进行中'
    assert set(offered(inst['id'])) == {'submit', 'publish_review', 'accept', 'acceptor_review'}
    travel_past_service(inst['id'])  # nobody can accept once the service has started
    assert set(offered(inst['id'])) == {'submit', 'publish_review', 'acceptor_review'}
    refused = reset_on_page(login, inst['id'], 'accept')
    assert refused.status_code == 422 and '服务开始时间已过，不能再回退到接单或派单步骤' in refused.get_data(as_text=True)
    assert reset_on_page(login, inst['id'], 'acceptor_review').status_code == 200
    assert order_of(publisher, inst)['status_label'] == '待接单'
    assert volunteers(inst['id']) == {'vol_li': 'pending'}, 'the review is open again'
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    assert order_of(publisher, inst)['status_label'] == '待评价'  # in progress, its end time passed


def test_a_finished_order_sent_back_to_certification_runs_again_and_pays_once(api, login):
    inst = certified(api, 3.5)
    publisher, station, gzva, vol_li = (api(u) for u in ('vol_zhang', 'station_xicun', 'gzva', 'vol_li'))
    assert vol_li.get('/me/points').get_json()['balance'] == 3
    # once points were paid, only the rating and the certification may be redone (the award settles them)
    assert offered(inst['id']) == ['certify_review', 'certify', 'confirm']
    # the steps it may not go back to are named on the page with why, not silently left out of the choice
    page = login('admin').get(f'/admin/instances/{inst["id"]}').get_data(as_text=True)
    refused_part = page.split('不能回退的已完成步骤', 1)[1]
    assert '<strong>接单人审核</strong>：该订单已发放积分' in refused_part
    # the acceptance says the same, not "go back to 社工站发布审核", which a paid order cannot do either
    assert '<strong>志愿者接单</strong>：该订单已发放积分' in refused_part and '可回退到' not in refused_part
    assert '<strong>时数认证</strong>' not in refused_part
    refused = reset_on_page(login, inst['id'], 'acceptor_review')
    assert refused.status_code == 422 and '该订单已发放积分' in refused.get_data(as_text=True)

    resp = reset_on_page(login, inst['id'], 'certify')
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '已完成 · 当前步骤' not in html and '待认证 · 当前步骤：时数认证' in html
    body = publisher.get(f'/instances/{inst["id"]}').get_json()
    assert (body['status'], body['status_label']) == ('running', '待认证')
    assert order_of(publisher, inst)['status_label'] == '待认证'
    complete(station, open_task(station, inst['id']), data=certification(station, service_hours=3.5))
    complete(gzva, open_task(gzva, inst['id']), decision='approve')
    body = publisher.get(f'/instances/{inst["id"]}').get_json()
    assert (body['status'], body['status_label']) == ('completed', '已完成')
    assert vol_li.get('/me/points').get_json()['balance'] == 3, 'not paid twice'


def test_a_finished_order_sent_back_to_the_rating(api, login):
    inst = certified(api, 2)
    publisher, station, gzva = api('vol_zhang'), api('station_xicun'), api('gzva')
    assert reset_on_page(login, inst['id'], 'confirm').status_code == 200
    assert order_of(publisher, inst)['status_label'] == '待评价'
    complete(publisher, open_task(publisher, inst['id']), data=RATINGS)
    complete(station, open_task(station, inst['id']), data=certification(station, service_hours=2))
    complete(gzva, open_task(gzva, inst['id']), decision='approve')
    assert order_of(publisher, inst)['status_label'] == '已完成'
    assert api('vol_li').get('/me/points').get_json()['balance'] == 2


def test_an_engine_failure_in_a_reset_is_a_clear_refusal(api, login, monkeypatch):
    inst = accepting(api)

    def broken(self):  # a library error in the middle of the engine's reset
        raise AttributeError("'NoneType' object has no attribute 'data'")

    monkeypatch.setattr(InstanceRun, '_forget_removed_events', broken)
    resp = reset_on_page(login, inst['id'], 'publish_review')
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and '无法回退到“社工站发布审核”：流程无法从该步骤重新开始' in html
    assert REASON in html, 'the typed reason is kept'
    with pytest.raises(Conflict):
        reset_instance(admin(), inst['id'], 'publish_review', REASON)
    assert volunteers(inst['id']) == {'vol_li': 'pending'}, 'nothing changed'


def test_a_withdrawn_task_says_so_and_its_people_are_told(api, login, case_at_street):
    inst, street_task = case_at_street()
    street, station, vol = api('street_xicun'), api('station_xicun'), api('vol_zhang')
    assert len(unread(street, '新待办：镇街终审')) == 1
    before = {m['id'] for m in vol.get('/messages').get_json()['items']}
    assert reset_on_page(login, inst, 'station_review').status_code == 200

    page = login('street_xicun').get(f'/inbox/tasks/{street_task}').get_data(as_text=True)
    assert '该任务已处理' not in page
    assert '该任务已因回退撤销，无需处理：流程管理员 于 ' in page and '将案件回退到“社工站初审”' in page
    assert f'原因：{REASON}' in page and f'href="/cases/{inst}"' in page
    assert unread(street, '新待办：镇街终审') == [], 'the withdrawn task\'s 新待办 is settled'
    assert len(unread(station, '新待办：社工站初审')) == 1, 'the reopened task is announced'

    new = [m for m in vol.get('/messages').get_json()['items'] if m['id'] not in before]
    assert len(new) == 1 and new[0]['title'].startswith('您的提交「')
    assert '已被管理员退回到“社工站初审”重新办理' in new[0]['title']
    assert REASON in new[0]['title'] and new[0]['link'] == f'/m/cases/{inst}'
    task = db.session.get(HumanTask, street_task)
    assert (task.status, task.decision) == ('cancelled', 'reset')


def test_a_task_cancelled_otherwise_says_it_was_withdrawn(api, login):
    """The publisher cancels an order under review: the station's review is withdrawn, not handled."""
    so = approved_object(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    inst = publish(publisher, so)
    task = open_task(station, inst['id'])
    resp = publisher.post(f'/orders/{order_of(publisher, inst)["id"]}/cancel', json={'reason': '长者已住院'})
    assert resp.status_code == 200, resp.get_json()
    page = login('station_xicun').get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    assert '该任务已处理' not in page and '该任务已撤销，无需处理' in page


def test_submitter_of_a_v_order_is_told_of_the_reset(api, login):
    inst = accepting(api)
    assert reset_on_page(login, inst['id'], 'publish_review').status_code == 200
    told = unread(api('vol_zhang'), '已被管理员退回到“社工站发布审核”')
    assert len(told) == 1 and REASON in told[0]['title']
    assert db.session.scalar(db.select(db.func.count()).select_from(VOrderVolunteer)) == 0
