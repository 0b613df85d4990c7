"""Roles that do not work on service objects do not see them; start forms only for those who may start them; a
provider's dispatch offers only volunteers not yet on the order; order pages name the provider."""
import re

import pytest

from tests.helpers import start_entry
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data

PROVIDER = '颐康居家养老服务中心'


@pytest.fixture
def approved_case(case_at_street, api):
    """An approved service object (household xicun, residence xinshi): its instance, file and name."""
    inst_id, street_task = case_at_street()
    street = api('street_xicun')
    detail = street.get(f'/tasks/{street_task}').get_json()
    assert street.post(f'/tasks/{street_task}/complete', json={'decision': 'approve'}).status_code == 200
    return {'instance_id': inst_id, 'file_id': detail['data']['proof_files'][0], 'name': detail['data']['name']}


def _nav(html):
    nav = html.split('class="mainnav"', 1)[1].split('</nav>', 1)[0]
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)


@pytest.mark.parametrize('username', ['veterans', 'team_a', 'team_vet', 'provider_a'])
def test_roles_outside_service_objects_cannot_read_them(api, login, approved_case, username):
    page = login(username)
    assert page.get(f'/cases/{approved_case["instance_id"]}').status_code == 404
    assert page.get(f'/m/cases/{approved_case["instance_id"]}').status_code == 404
    assert page.get(f'/files/{approved_case["file_id"]}').status_code == 404
    assert api(username).get(f'/instances/{approved_case["instance_id"]}').status_code == 404
    for view in ('all', 'approved'):
        assert approved_case['name'] not in page.get(f'/library?view={view}').get_data(as_text=True)
        assert api(username).get(f'/service-objects?view={view}').get_json()['total'] == 0
    assert '服务对象库' not in [text for _, text in _nav(page.get('/exports').get_data(as_text=True))]


@pytest.mark.parametrize('username', ['station_xicun', 'street_xinshi', 'district_liwan', 'gzva'])
def test_roles_that_work_on_service_objects_still_read_them(api, login, approved_case, username):
    page = login(username)
    assert approved_case['name'] in page.get('/library').get_data(as_text=True)
    assert page.get(f'/cases/{approved_case["instance_id"]}').status_code == 200
    assert page.get(f'/files/{approved_case["file_id"]}').status_code == 200
    assert ('/library', '服务对象库') in _nav(page.get('/inbox').get_data(as_text=True))


def test_provider_still_sees_the_objects_of_an_order_offered_to_it(api, login):
    so = approved_object(api)
    inst = api('vol_zhang').post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    station = api('station_xicun')
    complete(station, open_task(station, inst['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    order_id = int(inst['business_key'].split(':')[1])
    view = api('provider_a').get(f'/orders/{order_id}').get_json()
    assert [o['id'] for o in view['service_objects']] == [so]
    assert '陈伯' in login('provider_a').get(f'/orders/{order_id}').get_data(as_text=True)


def test_duplicate_id_tells_an_outsider_nothing_about_the_object(api, case_at_street):
    case_at_street()  # vol_zhang's entry (陈伯), reviewed by station_xicun
    for username in ('station_shipai', 'vol_li'):
        resp = start_entry(api(username), name='另一个人')
        assert resp.status_code == 422
        text = resp.get_json()['errors']['id_number'][0]
        assert text == '该身份证号码已登记，请勿重复录入；如有疑问请联系社工站', username
    # the station that reviewed it may be told what it is
    text = start_entry(api('station_xicun'), name='陈伯（再次）').get_json()['errors']['id_number'][0]
    assert '已存在于审核中的录入' in text and '（陈*）' in text


@pytest.mark.parametrize('username', ['veterans', 'district_liwan', 'provider_a', 'team_a', 'team_vet'])
def test_roles_that_cannot_submit_get_no_start_forms(login, username):
    page = login(username)
    nav = _nav(page.get('/exports').get_data(as_text=True))
    if username in ('team_a', 'team_vet'):  # they publish activities: 我的提交 lists them, not the phone's tiles
        assert ('/m/cases', '我的提交') in nav and ('/m/', '我的提交') not in nav
    else:  # a bureau or a service provider submits nothing: no 我的提交 that could only be empty (walk_roles 13)
        assert '我的提交' not in [text for _, text in nav]
    home = page.get('/m/').get_data(as_text=True)
    for url in ('/m/service-objects/new', '/m/orders/new', '/m/orders/open', '/m/orders"'):
        assert f'href="{url}' not in home, url
    for url in ('/m/service-objects/new', '/m/orders/new'):
        resp = page.get(url)
        assert resp.status_code == 403 and '您的账号不能发起此流程' in resp.get_data(as_text=True), url


@pytest.mark.parametrize('username', ['vol_zhang', 'station_xicun'])
def test_submitters_keep_their_tiles_and_forms(login, username):
    page = login(username)
    home = page.get('/m/').get_data(as_text=True)
    assert 'href="/m/service-objects/new"' in home and 'href="/m/orders"' in home
    assert page.get('/m/service-objects/new').status_code == 200 and page.get('/m/orders/new').status_code == 200


def _provider_order(api, needed=2):
    so = approved_object(api)
    inst = api('vol_zhang').post('/processes/v_order/instances',
                                 json={'data': order_data([so], volunteers_needed=needed)}).get_json()['instance']
    station = api('station_xicun')
    complete(station, open_task(station, inst['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    return inst, int(inst['business_key'].split(':')[1])


def test_dispatch_leaves_out_volunteers_already_on_the_order(api, login):
    inst, _ = _provider_order(api)
    provider = api('provider_a')
    first = open_task(provider, inst['id'])
    page = login('provider_a')
    assert '李晓敏（vol_li）' in page.get(f'/inbox/tasks/{first["id"]}').get_data(as_text=True)
    complete(provider, first, data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    second = open_task(provider, inst['id'], '服务商派单')
    html = page.get(f'/inbox/tasks/{second["id"]}').get_data(as_text=True)
    choice = re.search(r'<select id="f-volunteer".*?</select>', html, re.S).group(0)
    assert 'vol_li' not in choice and 'vol_zhang' not in choice  # nor any volunteer of another unit
    assert '您的志愿者都已派过此订单，请选择“退回订单”交社工站重新派单' in choice  # the way out that exists now


def test_acceptor_review_hint_follows_the_dispatch_mode(api, login):
    inst, _ = _provider_order(api, needed=1)
    provider = api('provider_a')
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    review = open_task(api('station_xicun'), inst['id'], '接单人审核')
    html = login('station_xicun').get(f'/inbox/tasks/{review["id"]}').get_data(as_text=True)
    assert '名额将退回服务商重新派单' in html and '重新开放给其他志愿者' not in html


def test_order_page_names_the_provider_it_was_offered_to(api, login):
    _, order_id = _provider_order(api, needed=1)
    html = login('station_xicun').get(f'/orders/{order_id}').get_data(as_text=True)
    assert f'<dd class="order-provider">{PROVIDER}</dd>' in html
