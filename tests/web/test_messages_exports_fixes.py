"""Fixes from the second walk-through: who learns a returned certification's reason, overdue reminders that
fire together, the 审核列表 export's states, small texts."""
from sqlalchemy import select

from app.extensions import db
from app.models import Message, User
from tests.helpers import served_day, upload_png
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data, travel_past_service

RATINGS = {k: 5 for k in ('rating_overall', 'rating_arrangement', 'rating_effect', 'rating_attitude', 'rating_skill',
                          'rating_efficiency')}


def _messages(username, **where):
    rows = db.session.scalars(select(Message).join(User, User.id == Message.user_id)
                              .where(User.username == username, *[getattr(Message, k) == v for k, v in where.items()])
                              .order_by(Message.id)).all()
    found = [(m.kind, m.title, m.link, m.read_at is None) for m in rows]
    db.session.remove()
    return found


def _rated_order(api):
    """vol_zhang's order, served by vol_li through provider_a and rated: the station's certification waits."""
    so = approved_object(api)
    vol_zhang, station, provider = api('vol_zhang'), api('station_xicun'), api('provider_a')
    inst = vol_zhang.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    travel_past_service(inst['id'])
    complete(vol_zhang, open_task(vol_zhang, inst['id']), data=RATINGS)
    return inst


def _certified_order(api):
    """The rated order, certified by the station: gzva's review waits."""
    inst, station = _rated_order(api), api('station_xicun')
    today = served_day()
    cert = {'service_start_date': today, 'service_end_date': today, 'person_times': 1, 'object_count': 1,
            'volunteer_count': 1, 'service_hours': 3, 'summary': '陪同复诊顺利', 'results': '长者满意',
            'photos': [upload_png(station)]}
    complete(station, open_task(station, inst['id']), data=cert)
    return inst


def test_returned_certification_tells_the_station_why(api, login):
    inst = _certified_order(api)
    gzva, station = api('gzva'), api('station_xicun')
    complete(gzva, open_task(gzva, inst['id']), decision='reject', reason='照片与服务内容不符')
    certify = open_task(station, inst['id'])
    assert certify['title'] == '时数认证'
    told = [m for m in _messages('station_xicun') if m[2] == f'/inbox/tasks/{certify["id"]}']
    assert told == [('task', '「陪陈伯复诊」广志协认证审核：不通过，原因：照片与服务内容不符；新待办：时数认证',
                     f'/inbox/tasks/{certify["id"]}', True)], 'one message: the reason and the returned task'
    publisher = [m[1] for m in _messages('vol_zhang', kind='decision')]
    assert '您的提交「陪陈伯复诊」广志协认证审核：不通过，原因：照片与服务内容不符' in publisher, \
        'the publisher is still told of every decision'
    page = login('station_xicun').get(f'/inbox/tasks/{certify["id"]}').get_data(as_text=True)
    banner = page[page.index('resubmit-reason'):page.index('审核记录')]
    assert '已退回，请按意见修改后重新提交' in banner and '照片与服务内容不符' in banner
    assert '广志协认证审核' in banner
    # once corrected, the message counts as handled and the next review page shows no banner
    today = served_day()
    complete(station, certify, data={'service_start_date': today, 'service_end_date': today, 'person_times': 1,
                                     'object_count': 1, 'volunteer_count': 1, 'service_hours': 2, 'summary': '陪同复诊顺利',
                                     'results': '长者满意', 'photos': [upload_png(station)]})
    assert not [m for m in _messages('station_xicun') if m[2] == f'/inbox/tasks/{certify["id"]}' and m[3]]
    review = open_task(gzva, inst['id'])
    page = login('gzva').get(f'/inbox/tasks/{review["id"]}').get_data(as_text=True)
    assert '已退回，请按意见修改后重新提交' not in page


def test_first_review_page_has_no_returned_banner(api, login):
    inst = _certified_order(api)
    review = open_task(api('gzva'), inst['id'])
    page = login('gzva').get(f'/inbox/tasks/{review["id"]}').get_data(as_text=True)
    assert '已退回' not in page


def test_reminders_firing_in_one_sweep_end_with_the_overdue_one(api, login):
    """The site was idle past day 14: the day-7, day-12 and overdue timers fire in one sweep. The station is told
    the certification is overdue (one message), not only that the service ended 7 days ago."""
    from datetime import timedelta

    from app.models import HumanTask
    from app.services import timers, transaction
    from app.services.instances import load_run, lock_instance, save_run
    inst = _rated_order(api)
    with transaction():
        instance = lock_instance(inst['id'])
        run = load_run(instance)
        assert run.advance_clock(timedelta(days=16)) > 0
        save_run(instance, run)
    timers.fire_due(limit=10)
    reminders = [m[1] for m in _messages('station_xicun', kind='reminder')]
    assert reminders == ['V订单「陪陈伯复诊」时数认证已逾期（超过 14 天），已上报广志协'], reminders
    page = login('station_xicun')
    html = page.get(page.get('/').headers['Location'], follow_redirects=True).get_data(as_text=True)
    assert '时数认证已逾期' in html and '服务已结束 7 天' not in html
    assert db.session.scalar(select(HumanTask.status).where(HumanTask.instance_id == inst['id'],
                                                            HumanTask.bpmn_id == 'certify')) == 'open'


def test_review_list_export_offers_states_and_all_means_all(api, login, app, monkeypatch):
    import re
    from io import BytesIO

    from openpyxl import load_workbook

    from tests.web.conftest import submit
    monkeypatch.setitem(app.config, 'REDIS_URL', None)  # the job runs inline after the request's commit
    vol, station = api('vol_zhang'), api('station_xicun')
    first, second, _ = submit(vol, 0), submit(vol, 1), submit(vol, 2)
    by_instance = {t['instance_id']: t['id'] for t in station.get('/tasks?state=open').get_json()['items']}
    complete(station, {'id': by_instance[first]}, decision='approve')
    complete(station, {'id': by_instance[second]}, decision='reject', reason='照片不清晰')
    web = login('station_xicun')
    page = web.get('/exports').get_data(as_text=True)
    picker = page[page.index('id="f-state"'):page.index('</select>', page.index('id="f-state"'))]
    assert re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', picker) == [
        ('open', '未审核'), ('approve', '已通过'), ('reject', '未通过'), ('all', '全部')]
    assert 'value="all" selected' in picker
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = web.post('/exports', data={'csrf_token': token, 'kind': 'tasks', 'state': 'all', 'from': '', 'to': ''},
                    follow_redirects=True).get_data(as_text=True)
    assert '审核状态：全部' in body
    link = re.search(r'href="(/exports/\d+/download)"', body).group(1)
    sheet = [list(r) for r in load_workbook(BytesIO(web.get(link).data), read_only=True).worksheets[0]
             .iter_rows(values_only=True)]
    assert sorted(r[5] for r in sheet[1:]) == ['已处理', '已处理', '待处理'], 'the open task and the two handled'
    # a request that names no state (the API's default) exports the open tasks and says so
    assert station.post('/exports', json={'kind': 'tasks'}).status_code == 202
    listing = web.get('/exports').get_data(as_text=True)
    newest = listing[listing.index('<tbody>'):listing.index('</tr>', listing.index('<tbody>'))]
    assert '审核状态：未审核' in newest and '>全部<' not in newest


def test_small_texts_optional_upload_history_and_lane_names(api, login):
    from tests.web.test_v_order_rules import publish
    phone = login('vol_zhang')
    form = phone.get('/m/orders/new').get_data(as_text=True)
    box = form[form.index('id="field-qualification_files"'):]
    box = box[:box.index('</div>\n      </div>') if '</div>\n      </div>' in box else 3000]
    assert '还没有选择照片（可选，最多 9 张）' in box and '需要 0–9 张' not in box

    so = approved_object(api)
    publisher = api('vol_zhang')
    inst = publish(publisher, so)
    order_id = int(inst['business_key'].split(':')[1])
    assert publisher.post(f'/orders/{order_id}/cancel', json={'reason': '家属已安排'}).status_code == 200
    case = phone.get(f'/m/cases/{inst["id"]}').get_data(as_text=True)
    history = case[case.index('class="history"'):]
    history = history[:history.index('</ol>')]
    assert '<strong>取消订单</strong>' in history and history.count('取消订单') == 1, history

    admin = login('admin')
    page = admin.get(f'/admin/instances/{inst["id"]}').get_data(as_text=True)
    import json
    config = page[page.index('id="viewer-config">') + len('id="viewer-config">'):]
    xml = json.loads(config[:config.index('</script>')])['xml']
    assert 'name="volunteer"' not in xml and 'name="station_admin"' not in xml, 'lanes show role names'
    assert 'name="志愿者"' in xml and 'name="社工站账号"' in xml
