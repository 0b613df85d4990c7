"""A forged id that no row can have (too large for the database's integer, or not a number) is a 404 on every
page and API route that takes an id, never a 500."""
import re

import pytest

HUGE = '99999999999999999999'
VALUES = {'key': 'service_object_entry', 'action': None, 'version': '1'}


def _urls(app):
    for rule in app.url_map.iter_rules():
        if '<int:' not in rule.rule:
            continue
        for method in ('GET', 'POST'):
            if method not in rule.methods:
                continue
            url = rule.rule
            for name, value in VALUES.items():
                if name == 'action':
                    choices = re.search(r'<any\(([^)]*)\):action>', url)
                    if choices:
                        url = url.replace(choices.group(0), choices.group(1).split(',')[0].strip())
                else:
                    url = url.replace(f'<{name}>', value)
            yield method, re.sub(r'<int:\w+>', HUGE, url)


@pytest.mark.parametrize('username', ['admin', 'station_xicun', 'vol_zhang'])
def test_huge_ids_are_404_everywhere(app, login, api, username):
    page, token = login(username), api(username)
    checked = 0
    for method, url in _urls(app):
        if url.startswith('/api/v1/'):
            resp = (token.get if method == 'GET' else token.post)(url[len('/api/v1'):], json={})
        else:
            resp = page.open(url, method=method, data={})
        assert resp.status_code in (403, 404, 405), (username, method, url, resp.status_code)  # never a 500
        checked += 1
    assert checked >= 30


def test_text_where_an_id_belongs_is_404(login, api):
    assert login('station_xicun').get('/inbox/tasks/abc').status_code == 404
    assert api('station_xicun').get('/tasks/1e5').status_code == 404
    assert api('station_xicun').get('/instances/-1').status_code == 404
