"""walk17's order-form problems: 为自己下单 makes oneself the service object (the page shows one's own approved record
as the only choice, or says plainly that there is none; the server and the API refuse anything else), 地图位置 is
chosen with buttons and said in words (the out-of-range error says what to do), the order page shows 下单方式,
地图位置 and the 专业资质证明, and the proof line says required for 专业类."""
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import User, VOrder, VOrderObject
from tests.helpers import start_entry, upload_png
from tests.web.conftest import open_task
from tests.web.test_v_order_lifecycle import approved_object, order_data

CENTRES = json.loads((Path(__file__).resolve().parents[2] / 'app' / 'data' / 'street_centres.json').read_text('utf-8'))
NO_OWN = '为自己下单需要您本人已登记为服务对象并通过审核。请先登记本人信息，或选择“为他人下单”。'
OUTSIDE = '位置不在广州市范围内，请点“使用我的位置”或“使用所选街道的位置”'


def _text(html: str) -> str:
    return unescape(re.sub(r'<[^>]+>', ' ', html))


def _orders() -> int:
    return db.session.scalar(select(func.count()).select_from(VOrder))


def _own_record(api) -> int:
    """vol_zhang registered himself as a service object (his account's ID number), approved by station and street."""
    me = db.session.scalar(select(User).where(User.username == 'vol_zhang'))
    vol, station, street = api('vol_zhang'), api('station_xicun'), api('street_xicun')
    resp = start_entry(vol, name='张建国', id_number=me.id_number, residence_street='xicun')
    assert resp.status_code == 201, resp.get_json()
    inst_id = resp.get_json()['instance']['id']
    for reviewer in (station, street):
        assert reviewer.post(f'/tasks/{open_task(reviewer, inst_id)["id"]}/complete',
                             json={'decision': 'approve'}).status_code == 200
    items = station.get('/service-objects?view=approved').get_json()['items']
    return next(i['id'] for i in items if i['name'] == '张建国')


def _page_data(**overrides) -> dict:
    start = (datetime.now(UTC) + timedelta(days=2)).astimezone().strftime('%Y-%m-%dT%H:%M')
    end = (datetime.now(UTC) + timedelta(days=2, hours=2)).astimezone().strftime('%Y-%m-%dT%H:%M')
    data = {'title': '帮我打扫', 'demand_type': 'self', 'category': 'general', 'service_item': 'cleaning',
            'street': 'xicun', 'location.lat': '23.13', 'location.lng': '113.25', 'address': '西村街 3 号',
            'start_at': start, 'end_at': end, 'volunteers_needed': '1', 'needs': '打扫卫生'}
    data.update(overrides)
    return data


# ------------------------------------------------------------------------------------------------ 1. 为自己下单

def test_self_order_without_own_record_is_refused_plainly_and_keeps_the_input(api, login):
    approved_object(api)  # 陈伯 is in the library: not a choice for 为自己下单
    page = login('vol_zhang')
    form = page.get('/m/orders/new').get_data(as_text=True)
    assert NO_OWN in _text(form), 'the self part says so before anything is sent'
    assert 'href="/m/service-objects/new"' in form
    resp = page.post('/m/orders/new', data=_page_data())
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f'服务对象：{NO_OWN}' in _text(html), 'the error summary names it'
    assert '此项为必填项' not in _text(html.split('id="field-service_object_ids"', 1)[1].split('id="field-category"')[0])
    assert 'value="帮我打扫"' in html and '西村街 3 号' in html, 'what was typed stays'
    # the self part shows (the library's list is hidden and sends nothing) and the summary's link leads to it
    assert re.search(r'<div class="self-object" data-when="self" id="f-service_object_ids"', html)
    assert _orders() == 0


def test_self_order_shows_own_record_as_the_only_fixed_choice_and_orders_for_it(api, login):
    other = approved_object(api)
    own = _own_record(api)
    page = login('vol_zhang')
    form = page.get('/m/orders/new').get_data(as_text=True)
    assert '本人：张建国（4401' in _text(form)
    assert re.search(rf'<input type="hidden" name="service_object_ids" value="{own}" disabled>', form), \
        'sent only once 为自己下单 is chosen'
    assert NO_OWN not in _text(form)
    # ticking someone else from the library while ordering for oneself is refused
    wrong = page.post('/m/orders/new', data=_page_data(service_object_ids=[str(other)]))
    assert wrong.status_code == 422
    assert '为自己下单时，服务对象只能是您本人（张建国）' in _text(wrong.get_data(as_text=True))
    assert _orders() == 0
    resp = page.post('/m/orders/new', data=_page_data(service_object_ids=[str(own)]))
    assert resp.status_code == 302, _text(resp.get_data(as_text=True))[:2000]
    detail = _text(page.get(resp.headers['Location']).get_data(as_text=True))
    assert '下单方式 为自己下单' in re.sub(r'\s+', ' ', detail)
    assert '服务对象 张建国' in re.sub(r'\s+', ' ', detail)


def test_api_self_order_must_name_exactly_the_own_record(api):
    other = approved_object(api)
    vol = api('vol_zhang')
    none_yet = vol.post('/processes/v_order/instances', json={'data': order_data([other], demand_type='self')})
    assert none_yet.status_code == 422 and none_yet.get_json()['errors']['service_object_ids'] == [NO_OWN]
    own = _own_record(api)
    for ids in ([other], [own, other], []):
        resp = vol.post('/processes/v_order/instances', json={'data': order_data(ids, demand_type='self')})
        assert resp.status_code == 422, ids
        assert '只能是您本人（张建国）' in resp.get_json()['errors']['service_object_ids'][0]
    assert _orders() == 0
    ok = vol.post('/processes/v_order/instances', json={'data': order_data([own], demand_type='self')})
    assert ok.status_code == 201, ok.get_json()
    order = db.session.scalar(select(VOrder))
    objects = db.session.scalars(select(VOrderObject.service_object_id).where(VOrderObject.order_id == order.id)).all()
    assert order.demand_type == 'self' and objects == [own]


def test_a_station_orders_for_others(api, login):
    so = approved_object(api)
    station = login('station_xicun')
    form = station.get('/m/orders/new').get_data(as_text=True)
    assert '为他人下单' in form and 'value="self"' not in form, 'a station is not offered 为自己下单'
    refused = api('station_xicun').post('/processes/v_order/instances',
                                        json={'data': order_data([so], demand_type='self')})
    assert refused.status_code == 422
    assert refused.get_json()['errors']['demand_type'] == ['机构账号只能为他人下单，请选择“为他人下单”']
    assert api('station_xicun').post('/processes/v_order/instances',
                                     json={'data': order_data([so])}).status_code == 201


# ------------------------------------------------------------------------------------------------- 2. 地图位置

def test_the_map_point_is_chosen_with_buttons_and_street_centres(api, login):
    approved_object(api)
    html = login('vol_zhang').get('/m/orders/new').get_data(as_text=True)
    text = _text(html)
    assert '使用我的位置' in text and '使用所选街道的位置' in text
    assert re.search(r'<details class="geo-manual">\s*<summary>手动输入坐标</summary>', html), 'the boxes are tucked away'
    centres = json.loads(unescape(re.search(r'data-centres="([^"]*)"', html).group(1)))
    assert centres['xicun'] == {**CENTRES['xicun'], 'name': '西村街'}
    assert set(CENTRES) - {'_about'} <= {'xicun', 'fengyuan', 'beijing', 'xinshi', 'shipai'}


def test_a_point_outside_the_city_says_what_to_do(api, login):
    so = approved_object(api)
    page = login('vol_zhang')
    resp = page.post('/m/orders/new', data=_page_data(demand_type='others', service_object_ids=[str(so)],
                                                      **{'location.lat': '24.5', 'location.lng': '113.25'}))
    text = _text(resp.get_data(as_text=True))
    assert resp.status_code == 422
    assert f'地图位置：{OUTSIDE}' in text and '不能大于' not in text
    assert re.search(r'<details class="geo-manual" open>', resp.get_data(as_text=True)), 'the typed point is shown'
    api_resp = api('vol_zhang').post('/processes/v_order/instances',
                                     json={'data': order_data([so], location={'lat': 23.13, 'lng': 120.0})})
    assert api_resp.status_code == 422 and api_resp.get_json()['errors']['location'] == [OUTSIDE]
    assert _orders() == 0


def test_no_point_is_a_missing_field_and_a_point_is_said_in_words(api, login):
    so = approved_object(api)
    page = login('vol_zhang')
    empty = page.post('/m/orders/new', data=_page_data(demand_type='others', service_object_ids=[str(so)],
                                                       **{'location.lat': '', 'location.lng': ''}))
    text = _text(empty.get_data(as_text=True))
    assert '地图位置：此项为必填项' in text and '请填写纬度' not in text
    near = page.post('/m/orders/new', data=_page_data(
        demand_type='others', service_object_ids=[str(so)], title='',
        **{'location.lat': str(CENTRES['fengyuan']['lat']), 'location.lng': str(CENTRES['fengyuan']['lng'])}))
    assert '已选择：逢源街附近' in _text(near.get_data(as_text=True))
    # the API is not given a default point
    data = order_data([so])
    del data['location']
    resp = api('vol_zhang').post('/processes/v_order/instances', json={'data': data})
    assert resp.status_code == 422 and resp.get_json()['errors']['location'] == ['此项为必填项']


# ---------------------------------------------------------------------------------------------- 9. the order page

def test_order_page_shows_demand_type_map_point_and_proof_links(api, login):
    so = approved_object(api)
    vol = api('vol_zhang')
    proof = upload_png(vol, 'cert.png')
    resp = vol.post('/processes/v_order/instances', json={'data': order_data(
        [so], category='professional', service_item='rehabilitation', qualification_files=[proof],
        location={'lat': CENTRES['xicun']['lat'], 'lng': CENTRES['xicun']['lng']})})
    assert resp.status_code == 201, resp.get_json()
    order_id = int(resp.get_json()['instance']['business_key'].split(':')[1])
    for username in ('vol_zhang', 'station_xicun'):
        client = login(username)
        html = client.get(f'/orders/{order_id}').get_data(as_text=True)
        text = re.sub(r'\s+', ' ', _text(html))
        assert '下单方式 为他人下单' in text
        assert f'地图位置 西村街附近（{CENTRES["xicun"]["lat"]:.4f}, {CENTRES["xicun"]["lng"]:.4f}）' in text
        assert '专业资质证明' in text
        link = f'/files/{proof}'
        assert f'href="{link}"' in html, username
        assert client.get(link).status_code == 200, f'{username} may open the proof the page links'
    assert login('vol_li').get(f'/files/{proof}').status_code == 404


# ------------------------------------------------------------------------------------------- 10. the proof line

def test_the_proof_line_says_required_for_professional(api, login):
    so = approved_object(api)
    page = login('vol_zhang')
    general = page.get('/m/orders/new').get_data(as_text=True)
    assert '还没有选择照片（可选，最多 9 张）' in general
    resp = page.post('/m/orders/new', data=_page_data(demand_type='others', service_object_ids=[str(so)],
                                                      category='professional', service_item='rehabilitation'))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert '还没有选择照片（需要 1–9 张）' in html and '还没有选择照片（可选' not in html
    assert 'data-min-when="category=professional"' in html, 'the page switches it as 服务类别 changes'
