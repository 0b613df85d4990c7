"""Case-history rows written by the system (whitelist skip, expiry) have no actor: the shared history macro
says "系统" / "System" instead of starting the line with a bare "·"."""
import re

from tests.web.test_activity_pages import FORM as ACTIVITY_FORM


def _history_meta(html):
    return [re.sub(r'\s+', ' ', m).strip() for m in re.findall(r'<div class="muted h-meta">(.*?)</div>', html, re.S)]


def test_whitelist_skip_row_names_the_system_not_a_stray_dot(login, api):
    assert api('gzva').post('/unit-lists/white', json={'org_unit': 'team_a'}).status_code == 201
    team = login('team_a')
    resp = team.post('/activities/new', data=ACTIVITY_FORM)
    assert resp.status_code == 302
    case_url = resp.headers['Location']
    meta = _history_meta(team.get(case_url).get_data(as_text=True))
    assert len(meta) == 2 and not any(m.startswith(('·', '（')) for m in meta), meta
    assert meta[1].startswith('系统 · '), meta
    team.set_cookie('lang', 'en')
    meta_en = _history_meta(team.get(case_url).get_data(as_text=True))
    assert meta_en[1].startswith('System · '), meta_en


def test_an_account_named_after_its_unit_is_named_once(login, api):
    """A station account's display name is its unit's name: "西村街社工站", not "西村街社工站（西村街社工站）"."""
    from tests.helpers import start_entry
    from tests.web.conftest import open_task
    vol, station = api('vol_zhang'), api('station_xicun')
    inst = start_entry(vol).get_json()['instance']
    station.post(f'/tasks/{open_task(station, inst["id"])["id"]}/complete', json={'decision': 'reject', 'reason': '补充材料'})
    meta = _history_meta(login('vol_zhang').get(f'/m/cases/{inst["id"]}').get_data(as_text=True))
    assert meta[0].startswith('张建国（西村街） · '), meta  # a person: name and unit
    assert meta[1].startswith('西村街社工站 · '), meta
