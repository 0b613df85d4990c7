"""An order's map point must lie in the district of its service street: a point picked near another district's
street (石牌街, 天河区, for an order in 西村街, 荔湾区) is refused at the field, on the phone page and in the API, and
nothing is stored; a point near a neighbouring street of the same district is accepted."""
from tests.web.test_order_form_fixes17 import CENTRES, _orders, _page_data, _text
from tests.web.test_v_order_lifecycle import approved_object, order_data

ELSEWHERE = '地图位置在石牌街附近（天河区），而服务街道西村街在荔湾区，请核对地图位置或服务街道'


def test_a_point_in_another_district_is_refused_and_the_input_stays(api, login):
    so = approved_object(api)
    page = login('vol_zhang')
    shipai = CENTRES['shipai']
    resp = page.post('/m/orders/new', data=_page_data(
        demand_type='others', service_object_ids=[str(so)], title='陪陈伯复诊',
        **{'location.lat': str(shipai['lat']), 'location.lng': str(shipai['lng'])}))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f'地图位置：{ELSEWHERE}' in _text(html)
    assert 'value="陪陈伯复诊"' in html, 'the title typed stays in the form'
    api_resp = api('station_xicun').post('/processes/v_order/instances', json={'data': order_data(
        [so], location={'lat': shipai['lat'], 'lng': shipai['lng']})})
    assert api_resp.status_code == 422 and api_resp.get_json()['errors']['location'] == [ELSEWHERE]
    assert _orders() == 0


def test_a_point_near_a_street_of_the_same_district_is_accepted(api):
    so = approved_object(api)
    fengyuan = CENTRES['fengyuan']  # 逢源街 is in 荔湾区, as 西村街 is
    resp = api('station_xicun').post('/processes/v_order/instances', json={'data': order_data(
        [so], location={'lat': fengyuan['lat'], 'lng': fengyuan['lng']})})
    assert resp.status_code == 201, resp.get_json()
    assert _orders() == 1
