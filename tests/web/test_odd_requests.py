"""Every page and API route answers odd requests a user, an old bookmark or a script may send (huge page
numbers, NUL, very long text, ids in the wrong form) with a page or a 4xx message, never a 500."""
import re

import pytest

from tests.helpers import ELDER_ID_2, start_entry, upload_png
from tests.web.test_v_order_lifecycle import approved_object

VALUES = ['', 'x' * 3000, '-1', '0', '1.5', '99999999999999999999', '😀', 'null', '[]', '<script>']
FORM_FIELDS = ['name', 'phone', 'id_number', 'decision', 'reason', 'task_ids', 'proof_files', 'service_object_ids',
               'title', 'start_at', 'end_at', 'volunteers_needed', 'amount', 'target', 'point_type', 'request_token',
               'username', 'password', 'word', 'org_unit', 'street', 'household_street', 'category', 'location', 'lat',
               'lng', 'kept_files', 'item_id', 'relative_id_number', 'tags', 'recruit_count', 'price', 'stock',
               'section', 'district', 'note', 'volunteer', 'dispatch_mode', 'provider', 'rating_overall',
               'service_hours', 'photos']
QUERY = ('page', 'q', 'state', 'view', 'process', 'section', 'status', 'version', 'a', 'b', 'point_type', 'draft',
         'unread')


def _routes(app, method):
    for rule in app.url_map.iter_rules():
        if method not in rule.methods or rule.rule.startswith('/static') or rule.rule == '/logout':
            continue
        url = re.sub(r'<int:\w+>', '1', rule.rule)
        url = re.sub(r'<any\(([^),]*)[^)]*\):\w+>', r'\1', url)
        url = url.replace('<key>', 'service_object_entry').replace('<kind>', 'white')
        if '<' not in url:
            yield url


@pytest.fixture
def cases(api):
    vol = api('vol_zhang')
    upload_png(vol)
    approved_object(api)
    assert start_entry(vol, name='待审长者', id_number=ELDER_ID_2).status_code == 201


@pytest.mark.parametrize('username', ['vol_zhang', 'station_xicun', 'gzva', 'admin', 'district_liwan'])
def test_lists_and_pages_with_odd_query_strings(app, login, api, cases, username):
    page, token = login(username), api(username)
    failures = []
    for url in _routes(app, 'GET'):
        for value in VALUES:
            qs = '?' + '&'.join(f'{name}={value}' for name in QUERY)
            resp = token.get(url[len('/api/v1'):] + qs) if url.startswith('/api/v1/') else page.get(url + qs)
            if resp.status_code >= 500:
                failures.append((url, value[:20], resp.status_code))
    assert not failures, failures[:10]


@pytest.mark.parametrize('username', ['vol_zhang', 'station_xicun', 'gzva', 'admin', 'team_a', 'provider_a'])
def test_page_forms_with_odd_values(app, login, cases, username):
    page = login(username)
    failures = []
    for url in _routes(app, 'POST'):
        if url.startswith(('/api/', '/admin/api/')):
            continue
        for value in VALUES:
            resp = page.post(url, data={name: value for name in FORM_FIELDS})
            if resp.status_code >= 500:
                failures.append((url, value[:20], resp.status_code))
    assert not failures, failures[:10]


def test_a_huge_page_number_shows_an_empty_last_page(api, login, cases):
    listing = api('station_xicun').get('/tasks?page=99999999999999999999')
    assert listing.status_code == 200 and listing.get_json()['items'] == [] and listing.get_json()['total'] == 1
    assert login('vol_zhang').get('/m/cases?page=99999999999999999999').status_code == 200
