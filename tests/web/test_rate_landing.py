"""Where 确认完成并评价 leads once sent (walk w1en §11): a station that rates its order from the desktop inbox is back
in the inbox, as after any decision taken there; a volunteer who rates on the phone is back on the phone case page."""
import re
from html import unescape

from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, travel_past_service
from tests.web.test_v_order_rules import publish, staffed_order

RATINGS = {k: '5' for k in ('rating_overall', 'rating_arrangement', 'rating_effect', 'rating_attitude', 'rating_skill',
                            'rating_efficiency')}


def _stations_order_to_rate(api) -> tuple[int, int]:
    """An order the station published itself, staffed by vol_li and served: (its instance, the station's 确认完成并评价)."""
    station = api('station_xicun')
    inst = publish(station, approved_object(api))['id']
    complete(station, open_task(station, inst), decision='approve', data={'dispatch_mode': 'open'})
    complete(api('vol_li'), open_task(api('vol_li'), inst))
    complete(station, open_task(station, inst, '接单人审核'), decision='approve')
    travel_past_service(inst)
    return inst, open_task(station, inst)['id']


def _form_action(resp) -> str:
    return unescape(re.search(r'<form[^>]*action="([^"]*/resubmit[^"]*)"', resp.get_data(as_text=True)).group(1))


def test_a_station_rating_from_the_inbox_is_back_in_the_inbox(api, login):
    inst, task_id = _stations_order_to_rate(api)
    desk = login('station_xicun')
    form = desk.get(f'/inbox/tasks/{task_id}', follow_redirects=True)
    assert '确认完成并评价' in form.get_data(as_text=True)
    # a refused rating keeps the way back
    refused = desk.post(_form_action(form), data={**RATINGS, 'rating_overall': ''})
    assert refused.status_code == 422
    done = desk.post(_form_action(refused), data=RATINGS)
    assert done.status_code == 302 and done.headers['Location'] == f'/inbox?done={task_id}'
    inbox = desk.get(done.headers['Location']).get_data(as_text=True)
    assert '已确认完成并评价' in inbox and '‹ 我的提交' not in inbox, 'the desktop inbox, not the phone case'


def test_a_volunteer_rating_on_the_phone_stays_on_the_phone(api, login):
    inst = staffed_order(api)['id']
    travel_past_service(inst)
    phone = login('vol_zhang')
    form = phone.get(f'/m/cases/{inst}/resubmit')
    done = phone.post(_form_action(form), data=RATINGS)
    assert done.status_code == 302 and done.headers['Location'] == f'/m/cases/{inst}'
