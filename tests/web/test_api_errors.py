"""Scripted callers of /admin/api/ and /api/ get errors as JSON (the JSON API's shape: error, message and,
for bad input, errors) whatever their Accept header says; pages keep their HTML error pages."""
import pytest

KEY = 'service_object_entry'
ADMIN_API = f'/admin/api/processes/{KEY}'
ACCEPTS = [None, 'text/html', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8']


def _get(client, url, accept, **kw):
    return client.get(url, headers={'Accept': accept} if accept else {}, **kw)


def _post(client, url, accept, **kw):
    return client.post(url, headers={'Accept': accept} if accept else {}, **kw)


def _is_json_error(resp, status, code):
    assert resp.status_code == status, resp.get_data(as_text=True)[:200]
    assert resp.mimetype == 'application/json', resp.get_data(as_text=True)[:200]
    body = resp.get_json()
    assert body['error'] == code and body['message'], body
    return body


@pytest.mark.parametrize('accept', ACCEPTS)
def test_admin_api_403_404_422_are_json_without_asking(login, api, accept):
    # 403: a logged-in user who is not a process administrator
    body = _is_json_error(_get(login('gzva'), f'{ADMIN_API}/versions', accept), 403, 'forbidden')
    assert body == api('gzva').get(f'/processes/{KEY}/versions').get_json()      # same shape as /api/v1

    admin = login('admin')
    # 404: an unknown process (service NotFound) and an unknown address under /admin/api/ (routing)
    body = _is_json_error(_get(admin, '/admin/api/processes/no_such_process/versions', accept), 404, 'not_found')
    assert body == api('admin').get('/processes/no_such_process/versions').get_json()
    _is_json_error(_get(admin, '/admin/api/no/such/thing', accept), 404, 'not_found')
    # 405: wrong method on an existing /admin/api/ route
    _is_json_error(_get(admin, f'{ADMIN_API}/migrations', accept), 405, 'method_not_allowed')

    # 422: bad input, with the field errors
    body = _is_json_error(_post(admin, f'{ADMIN_API}/migrations', accept, json={}), 422, 'invalid')
    assert 'from_version' in body['errors']
    assert body == api('admin').post(f'/processes/{KEY}/migrations', json={}).get_json()
    body = _is_json_error(_post(admin, f'{ADMIN_API}/migrations', accept,
                                json={'from_version': 1, 'to_version': 1}), 422, 'invalid')
    assert body['errors']['to_version'] == ['请选择两个不同的版本']


@pytest.mark.parametrize('accept', ACCEPTS)
def test_admin_api_without_a_session_is_401_json_not_the_login_page(client, accept):
    resp = _get(client, f'{ADMIN_API}/versions', accept)
    _is_json_error(resp, 401, 'unauthorized')
    assert 'Location' not in resp.headers


def test_api_v1_errors_are_json_whatever_the_accept_header(client, api):
    _is_json_error(_get(client, '/api/v1/no/such/thing', 'text/html'), 404, 'not_found')
    vol = api('vol_zhang')
    resp = vol.client.get('/api/v1/instances/999999', headers={**vol.headers, 'Accept': 'text/html'})
    _is_json_error(resp, 404, 'not_found')


def test_admin_api_csrf_failure_is_json(login, app, monkeypatch):
    admin = login('admin')
    monkeypatch.setitem(app.config, 'WTF_CSRF_ENABLED', True)
    body = _is_json_error(_post(admin, f'{ADMIN_API}/migrations', 'text/html', json={}), 400, 'csrf')
    assert '刷新' in body['message']


def test_pages_keep_html_error_pages(login, client):
    resp = login('gzva').get(f'/admin/processes/{KEY}')
    assert resp.status_code == 403 and resp.mimetype == 'text/html'
    resp = login('admin').get('/admin/no/such/page')
    assert resp.status_code == 404 and resp.mimetype == 'text/html'
    resp = client.get(f'/admin/processes/{KEY}')           # not logged in: the login page, as before
    assert resp.status_code == 302 and '/login' in resp.headers['Location']


def test_admin_api_errors_in_english_when_asked(login):
    resp = login('gzva').get(f'{ADMIN_API}/versions', headers={'Accept-Language': 'en'})
    body = _is_json_error(resp, 403, 'forbidden')
    assert not any('\u4e00' <= ch <= '\u9fff' for ch in body['message']), body
