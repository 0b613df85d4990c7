"""The district bureau's 兑换资源审核 list as a review list (walk_roles problem 8, SPEC §2 and §2.3): search and a
栏目 filter with the tab counts following them, paging, who registered each resource, who decided the decided ones
and when, and 批量通过 / 批量不通过 (a rejection needs a reason; each item's result is shown; each decision is audited
as a single one). Another district's resources stay invisible: a forged id is a 404, in a batch too."""
import json
import re

from lxml import html as lxml_html
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from app.services import shop
from tests.web.shop_helpers import BATH, district_bureau, item, user
from tests.web.test_back_after_post import _history_address

PENDING_LIWAN = '康复理疗体验（1 次）'
PHONE_COURSE = '老年智能手机课程'
PENDING_YUEXIU = '越秀区长者体检套餐'
LIST = '//table[@class="list"]'
WHEN = re.compile(r'\d{4}-\d{2}-\d{2} \d{2}:\d{2}')


def _doc(resp):
    return lxml_html.fromstring(resp.get_data(as_text=True))


def _text(el) -> str:
    return ' '.join(el.text_content().split())


def _names(doc) -> list[str]:
    """The resources the list shows, in order (each row's name, without its description)."""
    return [(td.text or '').strip() for td in doc.xpath(f'{LIST}/tbody/tr[not(@class="empty")]/td[@class="title-cell"]')]


def _row(doc, name):
    [row] = [tr for tr in doc.xpath(f'{LIST}/tbody/tr') if (tr.xpath('./td[@class="title-cell"]')[0].text or '').strip() == name]
    return row


def _counts(doc) -> dict[str, int]:
    return {(a.text or '').strip(): int(a.xpath('./span[@class="count"]')[0].text) for a in doc.xpath('//nav[@class="tabs"]/a')}


def _summary(doc) -> list[str]:
    return [_text(li) for li in doc.xpath('//*[@id="error-summary"]//li')]


def _register(names, section='other', provider='西村街社工站'):
    bureau = user('district_liwan')
    for name in names:
        shop.create_item(bureau, {'name': name, 'section': section, 'point_type': 'elderly_time', 'price': '5',
                                  'stock': '10', 'district': 'liwan', 'provider_name': provider, 'description': ''})
    db.session.remove()


def _audits(action_like='shop_item.%'):
    db.session.expire_all()
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action.like(action_like)).order_by(AuditLog.id)))


def _status(name):
    db.session.expire_all()
    return item(name).status


# ---------------------------------------------------------------- search, 栏目, counts

def test_search_finds_by_name_or_provider_and_the_tab_counts_follow_it(login):
    _register(['长者理发券'], provider='逢源街长者饭堂')
    page = login('district_liwan')
    doc = _doc(page.get('/shop/review'))
    assert set(_names(doc)) == {'长者理发券', PENDING_LIWAN, PHONE_COURSE}
    assert doc.xpath('//form[@role="search"]//input[@name="q"]'), 'the list has a search box'

    doc = _doc(page.get('/shop/review?q=饭堂'))  # the provider's name
    assert _names(doc) == ['长者理发券']
    assert doc.xpath('//input[@name="q"]/@value') == ['饭堂']
    assert _counts(doc) == {'未审核': 1, '已通过': 1, '未通过': 0}  # 长者饭堂餐券 (approved) is the other
    # the tabs keep the search
    assert '/shop/review?status=approved&q=' in doc.xpath('//nav[@class="tabs"]/a[2]/@href')[0]
    assert _names(_doc(page.get('/shop/review?q=理发'))) == ['长者理发券']  # a part of the name

    # nothing pending matches: the list says where the matches are
    doc = _doc(page.get('/shop/review?q=助浴'))
    assert _names(doc) == []
    [elsewhere] = doc.xpath('//a[@class="elsewhere"]')
    assert _text(elsewhere) == '到“已通过”查看 1 条' and 'status=approved' in elsewhere.get('href')


def test_section_filter_and_an_unknown_section(login):
    page = login('district_liwan')
    doc = _doc(page.get('/shop/review?status=approved&kind=goods'))
    assert _names(doc) == ['长者爱心米油礼包']
    assert doc.xpath('//select[@id="f-kind"]/option[@selected]/@value') == ['goods']
    resp = page.get('/shop/review?kind=nonsense')
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _text(doc.xpath('//*[@id="filter-errors"]')[0]) == '栏目无效，请从列表中选择'
    assert _names(doc) == []


# ---------------------------------------------------------------- paging

def test_the_list_is_paged_and_the_pages_keep_the_filter(login):
    _register([f'长者理发券{n:02d}' for n in range(21)])
    page = login('district_liwan')
    doc = _doc(page.get('/shop/review'))
    assert len(_names(doc)) == 20 and _counts(doc)['未审核'] == 23
    assert _text(doc.xpath('//p[@class="list-total"]')[0]) == '共 23 项兑换资源'
    [pager] = doc.xpath('//nav[@class="pager"]')
    assert '第 1 / 2 页，共 23 条' in _text(pager)
    [nxt] = pager.xpath('.//a[contains(., "下一页")]/@href')
    assert nxt == '/shop/review?page=2'
    second = _names(_doc(page.get(nxt)))
    assert len(second) == 3 and not set(second) & set(_names(doc))

    # with a search, the next page keeps it
    doc = _doc(page.get('/shop/review?q=理发券'))
    assert _counts(doc)['未审核'] == 21
    [nxt] = doc.xpath('//nav[@class="pager"]//a[contains(., "下一页")]/@href')
    assert 'q=' in nxt and 'page=2' in nxt and len(_names(_doc(page.get(nxt)))) == 1

    # past the end: said, with a way back
    doc = _doc(page.get('/shop/review?page=7'))
    assert '第 7 页已超出列表末尾（共 2 页）' in _text(doc.xpath('//tr[@class="empty"]')[0])
    assert doc.xpath('//tr[@class="empty"]//a/@href') == ['/shop/review?status=pending&page=2']


# ---------------------------------------------------------------- who registered, who decided and when

def test_rows_say_who_registered_and_decided_rows_who_decided_and_when(login):
    _register(['长者理发券'])
    page = login('district_liwan')
    row = _row(_doc(page.get('/shop/review')), '长者理发券')
    registrar = _text(row.xpath('./td[@data-label="登记人"]')[0])
    assert registrar.startswith('荔湾区民政局（本人）') and WHEN.search(registrar)

    assert page.post(f'/shop/review/{item("长者理发券").id}',
                     data={'decision': 'reject', 'reason': '请补充提供单位资质'}).status_code == 302
    assert page.post(f'/shop/review/{item(PHONE_COURSE).id}', data={'decision': 'approve'}).status_code == 302
    rejected = _row(_doc(page.get('/shop/review?status=rejected')), '长者理发券')
    cell = _text(rejected.xpath('./td[@data-label="审核"]')[0])
    assert cell.startswith('未通过 审核人：荔湾区民政局') and WHEN.search(cell) and '意见：请补充提供单位资质' in cell
    approved = _doc(page.get('/shop/review?status=approved'))
    assert _names(approved)[0] == PHONE_COURSE  # the latest decision first
    cell = _text(_row(approved, PHONE_COURSE).xpath('./td[@data-label="审核"]')[0])
    assert cell.startswith('已上架 审核人：荔湾区民政局') and WHEN.search(cell)


# ---------------------------------------------------------------- batch decisions

def _pending_ids(*names):
    return [str(item(n).id) for n in names]


def test_batch_reject_needs_a_reason_and_keeps_the_ticks(login):
    _register(['长者理发券'])
    page = login('district_liwan')
    doc = _doc(page.get('/shop/review'))
    assert doc.xpath('//form[@id="batch-form"]//button[@value="approve"]') and \
        doc.xpath('//form[@id="batch-form"]//button[@value="reject"]')
    assert len(doc.xpath('//form[@id="batch-form"]//input[@name="task_ids"]')) == 3
    ids = _pending_ids(PENDING_LIWAN, '长者理发券')
    before = _audits()
    resp = page.post('/shop/review/batch', data={'task_ids': ids, 'decision': 'reject', 'reason': '  '})
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _summary(doc) == ['批量意见：批量不通过时必须填写意见']
    assert [_text(p).replace('错误：', '') for p in doc.xpath('//*[@id="field-batch-reason"]//p[@class="field-error"]')] \
        == ['批量不通过时必须填写意见']
    assert sorted(doc.xpath('//input[@name="task_ids"][@checked]/@value')) == sorted(ids)
    assert _history_address(resp) == '/shop/review?status=pending'  # Back/Forward open the list, not a resubmission
    assert _status(PENDING_LIWAN) == 'pending' and _status('长者理发券') == 'pending' and _audits() == before

    resp = page.post('/shop/review/batch', data={'decision': 'approve'})
    assert resp.status_code == 422 and _summary(_doc(resp)) == ['兑换资源：请先勾选要审核的兑换资源']


def test_batch_reject_decides_each_audits_each_and_shows_each_result(login):
    _register(['长者理发券'])
    page = login('district_liwan')
    ids = _pending_ids(PENDING_LIWAN, '长者理发券')
    resp = page.post('/shop/review/batch', data={'task_ids': ids, 'decision': 'reject', 'reason': '资料不全',
                                                  'list_q': '', 'list_status': 'pending'})
    assert resp.status_code == 302 and resp.headers['Location'] == '/shop/review?batch=1&status=pending'
    assert _status(PENDING_LIWAN) == 'rejected' and _status('长者理发券') == 'rejected'
    assert item(PENDING_LIWAN).review_reason == '资料不全' and item('长者理发券').reviewed_by_id == user('district_liwan').id
    audits = _audits('shop_item.reject')
    assert [a.target for a in audits] == [f'shop_item:{i}' for i in ids]
    for a in audits:  # as a single decision is audited: who, the reason and the data decided on
        detail = json.loads(a.detail_json)
        assert a.actor_id == user('district_liwan').id and detail['reason'] == '资料不全'
        assert detail['item']['status'] == 'rejected' and detail['batch'] is True

    doc = _doc(page.get(resp.headers['Location']))
    [results] = doc.xpath('//section[contains(@class, "batch-results")]')
    assert '批量不通过：成功 2 条，失败 0 条' in _text(results)
    rows = [[_text(td) for td in tr.xpath('./td')] for tr in results.xpath('.//tbody/tr')]
    assert rows == [[PENDING_LIWAN, '✔ 成功', '未通过'], ['长者理发券', '✔ 成功', '未通过']]
    assert PENDING_LIWAN not in _names(doc) and PHONE_COURSE in _names(doc)
    # a reload shows the result again and decides nothing more
    again = _doc(page.get(resp.headers['Location']))
    assert again.xpath('//section[contains(@class, "batch-results")]') and len(_audits()) == 3  # 1 create + 2
    assert not _doc(page.get('/shop/review')).xpath('//section[contains(@class, "batch-results")]')


def test_batch_approve_reports_an_item_decided_meanwhile_and_decides_the_others(login):
    page = login('district_liwan')
    ids = _pending_ids(PENDING_LIWAN, PHONE_COURSE)
    # a colleague (another tab) rejected one of them after this list was opened
    assert page.post(f'/shop/review/{ids[1]}', data={'decision': 'reject', 'reason': '课程内容不完整'}).status_code == 302
    resp = page.post('/shop/review/batch', data={'task_ids': ids, 'decision': 'approve'})
    assert resp.status_code == 302
    assert _status(PENDING_LIWAN) == 'approved' and _status(PHONE_COURSE) == 'rejected'
    assert PENDING_LIWAN in {i.name for i in shop.on_sale()}
    doc = _doc(page.get(resp.headers['Location']))
    [results] = doc.xpath('//section[contains(@class, "batch-results")]')
    assert '批量通过：成功 1 条，失败 1 条' in _text(results)
    rows = [[_text(td) for td in tr.xpath('./td')] for tr in results.xpath('.//tbody/tr')]
    assert rows == [[PENDING_LIWAN, '✔ 成功', '已通过，已在积分商城上架'],
                    [PHONE_COURSE, '✘ 失败', '此前已审核（未通过），本次未处理']]
    assert [a.action for a in _audits()] == ['shop_item.reject', 'shop_item.approve']


def test_a_batch_with_another_districts_item_is_a_404_and_decides_nothing(login):
    page = login('district_liwan')
    mine, theirs = _pending_ids(PENDING_LIWAN)[0], str(item(PENDING_YUEXIU).id)
    for ids in ([mine, theirs], [theirs], [mine, '999999'], [mine, 'abc']):
        resp = page.post('/shop/review/batch', data={'task_ids': ids, 'decision': 'approve'})
        assert resp.status_code == 404, ids
        assert PENDING_YUEXIU not in resp.get_data(as_text=True)
    assert _status(PENDING_LIWAN) == 'pending' and _status(PENDING_YUEXIU) == 'pending' and _audits() == []
    assert login('vol_li').post('/shop/review/batch', data={'task_ids': [mine], 'decision': 'approve'}).status_code == 403
    assert login('gzva').post('/shop/review/batch', data={'task_ids': [mine], 'decision': 'approve'}).status_code == 403

    # 越秀's bureau: its own list and batch; liwan's resources are a 404 to it, and its search never finds them
    district_bureau('district_yuexiu', 'yuexiu')
    yuexiu = login('district_yuexiu')
    assert _names(_doc(yuexiu.get('/shop/review'))) == [PENDING_YUEXIU]
    found = set(_names(_doc(yuexiu.get('/shop/review?status=all&q=长者'))))
    assert found == {PENDING_YUEXIU, '北京街长者助餐（5 次）'}  # liwan's 长者… resources are not among them
    assert yuexiu.post('/shop/review/batch', data={'task_ids': [mine], 'decision': 'approve'}).status_code == 404
    resp = yuexiu.post('/shop/review/batch', data={'task_ids': [theirs], 'decision': 'approve'})
    assert resp.status_code == 302 and _status(PENDING_YUEXIU) == 'approved' and _status(PENDING_LIWAN) == 'pending'


# ---------------------------------------------------------------- the single decision and 登记 keep working

def test_a_single_decision_comes_back_to_the_same_list(login):
    _register([f'长者理发券{n:02d}' for n in range(21)])
    page = login('district_liwan')
    target = item('长者理发券00')  # the oldest: on page 2
    doc = _doc(page.get('/shop/review?page=2&q=理发券'))
    form = doc.xpath(f'//form[@id="decide-{target.id}"]')[0]
    kept = {i.get('name'): i.get('value') for i in form.xpath('.//input[@type="hidden"]') if i.get('name') != 'csrf_token'}
    assert kept == {'list_status': 'pending', 'list_q': '理发券', 'list_page': '2'}
    # the row's controls belong to its own form, not to the batch form around the table
    assert {c.get('form') for c in _row(doc, '长者理发券00').xpath('.//*[@name="decision" or @name="reason"]')} == \
        {f'decide-{target.id}'}

    resp = page.post(f'/shop/review/{target.id}', data={'decision': 'reject', **kept})
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _summary(doc) == ['长者理发券00：不通过时必须填写原因']
    address = _history_address(resp)  # Back/Forward onto this page open the same list
    assert address.startswith('/shop/review?status=pending') and 'q=' in address and 'page=2' in address
    # sent without the list (an older page): the refused row is still shown with its message, above page 1
    doc = _doc(page.post(f'/shop/review/{target.id}', data={'decision': 'reject'}))
    assert _names(doc)[0] == '长者理发券00' and len(_names(doc)) == 21
    assert doc.xpath(f'//*[@id="field-reason-{target.id}"]//p[@class="field-error"]')
    resp = page.post(f'/shop/review/{target.id}', data={'decision': 'approve', **kept})
    assert resp.status_code == 302 and 'page=2' in resp.headers['Location'] and 'q=' in resp.headers['Location']
    assert _status('长者理发券00') == 'approved'


def test_registering_a_resource_still_works_and_still_refuses_bad_input(login):
    page = login('district_liwan')
    resp = page.post('/shop/items', data={'name': '长', 'section': 'other', 'point_type': 'elderly_time',
                                          'price': '5', 'stock': '10', 'district': 'liwan'})
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _summary(doc) == ['名称：名称 2–80 个字'] and doc.xpath('//details[@id="new-item"]/@open') == ['']
    assert doc.xpath('//form[@action="/shop/items"]//input[@name="price"]/@value') == ['5']
    resp = page.post('/shop/items', data={'name': '长者理发券', 'section': 'other', 'point_type': 'elderly_time',
                                          'price': '5', 'stock': '10', 'district': 'liwan'}, follow_redirects=True)
    assert '已登记，待区民政局审核后上架' in resp.get_data(as_text=True)
    assert '长者理发券' in _names(_doc(resp))


# ---------------------------------------------------------------- the API's list searches as the page does

def test_api_review_list_takes_the_same_search_and_section(api):
    _register(['长者理发券'], provider='逢源街长者饭堂')
    bureau = api('district_liwan')
    assert {i['name'] for i in bureau.get('/shop/review?q=饭堂').get_json()} == {'长者理发券'}
    assert {i['name'] for i in bureau.get('/shop/review?status=approved&section=goods').get_json()} == {'长者爱心米油礼包'}
    resp = bureau.get('/shop/review?section=nonsense')
    assert resp.status_code == 422 and resp.get_json()['errors']['section'] == ['栏目无效，请从列表中选择']
    assert api('vol_li').get('/shop/review?section=nonsense').status_code == 403
    assert BATH in {i['name'] for i in bureau.get('/shop/review?status=approved').get_json()}
