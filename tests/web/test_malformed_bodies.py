"""Whatever a phone client or script sends (a string or list where an object belongs, wrong types in fields, NUL
characters, 5,000-character values), every write endpoint answers with a 4xx and a message, never a 500."""
from tests.helpers import ELDER_ID_2, start_entry, upload_png
from tests.web.test_v_order_lifecycle import approved_object

BAD = [None, [], {}, '', 'x' * 5000, 0, -1, 1.5, True, [None], {'a': {'b': []}}, '\x00', '😀' * 50, [1, 'a'],
       {'typename': 'x'}]


def _bodies(bad):
    return [bad, {'data': bad},
            {'data': {'name': bad, 'id_number': bad, 'proof_files': bad, 'service_object_ids': bad, 'start_at': bad,
                      'location': bad, 'tags': bad, 'item_id': bad}},
            {'task_ids': bad, 'decision': bad, 'reason': bad}, {'word': bad, 'words': bad, 'org_unit': bad},
            {'username': bad, 'amount': bad, 'target': bad, 'point_type': bad, 'request_token': bad, 'reason': bad},
            {'from_version': bad, 'to_version': bad, 'dry_run': bad}, {'password': bad}]


def test_malformed_json_bodies_never_cause_a_500(api):
    vol, station, gzva, admin = api('vol_zhang'), api('station_xicun'), api('gzva'), api('admin')
    upload_png(vol)
    approved_object(api)
    assert start_entry(vol, name='待审长者', id_number=ELDER_ID_2).status_code == 201
    posts = [(vol, '/processes/service_object_entry/instances'), (vol, '/processes/v_order/instances'),
             (api('vol_li'), '/processes/relative_gift/instances'), (api('team_a'), '/processes/activity_publish/instances'),
             (station, '/tasks/batch'), (gzva, '/sensitive-words'), (gzva, '/unit-lists/white'),
             (gzva, '/shop/pool/allocations'), (vol, '/shop/donations'), (api('district_liwan'), '/shop/items'),
             (vol, '/shop/items/1/redeem'), (api('district_liwan'), '/shop/items/1/review'), (vol, '/orders/1/cancel'),
             (admin, '/processes/service_object_entry/migrations'), (vol, '/auth/token')]
    task = station.get('/tasks?state=open').get_json()['items'][0]
    posts.append((station, f'/tasks/{task["id"]}/complete'))
    failures = []
    for client, url in posts:
        for bad in BAD:
            for body in _bodies(bad):
                resp = client.post(url, json=body)
                if resp.status_code >= 500 or (resp.status_code >= 400 and not resp.get_json().get('message')):
                    failures.append((url, repr(body)[:100], resp.status_code))
    assert not failures, failures[:10]


def test_nul_character_is_refused_with_a_message(api, login):
    resp = api('gzva').post('/unit-lists/white', json={'org_unit': 'team\x00a'})
    assert resp.status_code == 422 and '空字符' in resp.get_json()['errors']['_body'][0]
    english = api('gzva', lang='en').post('/sensitive-words', json={'word': 'a\x00'})
    assert english.status_code == 422 and 'NUL' in english.get_json()['errors']['_body'][0]
    page = login('vol_zhang').post('/m/service-objects/new', data={'name': '陈\x00伯'})
    assert page.status_code == 422 and '空字符' in page.get_data(as_text=True)


def test_a_deeply_nested_body_is_refused_with_a_message_not_a_500(app, api):
    """An 800-byte body of 400 nested lists (or 5,000 nested objects inside `data`) once exhausted the stack of the
    NUL check, or of the JSON parser itself: now a 422 that says why, without signing in, on any endpoint."""
    anonymous = app.test_client()
    for body in ('[' * 400 + ']' * 400, '[' * 5000 + ']' * 5000):
        resp = anonymous.post('/api/v1/auth/token', data=body, content_type='application/json')
        assert resp.status_code == 422, resp.status_code
        assert resp.get_json()['errors']['_body'] == ['提交的内容嵌套层数过多（不能超过 32 层）']
    resp = anonymous.get('/api/v1/activities', data='{"data": ' + _dumps_deep(5000) + '}',
                         content_type='application/json', headers={'Accept-Language': 'en'})
    assert resp.status_code == 422 and 'nested' in resp.get_json()['message']
    vol = api('vol_zhang')
    deep_data = {'data': {'name': _nest(40)}}
    resp = vol.post('/processes/service_object_entry/instances', json=deep_data)
    assert resp.status_code == 422 and '嵌套层数过多' in resp.get_json()['message']
    shallow = vol.post('/processes/service_object_entry/instances', json={'data': {'name': _nest(5)}})
    assert shallow.status_code == 422 and '嵌套' not in shallow.get_data(as_text=True), 'ordinary nesting is the form\'s'


def _nest(depth: int):
    value: object = 'x'
    for _ in range(depth):
        value = [value]
    return value


def _dumps_deep(depth: int) -> str:
    return '{"a": ' * depth + '1' + '}' * depth
