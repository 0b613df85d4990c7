"""One refused submission names every problem at once: file problems (10 photos, 12 MB, a renamed .exe) and the
other fields' problems together; the good photos are kept for the retry; nothing reaches a case meanwhile.
Integer fields refuse 4.5 and "1.9" instead of truncating them."""
import json
import re
from datetime import UTC, datetime, timedelta
from io import BytesIO

from sqlalchemy import func, select

from app.extensions import db
from app.models import InstanceFile, ServiceObject, VOrder
from tests.helpers import ELDER_ID, start_entry, upload_png
from tests.web.conftest import page_form, png_upload
from tests.web.test_activity_flow import activity_data
from tests.web.test_activity_pages import FORM as ACTIVITY_FORM
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data, travel_past_service

EXE_BYTES = b'MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff' + b'\x00' * 200
BAD_CHECKSUM_ID = ELDER_ID[:17] + ('0' if ELDER_ID[17] != '0' else '1')


def _big():
    from tests.helpers import png_bytes
    return png_bytes() + b'\x00' * (12 * 1024 * 1024)


def _counts(row_counts):
    db.session.expire_all()
    return {**row_counts(), 'instance_file': db.session.scalar(select(func.count()).select_from(InstanceFile))}


def _post(client, fields, files, url='/m/service-objects/new'):
    return client.post(url, data={**fields, 'proof_files_new': files}, content_type='multipart/form-data')


def _kept(html, field='proof_files'):
    return re.findall(rf'name="{field}" value="(\d+)" checked', html)


def _has_error(html, field):
    return f'class="field has-error" id="field-{field}"' in html


def _retry_succeeds(client, fields, kept, expected_files):
    resp = _post(client, {**fields, 'proof_files': kept}, [])
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    inst_id = int(re.search(r'/m/cases/(\d+)', resp.headers['Location']).group(1))
    attached = db.session.scalar(select(func.count()).select_from(InstanceFile).where(InstanceFile.instance_id == inst_id))
    assert attached == expected_files


# ---------------------------------------------------------------- file + form problems in one answer

def test_renamed_exe_with_bad_phone_and_id_reports_all_three_and_keeps_the_good_photo(login, row_counts):
    client = login('vol_zhang')
    fields = page_form(phone='123', id_number=BAD_CHECKSUM_ID)
    before = _counts(row_counts)
    resp = _post(client, fields, [png_upload('ok.png'), (BytesIO(EXE_BYTES), 'x.png')])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert '文件“x.png”不是 gif/bmp/jpeg/jpg/png 图片' in html
    assert '手机号码应为 11 位数字' in html and '身份证号码无效' in html
    assert all(_has_error(html, f) for f in ('proof_files', 'phone', 'id_number'))
    assert '有 3 处需要修改' in html
    kept = _kept(html)
    assert len(kept) == 1, 'the good photo picked with the bad one is kept for the retry'
    assert _counts(row_counts) == before, 'no case, no task, nothing attached'
    _retry_succeeds(client, page_form(), kept, 1)


def test_ten_photos_with_bad_phone_reports_both_and_keeps_nine(login, row_counts):
    client = login('vol_zhang')
    fields = page_form(phone='123')
    before = _counts(row_counts)
    resp = _post(client, fields, [png_upload(f'p{i}.png') for i in range(10)])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert '最多上传 9 个文件，您选择了 10 个' in html and '手机号码应为 11 位数字' in html
    assert _has_error(html, 'proof_files') and _has_error(html, 'phone')
    kept = _kept(html)
    assert len(kept) == 9, 'good photos are kept up to the 9-file limit'
    assert _counts(row_counts) == before
    _retry_succeeds(client, page_form(), kept, 9)


def test_12_mb_photo_with_missing_community_is_413_with_both_messages(login, row_counts):
    client = login('vol_zhang')
    fields = page_form(community='')
    before = _counts(row_counts)
    resp = _post(client, fields, [(BytesIO(_big()), 'big.png'), png_upload('ok.png')])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 413
    assert '文件“big.png”超过 10 MB' in html
    assert _has_error(html, 'community') and '此项为必填项' in html
    assert len(_kept(html)) == 1
    assert _counts(row_counts) == before


def test_bad_photo_with_a_duplicate_id_number_names_both(login, api, row_counts):
    assert start_entry(api('vol_li')).status_code == 201
    client = login('vol_zhang')
    before = _counts(row_counts)
    resp = _post(client, page_form(), [png_upload('ok.png'), (BytesIO(EXE_BYTES), 'x.png')])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert '不是 gif/bmp/jpeg/jpg/png 图片' in html and '请勿重复录入' in html
    assert _has_error(html, 'id_number') and len(_kept(html)) == 1
    assert _counts(row_counts) == before


def test_kept_photos_already_at_the_limit_are_not_exceeded(login, row_counts):
    client = login('vol_zhang')
    first = _post(client, page_form(phone='123'), [png_upload(f'p{i}.png') for i in range(9)])
    kept = _kept(first.get_data(as_text=True))
    assert len(kept) == 9
    resp = _post(client, {**page_form(phone='123'), 'proof_files': kept}, [png_upload('more.png')])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and '最多上传 9 个文件，您选择了 10 个' in html and '手机号码应为 11 位数字' in html
    assert sorted(_kept(html)) == sorted(kept)


def test_english_page_gets_file_and_field_problems_in_english(login, row_counts):
    client = login('vol_zhang')
    client.set_cookie('lang', 'en')
    resp = _post(client, page_form(phone='123'), [(BytesIO(EXE_BYTES), 'x.png')])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'x.png' in html and _has_error(html, 'phone') and _has_error(html, 'proof_files')
    for field in ('phone', 'proof_files'):
        message = re.search(rf'id="field-{field}".*?<p class="field-error"[^>]*>(.*?)</p>', html, re.S).group(1)
        assert not re.search(r'[\u4e00-\u9fff]', message), message


def test_resubmission_with_a_bad_photo_reports_the_fields_and_attaches_nothing(login, api, row_counts):
    from tests.web.conftest import open_task as open_task_of
    vol = api('vol_zhang')
    inst_id = start_entry(vol).get_json()['instance']['id']
    station = api('station_xicun')
    r = station.post(f'/tasks/{open_task_of(station, inst_id)["id"]}/complete',
                     json={'decision': 'reject', 'reason': '请补充户口本'})
    assert r.status_code == 200
    client = login('vol_zhang')
    before = _counts(row_counts)
    resp = _post(client, page_form(phone='123'), [png_upload('hukou.png'), (BytesIO(EXE_BYTES), 'x.png')],
                 url=f'/m/cases/{inst_id}/resubmit')
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422, html[:500]
    assert '不是 gif/bmp/jpeg/jpg/png 图片' in html and '手机号码应为 11 位数字' in html
    assert len(_kept(html)) == 1
    assert _counts(row_counts) == before


def test_v_order_page_bad_qualification_photo_and_fractional_volunteers_reported_together(api, login):
    so = approved_object(api)
    page = login('vol_zhang')
    data = {'title': '康复护理', 'demand_type': 'others', 'service_object_ids': [str(so)], 'category': 'professional',
            'service_item': 'rehabilitation', 'street': 'xicun', 'location.lat': '23.13', 'location.lng': '113.25',
            'address': '西村街 3 号', 'start_at': '2031-03-05T09:00', 'end_at': '2031-03-05T11:00',
            'volunteers_needed': '1.9', 'needs': '康复训练'}
    resp = page.post('/m/orders/new', content_type='multipart/form-data',
                     data={**data, 'qualification_files_new': [png_upload('cert.png'), (BytesIO(EXE_BYTES), 'x.png')]})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert '不是 gif/bmp/jpeg/jpg/png 图片' in html and '请输入整数，不能带小数' in html
    assert _has_error(html, 'volunteers_needed') and _has_error(html, 'qualification_files')
    assert len(_kept(html, 'qualification_files')) == 1
    assert db.session.scalar(select(func.count()).select_from(VOrder)) == 0


def test_api_ten_file_ids_and_bad_phone_are_reported_together(api, row_counts):
    vol = api('vol_zhang')
    ids = [upload_png(vol, f'p{i}.png') for i in range(10)]
    before = _counts(row_counts)
    from tests.helpers import entry_data
    resp = vol.post('/processes/service_object_entry/instances', json={'data': entry_data(ids, phone='123')})
    errors = resp.get_json()['errors']
    assert resp.status_code == 422
    assert any('1–9' in m for m in errors['proof_files']) and '手机号码应为 11 位数字' in errors['phone'][0]
    assert _counts(row_counts) == before


# ---------------------------------------------------------------- integers are never truncated

def _rate_task(api):
    so = approved_object(api)
    publisher, station, vol_li = api('vol_zhang'), api('station_xicun'), api('vol_li')
    inst = publisher.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    complete(vol_li, open_task(vol_li, inst['id']))
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    travel_past_service(inst['id'])
    return inst, open_task(publisher, inst['id'])


RATINGS = {k: 5 for k in ('rating_overall', 'rating_arrangement', 'rating_effect', 'rating_attitude', 'rating_skill',
                          'rating_efficiency')}


def test_api_rating_of_4_5_stars_is_refused_with_a_field_message(api):
    inst, task = _rate_task(api)
    publisher = api('vol_zhang')
    resp = publisher.post(f'/tasks/{task["id"]}/complete', json={'data': {**RATINGS, 'rating_overall': 4.5}})
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()['errors']['rating_overall'] == ['请输入整数，不能带小数']
    english = api('vol_zhang', lang='en').post(f'/tasks/{task["id"]}/complete',
                                               json={'data': {**RATINGS, 'rating_skill': '1.9'}})
    assert english.status_code == 422
    message = english.get_json()['errors']['rating_skill'][0]
    assert 'whole number' in message and not re.search(r'[\u4e00-\u9fff]', message)
    ok = publisher.post(f'/tasks/{task["id"]}/complete', json={'data': {**RATINGS, 'rating_overall': 4}})
    assert ok.status_code == 200, ok.get_json()
    order = db.session.scalar(select(VOrder).where(VOrder.instance_id == inst['id']))
    db.session.refresh(order)
    assert json.loads(order.rating_json)['rating_overall'] == 4


def test_api_fractional_volunteers_needed_is_refused_and_nothing_is_published(api):
    so = approved_object(api)
    vol = api('vol_zhang')
    for bad in (1.9, '1.9', '2.5', True, 'two'):
        resp = vol.post('/processes/v_order/instances', json={'data': order_data([so], volunteers_needed=bad)})
        assert resp.status_code == 422, (bad, resp.get_json())
        assert resp.get_json()['errors']['volunteers_needed'][0].startswith('请输入整数'), bad
    assert db.session.scalar(select(func.count()).select_from(VOrder)) == 0
    for good in (2, '2', ' 2 ', 2.0):
        resp = vol.post('/processes/v_order/instances', json={'data': order_data([so], volunteers_needed=good)})
        assert resp.status_code == 201, (good, resp.get_json())
    assert set(db.session.scalars(select(VOrder.volunteers_needed))) == {2}


def test_v_order_form_errors_and_order_rules_are_reported_together(api, row_counts):
    """0 volunteers (the form) together with an end before the start, a category that does not fit the item and
    an unapproved service object (the order's rules): one answer names all four, nothing is stored."""
    so = approved_object(api)
    vol = api('vol_zhang')
    before = row_counts()
    start = datetime.now(UTC) + timedelta(hours=2)
    resp = vol.post('/processes/v_order/instances', json={'data': order_data(
        [so, 999999], volunteers_needed=0, end_at=(start - timedelta(hours=1)).isoformat(), start_at=start.isoformat(),
        category='professional', qualification_files=[])})
    assert resp.status_code == 422
    errors = resp.get_json()['errors']
    assert set(errors) == {'volunteers_needed', 'end_at', 'service_item', 'service_object_ids', 'qualification_files'}
    assert errors['end_at'] == ['结束时间必须晚于开始时间']
    assert '999999' in errors['service_object_ids'][0]
    assert row_counts() == before


def test_activity_recruit_count_of_4_5_is_refused_on_the_page_and_the_api(login, api):
    team = login('team_a')
    resp = team.post('/activities/new', data={**ACTIVITY_FORM, 'recruit_count': '4.5'})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and '请输入整数，不能带小数' in html and _has_error(html, 'recruit_count')
    assert 'value="4.5"' in html, 'what was typed stays in the field'
    api_resp = api('team_a').post('/processes/activity_publish/instances', json={'data': activity_data(recruit_count=4.5)})
    assert api_resp.status_code == 422 and api_resp.get_json()['errors']['recruit_count'] == ['请输入整数，不能带小数']
    assert team.post('/activities/new', data={**ACTIVITY_FORM, 'recruit_count': '5'}).status_code == 302


def test_service_object_age_of_75_5_is_refused(api):
    resp = start_entry(api('vol_zhang'), age=75.5)
    assert resp.status_code == 422 and resp.get_json()['errors']['age'] == ['请输入整数，不能带小数']
    assert db.session.scalar(select(func.count()).select_from(ServiceObject)) == 0


def test_file_ids_with_fractions_are_not_truncated_to_another_file(api, row_counts):
    vol = api('vol_zhang')
    fid = upload_png(vol)
    from tests.helpers import entry_data
    before = _counts(row_counts)
    resp = vol.post('/processes/service_object_entry/instances', json={'data': entry_data([fid + 0.5])})
    assert resp.status_code == 422 and resp.get_json()['errors']['proof_files']
    assert _counts(row_counts) == before

