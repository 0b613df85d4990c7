"""Shop pages with a form to fill in: a refused submission comes back (422) with each message at its field,
an error summary that names the field, and everything typed kept; nothing is stored. 个人兑换 on the phone
asks for confirmation (what is spent, what is left) before any point is spent."""
from lxml import html as lxml_html
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, LedgerEntry, ShopItem, ShopRedemption
from tests.web.shop_helpers import BATH, CLEAN, award, item, set_stock, user

PENDING_LIWAN = '康复理疗体验（1 次）'
PHONE_COURSE = '老年智能手机课程'
PENDING_YUEXIU = '越秀区长者体检套餐'


def _shop_rows():
    db.session.expire_all()
    counts = {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
              for m in (ShopItem, ShopRedemption, LedgerEntry, AuditLog)}
    counts['pending'] = db.session.scalar(select(func.count()).select_from(ShopItem).where(ShopItem.status == 'pending'))
    return counts


def _doc(resp):
    return lxml_html.fromstring(resp.get_data(as_text=True))


def _text(el) -> str:
    return ' '.join(el.text_content().split())


def _summary(doc) -> list[str]:
    return [_text(li) for li in doc.xpath('//*[@id="error-summary"]//li')]


def _field_errors(doc, field_id) -> list[str]:
    return [_text(p).replace('错误：', '') for p in doc.xpath(f'//*[@id="field-{field_id}"]//p[@class="field-error"]')]


def _flashes(doc) -> list[str]:
    return [_text(f) for f in doc.xpath('//div[contains(@class, "flash")]')]


def _value(doc, name, form_xpath='//form'):
    [control] = doc.xpath(f'{form_xpath}//*[@name="{name}"][not(@type="radio")]')
    if control.tag == 'select':
        chosen = control.xpath('.//option[@selected]')
        return chosen[0].get('value') if chosen else None
    return control.text or '' if control.tag == 'textarea' else control.get('value')


NEW_ITEM_FORM = '//form[@action="/shop/items"]'


# ---------------------------------------------------------------- 登记新的兑换资源

def test_new_item_submitted_empty_says_what_is_missing_at_each_field(login, row_counts):
    page = login('district_liwan')
    before, tasks_before = _shop_rows(), row_counts()
    resp = page.post('/shop/items', data={'name': '', 'section': 'other', 'point_type': 'elderly_time', 'price': '',
                                          'stock': '', 'district': 'liwan', 'provider_name': '', 'description': ''})
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _flashes(doc) == []                          # no bare flash: the messages are at the fields
    assert doc.xpath('//details[@id="new-item"]/@open')  # the form stays open
    assert _summary(doc) == ['名称：名称 2–80 个字', '所需积分：请输入不小于 1 的整数', '库存：请输入不小于 0 的整数']
    assert _field_errors(doc, 'name') == ['名称 2–80 个字']
    assert _field_errors(doc, 'price') == ['请输入不小于 1 的整数']
    assert _field_errors(doc, 'stock') == ['请输入不小于 0 的整数']
    assert _field_errors(doc, 'provider_name') == [] and _field_errors(doc, 'section') == []
    [price] = doc.xpath('//input[@id="f-price"]')
    assert price.get('aria-invalid') == 'true' and price.get('aria-describedby') == 'err-price'
    # the summary's links lead to the fields
    assert doc.xpath('//*[@id="error-summary"]//a/@href') == ['#f-name', '#f-price', '#f-stock']
    assert all(doc.xpath(f'//*[@id="{h[1:]}"]') for h in doc.xpath('//*[@id="error-summary"]//a/@href'))
    assert _shop_rows() == before and row_counts() == tasks_before


def test_new_item_with_a_bad_price_keeps_everything_typed(login, row_counts):
    page = login('district_liwan')
    before, tasks_before = _shop_rows(), row_counts()
    typed = {'name': '长者理发券', 'section': 'goods', 'point_type': 'service', 'price': 'abc', 'stock': '12',
             'district': 'liwan', 'provider_name': '逢源街社工站', 'description': '每月一次上门理发'}
    resp = page.post('/shop/items', data=typed)
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _summary(doc) == ['所需积分：请输入不小于 1 的整数']
    assert _field_errors(doc, 'price') == ['请输入不小于 1 的整数'] and _field_errors(doc, 'name') == []
    assert {name: _value(doc, name, NEW_ITEM_FORM) for name in typed} == typed
    assert _shop_rows() == before and row_counts() == tasks_before

    # corrected, it is registered and waits for review
    resp = page.post('/shop/items', data={**typed, 'price': '8'})
    assert resp.status_code == 302
    assert item('长者理发券').status == 'pending' and item('长者理发券').price == 8
    assert _shop_rows()['shop_item'] == before['shop_item'] + 1


def test_new_item_field_rules_are_said_at_their_fields(login):
    page = login('district_liwan')
    base = {'name': '长者理发券', 'section': 'elderly_care', 'point_type': 'service', 'price': '5', 'stock': '-1',
            'district': 'yuexiu', 'provider_name': '', 'description': ''}
    resp = page.post('/shop/items', data=base)
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _field_errors(doc, 'point_type') == ['养老服务兑换只能使用养老时间积分']
    assert _field_errors(doc, 'stock') == ['请输入不小于 0 的整数']
    assert _field_errors(doc, 'district') == ['只能登记本区的兑换资源']
    assert _summary(doc) == ['积分类型：养老服务兑换只能使用养老时间积分', '库存：请输入不小于 0 的整数',
                             '所属区：只能登记本区的兑换资源']
    [pt] = doc.xpath('//select[@id="f-point_type"]')
    assert pt.get('aria-describedby') == 'hint-point_type err-point_type'
    # the select offers only the bureau's own district (a forged other district is refused as above)
    assert doc.xpath(f'{NEW_ITEM_FORM}//select[@id="f-district"]/option/@value') == ['liwan']
    assert _value(doc, 'section', NEW_ITEM_FORM) == 'elderly_care'
    assert item('长者理发券') is None


def test_new_item_form_marks_required_fields_and_starts_closed(login):
    doc = _doc(login('district_liwan').get('/shop/review'))
    assert not doc.xpath('//details[@id="new-item"]/@open') and not doc.xpath('//*[@id="error-summary"]')
    required = [lbl.get('for')[2:] for lbl in doc.xpath(f'{NEW_ITEM_FORM}//label[span[@class="req"]]')]
    optional = [lbl.get('for')[2:] for lbl in doc.xpath(f'{NEW_ITEM_FORM}//label[span[@class="opt"]]')]
    assert required == ['name', 'section', 'point_type', 'price', 'stock', 'district']
    assert optional == ['provider_name', 'description']


def test_new_item_page_refuses_people_who_may_not_register(login):
    assert login('vol_li').post('/shop/items', data={'name': ''}).status_code == 403
    assert item('') is None


# ---------------------------------------------------------------- 不通过 without 意见

def _row(doc, name):
    [row] = [tr for tr in doc.xpath('//table[@class="list"]//tbody/tr') if name in _text(tr)]
    return row


def test_reject_without_reason_is_said_at_that_items_reason_and_keeps_the_choice(login, row_counts):
    page = login('district_liwan')
    target = item(PENDING_LIWAN)
    before, tasks_before = _shop_rows(), row_counts()
    resp = page.post(f'/shop/review/{target.id}', data={'decision': 'reject', 'reason': '   '})
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _flashes(doc) == []
    assert _summary(doc) == [f'{PENDING_LIWAN}：不通过时必须填写原因']
    assert doc.xpath('//*[@id="error-summary"]//a/@href') == [f'#f-reason-{target.id}']
    row = _row(doc, PENDING_LIWAN)
    assert row.xpath('.//input[@name="decision"][@checked]/@value') == ['reject']   # 不通过 stays chosen
    assert _field_errors(row, f'reason-{target.id}') == ['不通过时必须填写原因']
    [reason] = row.xpath('.//textarea[@name="reason"]')
    assert reason.get('id') == f'f-reason-{target.id}' and reason.get('aria-invalid') == 'true'
    # the other pending item is untouched: no message, nothing chosen
    other = _row(doc, PHONE_COURSE)
    assert not other.xpath('.//*[contains(@class, "has-error")]') and not other.xpath('.//input[@checked]')
    assert item(PENDING_LIWAN).status == 'pending'
    assert _shop_rows() == before and row_counts() == tasks_before


def test_review_without_a_decision_keeps_the_reason_typed(login):
    page = login('district_liwan')
    target = item(PHONE_COURSE)
    resp = page.post(f'/shop/review/{target.id}', data={'reason': '课程内容不完整'})
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _summary(doc) == [f'{PHONE_COURSE}：请选择通过或不通过']
    row = _row(doc, PHONE_COURSE)
    assert _field_errors(row, f'decision-{target.id}') == ['请选择通过或不通过']
    assert row.xpath('.//textarea[@name="reason"]')[0].text == '课程内容不完整'
    assert doc.xpath('//*[@id="error-summary"]//a/@href') == [f'#f-decision-{target.id}']
    assert doc.xpath(f'//input[@id="f-decision-{target.id}"]/@value') == ['approve']
    # then with 不通过 and the reason: done
    resp = page.post(f'/shop/review/{target.id}', data={'decision': 'reject', 'reason': '课程内容不完整'},
                     follow_redirects=True)
    assert '已提交审核结果' in resp.get_data(as_text=True)
    assert item(PHONE_COURSE).status == 'rejected' and item(PHONE_COURSE).review_reason == '课程内容不完整'


def test_refused_decision_on_another_districts_or_a_decided_item(login):
    page = login('district_liwan')
    before = _shop_rows()
    assert page.post(f'/shop/review/{item(PENDING_YUEXIU).id}', data={'decision': 'reject'}).status_code == 404
    assert login('vol_li').post(f'/shop/review/{item(PENDING_LIWAN).id}', data={'decision': 'reject'}).status_code == 403
    approved = item(BATH)
    resp = page.post(f'/shop/review/{approved.id}', data={'decision': 'reject'}, follow_redirects=True)
    assert resp.status_code == 200 and '该兑换资源已审核' in resp.get_data(as_text=True)
    assert item(BATH).status == 'approved' and _shop_rows() == before


# ---------------------------------------------------------------- 公益池 allocation

POOL_FORM = '//form[@action="/shop/pool/allocate"]'


def _pool_with(points):
    award('vol_zhang', points)
    from app.services import ledger, transaction
    with transaction():
        ledger.donate(user('vol_zhang'), points, key='test:pool', reason='捐入公益池', business_ref='pool')
    db.session.remove()


def test_pool_allocation_without_reason_is_said_at_the_reason(login):
    _pool_with(10)
    page = login('gzva')
    before = _shop_rows()
    resp = page.post('/shop/pool/allocate', data={'username': 'vol_li', 'amount': '6', 'reason': '',
                                                   'request_token': 'pool-form-0001'})
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _flashes(doc) == []
    assert _summary(doc) == ['分配原因：请填写分配原因']
    assert _field_errors(doc, 'reason') == ['请填写分配原因']
    assert _value(doc, 'username', POOL_FORM) == 'vol_li' and _value(doc, 'amount', POOL_FORM) == '6'
    assert doc.xpath('//strong[@class="pool-balance"]/text()') == ['10']
    assert _shop_rows() == before

    resp = page.post('/shop/pool/allocate', data={'username': 'vol_li', 'amount': '两分', 'reason': '困难帮扶',
                                                   'request_token': 'pool-form-0002'})
    doc = _doc(resp)
    assert resp.status_code == 422 and _field_errors(doc, 'amount') == ['请输入整数积分']
    assert _value(doc, 'reason', POOL_FORM) == '困难帮扶'
    resp = page.post('/shop/pool/allocate', data={'username': 'vol_li', 'amount': '11', 'reason': '困难帮扶',
                                                   'request_token': 'pool-form-0003'})
    doc = _doc(resp)
    assert resp.status_code == 422
    assert _field_errors(doc, 'amount') == ['公益池余额不足：余额 10 分，本次要分配 11 分，请减少分配的积分']
    assert _shop_rows() == before

    resp = page.post('/shop/pool/allocate', data={'username': 'vol_li', 'amount': '6', 'reason': '困难帮扶',
                                                   'request_token': 'pool-form-0004'}, follow_redirects=True)
    assert '已分配' in resp.get_data(as_text=True)
    assert _doc(resp).xpath('//strong[@class="pool-balance"]/text()') == ['4']


# ---------------------------------------------------------------- 个人兑换 asks first

def _balance(username, point_type='elderly_time'):
    from app.services import ledger
    db.session.expire_all()
    return ledger.statement(user(username), point_type=point_type)['available']


def _quote(doc) -> dict:
    return {_text(row.xpath('dt')[0]): _text(row.xpath('dd')[0]) for row in doc.xpath('//dl[@class="data"]/div')}


CONFIRM_FORM = '//form[contains(@action, "/redeem")][@method="post"]'


def test_personal_redemption_shows_the_cost_and_spends_only_after_confirming(login):
    award('vol_zhang', 60)
    page = login('vol_zhang')
    bath = item(BATH)
    stock, before = bath.stock, _shop_rows()
    card = [li for li in _doc(page.get('/m/shop?section=elderly_care')).xpath('//li[contains(@class, "shop-item")]')
            if BATH in _text(li)][0]
    [step] = card.xpath('.//form[.//button[normalize-space()="个人兑换"]]')
    assert step.get('method') == 'get' and step.get('action') == f'/m/shop/items/{bath.id}/redeem'

    resp = page.get(step.get('action'))
    assert resp.status_code == 200
    doc = _doc(resp)
    assert doc.xpath('//h1/text()') == ['确认兑换']
    assert BATH in _text(doc.xpath('//section[contains(@class, "redeem-quote")]')[0])
    assert _quote(doc) == {'将扣除': '30 养老时间积分', '您的可用积分': '60', '兑换后剩余': '30'}
    [button] = doc.xpath(f'{CONFIRM_FORM}//button')
    assert _text(button) == '确认兑换（扣除 30 积分）'
    [cancel] = doc.xpath('//a[normalize-space()="取消，不兑换"]')
    assert cancel.get('href') == f'/m/shop?section=elderly_care#item-{bath.id}'
    assert _balance('vol_zhang') == 60 and _shop_rows() == before     # looking costs nothing

    # a POST without the confirmation (an old page's one-tap button) only asks
    resp = page.post(f'/m/shop/items/{bath.id}/redeem', data={'request_token': 'one-tap-000001'})
    assert resp.status_code == 200 and '确认兑换（扣除 30 积分）' in resp.get_data(as_text=True)
    assert _balance('vol_zhang') == 60 and _shop_rows() == before

    # cancel: back to the card, nothing spent
    assert page.get(cancel.get('href')).status_code == 200
    assert _balance('vol_zhang') == 60 and _shop_rows() == before

    form = {i.get('name'): i.get('value') for i in doc.xpath(f'{CONFIRM_FORM}//input')}
    assert form['confirm'] == '1' and len(form['request_token']) >= 8
    resp = page.post(f'/m/shop/items/{bath.id}/redeem', data=form)
    assert resp.status_code == 302 and resp.headers['Location'].endswith('/m/shop/mine')
    assert '兑换成功，已扣除 30 积分' in page.get('/m/shop/mine').get_data(as_text=True)
    again = page.post(f'/m/shop/items/{bath.id}/redeem', data=form, follow_redirects=True)  # a double tap
    assert again.status_code == 409 and '该兑换已完成，请勿重复提交' in again.get_data(as_text=True)
    assert _balance('vol_zhang') == 30
    assert _shop_rows()['shop_redemption'] == before['shop_redemption'] + 1
    assert item(BATH).stock == stock - 1


def test_confirmation_says_why_not_and_offers_no_confirm_button(login):
    award('vol_zhang', 20)
    award('vol_li', 60)
    zhang, li = login('vol_zhang'), login('vol_li')
    before = _shop_rows()

    doc = _doc(zhang.get(f'/m/shop/items/{item(BATH).id}/redeem'))       # 30 needed, 20 available
    assert _text(doc.xpath('//*[@role="note"]')[0]) == '可用积分不足：可用 20 分，需要 30 分'
    assert doc.xpath(CONFIRM_FORM) == [] and _quote(doc)['兑换后剩余'] == '—'

    doc = _doc(li.get(f'/m/shop/items/{item(BATH).id}/redeem'))          # under 60
    assert '须年满 60 周岁' in _text(doc.xpath('//*[@role="note"]')[0])
    assert doc.xpath(CONFIRM_FORM) == []
    assert doc.xpath('//a[normalize-space()="赠予直系亲属"]/@href') == [f'/m/shop/items/{item(BATH).id}/gift']

    set_stock(CLEAN, 0)
    doc = _doc(zhang.get(f'/m/shop/items/{item(CLEAN).id}/redeem'))
    assert '库存不足' in _text(doc.xpath('//*[@role="note"]')[0]) and doc.xpath(CONFIRM_FORM) == []
    assert zhang.get(f'/m/shop/items/{item(PENDING_LIWAN).id}/redeem').status_code == 404
    assert _shop_rows() == before


def test_confirmed_redemption_refused_meanwhile_stays_on_the_confirmation(login):
    award('vol_zhang', 40)
    page = login('vol_zhang')
    before = _shop_rows()
    doc = _doc(page.get(f'/m/shop/items/{item(BATH).id}/redeem'))
    form = {i.get('name'): i.get('value') for i in doc.xpath(f'{CONFIRM_FORM}//input')}
    set_stock(BATH, 0)                                      # the last unit went while the page was open
    resp = page.post(f'/m/shop/items/{item(BATH).id}/redeem', data=form)
    assert resp.status_code == 422
    doc = _doc(resp)
    assert [_text(n) for n in doc.xpath('//*[@role="note" or @role="alert"]')] == [f'“{BATH}”库存不足，暂时无法兑换']
    assert _balance('vol_zhang') == 40 and _shop_rows() == before
    # a forged token is said too, and the page offers a fresh one
    resp = page.post(f'/m/shop/items/{item(CLEAN).id}/redeem', data={'confirm': '1', 'request_token': 'x'})
    doc = _doc(resp)
    assert resp.status_code == 422 and '提交编号无效' in _text(doc.xpath('//*[@role="alert"]')[0])
    assert doc.xpath(f'{CONFIRM_FORM}//input[@name="request_token"]/@value')[0] != 'x'
    assert _shop_rows() == before
