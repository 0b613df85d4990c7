"""What elderly users and office staff really type (walk 14, real-world input): a Chinese IME in full-width mode,
numbers pasted with spaces and dashes, invisible characters, pasted line breaks, exponent notation, impossible days.
Each is either read as the user meant it and stored normalised, or refused with a message saying what to change."""
import json

from sqlalchemy import select

from app.extensions import db
from app.models import ServiceObject, User
from app.services.validators import normalize_id, normalize_mobile
from tests.helpers import ELDER_ID, entry_data, start_entry, upload_png
from tests.web.test_team_import import ADULT_ID, post_page
from tests.web.test_v_order_lifecycle import approved_object, order_data

FULL_WIDTH = str.maketrans('0123456789X', '０１２３４５６７８９Ｘ')


def _stored(inst_id) -> ServiceObject:
    row = db.session.scalar(select(ServiceObject).where(ServiceObject.instance_id == inst_id))
    db.session.remove()
    return row


def test_full_width_digits_spaces_and_dashes_are_read_and_stored_as_plain_digits(api):
    typed_id = ELDER_ID[:6] + ' ' + ELDER_ID[6:14] + '－' + ELDER_ID[14:]
    resp = start_entry(api('vol_zhang'), id_number=typed_id.translate(FULL_WIDTH), phone='13８００１３８０００',
                       filler_phone='＋８６ １３７ ０００ ０００００', name=' 陈\t伯\u200b ')
    assert resp.status_code == 201, resp.get_json()
    row = _stored(resp.get_json()['instance']['id'])
    assert (row.id_number, row.phone, row.name) == (ELDER_ID, '13800138000', '陈 伯')
    # a reviewer searching with the full-width number finds the case
    found = api('station_xicun').get('/tasks', query_string={'state': 'open', 'q': ELDER_ID.translate(FULL_WIDTH)})
    assert [t['instance_id'] for t in found.get_json()['items']] == [resp.get_json()['instance']['id']]


def test_digits_of_other_scripts_and_invisible_names_are_refused(api, row_counts):
    before = row_counts()
    resp = start_entry(api('vol_zhang'), phone='13٨٠٠١٣٨٠٠٠', name='\u200b\u200b')
    assert resp.status_code == 422
    errors = resp.get_json()['errors']
    assert errors['phone'] == ['手机号码应为 11 位数字，以 1 开头；固定电话须带区号，如 020-81234567']
    assert errors['name'] == ['此项为必填项'], 'a zero-width space is not a name'
    assert row_counts() == before


def test_an_imported_phone_typed_full_width_becomes_a_username_that_can_sign_in(login, client):
    resp = post_page(login('team_a'), [('陈美玲', ADULT_ID.translate(FULL_WIDTH), '13９１２３４５６０１')])
    assert resp.status_code == 200 and '导入完成' in resp.get_data(as_text=True), resp.get_data(as_text=True)[:500]
    assert db.session.scalar(select(User.username).where(User.display_name == '陈美玲')) == '13912345601'
    db.session.remove()
    signed_in = client.post('/login', data={'username': '13912345601', 'password': ADULT_ID[-6:]})
    assert signed_in.status_code == 302 and '/login' not in signed_in.headers['Location']


def test_a_pasted_name_cell_with_line_breaks_and_zero_width_spaces_is_one_line(login):
    post_page(login('team_a'), [('  陈\n美玲\u200b ', ADULT_ID, '13912345601')])
    assert db.session.scalar(select(User.display_name).where(User.username == '13912345601')) == '陈 美玲'


def test_exponents_and_impossible_days_are_refused_with_what_to_change(api):
    vol = api('vol_zhang')
    so = approved_object(api)
    resp = vol.post('/processes/v_order/instances', json={'data': order_data(
        [so], volunteers_needed='1e1', start_at='2027-02-30T09:00', end_at='2027/03/01 10:00')})
    assert resp.status_code == 422
    errors = resp.get_json()['errors']
    assert errors['volunteers_needed'] == ['请输入整数'], '"1e1" is not read as 10 volunteers'
    assert errors['start_at'] == ['日期不存在：2027-02-30 这一天没有，请检查月份和日期']
    assert errors['end_at'] == ['时间格式不正确，应为 年-月-日 时:分，例如 2026-11-30 09:00']


def test_the_same_photo_chosen_twice_is_attached_once(api):
    vol = api('vol_zhang')
    fid = upload_png(vol)
    resp = vol.post('/processes/service_object_entry/instances', json={'data': entry_data([fid, fid])})
    assert resp.status_code == 201, resp.get_json()
    assert json.loads(_stored(resp.get_json()['instance']['id']).data_json)['proof_files'] == [fid]


def test_phone_and_id_boxes_leave_room_for_spaces_and_the_country_code(login):
    page = login('vol_zhang').get('/m/service-objects/new').get_data(as_text=True)
    assert 'id="f-phone"' in page and 'maxlength="15"' not in page and 'maxlength="20"' in page
    assert 'maxlength="18"' not in page and 'maxlength="24"' in page


def test_normalisers():
    assert normalize_id('４４０１０３ １９５０-０６１５ ０５５x') == '44010319500615055X'
    assert normalize_mobile('（１３８）００１３－８０００') == '13800138000'
