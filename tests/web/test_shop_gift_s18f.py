"""Walk (phone) fixes 2-4 for gifts to relatives: the 解冻 ledger line names the recipient as 冻结 and 扣减 do;
重新申请 shows 广志协's reason and keeps the proof photos; a relation whose age gap is impossible is refused at the
relative's ID number with both ages."""
import json
from datetime import timedelta

import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from app.extensions import db
from app.models import GiftRequest, User
from app.services import timers, transaction
from app.services.demo import make_id
from tests.helpers import upload_png
from tests.web.shop_helpers import (
    BATH,
    award,
    born_on,
    item,
    move_clock,
    points,
    review_task,
    start_gift,
    started_gift,
    years_ago,
)


def _doc(resp):
    return lxml_html.fromstring(resp.get_data(as_text=True))


def _text(node) -> str:
    return ' '.join(node.text_content().split())


def _reject(gzva, instance_id, reason):
    task = review_task(gzva, instance_id)
    assert gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject', 'reason': reason}).status_code == 200


def _aged(years) -> str:
    """A checksum-valid ID number of someone `years` old today (born half a year before that birthday)."""
    return born_on(years_ago(years, plus_days=-180))


# ---- 2. the 解冻 line names the recipient ---------------------------------------------------------------------

def test_release_lines_name_the_recipient_of_each_gift(api, login):
    award('vol_li', 60)
    li, gzva = api('vol_li'), api('gzva')
    first = started_gift(li, relative_name='李大山')
    second = started_gift(li, relative_name='李小山', relative_id_number=_aged(70), relative_phone='13800138072')
    _reject(gzva, first['id'], '照片看不清')
    _reject(gzva, second['id'], '照片看不清')
    assert points(li) == (60, 0, 60)

    lines = [_text(li_) for li_ in _doc(login('vol_li').get('/m/points?type=elderly_time')).xpath('//main//li')]
    released = [line for line in lines if '解冻' in line and '未通过审核' in line]
    assert len(released) == 2
    assert any('（受赠人：李大山）' in line for line in released)
    assert any('（受赠人：李小山）' in line for line in released)
    reasons = [e['reason'] for e in li.get('/me/points').get_json()['entries'] if e['kind'] == 'void_hold']
    assert sorted(reasons) == sorted(f'赠予兑换「{BATH}」（受赠人：{n}）未通过审核，解冻积分' for n in ('李大山', '李小山'))


def test_an_expired_gift_release_line_names_the_recipient(api):
    award('vol_li', 60)
    li = api('vol_li')
    inst = started_gift(li, relative_name='李大山')
    move_clock(inst['id'], timedelta(days=30, minutes=1))
    assert timers.fire_due() == 1
    [void] = [e for e in li.get('/me/points').get_json()['entries'] if e['kind'] == 'void_hold']
    assert void['reason'] == f'赠予兑换「{BATH}」（受赠人：李大山）超过 30 天未审核，申请自动结束，冻结的积分已解冻'


# ---- 3. 重新申请 shows the reason and keeps the photos ------------------------------------------------------------

REASON = '亲属姓名含表情符号，请按户口本填写真实姓名后重新申请。'


def _again_address(page, instance_id) -> str:
    [again] = _doc(page.get(f'/m/cases/{instance_id}')).xpath('//a[normalize-space()="重新申请"]/@href')
    return again


def _form_fields(form) -> dict:
    """The fields a browser sends for the form as it stands (checked boxes and radios only)."""
    data = {}
    for i in form.xpath('.//input[@name]'):
        if i.get('type') in ('checkbox', 'radio') and i.get('checked') is None:
            continue
        if i.get('type') == 'file':
            continue
        data.setdefault(i.get('name'), []).append(i.get('value') or '')
    return data


def test_apply_again_shows_the_reason_and_keeps_the_proof_photos(api, login):
    award('vol_li', 60)
    li, gzva = api('vol_li'), api('gzva')
    photos = [upload_png(li, 'hukou.png'), upload_png(li, 'hukou2.png')]
    inst = started_gift(li, relative_name='李大山', kinship_files=photos)
    _reject(gzva, inst['id'], REASON)
    page = login('vol_li')
    address = _again_address(page, inst['id'])

    doc = _doc(page.get(address))
    [reason] = doc.xpath('//section[contains(@class, "resubmit-reason")]')
    assert REASON in _text(reason) and '的意见' in _text(reason)
    assert reason in doc.xpath('//form[@enctype="multipart/form-data"]')[0].xpath('preceding::*')  # above the form
    kept = doc.xpath('//input[@type="checkbox"][@name="kinship_files"][@checked]/@value')
    assert sorted(int(v) for v in kept) == sorted(photos)
    assert '已保留 2 张' in _text(doc.xpath('//*[contains(@class, "file-status")]')[0])
    assert doc.xpath('//input[@name="relative_name"]/@value') == ['李大山']
    for fid in photos:                                  # the thumbnails open
        assert page.get(f'/files/{fid}').status_code == 200

    # one photo taken off, the name corrected: the new request keeps the other photo
    [form] = doc.xpath('//form[@enctype="multipart/form-data"]')
    data = _form_fields(form)
    data['kinship_files'] = [str(photos[1])]
    data['relative_name'] = ['李大仙']
    resp = page.post(form.get('action'), data=data, content_type='multipart/form-data')
    assert resp.status_code == 302, _text(_doc(resp).xpath('//main')[0])
    db.session.expire_all()
    newest = db.session.scalar(select(GiftRequest).order_by(GiftRequest.id.desc()).limit(1))
    assert newest.instance_id != inst['id'] and newest.relative_name == '李大仙'
    assert json.loads(newest.kinship_files_json) == [photos[1]]
    # 广志协 sees the kept photo on the new case
    task = review_task(gzva, newest.instance_id)
    assert gzva.get(f'/tasks/{task["id"]}').get_json()['data']['kinship_files'] == [photos[1]]
    assert login('gzva').get(f'/files/{photos[1]}').status_code == 200


def test_apply_again_refused_keeps_the_reason_and_the_photos(api, login):
    award('vol_li', 60)
    li, gzva = api('vol_li'), api('gzva')
    photo = upload_png(li, 'hukou.png')
    inst = started_gift(li, kinship_files=[photo])
    _reject(gzva, inst['id'], REASON)
    page = login('vol_li')
    doc = _doc(page.get(_again_address(page, inst['id'])))
    [form] = doc.xpath('//form[@enctype="multipart/form-data"]')
    data = {**_form_fields(form), 'relative_phone': ['123']}
    resp = page.post(form.get('action'), data=data, content_type='multipart/form-data')
    assert resp.status_code == 422
    doc = _doc(resp)
    assert REASON in _text(doc.xpath('//section[contains(@class, "resubmit-reason")]')[0])
    assert doc.xpath('//input[@type="checkbox"][@name="kinship_files"][@checked]/@value') == [str(photo)]
    assert doc.xpath('//input[@name="relative_phone"]/@value') == ['123']


def test_apply_again_of_someone_elses_request_shows_nothing_of_it(api, login):
    award('vol_li', 60)
    li, gzva = api('vol_li'), api('gzva')
    inst = started_gift(li)
    _reject(gzva, inst['id'], REASON)
    address = _again_address(login('vol_li'), inst['id'])
    doc = _doc(login('vol_zhang').get(address))
    assert REASON not in _text(doc.xpath('//main')[0])
    assert doc.xpath('//input[@name="kinship_files"]') == []


# ---- 4. impossible age gaps --------------------------------------------------------------------------------

def _set_id_number(username, id_number):
    with transaction():
        db.session.scalar(select(User).where(User.username == username)).id_number = id_number
    db.session.remove()


@pytest.mark.parametrize('own, relation, their, message', [
    (68, 'parent', 75, '按身份证号，该亲属 75 岁、您 68 岁，只比您大 7 岁；“父母”应比您年长至少 15 岁，请核对'),
    (60, 'parent', 74, '按身份证号，该亲属 74 岁、您 60 岁，只比您大 14 岁；“父母”应比您年长至少 15 岁，请核对'),
    (68, 'grandparent', 90,
     '按身份证号，该亲属 90 岁、您 68 岁，只比您大 22 岁；“祖父母 / 外祖父母”应比您年长至少 30 岁，请核对'),
    (70, 'grandparent', 65, '按身份证号，该亲属比您年轻，与“祖父母 / 外祖父母”关系不符，请核对'),
    (68, 'child', 60, '按身份证号，该亲属 60 岁、您 68 岁，只比您小 8 岁；“子女”应比您年轻至少 15 岁，请核对'),
], ids=['parent-7', 'parent-14', 'grandparent-22', 'grandparent-younger', 'child-8'])
def test_an_impossible_age_gap_is_refused_at_the_id_number(api, own, relation, their, message):
    _set_id_number('vol_zhang', _aged(own))
    award('vol_zhang', 100)
    resp = start_gift(api('vol_zhang'), relation=relation, relative_id_number=_aged(their))
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()['errors'] == {'relative_id_number': [message]}
    assert points(api('vol_zhang')) == (100, 0, 100)


@pytest.mark.parametrize('own, relation, their', [
    (68, 'parent', 83), (60, 'grandparent', 90), (30, 'grandparent', 62), (75, 'child', 60), (68, 'spouse', 95),
    (68, 'spouse', 61),
])
def test_a_possible_age_gap_is_accepted(api, own, relation, their):
    _set_id_number('vol_zhang', _aged(own))
    award('vol_zhang', 100)
    resp = start_gift(api('vol_zhang'), relation=relation, relative_id_number=_aged(their))
    assert resp.status_code == 201, resp.get_json()


def test_the_gift_page_says_the_ages_at_the_id_number_and_keeps_what_was_typed(login):
    from io import BytesIO

    from tests.helpers import png_bytes
    _set_id_number('vol_zhang', make_id('440104', years_ago(68, plus_days=-180), 11))
    award('vol_zhang', 100)
    page = login('vol_zhang')
    child = _aged(60)
    values = {'relative_name': '张小明', 'relation': 'child', 'relative_phone': '13800138071',
              'relative_id_number': child, 'request_token': 'gift-gap-00001',
              'kinship_files_new': (BytesIO(png_bytes()), 'hukou.png')}
    resp = page.post(f'/m/shop/items/{item(BATH).id}/gift', data=values, content_type='multipart/form-data')
    assert resp.status_code == 422
    doc = _doc(resp)
    [field] = doc.xpath('//*[@id="f-relative_id_number"]/ancestor::div[contains(@class, "field")][1]')
    assert '该亲属 60 岁、您 68 岁，只比您小 8 岁；“子女”应比您年轻至少 15 岁' in _text(field)
    assert doc.xpath('//*[@id="f-relative_id_number"]/@value') == [child]
    assert doc.xpath('//input[@name="relation"][@checked]/@value') == ['child']
    assert len(doc.xpath('//input[@type="checkbox"][@name="kinship_files"][@checked]')) == 1   # the photo kept
