"""Walk 13-2 fixes: a gift's refusals come in one round and a shortfall is told before the form; the 公益池's history,
its allocation message and its own shortfall words; the 所属区 select; a points page past the end; English
punctuation and process names; masked ID numbers on the volunteer's own gift case; 重新申请 after a rejection."""
from lxml import html as lxml_html
from sqlalchemy import select

from app.extensions import db
from app.models import Message
from app.services import shop
from app.services.validators import age_on, mask_id
from tests.helpers import upload_png
from tests.web.shop_helpers import BATH, PARENT_ID, YOUNG_ID, award, item, review_task, start_gift, started_gift, user
from tests.web.test_relative_gift import _page_values, _png


def _doc(resp):
    return lxml_html.fromstring(resp.get_data(as_text=True))


def _card(html, name):
    [card] = [li for li in lxml_html.fromstring(html).xpath('//li[contains(@class, "shop-item")]')
              if name in li.text_content()]
    return card


# ---- 1. every refusal of a gift in one answer; a shortfall is said on the card --------------------------------

def test_api_names_the_relatives_age_with_the_other_field_errors(api):
    award('vol_li', 60)
    resp = start_gift(api('vol_li'), relation='uncle', relative_phone='123', relative_id_number=YOUNG_ID)
    assert resp.status_code == 422
    errors = resp.get_json()['errors']
    assert set(errors) == {'relation', 'relative_phone', 'relative_id_number'}
    young = age_on(YOUNG_ID, shop.today())
    assert errors['relative_id_number'] == [f'受赠亲属须年满 60 周岁（按身份证号码计算，目前 {young} 岁）']


def test_api_names_own_id_and_shortfall_with_the_other_field_errors(api):
    award('vol_zhang', 10)  # the bath costs 30
    zhang = api('vol_zhang')
    resp = start_gift(zhang, relative_phone='123', relative_id_number=user('vol_zhang').id_number)
    errors = resp.get_json()['errors']
    assert resp.status_code == 422 and set(errors) == {'relative_phone', 'relative_id_number', 'points'}
    assert errors['relative_id_number'] == ['不能填写您本人的身份证号码，请填写受赠亲属的身份证号码']
    assert errors['points'] == ['可用积分不足：可用 10 分，需要 30 分']
    # all fields valid but the relative and the points: both at once too (from the submit step itself)
    resp = start_gift(zhang, relative_id_number=YOUNG_ID)
    assert resp.status_code == 422 and set(resp.get_json()['errors']) == {'relative_id_number', 'points'}
    resp = start_gift(zhang)  # the shortfall alone
    assert resp.status_code == 422 and resp.get_json()['errors'] == {'points': ['可用积分不足：可用 10 分，需要 30 分']}


def test_phone_page_shows_age_and_shortfall_with_the_field_errors_and_keeps_the_input(login):
    award('vol_li', 10)
    page = login('vol_li')
    values = {**_page_values('gift-fixes-0001', relative_name='陈阿伯', relative_phone='123',
                             relative_id_number=YOUNG_ID), 'kinship_files_new': _png()}
    resp = page.post(f'/m/shop/items/{item(BATH).id}/gift', data=values, content_type='multipart/form-data')
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    summary = ' '.join(_doc(resp).xpath('//*[@id="error-summary"]//li//text()'))
    assert '手机号码应为 11 位数字' in summary and '受赠亲属须年满 60 周岁' in summary
    assert '可用积分不足：可用 10 分，需要 30 分' in summary
    assert 'value="陈阿伯"' in html and f'value="{YOUNG_ID}"' in html and 'value="123"' in html


def test_shop_card_disables_the_gift_when_points_are_short(login):
    award('vol_li', 10)
    card = _card(login('vol_li').get('/m/shop?section=elderly_care').get_data(as_text=True), BATH)
    assert not card.xpath('.//a[contains(@href, "/gift")]')
    [button] = card.xpath('.//button[@disabled]')
    assert button.text_content().strip() == '赠予直系亲属'
    [why] = card.xpath(f'.//*[@id="{button.get("aria-describedby")}"]')
    assert why.text_content().strip() == '可用积分不足：可用 10 分，需要 30 分'
    form = _doc(login('vol_li').get(f'/m/shop/items/{item(BATH).id}/gift'))  # reached by its address
    assert form.xpath('//*[contains(@class, "gift-short")]/text()') == ['可用积分不足：可用 10 分，需要 30 分']
    award('vol_li', 20, key='test:more')
    card = _card(login('vol_li').get('/m/shop?section=elderly_care').get_data(as_text=True), BATH)
    assert card.xpath('.//a[contains(@href, "/gift")]') and not card.xpath('.//button[@disabled]')


# ---- 2. the 公益池: history, the volunteer's message, the pool's own shortfall, true donor text ----------------

def test_pool_history_message_and_shortfall(api, login):
    award('vol_zhang', 50)
    zhang = api('vol_zhang')
    assert zhang.post('/shop/donations', json={'target': 'pool', 'amount': 20, 'point_type': 'elderly_time',
                                                'request_token': 'pool-fix-don-1'}).status_code == 201
    page = login('gzva')
    form = {'username': 'vol_wang', 'amount': '8', 'reason': '生活困难补助', 'request_token': 'pool-fix-al-01'}
    assert page.post('/shop/pool/allocate', data=form).status_code == 302
    assert page.post('/shop/pool/allocate', data=form).status_code == 302  # a double click: one message
    doc = _doc(page.get('/shop/pool'))
    rows = [' '.join(r.text_content().split()) for r in doc.xpath('//section[contains(@class, "pool-history")]//tbody/tr')]
    assert len(rows) == 2
    assert '已分配给志愿者' in rows[0] and 'vol_wang' in rows[0] and '-8' in rows[0] and '生活困难补助' in rows[0]
    assert '广州市志愿者协会' in rows[0]
    assert '志愿者捐入' in rows[1] and '张建国' in rows[1] and '+20' in rows[1]
    db.session.expire_all()
    msgs = list(db.session.scalars(select(Message).where(Message.user_id == user('vol_wang').id)))
    assert [(m.title, m.body, m.link) for m in msgs] == [
        ('广志协从公益池分配给您 8 养老时间积分', '分配原因：生活困难补助', '/m/points')]

    resp = page.post('/shop/pool/allocate', data={**form, 'amount': '999', 'request_token': 'pool-fix-al-02'})
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    assert '公益池余额不足：余额 12 分，本次要分配 999 分，请减少分配的积分' in text and '可用积分不足' not in text

    charity = login('vol_zhang').get('/m/shop?section=charity').get_data(as_text=True)
    assert '分配给有需要的志愿者。' in charity and '志愿者和项目' not in charity


# ---- 3. the 所属区 select; 广志协 does not register resources (SPEC §2.3) ------------------------------------

def test_district_select_lists_own_district_and_gzva_does_not_register(api, login):
    doc = _doc(login('district_liwan').get('/shop/review'))
    assert doc.xpath('//select[@id="f-district"]/option/@value') == ['liwan']
    assert api('gzva').post('/shop/items', json={'name': '长者理发券', 'section': 'other', 'price': 5, 'stock': 1,
                                                 'district': 'liwan'}).status_code == 403
    assert login('gzva').get('/shop/review').status_code == 403


# ---- 4. a points page past the last one -------------------------------------------------------------------

def test_points_page_past_the_end_says_so_and_links_the_last_page(login):
    for n in range(21):
        award('vol_li', 1, 'service', key=f'test:page:{n}')
    resp = login('vol_li').get('/m/points?type=service&page=99')
    doc = _doc(resp)
    [empty] = doc.xpath('//ul[contains(@class, "ledger-entries")]/li')
    text = ' '.join(empty.text_content().split())
    assert '还没有积分记录' not in text and '第 99 页没有记录：积分记录共 21 条，只有 2 页。' in text
    assert empty.xpath('.//a/@href') == ['/m/points?type=service&page=2']
    first = _doc(login('vol_wang').get('/m/points?type=service'))
    assert '还没有积分记录' in first.xpath('//ul[contains(@class, "ledger-entries")]/li')[0].text_content()


# ---- 5-7. English punctuation and names; masked IDs on the own case; 重新申请 ----------------------------------

def test_english_colons_and_process_name(api, login):
    award('vol_li', 60)
    started_gift(api('vol_li'))
    page = login('vol_li')

    def text(url):
        return ' '.join(_doc(page.get(url)).text_content().split())
    mine = text('/m/shop/mine?lang=en')
    assert 'Recipient: 李大爷' in mine and 'Recipient：' not in mine
    gift = text(f'/m/shop/items/{item(BATH).id}/gift?lang=en')
    assert 'Your available points: 30 (' in gift and '：' not in gift.split('Your available points')[1][:40]
    cases = text('/m/cases?lang=en')
    assert '赠予直系亲属兑换审核' not in cases and 'Gift to a relative: redemption review' in cases


def test_own_gift_case_masks_id_numbers_and_the_reviewer_sees_them(api, login):
    award('vol_li', 60)
    inst = started_gift(api('vol_li'))
    own = login('vol_li').get(f'/m/cases/{inst["id"]}').get_data(as_text=True)
    li_id = user('vol_li').id_number
    assert li_id not in own and PARENT_ID not in own
    assert mask_id(li_id) in own and mask_id(PARENT_ID) in own
    task = review_task(api('gzva'), inst['id'])
    review = login('gzva').get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    assert li_id in review and PARENT_ID in review


def test_rejected_gift_offers_to_apply_again_with_the_relative_prefilled(api, login):
    award('vol_li', 60)
    li, gzva = api('vol_li'), api('gzva')
    inst = started_gift(li, relative_name='陈阿伯', relative_phone='13800138099')
    page = login('vol_li')
    assert '重新申请' not in page.get(f'/m/cases/{inst["id"]}').get_data(as_text=True)  # still pending
    task = review_task(gzva, inst['id'])
    assert gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject', 'reason': '照片看不清'}).status_code == 200
    doc = _doc(page.get(f'/m/cases/{inst["id"]}'))
    [again] = doc.xpath('//a[normalize-space()="重新申请"]/@href')
    form = _doc(page.get(again))
    assert form.xpath('//input[@name="relative_name"]/@value') == ['陈阿伯']
    assert form.xpath('//input[@name="relative_phone"]/@value') == ['13800138099']
    assert form.xpath('//input[@name="relative_id_number"]/@value') == [PARENT_ID]
    assert form.xpath('//input[@name="relation" and @checked]/@value') == ['parent']
    assert form.xpath('//input[@name="kinship_files"]')  # the earlier proof is kept (removable)
    # another volunteer cannot read these details through the link
    upload_png(api('vol_zhang'))
    other = _doc(login('vol_zhang').get(again))
    assert other.xpath('//input[@name="relative_name"]/@value') in ([], [''])
