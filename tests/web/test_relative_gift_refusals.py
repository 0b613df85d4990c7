"""Every bad gift request of issue 4, one at a time, through the API and the phone page: each gets its
own clear message (Chinese, English when asked) and leaves no trace: no case, task, request, hold,
ledger entry, reserved unit or message, and the volunteer's points do not move."""
import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import (
    Decision,
    GiftRequest,
    HumanTask,
    LedgerEntry,
    LedgerHold,
    Message,
    ShopItem,
    WorkflowInstance,
)
from app.services import shop, transaction
from app.services.validators import age_on
from tests.web.shop_helpers import (
    BATH,
    PARENT_ID,
    SPOUSE_ID,
    YOUNG_ID,
    award,
    born_on,
    item,
    points,
    start_gift,
    started_gift,
    user,
    years_ago,
)
from tests.web.test_relative_gift import _page_values, _png

TRACES = (WorkflowInstance, HumanTask, Decision, GiftRequest, LedgerHold, LedgerEntry, Message)


def traces() -> dict:
    """Row counts of everything a gift request writes, plus the units reserved for reviews."""
    db.session.expire_all()
    counts = {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in TRACES}
    counts['reserved'] = db.session.scalar(select(func.sum(ShopItem.reserved)))
    return counts


def _bad_checksum(id_number):
    return id_number[:-1] + ('0' if id_number[-1] != '0' else '1')


def _no_stock():
    with transaction():
        db.session.execute(update(ShopItem).where(ShopItem.id == item(BATH).id).values(stock=ShopItem.reserved))
    db.session.remove()


# (case, setup before the snapshot, overrides, status, field, exact message)
CASES = [
    ('relative under 60', None, {'relative_id_number': YOUNG_ID}, 422, 'relative_id_number',
     '受赠亲属须年满 60 周岁（按身份证号码计算，目前 {young} 岁）'),
    ('invalid check digit', None, {'relative_id_number': _bad_checksum(PARENT_ID)}, 422, 'relative_id_number',
     '身份证号码无效：应为 18 位，出生日期真实，最后一位校验码正确'),
    ('impossible birth date', None, {'relative_id_number': '440104195002301234'}, 422, 'relative_id_number',
     '身份证号码无效：应为 18 位，出生日期真实，最后一位校验码正确'),
    ("the volunteer's own ID", 'own_id', {}, 422, 'relative_id_number',
     '不能填写您本人的身份证号码，请填写受赠亲属的身份证号码'),
    ('no proof file', None, {'kinship_files': []}, 422, 'kinship_files', '此项为必填项'),
    ('more than the balance', 'poor', {}, 422, 'points', '可用积分不足：可用 20 分，需要 30 分'),
    ('more than balance minus holds', 'held', {}, 422, 'points', '可用积分不足：可用 10 分，需要 30 分'),
    ('out of stock', 'no_stock', {}, 422, 'item_id', f'“{BATH}”库存不足，暂时无法兑换'),
]


def _setup(kind, api):
    """The volunteer's client after the case's preparation (done before the snapshot)."""
    if kind == 'own_id':
        award('vol_zhang', 60)
        return api('vol_zhang'), {'relative_id_number': user('vol_zhang').id_number.lower()}
    award('vol_li', {'poor': 20, 'held': 40}.get(kind, 60))
    client = api('vol_li')
    if kind == 'held':  # balance 40 would pay 30, but 30 of it is held for another request
        started_gift(client, BATH, relative_name='王阿婆', relation='spouse', relative_id_number=SPOUSE_ID)
        assert points(client) == (40, 30, 10)
    if kind == 'no_stock':
        _no_stock()
    return client, {}


def _message(template):
    return template.format(young=age_on(YOUNG_ID, shop.today()))


@pytest.mark.parametrize('case,kind,overrides,status,field,message', CASES, ids=[c[0] for c in CASES])
def test_api_refuses_with_the_exact_message_and_stores_nothing(api, case, kind, overrides, status, field, message):
    client, extra = _setup(kind, api)
    before, money = traces(), points(client)
    resp = start_gift(client, **{**overrides, **extra})
    assert resp.status_code == status, resp.get_json()
    assert resp.get_json()['errors'][field] == [_message(message)], resp.get_json()
    assert traces() == before
    assert points(client) == money


def test_a_double_tap_is_told_and_stores_nothing_more(api):
    award('vol_li', 60)
    li = api('vol_li')
    assert start_gift(li, request_token='tap-refusal-01').status_code == 201
    before, money = traces(), points(li)
    again = start_gift(li, request_token='tap-refusal-01')
    assert again.status_code == 409
    assert again.get_json()['message'].startswith('该申请已提交（申请编号 ')
    assert again.get_json()['message'].endswith('），请勿重复提交')
    assert traces() == before and points(li) == money == (60, 30, 30)


def test_refusals_in_english_when_the_client_asks(api):
    award('vol_li', 60)
    li = api('vol_li', lang='en')
    before = traces()
    resp = start_gift(li, relative_id_number=YOUNG_ID)
    assert resp.status_code == 422
    assert resp.get_json()['errors']['relative_id_number'][0].startswith('The relative must be 60 or older')
    _no_stock()
    resp = start_gift(li)
    assert resp.get_json()['errors']['item_id'] == [f'"{BATH}" is out of stock and cannot be redeemed for now']
    assert traces() == before


# ---- the relative is 60 "on the day": counted from the ID number in Beijing time -------------------

def test_relative_turning_60_today_is_accepted_and_tomorrow_is_not(api):
    award('vol_li', 60)
    li = api('vol_li')
    before = traces()
    resp = start_gift(li, relative_id_number=born_on(years_ago(60, plus_days=1)))
    assert resp.status_code == 422
    assert resp.get_json()['errors']['relative_id_number'] == ['受赠亲属须年满 60 周岁（按身份证号码计算，目前 59 岁）']
    assert traces() == before
    assert start_gift(li, relative_id_number=born_on(years_ago(60))).status_code == 201


# ---- the phone page: the same refusals on screen, with what was typed kept --------------------------

PAGE_CASES = [
    ('relative under 60', None, {'relative_id_number': YOUNG_ID}, '受赠亲属须年满 60 周岁'),
    ('invalid ID', None, {'relative_id_number': _bad_checksum(PARENT_ID)}, '身份证号码无效'),
    ("the volunteer's own ID", 'own_id', {}, '不能填写您本人的身份证号码'),
    ('no proof file', 'no_file', {}, '亲属关系证明：此项为必填项'),
    ('more than available', 'poor', {}, '可用积分不足：可用 20 分，需要 30 分'),
    ('out of stock', 'no_stock', {}, '库存不足，暂时无法兑换'),
]


@pytest.mark.parametrize('case,kind,overrides,words', PAGE_CASES, ids=[c[0] for c in PAGE_CASES])
def test_phone_page_shows_each_refusal_keeps_the_input_and_stores_nothing(login, case, kind, overrides, words):
    username = 'vol_zhang' if kind == 'own_id' else 'vol_li'
    award(username, 20 if kind == 'poor' else 60)
    if kind == 'no_stock':
        _no_stock()
    if kind == 'own_id':
        overrides = {'relative_id_number': user('vol_zhang').id_number}
    page = login(username)
    bath = item(BATH).id
    values = _page_values('page-refusal-0001', relative_name='陈阿伯', **overrides)
    if kind != 'no_file':
        values['kinship_files_new'] = _png()
    before = traces()
    resp = page.post(f'/m/shop/items/{bath}/gift', data=values, content_type='multipart/form-data')
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'error-summary' in html and words in html
    assert 'value="陈阿伯"' in html and f'value="{values["relative_id_number"]}"' in html
    assert traces() == before


def test_the_volunteers_own_identity_cannot_be_sent_in_the_request(api):
    award('vol_li', 60)
    li, gzva = api('vol_li'), api('gzva')
    inst = started_gift(li, volunteer_name='冒名顶替', volunteer_id_number=PARENT_ID)
    task = next(t for t in gzva.get('/tasks?state=open&process=relative_gift').get_json()['items']
                if t['instance_id'] == inst['id'])
    data = gzva.get(f'/tasks/{task["id"]}').get_json()['data']
    assert (data['volunteer_name'], data['volunteer_id_number']) == ('李晓敏', user('vol_li').id_number)
