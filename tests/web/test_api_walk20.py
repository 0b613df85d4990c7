"""The w3api walk's findings F2–F6: wrong JSON types in a submission are refused at the field (never stored as
"{'a': 1}" or "None"), over-long shop texts are refused instead of cut, English API readers get English step and
process names, clearer request_token / donation / sensitive-word / expired-token answers, and error keys that name
the field the request sent."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import ApiToken, AuditLog, LedgerEntry, ShopItem, WorkflowInstance
from app.models.base import utcnow
from app.services import activities, transaction
from tests.helpers import start_entry
from tests.web.shop_helpers import BATH, award, item
from tests.web.test_activity_flow import delete, publish


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------- F2: JSON types in a submission's data

@pytest.mark.parametrize('overrides,field', [
    ({'household_address': ['天河区', '石牌街']}, 'household_address'),
    ({'household_address': {'road': '西村'}}, 'household_address'),
    ({'community': 12345}, 'community'),            # a community's name, not a number
    ({'notes': True}, 'notes'),
    ({'name': 1.5}, 'name'),
    ({'id_number': 440103195006150558}, 'id_number'),  # an ID may end in X and loses digits as a JS number
])
def test_a_text_field_refuses_another_json_type_and_nothing_is_stored(api, overrides, field):
    vol = api('vol_zhang')
    before = count(WorkflowInstance)
    resp = start_entry(vol, **overrides)
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()['errors'] == {field: ['应为文字']}
    assert count(WorkflowInstance) == before


def test_the_wrong_type_is_said_in_english_and_together_with_the_other_fields(api):
    resp = start_entry(api('vol_zhang', lang='en'), household_address={'a': 1}, notes=None, community=['x'])
    assert resp.status_code == 422
    assert resp.get_json()['errors'] == {'household_address': ['Must be text'], 'community': ['Must be text']}


def test_a_phone_sent_as_a_whole_number_is_read_as_its_digits(api):
    resp = start_entry(api('vol_zhang'), phone=13800138000, filler_phone=13700000000)
    assert resp.status_code == 201, resp.get_json()
    station, case_id = api('station_xicun'), resp.get_json()['instance']['id']
    [task] = [t for t in station.get('/tasks').get_json()['items'] if t['instance_id'] == case_id]
    data = station.get(f"/tasks/{task['id']}").get_json()['data']
    assert data['phone'] == '13800138000' and data['filler_phone'] == '13700000000'
    for phone in (True, 1.38e10, [13800138000]):
        resp = start_entry(api('vol_zhang'), phone=phone)
        assert resp.get_json()['errors']['phone'] == ['应为文字'], phone


@pytest.mark.parametrize('overrides,errors', [
    ({'place': {'a': 1}}, {'place': ['应为文字']}),
    ({'place': ['a', 'b']}, {'place': ['应为文字']}),
    ({'description': 12345}, {'description': ['应为文字']}),
    ({'tags': ['bogus', 1, None]}, {'tags': ['应为文字列表']}),
    ({'tags': {'a': 1}}, {'tags': ['应为文字列表']}),
    ({'tags': True}, {'tags': ['应为文字列表']}),
])
def test_activity_fields_and_tags_take_texts_only(api, overrides, errors):
    team = api('team_a')
    before = count(WorkflowInstance)
    resp = publish(team, **overrides)
    assert resp.status_code == 422 and resp.get_json()['errors'] == errors
    assert count(WorkflowInstance) == before


def test_tags_as_a_list_of_texts_or_one_text_still_work(api):
    team = api('team_a')
    for tags in (['elderly', '助老', '读书会'], 'elderly, 读书会'):
        resp = publish(team, tags=tags, title=f'敬老探访{len(tags)}')
        assert resp.status_code == 201, resp.get_json()
    assert [a['tags'] for a in team.get('/activities?state=mine').get_json()['items']] == [
        ['elderly', '读书会'], ['elderly', '读书会']]


def test_parse_tags_refuses_what_is_not_text(app):
    with app.test_request_context():
        assert activities.parse_tags(['elderly', 1, None]) == ([], ['应为文字列表'])
        assert activities.parse_tags(True) == ([], ['应为文字列表'])
        assert activities.parse_tags(['elderly', '读书会']) == (['elderly', '读书会'], [])


# ---------------------------------------------------------------- F3: over-long shop texts refused, not cut

def test_an_allocation_reason_over_200_characters_is_refused_and_one_of_200_kept_whole(api):
    award('vol_zhang', 50)
    zhang, gzva = api('vol_zhang'), api('gzva')
    assert zhang.post('/shop/donations', json={'target': 'pool', 'amount': 20, 'request_token': 'walk20-don-1'}
                      ).status_code == 201
    entries, audits = count(LedgerEntry), count(AuditLog, AuditLog.action == 'pool.allocate')
    alloc = {'username': 'vol_li', 'amount': 5, 'reason': 'x' * 10000, 'request_token': 'walk20-alloc-1'}
    resp = gzva.post('/shop/pool/allocations', json=alloc)
    assert resp.status_code == 422
    assert resp.get_json()['errors'] == {'reason': ['分配原因不能超过 200 个字（现有 10000 个字），请删减后再提交']}
    assert count(LedgerEntry) == entries and count(AuditLog, AuditLog.action == 'pool.allocate') == audits
    resp = gzva.post('/shop/pool/allocations', json={**alloc, 'reason': '帮' * 200, 'request_token': 'walk20-alloc-2'})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()['reason'] == '公益池分配：' + '帮' * 200


def test_a_new_shop_item_with_over_long_texts_is_refused_and_nothing_stored(api):
    bureau = api('district_liwan')
    base = {'name': '长者理发券', 'section': 'other', 'price': 5, 'stock': 10, 'district': 'liwan',
            'point_type': 'elderly_time'}
    before = count(ShopItem)
    resp = bureau.post('/shop/items', json={**base, 'description': 'y' * 10000, 'provider_name': 'z' * 121})
    assert resp.status_code == 422
    assert resp.get_json()['errors'] == {
        'description': ['说明不能超过 1000 个字（现有 10000 个字），请删减后再提交'],
        'provider_name': ['提供单位不能超过 120 个字（现有 121 个字），请删减后再提交']}
    assert count(ShopItem) == before
    resp = bureau.post('/shop/items', json={**base, 'description': 'y' * 1000, 'provider_name': 'z' * 120})
    assert resp.status_code == 201, resp.get_json()
    row = db.session.get(ShopItem, resp.get_json()['id'])
    assert len(row.description) == 1000 and len(row.provider_name) == 120


# ---------------------------------------------------------------- F4: English names in the API

def test_english_readers_get_step_stage_and_process_names_in_english(api):
    case = start_entry(api('vol_zhang')).get_json()['instance']
    station = api('station_xicun', lang='en')
    [task] = [t for t in station.get('/tasks').get_json()['items'] if t['instance_id'] == case['id']]
    assert task['title'] == 'Station first review'
    view = station.get(f"/instances/{case['id']}").get_json()
    assert view['stage'] == 'Station first review' and view['open_tasks'][0]['title'] == 'Station first review'
    assert [h['task'] for h in view['history']] == ['Submit service object details']
    mine = api('vol_zhang', lang='en').get('/instances').get_json()['items']
    assert {i['process_name'] for i in mine} == {'Service object entry'}
    names = {p['key']: p['name'] for p in station.get('/processes').get_json()}
    assert names['service_object_entry'] == 'Service object entry' and names['activity_publish'] == 'Activity publishing'
    results = station.post('/tasks/batch', json={'task_ids': [task['id'], task['id'] + 10_000], 'decision': 'approve'}
                           ).get_json()['results']
    assert [(r['ok'], r['step']) for r in results] == [(True, 'Station first review'), (False, None)]
    # Chinese readers keep the stored names
    chinese = api('vol_zhang')
    assert chinese.get(f"/instances/{case['id']}").get_json()['history'][0]['task'] == '提交服务对象信息'
    assert {i['process_name'] for i in chinese.get('/instances').get_json()['items']} == {'服务对象录入'}


# ---------------------------------------------------------------- F5: clearer answers

def test_request_token_missing_is_required_and_malformed_states_the_rule(api):
    award('vol_zhang', 40)
    zhang, bath = api('vol_zhang'), item(BATH).id
    resp = zhang.post(f'/shop/items/{bath}/redeem')
    assert resp.status_code == 422 and resp.get_json()['errors'] == {'request_token': ['此项为必填项']}
    resp = zhang.post(f'/shop/items/{bath}/redeem', json={'request_token': 'x'})
    assert resp.get_json()['errors'] == {'request_token': ['提交编号应为 8–64 个字符，只能包含字母、数字、_ 和 -']}
    resp = zhang.post('/shop/donations', json={'target': 'pool', 'amount': 1, 'request_token': 'bad token!'})
    assert resp.get_json()['errors'] == {'request_token': ['提交编号应为 8–64 个字符，只能包含字母、数字、_ 和 -']}
    resp = api('gzva').post('/shop/pool/allocations', json={'username': 'vol_li', 'amount': 1, 'reason': '帮扶'})
    assert resp.get_json()['errors'] == {'request_token': ['此项为必填项']}
    assert count(LedgerEntry) == 1  # the award only


def test_a_donation_without_a_target_asks_for_one(api):
    resp = api('vol_zhang').post('/shop/donations')
    assert resp.status_code == 422
    assert resp.get_json()['errors'] == {'target': ['请选择积分公益项目或公益池']}
    assert api('vol_zhang').post('/shop/donations', json={'target': '  '}).get_json()['errors'] == {
        'target': ['请选择积分公益项目或公益池']}


def test_removing_a_sensitive_word_without_a_word_asks_for_one(api):
    gzva = api('gzva')
    for kw in ({}, {'json': {'word': '  '}}):
        resp = delete(gzva, '/sensitive-words', **kw)
        assert resp.status_code == 422 and resp.get_json()['errors'] == {'word': ['请输入敏感词']}
    assert delete(gzva, '/sensitive-words', json={'word': '没有这个词'}).status_code == 404


def test_an_expired_token_has_its_own_code_apart_from_an_unknown_one(api):
    vol = api('vol_li')
    assert vol.get('/me').status_code == 200
    with transaction():
        db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    resp = vol.get('/me')
    assert resp.status_code == 401
    assert resp.get_json() == {'error': 'token_expired', 'message': '登录已过期，请重新获取令牌'}
    resp = vol.client.get('/api/v1/me', headers={'Authorization': 'Bearer garbage'})
    assert resp.status_code == 401 and resp.get_json()['error'] == 'unauthorized'
    resp = vol.client.get('/api/v1/activities?state=mine', headers=vol.headers)  # a public endpoint asking a token
    assert resp.status_code == 401 and resp.get_json()['error'] == 'token_expired'


# ---------------------------------------------------------------- F6: error keys the request sent

def test_a_refused_word_list_is_named_under_words(api):
    gzva = api('gzva')
    resp = gzva.post('/sensitive-words', json={'words': ['传销', '传销']})
    assert resp.status_code == 422 and resp.get_json()['errors'] == {'words': ['敏感词“传销”重复输入了']}
    resp = gzva.post('/sensitive-words', json={'words': ['']})
    assert resp.get_json()['errors'] == {'words': ['请输入敏感词']}
    resp = gzva.post('/sensitive-words', json={'word': ''})
    assert resp.get_json()['errors'] == {'word': ['请输入敏感词']}
