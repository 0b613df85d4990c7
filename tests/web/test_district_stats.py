"""统计: the figures a district bureau (its own streets) and the association (the city) read, built through the API."""
import pytest

from tests.web.shop_helpers import award, review_task, started_gift
from tests.web.test_v_order_award import recertify
from tests.web.test_v_order_lifecycle import complete, order_of
from tests.web.test_v_order_rules import certified, publish

ZERO = {'objects_approved': 0, 'objects_total': 0, 'orders_published': 0, 'orders_done': 0, 'orders_cancelled': 0,
        'orders_expired': 0, 'orders_aborted': 0, 'hours': 0, 'points': 0, 'volunteers': 0, 'gifts_approved': 0}


def cancel(client, inst, reason='长者已住院'):
    resp = client.post(f'/orders/{order_of(client, inst)["id"]}/cancel', json={'reason': reason})
    assert resp.status_code == 200, resp.get_json()


@pytest.fixture
def month(api):
    """A month of work: in 西村街 (荔湾区) an order certified at 5.99 hours, corrected to 8.2 and then to 2.5 (points
    5, +3, then both reversed and 2 paid), an order cancelled, a relative gift of 李晓敏's approved; in 新市街 (白云区)
    an order of the same elder, published by its station and cancelled. The elder's household street is 西村街, the
    residence street 新市街."""
    inst = certified(api, 5.99)
    for hours in (8.2, 2.5):
        assert recertify(api, inst, hours).status_code == 200
    publisher, xinshi = api('vol_zhang'), api('station_xinshi')
    so = xinshi.get('/service-objects?view=approved').get_json()['items'][0]['id']
    cancel(publisher, publish(publisher, so, title='取消的西村订单'))
    cancel(xinshi, publish(xinshi, so, street='xinshi', title='新市订单', address='白云区新市街新市路 2 号'))
    award('vol_li', 60)
    gift = started_gift(api('vol_li'))
    complete(api('gzva'), review_task(api('gzva'), gift['id']), decision='approve')


def rows(body):
    return {r['street']: {k: r[k] for k in ZERO} for r in body['rows']}


def test_district_admin_reads_own_streets_with_corrected_points_counted_once(api, month):
    body = api('district_liwan').get('/stats').get_json()
    xicun = {**ZERO, 'objects_approved': 1, 'objects_total': 1, 'orders_published': 2, 'orders_done': 1,
             'orders_cancelled': 1, 'hours': 2.5, 'points': 2, 'volunteers': 1, 'gifts_approved': 1}
    assert rows(body) == {'xicun': xicun, 'fengyuan': ZERO}, 'the 新市街 order is not 荔湾区\'s'
    assert body['total'] == xicun
    assert [d['code'] for d in body['districts']] == ['liwan'] and body['city_wide'] is False
    assert body['from'][8:] == '01' and body['from'][:7] == body['to'][:7], 'the current month by default'


def test_association_reads_the_city_or_one_district(api, month):
    gzva = api('gzva')
    baiyun = gzva.get('/stats?district=baiyun').get_json()
    assert rows(baiyun) == {'xinshi': {**ZERO, 'objects_approved': 1, 'objects_total': 1, 'orders_published': 1,
                                       'orders_cancelled': 1}}
    city = gzva.get('/stats').get_json()
    assert {r['street'] for r in city['rows']} == {'xicun', 'fengyuan', 'beijing', 'xinshi', 'shipai'}
    assert city['city_wide'] is True and len(city['districts']) == 11
    total = city['total']
    assert (total['objects_total'], total['orders_published'], total['orders_cancelled'], total['points']) == (1, 3, 2, 2)
    liwan = api('district_liwan').get('/stats').get_json()['total']
    assert api('admin').get('/stats?district=liwan').get_json()['total'] == liwan, 'the process admin reads the city too'


def test_the_period_filter(api, month):
    liwan = api('district_liwan')
    assert liwan.get('/stats?from=2020-01-01&to=2020-01-31').get_json()['total'] == ZERO
    body = liwan.get('/stats?from=2020-01-01&to=2099-12-31').get_json()
    assert (body['total']['orders_published'], body['total']['points']) == (2, 2)
    ends = liwan.get('/stats?from=0001-01-01&to=9999-12-31')
    assert ends.status_code == 200 and ends.get_json()['total']['orders_published'] == 2
    later = liwan.get('/stats?from=2099-01-01').get_json()
    assert (later['from'], later['to']) == ('2099-01-01', '2099-01-31')
    assert {k: later['total'][k] for k in ZERO if k != 'objects_total'} == {k: 0 for k in ZERO if k != 'objects_total'}
    assert later['total']['objects_total'] == 1, 'the library as it stands at the end of the period'


def test_bad_dates_get_field_messages(api, login):
    liwan = api('district_liwan')
    resp = liwan.get('/stats?from=2026-13-01')
    assert resp.status_code == 422 and '日期格式不正确' in resp.get_json()['errors']['from'][0]
    resp = liwan.get('/stats?from=2026-11-30&to=2026-11-01')
    assert resp.status_code == 422 and resp.get_json()['errors']['from'] == ['开始日期不能晚于结束日期']
    page = login('district_liwan').get('/stats?to=11/30')
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and '日期格式不正确' in html and 'value="11/30"' in html


def test_the_page_shows_the_table_with_a_total(api, login, month):
    html = login('district_liwan').get('/stats').get_data(as_text=True)
    assert '西村街' in html and '逢源街' in html and '新市街' not in html and '合计' in html
    assert 'data-label="认证时数">2.5</td>' in html and 'data-label="发放积分">2</td>' in html
    assert 'name="district"' not in html, 'a district bureau has one district: nothing to choose'
    city = login('gzva').get('/stats?district=baiyun').get_data(as_text=True)
    assert '新市街' in city and '西村街' not in city and '<option value="baiyun" selected>' in city


@pytest.mark.parametrize('username', ['vol_zhang', 'station_xicun', 'street_xicun', 'veterans', 'team_a', 'provider_a'])
def test_other_roles_get_404(api, login, username):
    assert api(username).get('/stats').status_code == 404
    assert login(username).get('/stats').status_code == 404
    assert api(username).get('/stats?from=bad').status_code == 404, 'no hint that the page exists'


def test_a_district_bureau_cannot_read_another_district(api, login):
    assert api('district_liwan').get('/stats?district=baiyun').status_code == 404
    assert login('district_liwan').get('/stats?district=baiyun').status_code == 404
    assert api('gzva').get('/stats?district=nowhere').status_code == 404
