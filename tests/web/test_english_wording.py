"""English wording: names, statuses and notes built by code follow the page's language ("李晓敏 (Confirmed): 我有空"),
a decision already taken reads "Approved" while its button says "Approve", "1 item needs correcting", one volunteer
is "Volunteer", and a map point's errors read "Map point: Latitude is required". Chinese pages read as before."""
import html as html_lib
import re

import pytest

from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data


def text_of(page: str) -> str:
    """The visible text, tags removed, runs of white space as one space."""
    page = re.sub(r'<(script|style)\b.*?</\1>', ' ', page, flags=re.S)
    return re.sub(r'\s+', ' ', html_lib.unescape(re.sub(r'<[^>]+>', '', page)))


def _accepted_order(api, login, note='我有空'):
    """An order open to volunteers that 李晓敏 accepted with a note: the station's acceptor review waits."""
    so = approved_object(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    inst = publisher.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    accept = open_task(api('vol_li'), inst['id'])['id']
    assert login('vol_li').post(f'/m/orders/accept/{accept}', data={'note': note}).status_code == 302
    return inst, open_task(station, inst['id'], '接单人审核')['id']


# ----------------------------------------------------------------------------------------------- (5) punctuation

def test_acceptors_and_their_notes_are_punctuated_in_the_pages_language(api, login):
    inst, review = _accepted_order(api, login)
    station = login('station_xicun')
    english = text_of(station.get(f'/inbox/tasks/{review}?lang=en').get_data(as_text=True))
    assert '李晓敏 (Awaiting social work station review): 我有空' in english, english
    assert '李晓敏（' not in english and '：我有空' not in english
    chinese = text_of(station.get(f'/inbox/tasks/{review}').get_data(as_text=True))
    assert '李晓敏（待社工站审核）：我有空' in chinese


def test_a_dispatched_acceptor_names_the_provider_in_english(api, login):
    so = approved_object(api)
    publisher, station, provider = api('vol_zhang'), api('station_xicun'), api('provider_a')
    inst = publisher.post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    dispatch = open_task(provider, inst['id'])['id']
    choices = text_of(login('provider_a').get(f'/inbox/tasks/{dispatch}?lang=en').get_data(as_text=True))
    assert '李晓敏 (vol_li)' in choices and '（vol_li）' not in choices, 'the volunteers to dispatch to'
    complete(provider, open_task(provider, inst['id']),
             data={'provider_action': 'dispatch', 'volunteer': 'vol_li', 'note': '熟悉路线'})
    review = open_task(station, inst['id'], '接单人审核')['id']
    page = login('station_xicun')
    english = text_of(page.get(f'/inbox/tasks/{review}?lang=en').get_data(as_text=True))
    assert re.search(r'李晓敏 \(dispatched by [^)]+\): 熟悉路线', english), english
    assert '派单）' not in english
    assert re.search(r'李晓敏（\S+派单）：熟悉路线', text_of(page.get(f'/inbox/tasks/{review}').get_data(as_text=True)))


def test_service_objects_to_order_for_and_volunteer_suggestions_in_english(api, login):
    approved_object(api)
    publisher = login('vol_zhang')
    english = text_of(publisher.get('/m/orders/new?lang=en').get_data(as_text=True))
    assert re.search(r'\w+ \(\d{4}\*+\w{4}, 西村街\)', english), english
    assert re.search(r'\w+（\d{4}\*+\w{4}，西村街）', text_of(publisher.get('/m/orders/new').get_data(as_text=True)))
    gzva = login('gzva')
    [item] = gzva.get('/shop/pool/volunteers?q=vol_li&lang=en').get_json()['items']
    assert item['value'] == '李晓敏 (vol_li)'
    [item] = gzva.get('/shop/pool/volunteers?q=vol_li').get_json()['items']
    assert item['value'] == '李晓敏（vol_li）'


def test_an_english_suggestion_picked_from_the_list_allocates_to_that_volunteer(login):
    from tests.web.test_phone_fixes import _balance, _pool_with
    _pool_with(5)
    resp = login('gzva').post('/shop/pool/allocate?lang=en', data={'username': '李晓敏 (vol_li)', 'amount': '2',
                                                                    'reason': '表彰', 'request_token': 'pool-wording-01'})
    assert resp.status_code == 302, text_of(resp.get_data(as_text=True))[:800]
    assert _balance('vol_li') == 2


# ----------------------------------------------------------------------------------------------- (8) plural

def test_error_summary_counts_in_english_singular_and_plural(login):
    from tests.web.conftest import page_form, png_upload
    phone = login('vol_zhang')

    def summary(lang='', **fields):
        resp = phone.post('/m/service-objects/new' + lang, data={**page_form(**fields), 'proof_files_new': [png_upload()]},
                          content_type='multipart/form-data')
        assert resp.status_code == 422
        return text_of(resp.get_data(as_text=True))
    one = summary('?lang=en', name='')
    assert '1 item needs correcting' in one and 'item(s)' not in one, one
    assert '2 items need correcting' in summary('?lang=en', name='', community='')
    assert '有 1 处需要修改' in summary(name='') and '有 2 处需要修改' in summary(name='', community='')


# ----------------------------------------------------------------------------------------------- (9) decisions

def test_a_decision_taken_reads_approved_while_the_button_says_approve(api, login):
    from tests.web.conftest import submit
    inst = submit(api('vol_zhang'), 1)
    task = open_task(api('station_xicun'), inst)['id']
    station = login('station_xicun')
    form = station.get(f'/inbox/tasks/{task}?lang=en').get_data(as_text=True)
    assert re.search(r'>\s*Approve\s*<', form) and 'Approved' not in text_of(form).split('Decision')[-1]
    done = station.post(f'/inbox/tasks/{task}/decide?lang=en', data={'decision': 'approve'}, follow_redirects=True)
    assert 'result: Approved' in text_of(done.get_data(as_text=True))
    assert 'This task has been handled: Approved' in text_of(station.get(f'/inbox/tasks/{task}?lang=en').get_data(as_text=True))
    case = text_of(station.get(f'/cases/{inst}?lang=en').get_data(as_text=True))
    assert re.search(r'Station first review Approved', case) and 'Submitted' in case, case
    chinese = text_of(station.get(f'/cases/{inst}').get_data(as_text=True))
    assert '社工站初审 通过' in chinese and '提交' in chinese
    assert '该任务已处理：通过' in text_of(station.get(f'/inbox/tasks/{task}').get_data(as_text=True))


def test_a_rejection_taken_reads_rejected(api, login):
    from tests.web.conftest import submit
    inst = submit(api('vol_zhang'), 1)
    task = open_task(api('station_xicun'), inst)['id']
    station = login('station_xicun')
    done = station.post(f'/inbox/tasks/{task}/decide?lang=en', data={'decision': 'reject', 'reason': '照片不清晰'},
                        follow_redirects=True)
    assert 'result: Rejected' in text_of(done.get_data(as_text=True))
    assert 'Station first review Rejected' in text_of(station.get(f'/cases/{inst}?lang=en').get_data(as_text=True))


# ----------------------------------------------------------------------------------------------- (10), (11) names

def test_the_service_object_form_says_id_number(login):
    page = text_of(login('vol_zhang').get('/m/service-objects/new?lang=en').get_data(as_text=True))
    assert 'ID number' in page and 'Resident ID' not in page


def test_one_volunteer_is_volunteer_and_a_headcount_volunteers(api, login):
    pool = login('gzva').get('/shop/pool?lang=en').get_data(as_text=True)
    assert re.search(r'<label class="label" for="f-username">Volunteer</label>', pool)
    assert '<th>Volunteer</th>' in pool
    inst, _review = _accepted_order(api, login)
    order_id = int(inst['business_key'].split(':')[1])
    owner = login('vol_zhang')
    detail = owner.get(f'/orders/{order_id}?lang=en').get_data(as_text=True)
    assert '<dt>Volunteers</dt>' in detail
    listing = login('station_xicun').get('/orders?lang=en').get_data(as_text=True)
    assert 'data-label="Volunteers"' in listing
    assert '<dt>志愿者</dt>' in owner.get(f'/orders/{order_id}').get_data(as_text=True)


# ----------------------------------------------------------------------------------------------- (13) nested fields

@pytest.mark.parametrize('lat, english, chinese', [
    ('', 'Map point: Latitude is required', '地图位置：请填写纬度'),
    ('20', 'Map point: This location is outside Guangzhou. Tap “Use my location” or “Use the chosen street’s location”',
     '地图位置：位置不在广州市范围内，请点“使用我的位置”或“使用所选街道的位置”'),
])
def test_a_map_points_errors_read_as_one_sentence(api, login, lat, english, chinese):
    so = approved_object(api)
    data = {'title': '助洁', 'service_object_ids': [str(so)], 'location.lat': lat, 'location.lng': '113.25'}
    page = login('vol_zhang')
    shown = text_of(page.post('/m/orders/new?lang=en', data=data).get_data(as_text=True))
    assert english in shown and 'Latitude:' not in shown, shown
    assert chinese in text_of(page.post('/m/orders/new', data=data).get_data(as_text=True))
