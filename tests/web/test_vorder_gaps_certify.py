"""服务人次 of an hours certification is bounded by the volunteers who served and the days certified: each volunteer
who served counts at least once, and once per day of service at most (an order books one continuous service
period, so a volunteer takes part in it at most once a day). Refused with a message under the field, nothing
stored, everything else typed kept; the API says the same."""
import re
from datetime import date, timedelta
from io import BytesIO

from sqlalchemy import select

from app.extensions import db
from app.models import VOrder
from tests.helpers import png_bytes, served_day
from tests.web.test_v_order_lifecycle import complete, open_task, travel_past_service
from tests.web.test_v_order_rules import RATINGS, certification, staffed_order

FEWER = '服务人次不能少于志愿者人数（2 人）：每位服务的志愿者至少计 1 人次'


def _at_certification(api, needed):
    inst = staffed_order(api, needed=needed)
    travel_past_service(inst['id'])
    publisher = api('vol_zhang')
    complete(publisher, open_task(publisher, inst['id']), data=RATINGS)
    return inst


def _cert(client, **overrides):
    """Two volunteers on one day (the shared builder's data otherwise)."""
    return certification(client, **{'person_times': 2, 'volunteer_count': 2, **overrides})


def _certification_json(inst):
    db.session.expire_all()
    return db.session.scalar(select(VOrder.certification_json).where(VOrder.instance_id == inst['id']))


def test_the_api_refuses_person_times_the_head_counts_cannot_hold(api, row_counts):
    inst = _at_certification(api, needed=2)
    station = api('station_xicun')
    task = open_task(station, inst['id'])
    before = row_counts()
    fewer = station.post(f'/tasks/{task["id"]}/complete', json={'data': _cert(station, person_times=1)})
    assert fewer.status_code == 422
    assert fewer.get_json()['errors'] == {'person_times': [FEWER]}
    more = station.post(f'/tasks/{task["id"]}/complete', json={'data': _cert(station, person_times=3)})
    assert more.status_code == 422
    assert more.get_json()['errors'] == {
        'person_times': ['服务人次不能多于志愿者人数 × 服务天数（2 人 × 1 天 = 2 人次）']}
    assert row_counts() == before and _certification_json(inst) is None, 'nothing stored'
    # two days of service hold twice as many person-times (the order is moved to span two days)
    order = db.session.scalar(select(VOrder).where(VOrder.instance_id == inst['id']))
    order.start_at -= timedelta(days=1)
    db.session.commit()
    day = date.fromisoformat(served_day())
    two_days = {'service_start_date': (day - timedelta(days=1)).isoformat(), 'service_end_date': day.isoformat()}
    too_many = station.post(f'/tasks/{task["id"]}/complete', json={'data': _cert(station, person_times=5, **two_days)})
    assert too_many.get_json()['errors'] == {
        'person_times': ['服务人次不能多于志愿者人数 × 服务天数（2 人 × 2 天 = 4 人次）']}
    complete(station, task, data=_cert(station, person_times=4, **two_days))
    assert '"person_times": 4' in _certification_json(inst)


def test_a_refused_volunteer_count_is_not_held_against_person_times(api):
    """With a volunteer count that is itself refused, person-times are not measured against it (one message, under
    the field that is wrong)."""
    inst = _at_certification(api, needed=1)
    station = api('station_xicun')
    task = open_task(station, inst['id'])
    resp = station.post(f'/tasks/{task["id"]}/complete', json={'data': _cert(station, volunteer_count=7, person_times=1)})
    assert resp.status_code == 422 and list(resp.get_json()['errors']) == ['volunteer_count'], resp.get_json()


def test_the_page_says_it_under_the_field_and_keeps_what_was_typed(api, login):
    inst = _at_certification(api, needed=2)
    task = open_task(api('station_xicun'), inst['id'])
    station = login('station_xicun')
    page = station.get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    assert '每位志愿者每个服务日计 1 人次' in page, 'the form says what a person-time is'
    day = served_day()
    form = {'service_start_date': day, 'service_end_date': day, 'person_times': '1', 'object_count': '1',
            'volunteer_count': '2', 'service_hours': '2', 'summary': '陪同复诊顺利', 'results': '长者满意'}
    bad = station.post(f'/inbox/tasks/{task["id"]}/decide', content_type='multipart/form-data',
                       data={**form, 'photos_new': [(BytesIO(png_bytes()), 'a.png')]})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    field = html[html.index('class="field has-error" id="field-person_times"'):html.index('id="field-object_count"')]
    assert FEWER in field, 'the message stands under 服务人次'
    assert '>陪同复诊顺利</textarea>' in html and '>长者满意</textarea>' in html
    assert 'name="volunteer_count"' in html and re.search(r'name="volunteer_count"[^>]*value="2"', html)
    kept = re.findall(r'name="photos" value="(\d+)"', html)
    assert kept, 'the photo is kept for the retry'
    assert _certification_json(inst) is None
    ok = station.post(f'/inbox/tasks/{task["id"]}/decide', data={**form, 'person_times': '2', 'photos': kept})
    assert ok.status_code == 302
    assert open_task(api('gzva'), inst['id'])['title'] == '广志协认证审核'
