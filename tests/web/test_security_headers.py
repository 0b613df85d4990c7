"""Headers that protect a station's shared computer and the office's users:
- pages are never kept in the browser cache, so after 退出 the Back button cannot show the last user's cases;
- no other site can frame a page (clickjacking on 提交审核结果) or run scripts in it: a Content-Security-Policy that
  allows this site's scripts and, for the page's own inline scripts, only this request's nonce."""
import re


def _csp(resp):
    return dict(part.strip().split(' ', 1) for part in resp.headers['Content-Security-Policy'].split(';'))


def test_a_logged_in_page_is_not_cached_and_cannot_be_framed(login):
    station = login('station_xicun')
    resp = station.get('/inbox')
    assert resp.status_code == 200
    assert resp.headers['Cache-Control'] == 'no-store'
    assert resp.headers['X-Frame-Options'] == 'DENY'
    assert resp.headers['Referrer-Policy'] == 'same-origin'
    policy = _csp(resp)
    assert policy['frame-ancestors'] == "'none'"
    assert policy['object-src'] == "'none'"
    assert policy['form-action'] == "'self'"


def test_inline_scripts_carry_the_request_nonce_and_nothing_else_inline_may_run(login, client):
    station = login('station_xicun')
    first, second = station.get('/exports'), station.get('/exports')
    nonces = []
    for resp in (first, second):
        body = resp.get_data(as_text=True)
        nonce = re.search(r"'nonce-([^']+)'", _csp(resp)['script-src']).group(1)
        inline = re.findall(r'<script(?![^>]*\bsrc=)(?![^>]*application/json)([^>]*)>', body)
        assert inline, 'the export page has inline scripts'
        assert all(f'nonce="{nonce}"' in attrs for attrs in inline), inline
        assert "'unsafe-inline'" not in _csp(resp)['script-src']
        nonces.append(nonce)
    assert nonces[0] != nonces[1], 'a nonce is used for one response only'


def test_static_files_stay_cacheable_and_the_api_is_not_cached(client, api):
    assert 'no-store' not in client.get('/static/css/app.css').headers.get('Cache-Control', '')
    resp = api('vol_zhang').get('/me')
    assert resp.status_code == 200
    assert resp.headers['Cache-Control'] == 'no-store'
