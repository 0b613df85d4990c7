"""What a third-party API client met: Chinese (not marshmallow's English) messages, a login limit per account and
address, amounts in ledger answers, uploads whose name must be an image's, and the API calls the pages have."""
from io import BytesIO

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db, limiter
from app.models import ApiToken, Message, StoredFile, User
from app.services import messages, transaction
from app.services.demo import seed_demo
from tests.conftest import PASSWORD
from tests.helpers import png_bytes, start_entry, upload_png
from tests.web.shop_helpers import award


def _all_lines(errors: dict) -> list[str]:
    return [line for lines in errors.values() for line in lines]


def _no_library_english(errors: dict):
    for line in _all_lines(errors):
        assert '{' not in line and 'Not a valid' not in line and 'Field may not' not in line, line
        assert 'Length must be' not in line and 'Missing data' not in line, line


# ---------------------------------------------------------------- 1. messages of the API's body checks

def test_batch_items_are_named_by_place_in_chinese_and_a_fraction_is_not_cut(api):
    station = api('station_xicun')
    errors = station.post('/tasks/batch', json={'task_ids': ['abc', None, 1.5], 'decision': 'approve'}).get_json()['errors']
    assert errors['task_ids'] == ['第 1 项：任务编号应为整数', '第 2 项：任务编号不能为空', '第 3 项：任务编号应为整数']
    for ids, message in (([], '请至少选择一个任务'), (list(range(1, 202)), '一次最多处理 200 个任务，请分批提交')):
        resp = station.post('/tasks/batch', json={'task_ids': ids, 'decision': 'approve'})
        assert resp.status_code == 422 and resp.get_json()['errors'] == {'task_ids': [message]}


def test_complete_and_other_bodies_answer_in_chinese(api, case_at_street):
    _, task_id = case_at_street()
    street = api('street_xicun')
    resp = street.post(f'/tasks/{task_id}/complete', json={'decision': 1, 'reason': 5, 'data': [1]})
    assert resp.status_code == 422
    assert resp.get_json()['errors'] == {'decision': ['应为文字'], 'reason': ['应为文字'], 'data': ['应为 JSON 对象']}
    assert street.post('/processes/service_object_entry/instances', json={'data': 'x'}).get_json()['errors'] == {
        'data': ['应为 JSON 对象']}
    gzva = api('gzva')
    errors = gzva.post('/sensitive-words', json={'words': ['赌博', 2, None]}).get_json()['errors']
    assert errors == {'words': ['第 2 项：应为文字', '第 3 项：此项不能为空']}
    admin = api('admin')
    errors = admin.post('/processes/service_object_entry/migrations',
                        json={'from_version': 1.5, 'dry_run': 'maybe'}).get_json()['errors']
    assert errors == {'from_version': ['请输入整数'], 'to_version': ['此项为必填项'], 'dry_run': ['应为 true 或 false']}


@pytest.mark.parametrize('lang', ['zh', 'en'])
def test_no_schema_answers_with_marshmallow_english(api, lang):
    vol, gzva, station = api('vol_zhang', lang), api('gzva', lang), api('station_xicun', lang)
    bad = [(station, '/tasks/batch', {'task_ids': ['abc', None, 1.5], 'decision': 3, 'reason': []}),
           (station, '/tasks/batch', {'task_ids': 'x'}),
           (station, '/tasks/1/complete', {'decision': 1, 'reason': 5, 'data': [1]}),
           (vol, '/processes/service_object_entry/instances', {'data': [1]}),
           (gzva, '/sensitive-words', {'words': [1, {}], 'word': 2}),
           (gzva, '/unit-lists/white', {'org_unit': 3}),
           (gzva, '/shop/pool/allocations', {'username': 1, 'amount': 'x', 'reason': [], 'request_token': 2}),
           (vol, '/shop/donations', {'target': [], 'amount': 1.5, 'point_type': 3, 'request_token': {}}),
           (vol, '/exports', {'kind': 3, 'from': 1}),
           (api('admin', lang), '/processes/service_object_entry/migrations', {'from_version': 'x', 'dry_run': 'x'})]
    for client, url, body in bad:
        resp = client.post(url, json=body)
        assert resp.status_code == 422, (url, resp.get_json())
        _no_library_english(resp.get_json()['errors'])
    resp = vol.client.post('/api/v1/auth/token', json={'username': 5}, headers={'Accept-Language': lang})
    assert resp.status_code == 422
    _no_library_english(resp.get_json()['errors'])
    if lang == 'en':
        assert resp.get_json()['errors']['password'] == ['This field is required']


# ---------------------------------------------------------------- 2. login limits

@pytest.fixture
def limited(app):
    """An app on the same database with the login limit on: 3 failures per account and address a minute."""
    def make(**overrides):
        new = create_app('testing', {'SQLALCHEMY_DATABASE_URI': app.config['SQLALCHEMY_DATABASE_URI'],
                                     'RATELIMIT_ENABLED': True, 'RATELIMIT_LOGIN': '3 per minute', **overrides})
        with new.app_context():
            db.create_all()
            seed_demo(PASSWORD)
        return new
    yield make
    limiter.enabled = False


def _token(client, username, password):
    return client.post('/api/v1/auth/token', json={'username': username, 'password': password})


def test_failed_token_requests_lock_that_account_from_that_address_only(limited):
    client = limited().test_client()
    codes = [_token(client, 'gzva', 'wrong').status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    locked = _token(client, 'gzva', 'wrong')
    assert locked.status_code == 429 and 0 < int(locked.headers['Retry-After']) <= 60
    assert '秒后再试' in locked.get_json()['message'] and locked.get_json()['retry_after'] > 0
    # a colleague behind the same address, and the admin with the right password, are not locked out
    assert _token(client, 'admin', PASSWORD).status_code == 200
    assert _token(client, 'station_xicun', 'wrong').status_code == 401
    assert _token(client, 'station_xicun', PASSWORD).status_code == 200
    # the same account from another address is not locked either
    assert client.post('/api/v1/auth/token', json={'username': 'gzva', 'password': PASSWORD},
                       environ_base={'REMOTE_ADDR': '10.0.0.9'}).status_code == 200


def test_one_address_has_a_higher_ceiling_over_all_usernames(limited):
    client = limited(RATELIMIT_LOGIN_ADDRESS='5 per minute').test_client()
    codes = [_token(client, name, 'wrong').status_code for name in ('a1', 'a2', 'a3', 'a4', 'a5', 'a6')]
    assert codes == [401] * 5 + [429]


def test_the_login_page_locks_per_account_and_keeps_the_username(limited):
    client = limited().test_client()
    codes = [client.post('/login', data={'username': 'gzva', 'password': 'wrong'}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    page = client.post('/login', data={'username': 'gzva', 'password': 'wrong'})
    html = page.get_data(as_text=True)
    assert page.status_code == 429 and 'Retry-After' in page.headers
    assert '登录失败次数过多' in html and 'value="gzva"' in html
    assert client.post('/login', data={'username': 'admin', 'password': PASSWORD}).status_code == 302


def test_api_401_names_the_bearer_scheme(client, api):
    resp = client.get('/api/v1/me')
    assert resp.status_code == 401 and resp.headers['WWW-Authenticate'].startswith('Bearer')
    resp = client.get('/api/v1/me', headers={'Authorization': 'Bearer nope'})
    assert resp.status_code == 401 and 'invalid_token' in resp.headers['WWW-Authenticate']
    assert 'WWW-Authenticate' in _token(client, 'gzva', 'wrong').headers


# ---------------------------------------------------------------- 3. ledger answers

def test_donation_and_allocation_answers_carry_the_amount_and_shortfalls_name_amount(api):
    award('vol_zhang', 50)
    zhang, gzva = api('vol_zhang'), api('gzva')
    resp = zhang.post('/shop/donations', json={'target': 'pool', 'amount': 10, 'request_token': 'don-contract-1'})
    assert resp.status_code == 201 and resp.get_json()['amount'] == 10
    resp = zhang.post('/shop/donations', json={'target': 'pool', 'amount': 100, 'request_token': 'don-contract-2'})
    assert resp.status_code == 422 and list(resp.get_json()['errors']) == ['amount']
    alloc = {'username': 'vol_li', 'amount': 6, 'reason': '帮扶', 'request_token': 'alloc-contract-1'}
    resp = gzva.post('/shop/pool/allocations', json=alloc)
    assert resp.status_code == 201 and resp.get_json()['amount'] == 6
    resp = gzva.post('/shop/pool/allocations', json={**alloc, 'amount': 5, 'request_token': 'alloc-contract-2'})
    assert resp.status_code == 422 and list(resp.get_json()['errors']) == ['amount']
    assert '4 分' in resp.get_json()['errors']['amount'][0]


# ---------------------------------------------------------------- 4. uploads

def _upload(client, *parts):
    return client.post('/files', data={'file': list(parts) if len(parts) > 1 else parts[0]},
                       content_type='multipart/form-data')


def test_an_image_sent_under_a_program_name_is_refused(api):
    vol = api('vol_zhang')
    for name in ('photo.exe', 'photo.png.exe', 'photo.html', 'photo.svg'):
        resp = _upload(vol, (BytesIO(png_bytes()), name))
        assert resp.status_code == 422, name
        assert resp.get_json()['errors']['file'] == [
            f'文件“{name}”的扩展名不是图片（只接受 gif/bmp/jpeg/jpg/png），请选择图片文件']
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_a_png_named_jpg_is_an_image_stored_as_png(api):
    vol = api('vol_zhang')
    resp = _upload(vol, (BytesIO(png_bytes()), 'photo.jpg'))
    assert resp.status_code == 201 and resp.get_json()['content_type'] == 'image/png'
    down = vol.get(f'/files/{resp.get_json()["id"]}')
    assert down.status_code == 200 and down.mimetype == 'image/png'
    assert down.headers['X-Content-Type-Options'] == 'nosniff'
    # a name without an extension (a phone's "blob") gets the proven type's
    resp = _upload(vol, (BytesIO(png_bytes()), 'blob'))
    assert resp.status_code == 201
    assert 'blob.png' in vol.get(f'/files/{resp.get_json()["id"]}').headers['Content-Disposition']


def test_one_request_uploads_one_file(api):
    vol = api('vol_zhang')
    resp = _upload(vol, *[(BytesIO(png_bytes()), f'p{i}.png') for i in range(10)])
    assert resp.status_code == 422 and resp.get_json()['errors'] == {'file': ['一次只能上传一个文件，请逐个上传']}
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_every_response_forbids_content_sniffing(client, login):
    for resp in (client.get('/login'), client.get('/api/v1/me'), login('vol_zhang').get('/no-such-page')):
        assert resp.headers['X-Content-Type-Options'] == 'nosniff'


# ---------------------------------------------------------------- 5. calls the pages have

def test_my_submissions_are_listed(api):
    vol = api('vol_zhang')
    first = start_entry(vol).get_json()['instance']['id']
    start_entry(api('vol_li'))
    body = vol.get('/instances?mine=1').get_json()
    assert body['total'] == 1 and body['page'] == 1 and [i['id'] for i in body['items']] == [first]
    item = body['items'][0]
    assert item['process_key'] == 'service_object_entry' and item['status_label'].startswith('待')
    assert item['open_tasks'] and item['open_tasks'][0]['lane'] == 'station_admin'
    assert vol.get('/instances?mine=1&process=v_order').get_json() == {'items': [], 'total': 0, 'page': 1}


def test_all_messages_are_marked_read(api):
    vol = api('vol_zhang')
    uid = db.session.scalar(select(User.id).where(User.username == 'vol_zhang'))
    with transaction():
        messages.send([uid], kind='info', title='通知一')
        messages.send([uid], kind='info', title='通知二')
    listed = vol.get('/messages').get_json()
    assert listed['unread'] == 2 and listed['page'] == 1
    resp = vol.post('/messages/read-all')
    assert resp.status_code == 200 and resp.get_json() == {'marked': 2, 'unread': 0}
    assert vol.get('/messages').get_json()['unread'] == 0
    assert db.session.scalar(select(func.count()).select_from(Message).where(Message.read_at.is_(None))) == 0


def test_a_token_can_be_revoked(api):
    vol, other = api('vol_zhang'), api('vol_zhang')
    resp = vol.client.delete('/api/v1/auth/token', headers=vol.headers)
    assert resp.status_code == 204
    assert vol.get('/me').status_code == 401
    assert other.get('/me').status_code == 200  # the same user's other sign-in stays
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1
    assert vol.client.delete('/api/v1/auth/token', headers=vol.headers).status_code == 401
    upload_png(other)
