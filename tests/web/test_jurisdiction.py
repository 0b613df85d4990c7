"""Jurisdiction: a case from 西村街 (household) living in 新市街 is reviewed by those two streets only."""
import pytest

from tests.helpers import start_entry
from tests.web.conftest import open_task


@pytest.fixture
def street_case(case_at_street, api):
    """A case at the street step; household xicun, residence xinshi (the default entry data)."""
    inst_id, street_task = case_at_street()
    detail = api('street_xicun').get(f'/tasks/{street_task}').get_json()
    return {'instance_id': inst_id, 'task_id': street_task, 'file_id': detail['data']['proof_files'][0],
            'name': detail['data']['name']}


def _listed(api_client, instance_id, state='open'):
    items = api_client.get(f'/tasks?state={state}').get_json()['items']
    return [t for t in items if t['instance_id'] == instance_id]


@pytest.mark.parametrize('username', ['street_xicun', 'street_xinshi'])
def test_both_streets_see_and_may_act_on_the_street_task(api, login, street_case, username):
    client = api(username)
    listed = _listed(client, street_case['instance_id'])
    assert [t['id'] for t in listed] == [street_case['task_id']]
    assert set(listed[0]['scope']) == {'xicun', 'xinshi'}
    detail = client.get(f'/tasks/{street_case["task_id"]}').get_json()
    assert detail['can_act'] is True and detail['why']['role'] == 'street_admin'
    assert detail['why']['scope'] == [{'street_xicun': '西村街', 'street_xinshi': '新市街'}[username]]
    assert client.get(f'/instances/{street_case["instance_id"]}').status_code == 200
    assert client.get(f'/files/{street_case["file_id"]}').status_code == 200
    page = login(username)
    inbox = page.get('/inbox').get_data(as_text=True)
    assert f'/inbox/tasks/{street_case["task_id"]}"' in inbox
    assert page.get(f'/inbox/tasks/{street_case["task_id"]}').status_code == 200
    assert page.get(f'/files/{street_case["file_id"]}').status_code == 200


def test_second_street_completes_it_after_all(api, street_case):
    r = api('street_xinshi').post(f'/tasks/{street_case["task_id"]}/complete', json={'decision': 'approve'})
    assert r.status_code == 200 and r.get_json()['instance']['status'] == 'completed'
    assert r.get_json()['instance']['history'][-1]['org_unit'] == '新市街'


def test_third_street_gets_404_everywhere_and_changes_nothing(api, login, street_case, row_counts):
    shipai = api('street_shipai')
    tid, iid, fid = street_case['task_id'], street_case['instance_id'], street_case['file_id']
    before = row_counts()
    assert shipai.get(f'/tasks/{tid}').status_code == 404
    assert shipai.post(f'/tasks/{tid}/complete', json={'decision': 'approve'}).status_code == 404
    assert shipai.post(f'/tasks/{tid}/complete', json={'decision': 'reject', 'reason': 'x'}).status_code == 404
    assert shipai.post(f'/tasks/{tid}/claim').status_code == 404
    assert shipai.post(f'/tasks/{tid}/unclaim').status_code == 404
    assert shipai.get(f'/instances/{iid}').status_code == 404
    assert shipai.get(f'/files/{fid}').status_code == 404
    batch = shipai.post('/tasks/batch', json={'task_ids': [tid], 'decision': 'approve'}).get_json()
    assert batch['results'][0]['ok'] is False
    for state in ('open', 'done'):
        assert _listed(shipai, iid, state) == []
    assert shipai.get(f'/tasks?q={street_case["name"]}').get_json()['total'] == 0

    page = login('street_shipai')
    assert f'/inbox/tasks/{tid}"' not in page.get('/inbox').get_data(as_text=True)
    searched = page.get(f'/inbox?q={street_case["name"]}').get_data(as_text=True)
    assert f'/inbox/tasks/{tid}"' not in searched and 'name="task_ids"' not in searched
    assert page.get(f'/inbox/tasks/{tid}').status_code == 404
    assert page.post(f'/inbox/tasks/{tid}/decide', data={'decision': 'approve'}).status_code == 404
    assert page.post(f'/inbox/tasks/{tid}/claim').status_code == 404
    assert page.post(f'/inbox/tasks/{tid}/unclaim').status_code == 404
    assert page.get(f'/cases/{iid}').status_code == 404
    assert page.get(f'/m/cases/{iid}').status_code == 404
    assert page.get(f'/files/{fid}').status_code == 404
    result = page.post('/inbox/batch', data={'task_ids': [str(tid)], 'decision': 'approve'},
                       follow_redirects=True).get_data(as_text=True)
    assert '成功 0 条，失败 1 条' in result

    assert row_counts() == before
    street = api('street_xicun')
    detail = street.get(f'/tasks/{tid}').get_json()
    assert detail['status'] == 'open' and detail['claimed_by'] is None


def test_other_station_never_sees_the_station_task(api, login, row_counts):
    vol = api('vol_zhang')
    inst_id = start_entry(vol).get_json()['instance']['id']
    task = open_task(api('station_xicun'), inst_id)
    assert task is not None and task['lane'] == 'station_admin'
    shipai = api('station_shipai')
    before = row_counts()
    assert _listed(shipai, inst_id) == []
    assert shipai.get(f'/tasks/{task["id"]}').status_code == 404
    assert shipai.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 404
    assert shipai.post(f'/tasks/{task["id"]}/claim').status_code == 404
    assert shipai.get(f'/instances/{inst_id}').status_code == 404
    page = login('station_shipai')
    assert f'/inbox/tasks/{task["id"]}"' not in page.get('/inbox').get_data(as_text=True)
    assert page.get(f'/inbox/tasks/{task["id"]}').status_code == 404
    assert page.post(f'/inbox/tasks/{task["id"]}/decide', data={'decision': 'approve'}).status_code == 404
    assert row_counts() == before
    assert open_task(api('station_xicun'), inst_id)['id'] == task['id']


def test_street_users_do_not_see_the_station_task(api):
    inst_id = start_entry(api('vol_zhang')).get_json()['instance']['id']
    task = open_task(api('station_xicun'), inst_id)
    street = api('street_xicun')
    assert _listed(street, inst_id) == []
    assert street.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 404


def test_library_of_a_third_street_does_not_contain_it(api, login, street_case):
    r = api('street_xicun').post(f'/tasks/{street_case["task_id"]}/complete', json={'decision': 'approve'})
    assert r.status_code == 200
    for username, expected in (('street_xicun', 1), ('street_xinshi', 1), ('station_xinshi', 1),
                               ('street_shipai', 0), ('station_shipai', 0)):
        client = api(username)
        for view in ('all', 'approved'):
            lib = client.get(f'/service-objects?view={view}').get_json()
            assert lib['total'] == expected and len(lib['items']) == expected, (username, view, lib)
        html = login(username).get('/library?view=all').get_data(as_text=True)
        assert (street_case['name'] in html) == bool(expected), username
    assert api('street_shipai').get(f'/service-objects?view=all&q={street_case["name"]}').get_json()['total'] == 0


def test_whoever_lists_an_object_in_the_library_may_open_its_case(api, login, street_case):
    """The library's name links lead to the case for everyone the row is listed for, not only its reviewers:
    the association, the district and a station of its residence street never held one of its tasks."""
    assert api('street_xicun').post(f'/tasks/{street_case["task_id"]}/complete',
                                    json={'decision': 'approve'}).status_code == 200
    case_url = f'/cases/{street_case["instance_id"]}'
    for username in ('gzva', 'district_liwan', 'station_xinshi'):
        page = login(username)
        html = page.get('/library').get_data(as_text=True)
        assert f'href="{case_url}"' in html, username
        shown = page.get(case_url)
        assert shown.status_code == 200 and street_case['name'] in shown.get_data(as_text=True), username
        assert page.get(f'/files/{street_case["file_id"]}').status_code == 200, username
        assert api(username).get(f'/instances/{street_case["instance_id"]}').status_code == 200, username
    for username in ('street_shipai', 'station_shipai', 'admin'):  # the process admin does not review them
        assert login(username).get(case_url).status_code == 404, username
        assert login(username).get(f'/files/{street_case["file_id"]}').status_code == 404, username
        assert api(username).get(f'/instances/{street_case["instance_id"]}').status_code == 404, username
