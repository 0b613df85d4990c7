"""Real-world input on V-orders and sign-in: a repeated publish, a lower-case x in the initial password, far dates,
and the rating step refused before the service start."""
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import User, VOrder
from app.services.auth import hash_initial_password, hash_password
from app.services.v_orders import beijing
from tests.web.test_v_order_lifecycle import approved_object, order_data
from tests.web.test_v_order_rules import RATINGS, staffed_order


def _orders() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(VOrder))


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime('%Y-%m-%dT%H:%M')


def _page_data(so) -> dict:
    start = datetime.now(UTC) + timedelta(days=1)
    return {'title': '助洁', 'demand_type': 'others', 'service_object_ids': [str(so)], 'category': 'general',
            'service_item': 'cleaning', 'street': 'xicun', 'location.lat': '23.13', 'location.lng': '113.25',
            'address': '西村街 3 号', 'start_at': _local(start), 'end_at': _local(start + timedelta(hours=2)),
            'volunteers_needed': '1', 'needs': '打扫卫生'}


def test_a_repeated_publish_form_answers_with_the_first_order(api, login):
    so = approved_object(api)
    page = login('vol_zhang')
    form = page.get('/m/orders/new').get_data(as_text=True)
    token = re.search(r'name="request_token" value="([^"]+)"', form).group(1)
    before = _orders()
    data = {**_page_data(so), 'request_token': token}
    first = page.post('/m/orders/new', data=data)
    assert first.status_code == 302, first.get_data(as_text=True)[:2000]
    again = page.post('/m/orders/new', data=data)  # the phone browser's 重新提交
    assert again.status_code == 302 and again.headers['Location'] == first.headers['Location']
    assert '该订单已提交，请勿重复提交' in page.get(again.headers['Location']).get_data(as_text=True)
    assert _orders() == before + 1
    # a new form is a new order; the same order again from a new form (Back, then 发布) is refused, naming the first
    fresh = re.search(r'name="request_token" value="([^"]+)"', page.get('/m/orders/new').get_data(as_text=True)).group(1)
    assert fresh != token
    same = page.post('/m/orders/new', data={**data, 'request_token': fresh})
    assert same.status_code == 422 and '您已发布过相同的订单' in same.get_data(as_text=True)
    other = page.post('/m/orders/new', data={**data, 'request_token': fresh, 'title': '陪陈伯复诊（第二次）'})
    assert other.status_code == 302 and other.headers['Location'] != first.headers['Location']
    assert _orders() == before + 2


def test_a_refused_publish_keeps_its_token(api, login):
    so = approved_object(api)
    page = login('vol_zhang')
    data = {**_page_data(so), 'request_token': 'keep-this-token-01', 'needs': ''}
    bad = page.post('/m/orders/new', data=data)
    assert bad.status_code == 422 and 'value="keep-this-token-01"' in bad.get_data(as_text=True)


def test_a_repeated_api_publish_with_the_same_token_makes_one_order(api):
    so = approved_object(api)
    zhang = api('vol_zhang')
    before = _orders()
    body = {'data': {**order_data([so]), 'request_token': 'api-order-0001'}}
    first = zhang.post('/processes/v_order/instances', json=body)
    assert first.status_code == 201, first.get_json()
    again = zhang.post('/processes/v_order/instances', json=body)
    assert again.status_code == 409 and again.get_json()['error'] == 'duplicate_request', again.get_json()
    order_id = first.get_json()['instance']['business_key'].split(':')[1]
    assert again.get_json()['message'] == f'该订单已提交（订单编号 {order_id}），请勿重复提交'
    assert _orders() == before + 1
    # the token belongs to its publisher, and a request without one is not held back
    assert api('station_xicun').post('/processes/v_order/instances', json=body).status_code == 201
    assert zhang.post('/processes/v_order/instances', json={'data': order_data([so])}).status_code == 201
    assert _orders() == before + 3
    shown = zhang.get(f'/instances/{first.get_json()["instance"]["id"]}').get_data(as_text=True)
    assert 'api-order-0001' not in shown


def test_a_malformed_token_is_refused(api):
    so = approved_object(api)
    resp = api('vol_zhang').post('/processes/v_order/instances',
                                 json={'data': {**order_data([so]), 'request_token': 'a b'}})
    assert resp.status_code == 422 and 'request_token' in resp.get_json()['errors'], resp.get_json()


def _initial(username, id_tail, must_change=True):
    user = db.session.scalar(select(User).where(User.username == username))
    user.password_hash = hash_initial_password(id_tail) if must_change else hash_password(id_tail)
    user.must_change_password = must_change
    db.session.commit()


def test_the_initial_password_takes_a_lower_case_x(app):
    _initial('vol_li', '03003X')
    client = app.test_client()
    resp = client.post('/login', data={'username': 'vol_li', 'password': '03003x'})
    assert resp.status_code == 302 and '/password' in resp.headers['Location']
    token = app.test_client().post('/api/v1/auth/token', json={'username': 'vol_li', 'password': '03003x'})
    assert token.status_code == 403 and token.get_json()['error'] == 'password_change_required'
    assert app.test_client().post('/login', data={'username': 'vol_li', 'password': '03003y'}).status_code == 200


def test_a_chosen_password_stays_case_sensitive(app):
    _initial('vol_li', 'Secret12X', must_change=False)
    assert app.test_client().post('/login', data={'username': 'vol_li', 'password': 'Secret12X'}).status_code == 302
    resp = app.test_client().post('/login', data={'username': 'vol_li', 'password': 'Secret12x'})
    assert resp.status_code == 200 and '用户名或密码错误' in resp.get_data(as_text=True)


def test_far_and_long_orders_are_refused_with_field_messages(api):
    so = approved_object(api)
    zhang = api('vol_zhang')
    before = _orders()
    now = datetime.now(UTC)
    cases = [
        ({'start_at': '9999-12-31T09:00', 'end_at': '9999-12-31T11:00'}, 'start_at', '开始时间不能晚于一年之后'),
        ({'start_at': '2100-01-01T09:00', 'end_at': '2100-01-01T11:00'}, 'start_at', '开始时间不能晚于一年之后'),
        ({'start_at': (now + timedelta(days=2)).isoformat(), 'end_at': '9999-12-31T23:59'}, 'end_at',
         '服务时间跨度不能超过 31 天'),
        ({'start_at': (now + timedelta(days=2)).isoformat(), 'end_at': (now + timedelta(days=2 + 3653)).isoformat()},
         'end_at', '服务时间跨度不能超过 31 天'),
    ]
    for times, field, message in cases:
        resp = zhang.post('/processes/v_order/instances', json={'data': order_data([so], **times)})
        assert resp.status_code == 422 and resp.get_json()['errors'][field] == [message], (times, resp.get_json())
    edge = {'start_at': (now + timedelta(days=300)).isoformat(), 'end_at': (now + timedelta(days=331)).isoformat()}
    assert zhang.post('/processes/v_order/instances', json={'data': order_data([so], **edge)}).status_code == 201
    assert _orders() == before + 1


def test_far_dates_on_the_phone_form_are_explained(api, login):
    so = approved_object(api)
    page = login('vol_zhang')
    resp = page.post('/m/orders/new', data={**_page_data(so), 'start_at': '9999-12-31T09:00', 'end_at': '9999-12-31T11:00'})
    assert resp.status_code == 422 and '开始时间不能晚于一年之后' in resp.get_data(as_text=True)


def test_rating_before_the_end_is_a_form_level_refusal(api, login):
    inst = staffed_order(api)
    end = beijing(db.session.scalar(select(VOrder.end_at).where(VOrder.instance_id == inst['id'])))
    task = next(t for t in api('vol_zhang').get('/tasks?state=open').get_json()['items'] if t['instance_id'] == inst['id'])
    resp = api('vol_zhang').post(f'/tasks/{task["id"]}/complete', json={'data': RATINGS})
    refusal = f'服务尚未结束，{end} 服务结束后才能确认完成并评价'
    assert resp.status_code == 422 and resp.get_json()['errors'] == {'form': [refusal]}, resp.get_json()
    page = login('vol_zhang').post(f'/m/cases/{inst["id"]}/resubmit', data=RATINGS).get_data(as_text=True)
    summary = page.split('id="error-summary"')[1].split('</div>')[0]
    assert f'服务尚未结束，{end} 服务结束后才能确认完成并评价' in summary
