"""The station's 接单人审核 decides whether a volunteer may serve an elder: the page (and the API's task detail) shows
what the system holds about the acceptor — where they belong, their phone masked, their certified elderly-care
hours and points, how their earlier orders went, other confirmed orders at the same time — not only a name."""
import json
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import VOrder
from tests.helpers import served_day, upload_png
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, travel_past_service
from tests.web.test_v_order_rules import RATINGS, publish


def _accepted(api, so, title, **overrides):
    """An order of vol_zhang's that vol_li accepted; returns the instance (her 接单人审核 is open)."""
    station, vol_li = api('station_xicun'), api('vol_li')
    inst = publish(api('vol_zhang'), so, title=title, **overrides)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    complete(vol_li, open_task(vol_li, inst['id']), data={'note': '我有空'})
    return inst


def _approved(api, so, title, **overrides):
    inst = _accepted(api, so, title, **overrides)
    station = api('station_xicun')
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    return inst


def _order_id(inst) -> int:
    return int(inst['business_key'].split(':')[1])


def _li_with_a_history(api):
    """vol_li served one order (certified 2.5 hours, 2 points), one was aborted, one is confirmed for the same time
    as the order she now accepts. Returns (the order now under review, its 接单人审核 task)."""
    so = approved_object(api)
    publisher, station, gzva = api('vol_zhang'), api('station_xicun'), api('gzva')
    done = _approved(api, so, '已完成的订单')
    travel_past_service(done['id'])
    complete(publisher, open_task(publisher, done['id']), data=RATINGS)
    day = served_day()
    complete(station, open_task(station, done['id']), data={
        'service_start_date': day, 'service_end_date': day, 'person_times': 1, 'object_count': 1, 'volunteer_count': 1,
        'service_hours': 2.5, 'summary': '陪同复诊顺利', 'results': '长者满意', 'photos': [upload_png(station)]})
    complete(gzva, open_task(gzva, done['id']), decision='approve')
    aborted = _approved(api, so, '中止的订单')
    assert station.post(f'/orders/{_order_id(aborted)}/abort', json={'reason': '长者住院'}).status_code == 200
    _approved(api, so, '同一时段的订单')
    later = db.session.scalar(select(VOrder).order_by(VOrder.id.desc()))
    under_review = _accepted(api, so, '待审核接单人的订单', start_at=(later.start_at + timedelta(hours=1)).isoformat(),
                             end_at=(later.end_at + timedelta(hours=1)).isoformat())
    return under_review, open_task(station, under_review['id'], '接单人审核')


def test_the_acceptor_review_page_shows_what_the_system_holds_about_the_acceptor(api, login):
    _inst, task = _li_with_a_history(api)
    html = login('station_xicun').get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    section = html[html.index('class="card acceptor-profile"'):]
    section = section[:section.index('</section>')]
    for text in ('接单人情况', '李晓敏', '荔湾区 · 西村街', '颐康居家养老服务中心', '137****0001',
                 '已认证养老服务时长', '2.5 小时', '养老时间积分', '2 分', '已完成订单', '中止的订单', '1 单',
                 '同一时段已确定的其他订单'):
        assert text in section, text
    assert '13700000001' not in html, 'the phone number is masked'


def test_the_api_task_detail_carries_the_same_facts(api):
    _inst, task = _li_with_a_history(api)
    profile = api('station_xicun').get(f'/tasks/{task["id"]}').get_json()['data']['acceptor_profile']
    assert profile['name'] == '李晓敏' and profile['phone'] == '137****0001'
    assert profile['street'] == '荔湾区 · 西村街' and profile['units'] == ['颐康居家养老服务中心']
    assert (profile['certified_hours'], profile['elderly_points']) == (2.5, 2)
    assert (profile['orders_completed'], profile['orders_aborted'], profile['acceptances_refused']) == (1, 1, 0)
    assert profile['overlapping_orders'] == 1 and profile['minor'] is False
    # what the station weighed is not the data it decided on: the decision's audit row names the acceptor only
    assert api('station_xicun').post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    from app.models import Decision
    audited = json.loads(db.session.scalars(select(Decision).where(Decision.human_task_id == task['id'])).one().data_json)
    assert audited['subject']['acceptor_under_review'].startswith('李晓敏') and 'acceptor_profile' not in audited['subject']


def test_a_minor_acceptor_is_shown_as_one_and_other_stations_see_nothing(api, login):
    so = approved_object(api)
    station, vol_wang = api('station_xicun'), api('vol_wang')
    inst = publish(api('vol_zhang'), so)
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    complete(vol_wang, open_task(vol_wang, inst['id']))
    task = open_task(station, inst['id'], '接单人审核')
    html = login('station_xicun').get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    section = html[html.index('class="card acceptor-profile"'):]
    assert '未成年' in section and '监护人' in section and '王大伟' in section
    assert '13800138021' not in html, "the guardian's phone is not shown"
    assert api('station_xinshi').get(f'/tasks/{task["id"]}').status_code == 404


def test_a_professional_order_counts_the_professional_orders_and_says_qualifications_are_not_recorded(api, login):
    so = approved_object(api)
    inst = _accepted(api, so, '上门助浴', category='professional', service_item='bathing',
                     qualification_files=[upload_png(api('vol_zhang'))])
    task = open_task(api('station_xicun'), inst['id'], '接单人审核')
    html = login('station_xicun').get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    section = html[html.index('class="card acceptor-profile"'):]
    assert '其中专业类订单' in section and '系统未登记志愿者个人的专业资质，请另行核验' in section
    assert api('station_xicun').get(f'/tasks/{task["id"]}').get_json()['data']['acceptor_profile'][
        'professional_completed'] == 0
