"""积分公益 on the phone asks before it spends: 捐入公益池 / 项目捐分 open a confirmation (what is given, which
points, what is left) and nothing is spent before 确认捐赠; a refused amount comes back (422) at that card's amount
field with what was typed; a double tap is charged once. The shop API checks that the caller may see the item (or
may act at all) before it says anything about the body."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import LedgerAccount, LedgerPosting
from app.services import ledger, shop, transaction
from tests.conftest import PASSWORD
from tests.helpers import run_together
from tests.web.shop_helpers import BATH, award, item, user
from tests.web.test_shop_forms import _doc, _field_errors, _flashes, _quote, _shop_rows, _summary, _text

PROJECT = '关爱独居长者项目'      # 积分公益, elderly time points, 荔湾区
PENDING_LIWAN = '康复理疗体验（1 次）'
PENDING_YUEXIU = '越秀区长者体检套餐'
CONFIRM_FORM = '//form[@action="/m/shop/donate"][@method="post"]'


def _rows():
    """Every row a donation could write (the shop's rows, ledger entries, postings and accounts)."""
    counts = _shop_rows()
    counts.update({m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
                   for m in (LedgerAccount, LedgerPosting)})
    return counts


def _available(username='vol_zhang', point_type='elderly_time'):
    db.session.expire_all()
    return ledger.statement(user(username), point_type=point_type)['available']


def _pool():
    db.session.expire_all()
    return shop.pool_balance()


def _card(doc, card_id):
    [card] = doc.xpath(f'//li[@id="{card_id}"]')
    return card


def _confirm_inputs(doc) -> dict:
    return {i.get('name'): i.get('value') for i in doc.xpath(f'{CONFIRM_FORM}//input')}


def test_pool_donation_asks_first_and_spends_only_after_confirming(login):
    award('vol_zhang', 60)
    page = login('vol_zhang')
    before, pool = _rows(), _pool()

    card = _card(_doc(page.get('/m/shop?section=charity')), 'pool')
    [step] = card.xpath('.//form')
    assert step.get('method') == 'get' and step.get('action') == '/m/shop/donate'   # asking spends nothing
    assert not card.xpath('.//input[@name="request_token" or @name="csrf_token"]')
    assert card.xpath('.//label[@for="f-amount-pool"]') and card.xpath('.//input[@id="f-amount-pool"][@name="amount"]')
    assert [_text(b) for b in card.xpath('.//button')] == ['捐入公益池']

    resp = page.get('/m/shop/donate', query_string={'target': 'pool', 'point_type': 'elderly_time', 'amount': ' 25 '})
    assert resp.status_code == 200
    doc = _doc(resp)
    assert doc.xpath('//h1/text()') == ['确认捐赠']
    assert _text(doc.xpath('//section[contains(@class, "donate-quote")]//h2')[0]) == '公益池'
    assert _quote(doc) == {'将扣除': '25 养老时间积分', '您的可用积分': '60', '捐赠后剩余': '35'}
    [button] = doc.xpath(f'{CONFIRM_FORM}//button')
    assert _text(button) == '确认捐赠（扣除 25 积分）'
    form = _confirm_inputs(doc)
    assert form['confirm'] == '1' and form['target'] == 'pool' and form['amount'] == '25' and len(form['request_token']) >= 8
    [cancel] = doc.xpath('//a[normalize-space()="取消，不捐赠"]')
    assert cancel.get('href') == '/m/shop?section=charity#pool'
    assert _available() == 60 and _rows() == before                  # looking costs nothing

    # an older page's one-tap form (POST without the confirmation) only asks
    resp = page.post('/m/shop/donate', data={'target': 'pool', 'point_type': 'elderly_time', 'amount': '25',
                                             'request_token': 'one-tap-don-01'})
    assert resp.status_code == 200 and _quote(_doc(resp))['捐赠后剩余'] == '35'
    assert _available() == 60 and _rows() == before

    assert page.get(cancel.get('href')).status_code == 200            # cancel: back to the card
    assert _available() == 60 and _rows() == before

    resp = page.post('/m/shop/donate', data=form)
    assert resp.status_code == 302 and resp.headers['Location'].endswith('/m/shop?section=charity')
    assert _flashes(_doc(page.get('/m/shop?section=charity'))) == ['捐分成功，已扣除 25 积分，感谢您的爱心']
    assert _available() == 35 and _pool() == pool + 25
    written = _rows()
    assert written['ledger_entry'] == before['ledger_entry'] + 1

    again = page.post('/m/shop/donate', data=form, follow_redirects=True)     # a double tap
    assert _flashes(_doc(again)) == ['该捐赠已完成，未重复扣分']
    assert _available() == 35 and _pool() == pool + 25 and _rows() == written


def test_project_donation_names_the_project_and_its_points(login):
    award('vol_zhang', 40)
    page = login('vol_zhang')
    project = item(PROJECT)
    card = _card(_doc(page.get('/m/shop?section=charity')), f'item-{project.id}')
    [step] = card.xpath('.//form')
    hidden = {i.get('name'): i.get('value') for i in step.xpath('.//input[@type="hidden"]')}
    assert hidden == {'target': str(project.id), 'point_type': 'elderly_time'}

    doc = _doc(page.get('/m/shop/donate', query_string={**hidden, 'amount': '40'}))
    assert _text(doc.xpath('//section[contains(@class, "donate-quote")]//h2')[0]) == PROJECT
    assert _quote(doc) == {'将扣除': '40 养老时间积分', '您的可用积分': '40', '捐赠后剩余': '0'}
    assert doc.xpath('//a[normalize-space()="取消，不捐赠"]/@href') == [f'/m/shop?section=charity#item-{project.id}']
    assert _available() == 40

    resp = page.post('/m/shop/donate', data=_confirm_inputs(doc), follow_redirects=True)
    assert _flashes(_doc(resp)) == ['捐分成功，已扣除 40 积分，感谢您的爱心']
    assert _available() == 0 and shop.project_totals()[project.id] == 40


@pytest.mark.parametrize('typed, message', [
    ('', '请输入整数积分'), ('abc', '请输入整数积分'), ('1.5', '请输入整数积分'), ('两分', '请输入整数积分'),
    ('0', '积分数量必须大于 0'), ('-3', '积分数量必须大于 0'), ('61', '可用积分不足：可用 60 分，需要 61 分'),
])
def test_bad_amount_is_said_at_the_pool_amount_and_kept(login, typed, message):
    award('vol_zhang', 60)
    page = login('vol_zhang')
    before = _rows()
    resp = page.get('/m/shop/donate', query_string={'target': 'pool', 'point_type': 'elderly_time', 'amount': typed})
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _flashes(doc) == []                                        # no bare flash at the top
    assert doc.xpath(CONFIRM_FORM) == []
    assert _summary(doc) == [f'公益池：{message}']
    assert doc.xpath('//*[@id="error-summary"]//a/@href') == ['#f-amount-pool']
    assert _field_errors(doc, 'amount-pool') == [message]
    [amount] = _card(doc, 'pool').xpath('.//input[@name="amount"]')
    assert amount.get('value') == typed and amount.get('id') == 'f-amount-pool'
    assert amount.get('aria-invalid') == 'true' and amount.get('aria-describedby') == 'err-amount-pool'
    # the page is the 积分公益 section; the project's card is untouched
    assert doc.xpath('//nav[@class="tabs"]//a[@aria-current="page"]/text()') == ['积分公益']
    project = _card(doc, f'item-{item(PROJECT).id}')
    assert not project.xpath('.//*[contains(@class, "has-error")]') and project.xpath('.//input[@name="amount"]/@value') == ['']
    assert _available() == 60 and _rows() == before


def test_simultaneous_double_tap_on_confirm_is_charged_once(app, login, is_postgres):
    if not is_postgres:
        pytest.skip('row locks and concurrent transactions need PostgreSQL')
    award('vol_zhang', 60)
    doc = _doc(login('vol_zhang').get('/m/shop/donate?target=pool&point_type=elderly_time&amount=20'))
    form, before, pool = _confirm_inputs(doc), _rows(), _pool()

    def tap(client, go):
        assert client.post('/login', data={'username': 'vol_zhang', 'password': PASSWORD}).status_code == 302
        go()
        return client.post('/m/shop/donate', data=form).status_code

    assert run_together(app, [tap, tap]) == [302, 302]
    assert _available() == 40 and _pool() == pool + 20
    assert _rows()['ledger_entry'] == before['ledger_entry'] + 1


def test_bad_amount_for_a_project_is_said_at_that_projects_card(login):
    award('vol_zhang', 10)
    page = login('vol_zhang')
    project, before = item(PROJECT), _rows()
    # the one-tap POST of an older page is checked the same way
    resp = page.post('/m/shop/donate', data={'target': str(project.id), 'point_type': 'elderly_time', 'amount': '12',
                                             'request_token': 'old-page-don-1'})
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _summary(doc) == [f'{PROJECT}：可用积分不足：可用 10 分，需要 12 分']
    assert doc.xpath('//*[@id="error-summary"]//a/@href') == [f'#f-amount-{project.id}']
    assert _field_errors(doc, f'amount-{project.id}') == ['可用积分不足：可用 10 分，需要 12 分']
    assert _card(doc, f'item-{project.id}').xpath('.//input[@name="amount"]/@value') == ['12']
    assert _field_errors(doc, 'amount-pool') == [] and _card(doc, 'pool').xpath('.//input[@name="amount"]/@value') == ['']
    assert _available() == 10 and _rows() == before


def test_confirmed_donation_refused_meanwhile_comes_back_with_the_amount(login):
    award('vol_zhang', 60)
    page = login('vol_zhang')
    doc = _doc(page.get('/m/shop/donate', query_string={'target': 'pool', 'point_type': 'elderly_time', 'amount': '50'}))
    form = _confirm_inputs(doc)
    with transaction():                     # 20 points spent elsewhere while the confirmation was open
        ledger.spend(user('vol_zhang'), 20, key='test:elsewhere', reason='测试')
    db.session.remove()
    before = _rows()
    resp = page.post('/m/shop/donate', data=form)
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _field_errors(doc, 'amount-pool') == ['可用积分不足：可用 40 分，需要 50 分']
    assert _card(doc, 'pool').xpath('.//input[@name="amount"]/@value') == ['50'] and _flashes(doc) == []
    assert _available() == 40 and _rows() == before

    # a forged or lost request token: said at the amount too, nothing spent
    resp = page.post('/m/shop/donate', data={**form, 'amount': '5', 'request_token': 'x'})
    doc = _doc(resp)
    assert resp.status_code == 422 and _field_errors(doc, 'amount-pool') == ['提交编号无效，请刷新页面后重试']
    assert _available() == 40 and _rows() == before


def test_forged_targets_and_point_types_spend_nothing(login):
    award('vol_zhang', 60)
    award('vol_zhang', 60, 'service')
    page = login('vol_zhang')
    before = _rows()
    resp = page.get('/m/shop/donate', query_string={'target': 'pool', 'point_type': 'service', 'amount': '5'})
    assert resp.status_code == 422 and _field_errors(_doc(resp), 'amount-pool') == ['只有养老时间积分可以捐入公益池']
    resp = page.post('/m/shop/donate', data={'target': 'pool', 'point_type': 'service', 'amount': '5', 'confirm': '1',
                                             'request_token': 'forged-pt-0001'})
    assert resp.status_code == 422 and _field_errors(_doc(resp), 'amount-pool') == ['只有养老时间积分可以捐入公益池']
    # an item that is not a 积分公益 project: no card to show it at, so the summary says it
    resp = page.get('/m/shop/donate', query_string={'target': item(BATH).id, 'point_type': 'elderly_time', 'amount': '5'})
    assert resp.status_code == 422 and _summary(_doc(resp)) == ['请选择积分公益项目或公益池']
    # items not on sale, unknown ids and no target at all are not found, whatever the amount
    for target in (item(PENDING_LIWAN).id, 99999999999999999999, 'abc', ''):
        for amount in ('5', 'abc'):
            query = {'target': target, 'point_type': 'elderly_time', 'amount': amount}
            assert page.get('/m/shop/donate', query_string=query).status_code == 404, query
            assert page.post('/m/shop/donate', data={**query, 'confirm': '1',
                                                     'request_token': 'forged-tg-0001'}).status_code == 404, query
    assert _available() == 60 and _available(point_type='service') == 60 and _rows() == before


def test_donation_pages_in_english(login):
    award('vol_zhang', 30)
    page = login('vol_zhang')
    doc = _doc(page.get('/m/shop/donate?target=pool&point_type=elderly_time&amount=abc&lang=en'))
    [message] = _field_errors(doc, 'amount-pool')
    assert not any('\u4e00' <= ch <= '\u9fff' for ch in message), message


# ---------------------------------------------------------------- the shop API: who and which item first

def _private_charity_project():
    """A 积分公益 project registered but not yet on sale."""
    item_row = shop.create_item(user('district_liwan'), {'name': '长者助洁公益项目', 'section': 'charity',
                                                         'point_type': 'elderly_time', 'price': '0', 'stock': '0',
                                                         'district': 'liwan'})
    item_id = item_row.id
    db.session.remove()
    return item_id


@pytest.mark.parametrize('body', [{}, {'decision': 'reject'}, {'decision': 'maybe'}, {'decision': 5, 'reason': []},
                                  {'decision': 'approve'}, [], 'x'])
def test_api_review_of_another_districts_item_is_not_found_whatever_the_body(api, body):
    bureau = api('district_liwan')
    yuexiu, before = item(PENDING_YUEXIU).id, _rows()
    resp = bureau.post(f'/shop/items/{yuexiu}/review', json=body)
    assert resp.status_code == 404 and resp.get_json()['message']
    assert bureau.post('/shop/items/99999999/review', json=body).status_code == 404
    for other in ('vol_li', 'gzva'):                                  # no bureau at all: forbidden, not "invalid"
        assert api(other).post(f'/shop/items/{item(PENDING_LIWAN).id}/review', json=body).status_code == 403
    assert item(PENDING_YUEXIU).status == 'pending' and item(PENDING_LIWAN).status == 'pending'
    assert _rows() == before


def test_api_review_of_an_own_item_still_says_what_is_wrong(api):
    bureau = api('district_liwan')
    liwan, before = item(PENDING_LIWAN).id, _rows()
    resp = bureau.post(f'/shop/items/{liwan}/review', json={})
    assert resp.status_code == 422 and resp.get_json()['errors'] == {'decision': ['请选择通过或不通过']}
    resp = bureau.post(f'/shop/items/{liwan}/review', json={'decision': 'maybe'})
    assert resp.status_code == 422 and 'decision' in resp.get_json()['errors']
    resp = bureau.post(f'/shop/items/{liwan}/review', json={'decision': 'reject', 'reason': ' '})
    assert resp.status_code == 422 and resp.get_json()['errors'] == {'reason': ['不通过时必须填写原因']}
    assert item(PENDING_LIWAN).status == 'pending' and _rows() == before


def test_api_redeem_and_donate_hide_items_not_on_sale_whatever_the_body(api):
    award('vol_zhang', 60)
    zhang = api('vol_zhang')
    hidden = _private_charity_project()
    before = _rows()
    for body in ({}, {'request_token': 'x'}, {'request_token': 5}, []):
        assert zhang.post(f'/shop/items/{item(PENDING_LIWAN).id}/redeem', json=body).status_code == 404, body
    for target in (hidden, item(PENDING_LIWAN).id):
        for extra in ({'amount': 0}, {'amount': 5, 'request_token': 'x'}, {'amount': 5, 'point_type': 'bonus'}):
            body = {'target': target, 'amount': 5, 'point_type': 'elderly_time', 'request_token': 'api-don-00001', **extra}
            resp = zhang.post('/shop/donations', json=body)
            assert resp.status_code == 404, (body, resp.get_json())
    # an item on sale with the same bodies: the body is what is wrong
    assert zhang.post(f'/shop/items/{item(BATH).id}/redeem', json={'request_token': 'x'}).status_code == 422
    resp = zhang.post('/shop/donations', json={'target': item(PROJECT).id, 'amount': 0, 'request_token': 'api-don-00001'})
    assert resp.status_code == 422 and resp.get_json()['errors'] == {'amount': ['积分数量必须大于 0']}
    assert _available() == 60 and _rows() == before


def test_api_pool_allocation_and_new_items_refuse_outsiders_before_reading_the_body(api):
    li, before = api('vol_li'), _rows()
    for body in ({'amount': 'x'}, {'amount': 1.5, 'username': 5}, [], {}):
        assert li.post('/shop/pool/allocations', json=body).status_code == 403, body
    for body in ({'name': 5}, {'price': [], 'section': {}}, [], {}):
        assert li.post('/shop/items', json=body).status_code == 403, body
    # the association and the bureaus still hear what is wrong with the body
    assert api('gzva').post('/shop/pool/allocations', json={'amount': 'x'}).status_code == 422
    assert api('district_liwan').post('/shop/items', json={'name': 5}).status_code == 422
    assert _rows() == before
