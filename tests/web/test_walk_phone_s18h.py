"""Phone walk (items 7, 9, 11, 13): a person's name refuses emoji, digits and symbols (a minority name with “·” and a
Latin name are kept); order and activity titles refuse emoji but keep Chinese punctuation; the elder's 联系电话 takes a
landline; 处理方式 of 服务商派单 is marked and named as required; a cancelled order no longer lists its waiting
acceptor as 待审核."""
import re
from io import BytesIO

from lxml import html as lxml_html
from sqlalchemy import func, select

from app.extensions import db
from app.models import GiftRequest, ServiceObject, VOrder
from tests.helpers import png_bytes
from tests.web.conftest import open_task as task_of
from tests.web.conftest import page_form, submit
from tests.web.shop_helpers import BATH, PARENT_ID, award, item, start_gift
from tests.web.test_activity_flow import activity_data
from tests.web.test_provider_fixes import offered_order, open_bpmn_ids
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data

NAME_RULE = '姓名只能包含汉字、字母、空格和“·”'
TITLE_RULE = '标题不能包含表情符号或特殊字符'


def _doc(resp):
    return lxml_html.fromstring(resp.get_data(as_text=True))


def _field(doc, name) -> str:
    """The words of one form field's box (its label, input, hint and messages)."""
    [box] = doc.xpath(f'//*[@id="field-{name}"]')
    return ' '.join(box.text_content().split())


def _count(model, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# ---- 7. names ----------------------------------------------------------------------------------------------------

def test_the_gift_page_refuses_an_emoji_in_the_relatives_name_and_keeps_the_input(login):
    award('vol_zhang', 100)
    page = login('vol_zhang')
    values = {'relative_name': '李😀大山', 'relation': 'parent', 'relative_phone': '13800138000',
              'relative_id_number': PARENT_ID, 'request_token': 'gift-emoji-00001',
              'kinship_files_new': (BytesIO(png_bytes()), 'hukou.png')}
    resp = page.post(f'/m/shop/items/{item(BATH).id}/gift', data=values, content_type='multipart/form-data')
    assert resp.status_code == 422
    doc = _doc(resp)
    assert f'{NAME_RULE}，请删除“😀”' in _field(doc, 'relative_name')
    assert doc.xpath('//*[@id="f-relative_name"]/@value') == ['李😀大山']
    assert doc.xpath('//*[@id="f-relative_id_number"]/@value') == [PARENT_ID]
    assert _count(GiftRequest) == 0


def test_the_gift_api_names_the_emoji_and_takes_a_minority_name(api):
    award('vol_zhang', 100)
    zhang = api('vol_zhang')
    resp = start_gift(zhang, relative_name='李😀大山')
    assert resp.status_code == 422
    assert resp.get_json()['errors']['relative_name'] == [f'{NAME_RULE}，请删除“😀”']
    assert start_gift(zhang, relative_name='阿依古丽・买买提').status_code == 201
    assert db.session.scalar(select(GiftRequest.relative_name)) == '阿依古丽·买买提'


def test_the_service_object_page_refuses_an_emoji_name_at_the_field(login):
    page = login('vol_wang')
    resp = page.post('/m/service-objects/new', data=page_form(name='梁😀', filler_name='王小明2号'))
    assert resp.status_code == 422
    doc = _doc(resp)
    assert f'{NAME_RULE}，请删除“😀”' in _field(doc, 'name')
    assert f'{NAME_RULE}，请删除“2”' in _field(doc, 'filler_name')
    assert doc.xpath('//*[@id="f-name"]/@value') == ['梁😀']
    assert _count(ServiceObject) == 0


def test_names_with_a_middle_dot_or_latin_letters_are_kept(api):
    from tests.helpers import start_entry
    vol = api('vol_zhang')
    resp = start_entry(vol, name='买买提 • 艾力', filler_name='Ｍａｒｙ Ｗａｎｇ')
    assert resp.status_code == 201, resp.get_json()
    row = db.session.scalar(select(ServiceObject))
    assert row.name == '买买提·艾力' and '"filler_name": "Mary Wang"' in row.data_json
    resp = start_entry(vol, name='·艾力', id_number='11010519491231002X')
    assert resp.status_code == 422
    assert resp.get_json()['errors']['name'] == ['“·”和空格只能用在姓名的字与字之间，不能放在开头、结尾，也不能连用']


def test_a_returned_case_cannot_be_resubmitted_with_an_emoji_name(api, login):
    vol, station = api('vol_zhang'), api('station_xicun')
    inst = submit(vol, 3, name='黄伯')
    reject = station.post(f'/tasks/{task_of(station, inst)["id"]}/complete',
                          json={'decision': 'reject', 'reason': '证明材料不清晰'})
    assert reject.status_code == 200
    phone = login('vol_zhang')
    form = phone.get(f'/m/cases/{inst}/resubmit').get_data(as_text=True)
    kept = re.findall(r'name="proof_files" value="(\d+)" checked', form)
    data = {**page_form(name='黄伯😀'), 'proof_files': kept}
    data.pop('id_number')
    resp = phone.post(f'/m/cases/{inst}/resubmit', data=data, content_type='multipart/form-data')
    assert resp.status_code == 422
    doc = _doc(resp)
    assert f'{NAME_RULE}，请删除“😀”' in _field(doc, 'name')
    assert doc.xpath('//*[@id="f-name"]/@value') == ['黄伯😀']
    assert _count(ServiceObject, ServiceObject.instance_id == inst) == 1, 'nothing new was stored'


# ---- 7. titles ---------------------------------------------------------------------------------------------------

def test_an_order_title_refuses_emoji_and_keeps_chinese_punctuation(api):
    so = approved_object(api)
    zhang = api('vol_zhang')
    resp = zhang.post('/processes/v_order/instances', json={'data': order_data([so], title='陪周奶奶散步😀')})
    assert resp.status_code == 422
    assert resp.get_json()['errors']['title'] == [f'{TITLE_RULE}，请删除“😀”']
    title = '★陪周奶奶散步（周六）——“重阳”①'
    resp = zhang.post('/processes/v_order/instances', json={'data': order_data([so], title=title)})
    assert resp.status_code == 201, resp.get_json()
    assert db.session.scalar(select(VOrder.title)) == title


def test_the_order_form_page_says_it_at_the_title(login, api):
    so = approved_object(api)
    page = login('vol_zhang')
    data = {**order_data([so], title='陪周奶奶散步😀'), 'location': ''}
    resp = page.post('/m/orders/new', data={k: v for k, v in data.items() if k != 'service_object_ids'})
    assert resp.status_code == 422
    doc = _doc(resp)
    assert f'{TITLE_RULE}，请删除“😀”' in _field(doc, 'title')
    assert doc.xpath('//*[@id="f-title"]/@value') == ['陪周奶奶散步😀']


def test_an_activity_title_refuses_emoji_and_control_characters(api):
    team = api('team_a')
    resp = team.post('/processes/activity_publish/instances', json={'data': activity_data(title='老兵茶话会😀')})
    assert resp.status_code == 422
    assert resp.get_json()['errors']['title'] == [f'{TITLE_RULE}，请删除“😀”']
    resp = team.post('/processes/activity_publish/instances', json={'data': activity_data(title='老兵\u202e茶话会')})
    assert resp.get_json()['errors']['title'] == [f'{TITLE_RULE}（其中有看不见的控制字符，请重新输入标题）']
    resp = team.post('/processes/activity_publish/instances', json={'data': activity_data(title='《老兵茶话会》：第 2 期')})
    assert resp.status_code == 201, resp.get_json()


# ---- 9. the elder's phone may be a landline ----------------------------------------------------------------------

def test_the_elders_phone_takes_a_landline_and_says_so(login):
    page = login('vol_wang')
    form = _doc(page.get('/m/service-objects/new'))
    assert '手机号码，或带区号的固定电话（如 020-81234567）' in _field(form, 'phone')
    resp = page.post('/m/service-objects/new', data={**page_form(phone='020-81234567'),
                                                     'proof_files_new': (BytesIO(png_bytes()), 'proof.png')},
                     content_type='multipart/form-data')
    assert resp.status_code == 302, _field(_doc(resp), 'phone')
    assert db.session.scalar(select(ServiceObject.phone)) == '020-81234567'


# ---- 11. 服务商派单: 处理方式 is required, and the page says so -------------------------------------------------

def test_the_dispatch_page_marks_the_action_required_and_names_it_when_empty(api, login):
    inst, _order_id = offered_order(api)
    task = open_task(api('provider_a'), inst['id'])
    page = login('provider_a')
    doc = _doc(page.get(f'/inbox/tasks/{task["id"]}'))
    [action_label] = doc.xpath('//*[@id="lbl-provider_action"]')
    assert '选填' not in action_label.text_content() and action_label.xpath('.//span[@class="req"]')
    resp = page.post(f'/inbox/tasks/{task["id"]}/decide', data={})
    assert resp.status_code == 422
    words = ' '.join(_doc(resp).text_content().split())
    assert '处理方式：此项为必填项' in words
    assert '此项为必填项' in _field(_doc(resp), 'provider_action')
    assert open_bpmn_ids(inst['id']) == ['provider_dispatch']


# ---- 13. a cancelled order's waiting acceptor ----------------------------------------------------------------------

def test_a_cancelled_order_no_longer_lists_its_waiting_acceptor_as_under_review(api, login):
    so = approved_object(api)
    zhang, station, li = api('vol_zhang'), api('station_xicun'), api('vol_li')
    inst = zhang.post('/processes/v_order/instances', json={'data': order_data([so], title='帮吴伯代买药品')}).get_json()
    inst = inst['instance']
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    complete(li, open_task(li, inst['id'], '志愿者接单'), data={'note': ''})
    order_id = int(inst['business_key'].split(':')[1])
    before = login('vol_zhang').get(f'/orders/{order_id}').get_data(as_text=True)
    assert '李晓敏（待社工站审核）' in before
    assert zhang.post(f'/orders/{order_id}/cancel', json={'reason': '家属已自行买药'}).status_code == 200

    page = login('vol_zhang').get(f'/orders/{order_id}').get_data(as_text=True)
    assert '李晓敏（已取消，订单已取消）' in page and '待社工站审核' not in page and '（待审核）' not in page
    mine = login('vol_li').get('/m/orders').get_data(as_text=True)
    assert '我的接单：已取消，订单已取消' in mine and '待社工站审核' not in mine
    case = login('station_xicun').get(f'/cases/{inst["id"]}').get_data(as_text=True)
    assert '李晓敏（已取消，订单已取消）' in case and '待社工站审核' not in case
