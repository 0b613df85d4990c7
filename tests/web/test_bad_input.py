"""Bad input through the API and the phone page: a clear Chinese message per field, nothing stored."""
import re
from datetime import date
from io import BytesIO
from urllib.parse import quote

import pytest

from app.services.validators import age_on
from tests.helpers import ELDER_ID, ELDER_ID_2, entry_data, png_bytes, start_entry, upload_png
from tests.web.conftest import open_task, page_form, png_upload

CJK = re.compile(r'[\u4e00-\u9fff]')
BAD_CHECKSUM_ID = ELDER_ID[:17] + ('0' if ELDER_ID[17] != '0' else '1')
ELDER_AGE = age_on(ELDER_ID, date.today())
EXE_BYTES = b'MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff' + b'\x00' * 200
BIG_BYTES = png_bytes() + b'\x00' * (12 * 1024 * 1024)

# (case id, entry overrides, field with the error, a fragment of its Chinese message)
FIELD_CASES = [
    ('bad_checksum', {'id_number': BAD_CHECKSUM_ID}, 'id_number', '身份证号码无效'),
    ('age_mismatch', {'age': ELDER_AGE - 20}, 'age', '年龄与身份证号码不符'),
    ('gender_mismatch', {'gender': 'female'}, 'gender', '性别与身份证号码不符'),
    ('short_phone', {'phone': '1380013800'}, 'phone', '手机号码应为 11 位数字'),
    ('missing_community', {'community': ''}, 'community', '此项为必填项'),
    ('unknown_street', {'household_street': 'atlantis'}, 'household_street', '未知的街道代码'),
]


def _chinese(messages):
    return messages and all(CJK.search(m) for m in messages)


# ---------------------------------------------------------------- API

@pytest.mark.parametrize('overrides,field,fragment', [c[1:] for c in FIELD_CASES], ids=[c[0] for c in FIELD_CASES])
def test_api_field_error_is_422_in_chinese_and_stores_nothing(api, row_counts, overrides, field, fragment):
    vol = api('vol_zhang')
    before = row_counts()
    resp = start_entry(vol, **overrides)
    assert resp.status_code == 422, resp.get_json()
    errors = resp.get_json()['errors']
    assert _chinese(errors[field]) and any(fragment in m for m in errors[field]), errors
    assert row_counts() == before


def test_api_id_disagreeing_with_age_and_gender_reports_both(api, row_counts):
    before = row_counts()
    resp = start_entry(api('vol_zhang'), age=ELDER_AGE + 3, gender='female')
    assert resp.status_code == 422
    errors = resp.get_json()['errors']
    assert f'{ELDER_AGE} 岁' in errors['age'][0] and '男' in errors['gender'][0]
    assert row_counts() == before


def test_api_ten_file_ids_are_refused(api, row_counts):
    vol = api('vol_zhang')
    ids = [upload_png(vol, f'p{i}.png') for i in range(10)]
    before = row_counts()
    resp = vol.post('/processes/service_object_entry/instances', json={'data': entry_data(ids)})
    assert resp.status_code == 422
    assert any('1–9' in m for m in resp.get_json()['errors']['proof_files'])
    assert _chinese(resp.get_json()['errors']['proof_files'])
    assert row_counts() == before


def test_api_upload_of_12_mb_is_413(api):
    resp = api('vol_zhang').post('/files', data={'file': (BytesIO(BIG_BYTES), 'big.png')},
                                 content_type='multipart/form-data')
    assert resp.status_code == 413
    body = resp.get_json()
    assert '10 MB' in ''.join(body.get('errors', {}).get('file', [])) + body['message']
    assert CJK.search(body['message'])


def test_api_renamed_exe_is_422(api):
    resp = api('vol_zhang').post('/files', data={'file': (BytesIO(EXE_BYTES), 'x.png')},
                                 content_type='multipart/form-data')
    assert resp.status_code == 422
    assert any('不是 gif/bmp/jpeg/jpg/png 图片' in m for m in resp.get_json()['errors']['file'])


def test_api_file_of_another_user_cannot_be_attached(api, row_counts):
    other = upload_png(api('vol_li'))
    before = row_counts()
    resp = api('vol_zhang').post('/processes/service_object_entry/instances', json={'data': entry_data([other])})
    assert resp.status_code == 422 and '不属于您' in resp.get_json()['errors']['proof_files'][0]
    assert row_counts() == before


def test_api_duplicate_id_is_refused_while_pending_and_after_approval(api, row_counts, case_at_street):
    inst_id, street_task = case_at_street()
    before = row_counts()
    resp = start_entry(api('vol_li'), name='陈伯（重复）')  # vol_li may not see vol_zhang's entry: told nothing of it
    assert resp.status_code == 422
    assert resp.get_json()['errors']['id_number'] == ['该身份证号码已登记，请勿重复录入；如有疑问请联系社工站']
    resp = start_entry(api('station_xicun'), name='陈伯（重复）')  # the station that reviewed it
    assert resp.status_code == 422
    assert '已存在于审核中的录入' in resp.get_json()['errors']['id_number'][0]
    assert '（陈*）' in resp.get_json()['errors']['id_number'][0]  # recognisable, but an ID number reveals no name
    assert row_counts() == before
    r = api('street_xicun').post(f'/tasks/{street_task}/complete', json={'decision': 'approve'})
    assert r.status_code == 200
    before = row_counts()
    resp = start_entry(api('station_xicun'), name='陈伯（再次）')
    assert resp.status_code == 422
    assert '已存在于服务对象库' in resp.get_json()['errors']['id_number'][0]
    assert row_counts() == before
    assert start_entry(api('vol_zhang'), id_number=ELDER_ID_2).status_code == 201


def test_api_reject_without_reason_is_422_and_task_stays_open(api, row_counts):
    vol, station = api('vol_zhang'), api('station_xicun')
    inst_id = start_entry(vol).get_json()['instance']['id']
    task = open_task(station, inst_id)
    before = row_counts()
    for reason in (None, '', '   '):
        r = station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject', 'reason': reason})
        assert r.status_code == 422, (reason, r.get_json())
        assert _chinese(r.get_json()['errors']['reason'])
    assert row_counts() == before
    assert station.get(f'/tasks/{task["id"]}').get_json()['status'] == 'open'
    assert open_task(station, inst_id) is not None


def test_api_decision_on_decided_task_is_409(api, row_counts):
    vol, station = api('vol_zhang'), api('station_xicun')
    inst_id = start_entry(vol).get_json()['instance']['id']
    task = open_task(station, inst_id)
    assert station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    before = row_counts()
    r = station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject', 'reason': '重复点击'})
    assert r.status_code == 409 and r.get_json()['error'] == 'already_handled'
    assert CJK.search(r.get_json()['message'])
    assert row_counts() == before


def test_api_forged_task_id_from_another_street_is_404(api, row_counts, case_at_street):
    inst_id, street_task = case_at_street()
    before = row_counts()
    r = api('street_shipai').post(f'/tasks/{street_task}/complete', json={'decision': 'approve'})
    assert r.status_code == 404
    assert row_counts() == before
    assert api('street_xicun').get(f'/tasks/{street_task}').get_json()['status'] == 'open'


@pytest.mark.parametrize('header', ['Bearer not-a-token', 'Bearer ', 'Basic dm9sX3poYW5nOmRlbW8xMjM0', 'garbage',
                                    'Bearer ' + 'x' * 500])
def test_api_malformed_token_is_401(client, header):
    r = client.get('/api/v1/tasks', headers={'Authorization': header})
    assert r.status_code == 401 and r.get_json()['error'] == 'unauthorized'


def test_api_missing_token_is_401_and_stores_nothing(client, row_counts):
    before = row_counts()
    r = client.post('/api/v1/processes/service_object_entry/instances', json={'data': entry_data([1])})
    assert r.status_code == 401 and CJK.search(r.get_json()['message'])
    assert client.get('/api/v1/me').status_code == 401
    assert row_counts() == before


def test_api_non_json_body_is_422(api):
    r = api('vol_zhang').post('/processes/service_object_entry/instances', data='name=x',
                              content_type='application/x-www-form-urlencoded')
    assert r.status_code == 422 and '_body' in r.get_json()['errors']


def test_api_english_client_gets_english_messages(api, row_counts):
    vol = api('vol_zhang', lang='en')
    before = row_counts()
    resp = start_entry(vol, id_number=BAD_CHECKSUM_ID, phone='12345', community='')
    assert resp.status_code == 422
    body = resp.get_json()
    for field in ('id_number', 'phone', 'community'):
        assert body['errors'][field] and not any(CJK.search(m) for m in body['errors'][field]), body
    assert not CJK.search(body['message'])
    r = vol.post('/files', data={'file': (BytesIO(EXE_BYTES), 'x.png')}, content_type='multipart/form-data')
    assert r.status_code == 422 and not CJK.search(r.get_json()['errors']['file'][0])
    assert row_counts() == before


# ---------------------------------------------------------------- phone page

def _post_page(client, fields, files):
    data = dict(fields)
    data['proof_files_new'] = files
    return client.post('/m/service-objects/new', data=data, content_type='multipart/form-data')


def _assert_values_kept(html, fields, skip):
    for name in ('name', 'phone', 'household_address', 'residence_address', 'community', 'filler_phone'):
        if name not in skip and fields.get(name):
            assert f'value="{fields[name]}"' in html, f'{name} lost from the re-rendered form'
    for name in ('household_street', 'category', 'living_status'):
        if name not in skip:
            assert f'value="{fields[name]}" selected' in html, f'{name} selection lost'


@pytest.mark.parametrize('overrides,field,fragment', [c[1:] for c in FIELD_CASES], ids=[c[0] for c in FIELD_CASES])
def test_page_field_error_rerenders_with_message_and_values(login, row_counts, overrides, field, fragment):
    client = login('vol_zhang')
    fields = page_form(**{k: str(v) for k, v in overrides.items()})
    before = row_counts()
    resp = _post_page(client, fields, [png_upload()])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert fragment in html
    assert f'class="field has-error" id="field-{field}"' in html
    _assert_values_kept(html, fields, skip=set(overrides))
    assert row_counts() == before


def test_page_form_error_keeps_the_uploaded_photo_for_the_retry(login, row_counts):
    client = login('vol_zhang')
    fields = page_form(phone='123')
    resp = _post_page(client, fields, [png_upload()])
    assert resp.status_code == 422
    kept = re.findall(r'name="proof_files" value="(\d+)" checked', resp.get_data(as_text=True))
    assert len(kept) == 1
    fields['phone'] = '13800138000'
    fields['proof_files'] = kept
    resp = _post_page(client, fields, [])
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    assert row_counts()['service_object'] == 1


def test_page_ten_uploads_are_refused(login, row_counts):
    client = login('vol_zhang')
    fields = page_form()
    before = row_counts()
    resp = _post_page(client, fields, [png_upload(f'p{i}.png') for i in range(10)])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert '最多上传 9 个文件' in html
    _assert_values_kept(html, fields, skip=set())
    assert row_counts() == before


def test_page_12_mb_upload_is_413_with_message(login, row_counts):
    client = login('vol_zhang')
    fields = page_form()
    before = row_counts()
    resp = _post_page(client, fields, [(BytesIO(BIG_BYTES), 'big.png')])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 413
    assert '超过 10 MB' in html
    _assert_values_kept(html, fields, skip=set())
    assert row_counts() == before


def test_page_renamed_exe_is_422(login, row_counts):
    client = login('vol_zhang')
    fields = page_form()
    before = row_counts()
    resp = _post_page(client, fields, [png_upload('ok.png'), (BytesIO(EXE_BYTES), 'x.png')])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert '不是 gif/bmp/jpeg/jpg/png 图片' in html and 'x.png' in html
    _assert_values_kept(html, fields, skip=set())
    assert row_counts() == before


def test_page_no_files_is_422(login, row_counts):
    client = login('vol_zhang')
    before = row_counts()
    resp = _post_page(client, page_form(), [])
    assert resp.status_code == 422
    assert '请上传 1–9 个文件' in resp.get_data(as_text=True) or '此项为必填项' in resp.get_data(as_text=True)
    assert row_counts() == before


def test_page_duplicate_id_is_refused(login, api, row_counts):
    assert start_entry(api('vol_li')).status_code == 201
    client = login('vol_zhang')
    fields = page_form()
    before = row_counts()
    resp = _post_page(client, fields, [png_upload()])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert '请勿重复录入' in html
    _assert_values_kept(html, fields, skip=set())
    assert row_counts() == before


def test_page_good_entry_redirects_to_the_case(login, row_counts):
    client = login('vol_zhang')
    resp = _post_page(client, page_form(), [png_upload()])
    assert resp.status_code == 302 and '/m/cases/' in resp.headers['Location']
    after = row_counts()
    assert after['workflow_instance'] == 1 and after['service_object'] == 1
    page = client.get(resp.headers['Location']).get_data(as_text=True)
    assert '待社工站初审' in page


def test_page_reject_without_reason_rerenders_task(login, api, row_counts):
    inst_id = start_entry(api('vol_zhang')).get_json()['instance']['id']
    task = open_task(api('station_xicun'), inst_id)
    client = login('station_xicun')
    before = row_counts()
    resp = client.post(f'/inbox/tasks/{task["id"]}/decide', data={'decision': 'reject', 'reason': ''})
    assert resp.status_code == 422
    assert '此项为必填项' in resp.get_data(as_text=True)
    assert 'value="reject" checked' in resp.get_data(as_text=True)
    assert row_counts() == before


def test_uploaded_file_is_offered_under_its_plain_name(api):
    """A phone may send a folder path or a very long name: the download keeps only a short, plain file name."""
    vol = api('vol_zhang')
    for sent, offered in (('../../etc/passwd.png', 'passwd.png'), ('C:\\Users\\me\\相册\\证明.png', '证明.png'),
                          ('长' * 300 + '.png', '长' * 116 + '.png')):
        up = vol.post('/files', data={'file': (BytesIO(png_bytes()), sent)}, content_type='multipart/form-data')
        assert up.status_code == 201, up.get_json()
        got = vol.get(f'/files/{up.get_json()["id"]}')
        assert got.status_code == 200
        disposition = got.headers['Content-Disposition']
        assert '..' not in disposition and '\\' not in disposition
        assert quote(offered) in disposition or offered in disposition, (sent, disposition)
