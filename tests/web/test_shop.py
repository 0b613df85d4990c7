"""Points shop: catalogue by section, 个人兑换 (60+ for elderly care, idempotent), the district
bureaus' resource review (own district only), 积分公益 and the 公益池, the points statement."""
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, LedgerEntry, OrgUnit, ShopItem, ShopRedemption
from app.services import ledger_checks, shop, transaction
from tests.web.shop_helpers import (
    BATH,
    CLEAN,
    RICE,
    award,
    born_on,
    district_bureau,
    item,
    points,
    set_stock,
    shop_item,
    user,
    years_ago,
)

PENDING_LIWAN = '康复理疗体验（1 次）'
PENDING_YUEXIU = '越秀区长者体检套餐'


def _count(model, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_catalogue_lists_approved_items_by_section(api):
    vol = api('vol_li')
    items = vol.get('/shop/items').get_json()
    names = {i['name'] for i in items}
    assert {BATH, CLEAN, RICE, '北京街长者助餐（5 次）', '关爱独居长者项目'} <= names
    assert PENDING_LIWAN not in names and PENDING_YUEXIU not in names
    care = vol.get('/shop/items?section=elderly_care').get_json()
    assert care and all(i['section'] == 'elderly_care' and i['point_type'] == 'elderly_time' for i in care)
    assert {i['district'] for i in care} == {'liwan', 'yuexiu'}
    bath = next(i for i in care if i['name'] == BATH)
    assert {k: bath[k] for k in ('price', 'stock', 'district', 'point_type_label', 'gift_allowed')} == {
        'price': 30, 'stock': 20, 'district': 'liwan', 'point_type_label': '养老时间积分', 'gift_allowed': True}
    rice = vol.get('/shop/items?section=goods').get_json()
    assert [i['name'] for i in rice] == [RICE] and rice[0]['point_type'] == 'service'
    assert vol.get('/shop/items?section=nonsense').get_json() == []
    assert vol.get(f'/shop/items/{item(PENDING_LIWAN).id}').status_code == 404


def test_personal_elderly_care_redemption_needs_60_and_is_idempotent(api):
    award('vol_li', 60)
    award('vol_zhang', 60)
    li, zhang = api('vol_li'), api('vol_zhang')
    bath = item(BATH).id
    r = li.post(f'/shop/items/{bath}/redeem', json={'request_token': 'li-0000000001'})
    assert r.status_code == 422 and '须年满 60 周岁' in r.get_json()['errors']['age'][0] and '30 岁' in \
        r.get_json()['errors']['age'][0]
    assert points(li) == (60, 0, 60)
    first = zhang.post(f'/shop/items/{bath}/redeem', json={'request_token': 'zhang-000000001'})
    assert first.status_code == 201, first.get_json()
    again = zhang.post(f'/shop/items/{bath}/redeem', json={'request_token': 'zhang-000000001'})
    assert again.status_code == 200 and again.get_json()['id'] == first.get_json()['id']
    assert points(zhang) == (30, 0, 30)
    assert shop_item(zhang, BATH)['stock'] == 19
    assert _count(ShopRedemption) == 1 and _count(LedgerEntry, LedgerEntry.kind == 'spend') == 1
    r = zhang.post(f'/shop/items/{bath}/redeem', json={'request_token': 'zhang-000000002'})
    assert r.status_code == 201 and points(zhang) == (0, 0, 0)
    r = zhang.post(f'/shop/items/{bath}/redeem', json={'request_token': 'zhang-000000003'})
    assert r.status_code == 422 and r.get_json()['errors']['points'] == ['可用积分不足：可用 0 分，需要 30 分']
    assert zhang.post(f'/shop/items/{bath}/redeem', json={}).status_code == 422
    assert ledger_checks.check_invariants() == []


def _set_id_number(username, id_number):
    with transaction():
        user(username).id_number = id_number
    db.session.remove()


def test_personal_redemption_counts_age_on_the_day_of_redemption(api):
    award('vol_li', 60)
    li = api('vol_li')
    bath = item(BATH).id
    _set_id_number('vol_li', born_on(years_ago(60, plus_days=1)))  # 60 tomorrow
    r = li.post(f'/shop/items/{bath}/redeem', json={'request_token': 'age-day-00001'})
    assert r.status_code == 422
    assert r.get_json()['errors']['age'] == [
        '个人兑换养老服务须年满 60 周岁（按身份证号码计算，您目前 59 岁）；可以选择“赠予直系亲属”']
    assert points(li) == (60, 0, 60) and _count(ShopRedemption) == 0
    _set_id_number('vol_li', born_on(years_ago(60)))  # 60 today
    r = li.post(f'/shop/items/{bath}/redeem', json={'request_token': 'age-day-00002'})
    assert r.status_code == 201, r.get_json()
    assert points(li) == (30, 0, 30)
    _set_id_number('vol_li', None)
    r = li.post(f'/shop/items/{bath}/redeem', json={'request_token': 'age-day-00003'})
    assert r.status_code == 422 and '未登记有效的身份证号码' in r.get_json()['errors']['age'][0]


def test_goods_are_paid_with_their_own_point_type_at_any_age(api):
    award('vol_li', 50, 'service')
    award('vol_li', 50)
    li = api('vol_li')
    r = li.post(f'/shop/items/{item(RICE).id}/redeem', json={'request_token': 'rice-00000001'})
    assert r.status_code == 201, r.get_json()
    assert points(li, 'service') == (30, 0, 30) and points(li) == (50, 0, 50)


def test_out_of_stock_is_refused_and_nothing_is_paid(api):
    award('vol_zhang', 100)
    zhang = api('vol_zhang')
    set_stock(CLEAN, 1)
    assert zhang.post(f'/shop/items/{item(CLEAN).id}/redeem', json={'request_token': 'clean-0000001'}).status_code == 201
    r = zhang.post(f'/shop/items/{item(CLEAN).id}/redeem', json={'request_token': 'clean-0000002'})
    assert r.status_code == 422 and '库存不足' in r.get_json()['errors']['stock'][0]
    assert points(zhang) == (85, 0, 85) and shop_item(zhang, CLEAN)['stock'] == 0


def test_district_bureau_reviews_its_own_district_only(api):
    bureau, vol = api('district_liwan'), api('vol_li')
    pending = bureau.get('/shop/review').get_json()
    assert {i['name'] for i in pending} == {PENDING_LIWAN, '老年智能手机课程'}
    yuexiu = item(PENDING_YUEXIU).id
    assert bureau.post(f'/shop/items/{yuexiu}/review', json={'decision': 'approve'}).status_code == 404
    assert item(PENDING_YUEXIU).status == 'pending'
    liwan = item(PENDING_LIWAN).id
    r = bureau.post(f'/shop/items/{liwan}/review', json={'decision': 'reject'})
    assert r.status_code == 422 and 'reason' in r.get_json()['errors']
    assert PENDING_LIWAN not in {i['name'] for i in vol.get('/shop/items').get_json()}
    r = bureau.post(f'/shop/items/{liwan}/review', json={'decision': 'approve'})
    assert r.status_code == 200 and r.get_json()['status'] == 'approved'
    assert PENDING_LIWAN in {i['name'] for i in vol.get('/shop/items').get_json()}
    assert bureau.post(f'/shop/items/{liwan}/review', json={'decision': 'reject', 'reason': 'x'}).status_code == 409
    phone = item('老年智能手机课程').id
    assert bureau.post(f'/shop/items/{phone}/review', json={'decision': 'reject', 'reason': '课程内容不完整'}).status_code == 200
    assert '老年智能手机课程' not in {i['name'] for i in vol.get('/shop/items').get_json()}
    assert {i['name'] for i in bureau.get('/shop/review?status=rejected').get_json()} == {'老年智能手机课程'}
    assert _count(AuditLog, AuditLog.action.in_(['shop_item.approve', 'shop_item.reject'])) == 2
    # each decision says in which capacity it was taken (SPEC §3: role and org unit)
    decided = db.session.scalars(select(AuditLog).where(AuditLog.action.like('shop_item.%'),
                                                        AuditLog.action != 'shop_item.create')).all()
    assert {(json.loads(a.detail_json)['role'], json.loads(a.detail_json)['unit']) for a in decided} == {
        ('district_admin', 'liwan')}
    for other in ('gzva', 'vol_li', 'station_xicun'):
        assert api(other).get('/shop/review').status_code == 403
        assert api(other).post(f'/shop/items/{yuexiu}/review', json={'decision': 'approve'}).status_code == 403


def test_review_pages_hide_other_districts(login):
    page = login('district_liwan')
    html = page.get('/shop/review').get_data(as_text=True)
    assert PENDING_LIWAN in html and PENDING_YUEXIU not in html and '兑换资源审核' in html
    assert page.post(f'/shop/review/{item(PENDING_YUEXIU).id}', data={'decision': 'approve'}).status_code == 404
    r = page.post(f'/shop/review/{item(PENDING_LIWAN).id}', data={'decision': 'reject'}, follow_redirects=True)
    assert '不通过时必须填写原因' in r.get_data(as_text=True)
    r = page.post(f'/shop/review/{item(PENDING_LIWAN).id}', data={'decision': 'approve'}, follow_redirects=True)
    assert '已提交审核结果' in r.get_data(as_text=True) and item(PENDING_LIWAN).status == 'approved'
    assert login('gzva').get('/shop/review').status_code == 403


def _district_names(district):
    db.session.expire_all()
    return set(db.session.scalars(select(ShopItem.name).join(OrgUnit, OrgUnit.id == ShopItem.district_id)
                                  .where(OrgUnit.code == district)))


def test_other_districts_bureaus_never_see_liwan_resources(api, login):
    district_bureau('district_yuexiu', 'yuexiu')
    liwan_items = _district_names('liwan')
    yuexiu = api('district_yuexiu')
    for status in ('pending', 'approved', 'rejected', 'all'):
        names = {i['name'] for i in yuexiu.get(f'/shop/review?status={status}').get_json()}
        assert not names & liwan_items, (status, names)
    assert {i['name'] for i in yuexiu.get('/shop/review').get_json()} == {PENDING_YUEXIU}
    assert {i['district'] for i in yuexiu.get('/shop/review?status=all').get_json()} == {'yuexiu'}
    liwan_pending = item(PENDING_LIWAN).id
    assert yuexiu.post(f'/shop/items/{liwan_pending}/review', json={'decision': 'approve'}).status_code == 404
    assert yuexiu.post(f'/shop/items/{liwan_pending}/review',
                       json={'decision': 'reject', 'reason': '不是本区'}).status_code == 404
    assert item(PENDING_LIWAN).status == 'pending'
    page = login('district_yuexiu')
    html = page.get('/shop/review?status=all').get_data(as_text=True)
    assert PENDING_YUEXIU in html and not any(name in html for name in liwan_items)
    assert page.post(f'/shop/review/{liwan_pending}', data={'decision': 'approve'}).status_code == 404
    r = yuexiu.post('/shop/items', json={'name': '长者理发券', 'section': 'other', 'price': 5, 'stock': 10,
                                         'district': 'liwan'})
    assert r.status_code == 422 and r.get_json()['errors']['district'] == ['只能登记本区的兑换资源']
    assert item(PENDING_LIWAN).status == 'pending' and _count(AuditLog, AuditLog.action.like('shop_item.%')) == 0
    r = yuexiu.post(f'/shop/items/{item(PENDING_YUEXIU).id}/review', json={'decision': 'approve'})
    assert r.status_code == 200 and r.get_json()['status'] == 'approved'
    assert PENDING_YUEXIU not in {i['name'] for i in api('district_liwan').get('/shop/review?status=all').get_json()}


def test_new_resources_wait_for_their_bureau(api):
    bureau, gzva = api('district_liwan'), api('gzva')
    base = {'name': '长者理发券', 'section': 'other', 'price': 5, 'stock': 10, 'point_type': 'elderly_time'}
    r = bureau.post('/shop/items', json={**base, 'district': 'yuexiu'})
    assert r.status_code == 422 and '本区' in r.get_json()['errors']['district'][0]
    r = bureau.post('/shop/items', json={**base, 'section': 'elderly_care', 'point_type': 'service', 'district': 'liwan'})
    assert r.status_code == 422 and '养老时间积分' in r.get_json()['errors']['point_type'][0]
    # SPEC §2.3: the bureaus register and review their own district's resources; 广志协 does not
    assert gzva.post('/shop/items', json={**base, 'district': 'liwan'}).status_code == 403
    r = bureau.post('/shop/items', json={**base, 'district': 'liwan'})
    assert r.status_code == 201 and r.get_json()['status'] == 'pending'
    assert '长者理发券' not in {i['name'] for i in bureau.get('/shop/items').get_json()}
    assert '长者理发券' in {i['name'] for i in bureau.get('/shop/review').get_json()}
    assert api('vol_li').post('/shop/items', json={**base, 'district': 'liwan'}).status_code == 403


def test_donations_and_pool_allocation(api):
    award('vol_zhang', 50)
    award('vol_zhang', 20, 'service')
    zhang, gzva, li = api('vol_zhang'), api('gzva'), api('vol_li')
    body = {'target': 'pool', 'amount': 10, 'point_type': 'elderly_time', 'request_token': 'don-000000001'}
    assert zhang.post('/shop/donations', json=body).status_code == 201
    assert zhang.post('/shop/donations', json=body).status_code == 201  # the same tap again: nothing more
    assert points(zhang) == (40, 0, 40)
    r = zhang.post('/shop/donations', json={**body, 'point_type': 'service', 'request_token': 'don-000000002'})
    assert r.status_code == 422 and r.get_json()['errors']['point_type'] == ['只有养老时间积分可以捐入公益池']
    project = item('关爱独居长者项目').id
    r = zhang.post('/shop/donations', json={**body, 'target': project, 'amount': 15, 'request_token': 'don-000000003'})
    assert r.status_code == 201 and points(zhang) == (25, 0, 25)
    r = zhang.post('/shop/donations', json={**body, 'amount': 100, 'request_token': 'don-000000004'})
    assert r.status_code == 422 and 'amount' in r.get_json()['errors']  # the field sent
    assert gzva.get('/shop/pool').get_json()['balance'] == 10
    alloc = {'username': 'vol_li', 'amount': 6, 'reason': '困难志愿者帮扶', 'request_token': 'alloc-00000001'}
    assert li.post('/shop/pool/allocations', json=alloc).status_code == 403
    assert gzva.post('/shop/pool/allocations', json=alloc).status_code == 201
    assert gzva.post('/shop/pool/allocations', json=alloc).status_code == 201
    assert points(li) == (6, 0, 6) and gzva.get('/shop/pool').get_json()['balance'] == 4
    assert _count(AuditLog, AuditLog.action == 'pool.allocate') == 1
    r = gzva.post('/shop/pool/allocations', json={**alloc, 'amount': 5, 'request_token': 'alloc-00000002'})
    assert r.status_code == 422 and [m for ms in r.get_json()['errors'].values() for m in ms] == [
        '公益池余额不足：余额 4 分，本次要分配 5 分，请减少分配的积分']
    assert gzva.post('/shop/pool/allocations', json={**alloc, 'reason': ''}).status_code == 422
    assert ledger_checks.check_invariants() == []


def test_statement_shows_balance_held_and_every_reason(api, login):
    award('vol_zhang', 80)
    zhang = api('vol_zhang')
    zhang.post(f'/shop/items/{item(CLEAN).id}/redeem', json={'request_token': 'stmt-00000001'})
    s = zhang.get('/me/points').get_json()
    assert (s['balance'], s['held'], s['available']) == (65, 0, 65)
    assert [(e['kind'], e['amount'], e['reason']) for e in s['entries']] == [
        ('spend', -15, f'个人兑换「{CLEAN}」'), ('award', 80, '测试积分')]
    assert {'balance', 'held', 'available', 'entries'} <= s.keys()
    assert all({'id', 'kind', 'amount', 'reason', 'business_ref', 'at'} <= e.keys() for e in s['entries'])
    r = zhang.get('/me/points?point_type=bonus')
    assert r.status_code == 422 and r.get_json()['errors']['point_type'] == [
        '积分类型只能是 elderly_time（养老时间积分）或 service（志愿服务积分）']
    assert zhang.get('/me/points?point_type=service').get_json()['point_type'] == 'service'
    [row] = [i for i in zhang.get('/shop/items?section=elderly_care').get_json() if i['name'] == CLEAN]
    assert {'id', 'name', 'section', 'price', 'stock', 'district'} <= row.keys()
    html = login('vol_zhang').get('/m/points').get_data(as_text=True)
    assert f'个人兑换「{CLEAN}」' in html and '冻结中' in html and '65' in html
    assert '志愿服务积分' in login('vol_zhang').get('/m/points?type=service').get_data(as_text=True)


@pytest.mark.parametrize('url', ['/m/shop', '/m/shop?section=goods', '/m/shop?section=other', '/m/shop?section=charity',
                                 '/m/shop/mine', '/m/points'])
def test_phone_pages_render(login, url):
    page = login('vol_zhang')
    r = page.get(url)
    assert r.status_code == 200
    assert '积分商城' in r.get_data(as_text=True)


def test_phone_redeem_and_donate_pages(login):
    award('vol_zhang', 60)
    page = login('vol_zhang')
    html = page.get('/m/shop?section=elderly_care').get_data(as_text=True)
    assert BATH in html and '赠予直系亲属' in html and '仅可使用养老时间积分' in html and PENDING_LIWAN not in html
    # 个人兑换 opens a confirmation step (tests/web/test_shop_forms.py); its 确认兑换 form carries the token
    confirm = page.get(f'/m/shop/items/{item(BATH).id}/redeem').get_data(as_text=True)
    token = confirm.split('name="request_token" value="')[1].split('"')[0]
    for _ in range(2):  # a double tap
        r = page.post(f'/m/shop/items/{item(BATH).id}/redeem', data={'request_token': token, 'confirm': '1'},
                      follow_redirects=True)
    assert '该兑换已完成，请勿重复提交' in r.get_data(as_text=True) and BATH in r.get_data(as_text=True)
    assert _count(ShopRedemption) == 1
    r = page.post('/m/shop/donate', data={'target': 'pool', 'amount': '5', 'point_type': 'service',
                                          'request_token': 'page-don-0001'}, follow_redirects=True)
    assert '只有养老时间积分可以捐入公益池' in r.get_data(as_text=True)
    # 捐入公益池 asks first (tests/web/test_shop_donate.py); 确认捐赠 spends
    r = page.post('/m/shop/donate', data={'target': 'pool', 'amount': '5', 'point_type': 'elderly_time',
                                          'request_token': 'page-don-0002', 'confirm': '1'}, follow_redirects=True)
    assert '捐分成功' in r.get_data(as_text=True)
    li = login('vol_li')
    r = li.post(f'/m/shop/items/{item(BATH).id}/redeem', data={'request_token': 'li-page-00001'}, follow_redirects=True)
    assert '须年满 60 周岁' in r.get_data(as_text=True)


def test_pool_page_for_the_association_only(login):
    assert login('vol_li').get('/shop/pool').status_code == 403
    html = login('gzva').get('/shop/pool').get_data(as_text=True)
    assert '公益池余额' in html and 'id="f-username" name="username" type="text"' in html  # typed, with suggestions


def _card(html, name):
    """The shop card (<li class="shop-item">) that shows `name`, as an lxml element."""
    from lxml import html as lxml_html
    cards = lxml_html.fromstring(html).xpath('//li[contains(@class, "shop-item")]')
    [card] = [li for li in cards if name in li.text_content()]
    return card


def _texts(card, xpath):
    return [e.text_content().strip() for e in card.xpath(xpath)]


def test_under_60_sees_why_instead_of_a_personal_redemption_button(login):
    from app.services.validators import age_on
    li_age = age_on(user('vol_li').id_number, shop.today())
    assert li_age < 60 <= age_on(user('vol_zhang').id_number, shop.today())
    award('vol_li', 30)  # enough for a gift (a shortfall disables it: test_shop_gift_fixes.py)
    award('vol_zhang', 30)

    card = _card(login('vol_li').get('/m/shop?section=elderly_care').get_data(as_text=True), BATH)
    assert _texts(card, './/button') == []          # nothing to tap into a refusal
    [note] = _texts(card, './/*[@role="note"]')
    assert '须年满 60 周岁' in note and f'您目前 {li_age} 岁' in note and '赠予直系亲属' in note
    [gift] = card.xpath('.//a[contains(@class, "btn")]')
    assert gift.text_content() == '赠予直系亲属' and gift.get('href') == f'/m/shop/items/{item(BATH).id}/gift'
    # the same volunteer redeems goods for herself (no age rule there)
    goods = _card(login('vol_li').get('/m/shop?section=goods').get_data(as_text=True), RICE)
    assert _texts(goods, './/button') == ['个人兑换'] and _texts(goods, './/*[@role="note"]') == []

    card = _card(login('vol_zhang').get('/m/shop?section=elderly_care').get_data(as_text=True), BATH)
    assert _texts(card, './/button') == ['个人兑换'] and _texts(card, './/*[@role="note"]') == []
    assert _texts(card, './/a[contains(@class, "btn")]') == ['赠予直系亲属']


def test_under_60_note_in_english(login):
    award('vol_li', 30)
    card = _card(login('vol_li').get('/m/shop?section=elderly_care&lang=en').get_data(as_text=True), BATH)
    assert _texts(card, './/button') == []
    [note] = _texts(card, './/*[@role="note"]')
    assert '60 or older' in note
