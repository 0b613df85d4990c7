"""A task its case closed without a decision (the order was cancelled while it was offered) answers a late decision
or claim with a 409 that says the case moved on, not 该任务已被处理 (nobody handled it)."""
from tests.web.test_district_stats import cancel
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task
from tests.web.test_v_order_rules import publish

CLOSED = '该任务已关闭：案件已取消、结束或退回到其他步骤，无需再处理，请刷新后查看'


def test_a_task_closed_by_a_cancel_says_so(api):
    so = approved_object(api)
    publisher, station, vol = api('vol_zhang'), api('station_xicun'), api('vol_li')
    inst = publish(publisher, so)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    offer = open_task(vol, inst['id'])
    cancel(publisher, inst)
    late = vol.post(f'/tasks/{offer["id"]}/complete', json={'data': {'note': '可以'}})
    assert late.status_code == 409 and late.get_json()['message'] == CLOSED
    assert late.get_json()['error'] == 'already_handled'  # the code API clients know, with the reason in words


def test_a_decided_task_still_says_it_was_handled(api):
    so = approved_object(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    inst = publish(publisher, so)
    task = open_task(station, inst['id'])
    complete(station, task, decision='approve', data={'dispatch_mode': 'open'})
    again = station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve', 'data': {'dispatch_mode': 'open'}})
    assert again.status_code == 409 and again.get_json()['message'] == '该任务已被处理，请刷新后查看'
    claim = station.post(f'/tasks/{task["id"]}/claim')
    assert claim.status_code == 409 and claim.get_json()['message'] == '该任务已被处理，请刷新后查看'
