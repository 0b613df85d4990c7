"""A V-order's history names whom each dispatch sent the order to, not only "社工站发布审核 通过" / "服务商派单 提交": the
station's choice (派给服务商：颐康居家养老服务中心 / 开放给志愿者接单, on its publish review and its re-dispatch) and the
provider's (派给志愿者：李晓敏), on the case pages, in the API's history items and in the flash after the decision. The
audit row keeps the decided form's data as it was, and the reviewer's reason."""
import json
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Decision, VOrder
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data

PROVIDER_ROW = '社工站发布审核（派给服务商：颐康居家养老服务中心）'
VOLUNTEER_ROW = '服务商派单（派给志愿者：李晓敏）'


def _published(api, title='陪周奶奶复诊', so=None):
    so = so or approved_object(api)
    resp = api('vol_zhang').post('/processes/v_order/instances', json={'data': order_data([so], title=title)})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()['instance']


def _order_id(inst) -> int:
    return db.session.scalar(select(VOrder.id).where(VOrder.instance_id == inst['id']))


def _history_heads(html):
    return [re.sub(r'<[^>]+>|\s+', ' ', h).split() for h in re.findall(r'<div class="h-head">(.*?)</div>', html, re.S)]


def _text(html):
    return re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', html))


def test_the_history_names_the_provider_and_the_volunteer_the_order_went_to(api, login):
    inst = _published(api)
    station = login('station_xicun')
    review = open_task(api('station_xicun'), inst['id'])
    resp = station.post(f'/inbox/tasks/{review["id"]}/decide', data={
        'decision': 'approve', 'reason': '资料齐全', 'dispatch_mode': 'provider', 'provider': 'provider_a'})
    assert resp.status_code == 302
    flash = _text(station.get(resp.headers['Location']).get_data(as_text=True))
    assert f'已提交：{PROVIDER_ROW} · 陪周奶奶复诊，审核结果：通过' in flash

    provider = login('provider_a')
    dispatch = open_task(api('provider_a'), inst['id'])
    resp = provider.post(f'/inbox/tasks/{dispatch["id"]}/decide',
                         data={'provider_action': 'dispatch', 'volunteer': 'vol_li', 'note': '熟悉路线'})
    assert resp.status_code == 302
    assert f'已提交：{VOLUNTEER_ROW} · 陪周奶奶复诊' in _text(provider.get(resp.headers['Location']).get_data(as_text=True))

    heads = _history_heads(station.get(f'/cases/{inst["id"]}').get_data(as_text=True))
    assert [PROVIDER_ROW, '通过'] in heads and [VOLUNTEER_ROW, '提交'] in heads, heads
    assert '意见：资料齐全' in _text(station.get(f'/cases/{inst["id"]}').get_data(as_text=True)), 'the reason is kept'
    history = api('vol_zhang').get(f'/instances/{inst["id"]}').get_json()['history']
    # the provider's 派单说明 is kept with its step, as a reviewer's reason is (walk 19: it reached only the volunteer)
    assert [(h['task'], h['decision'], h['reason']) for h in history[1:3]] == [
        (PROVIDER_ROW, 'approve', '资料齐全'), (VOLUNTEER_ROW, 'submit', '熟悉路线')]
    assert '意见：熟悉路线' in _text(login('vol_li').get(f'/orders/{_order_id(inst)}').get_data(as_text=True))

    # what was decided is recorded as it was: the provider's code, the volunteer's username
    rows = db.session.scalars(select(Decision).where(Decision.instance_id == inst['id']).order_by(Decision.id)).all()
    assert json.loads(rows[1].data_json)['form'] == {'decision': 'approve', 'reason': '资料齐全',
                                                     'dispatch_mode': 'provider', 'provider': 'provider_a'}
    assert json.loads(rows[2].data_json) == {'provider_action': 'dispatch', 'volunteer': 'vol_li', 'note': '熟悉路线'}
    # the publisher learns where the order went
    told = [m['title'] for m in api('vol_zhang').get('/messages').get_json()['items']]
    assert any(f'{PROVIDER_ROW}：已通过' in t for t in told), told


def test_an_order_opened_to_volunteers_says_so_in_the_history_and_in_a_batch(api):
    so = approved_object(api)
    single, batched, refused = (_published(api, title, so)['id'] for title in ('陪周奶奶复诊', '陪周奶奶买菜', '陪周奶奶散步'))
    station = api('station_xicun')
    complete(station, open_task(station, single), decision='approve', data={'dispatch_mode': 'open'})
    results = station.post('/tasks/batch', json={'task_ids': [open_task(station, batched)['id']],
                                                 'decision': 'approve'}).get_json()['results']
    assert [r['done'] for r in results] == ['已通过，开放给志愿者接单']
    for inst in (single, batched):
        last = api('vol_zhang').get(f'/instances/{inst}').get_json()['history'][-1]
        assert (last['task'], last['decision']) == ('社工站发布审核（开放给志愿者接单）', 'approve')
    # a rejection sends the order nowhere: its row is the step's own
    complete(station, open_task(station, refused), decision='reject', reason='地址不详细')
    assert api('vol_zhang').get(f'/instances/{refused}').get_json()['history'][-1]['task'] == '社工站发布审核'


def test_the_station_re_dispatch_names_its_choice(api, login):
    inst = _published(api)
    station, provider = api('station_xicun'), api('provider_a')
    complete(station, open_task(station, inst['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'return', 'return_reason': '人手不足'})
    page = login('station_xicun')
    # while the station dispatches it again, the order names its provider as the one that returned it
    assert '服务商 颐康居家养老服务中心（已退回）' in _text(page.get(f'/orders/{_order_id(inst)}').get_data(as_text=True))
    complete(station, open_task(station, inst['id']), data={'dispatch_mode': 'open'})
    assert '（已退回）' not in _text(page.get(f'/orders/{_order_id(inst)}').get_data(as_text=True))
    tasks = [h['task'] for h in api('vol_zhang').get(f'/instances/{inst["id"]}').get_json()['history']]
    assert tasks[-2:] == ['服务商退回订单', '社工站重新派单（开放给志愿者接单）'], tasks


def test_a_step_too_long_to_name_its_choice_keeps_its_own_name(app):
    """The history row's step holds at most 200 characters: a step named at length in an edited diagram keeps its
    own name there (the decision is still taken and its data names the provider), instead of failing to be stored."""
    from app.models import HumanTask
    from app.services import in_chinese
    from app.services.v_order_views import step_with_choice
    values = {'decision': 'approve', 'dispatch_mode': 'provider', 'provider': 'provider_a'}
    with app.test_request_context('/'):
        short = HumanTask(title='社工站发布审核', form_key='v_order_review.json')
        assert in_chinese(step_with_choice(short, values)) == PROVIDER_ROW
        long = HumanTask(title='社工站发布审核' * 27, form_key='v_order_review.json')
        assert step_with_choice(long, values) is None


def test_the_done_task_page_names_the_choice(api, login):
    inst = _published(api)
    complete(api('station_xicun'), open_task(api('station_xicun'), inst['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    task = open_task(api('provider_a'), inst['id'])
    complete(api('provider_a'), task, data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    html = _text(login('provider_a').get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True))
    assert f'该任务已处理：{VOLUNTEER_ROW} 提交' in html, html[:3000]
