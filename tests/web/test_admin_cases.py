"""案件列表 (/admin/cases) for process administrators, who can act on a case's open task (the case page), and a
migration giving a stuck task the scope of the corrected version."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import HumanTask, HumanTaskScope, User, WorkflowInstance
from app.models.base import utcnow
from app.services import case_list, transaction
from app.services.v_orders import BEIJING
from tests.web.conftest import open_task, submit, unique_id

ROOT = Path(__file__).resolve().parents[2]
BASE = (ROOT / 'bpmn' / 'service_object_entry.bpmn').read_bytes()
KEY = 'service_object_entry'
XML = {'Content-Type': 'application/xml'}
STATION_SCOPE = b'\n          <spiffworkflow:property name="scope" value="station_scope"/>'
NO_ACTOR = '无人可办理：此步骤没有管辖范围，任何审核人都看不到它'


def listed(page) -> list[int]:
    """The case ids of a list page, in the order shown (each row links its case page twice: number and title)."""
    ids = [int(i) for i in re.findall(r'href="/admin/instances/([0-9]+)"', page.get_data(as_text=True))]
    return list(dict.fromkeys(ids))


def approve(reviewer, instance_id):
    task = open_task(reviewer, instance_id)
    assert task is not None, instance_id
    resp = reviewer.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'})
    assert resp.status_code == 200, resp.get_json()


@pytest.fixture
def cases(api):
    """Four service-object entries by vol_zhang: two waiting for the station, one at the street, one approved;
    then a V-order the station published (another process, another submitter)."""
    vol, station, street = api('vol_zhang'), api('station_xicun'), api('street_xicun')
    ids = [submit(vol, i) for i in range(1, 5)]
    approve(station, ids[2])
    approve(station, ids[3])
    approve(street, ids[3])
    return {'at_station': ids[:2], 'at_street': ids[2], 'done': ids[3], 'all': ids}


def test_only_process_admins_have_the_list(login, client, cases):
    assert login('admin').get('/admin/cases').status_code == 200
    for username in ('station_xicun', 'street_xicun', 'gzva', 'vol_zhang'):
        assert login(username).get('/admin/cases').status_code == 403, username
        assert login(username).get(f'/admin/cases?process={KEY}').status_code == 403, username
    anonymous = client.get('/admin/cases')
    assert anonymous.status_code == 302 and '/login' in anonymous.headers['Location']


def test_list_newest_first_with_links_and_columns(login, cases):
    web = login('admin')
    page = web.get('/admin/cases')
    html = page.get_data(as_text=True)
    assert listed(page) == sorted(cases['all'], reverse=True)
    assert '共 4 个案件' in html
    # every column: the number, title, process, version, status, current step, submitter, created
    first = html.split('<tbody>')[1].split('</tr>')[0]
    assert f'#{cases["done"]}' in first and '长者〇四号' in first and '服务对象录入' in first and 'v1' in first
    assert '已通过' in first and '张建国' in first
    row_at_street = next(r for r in html.split('<tr>') if f'href="/admin/instances/{cases["at_street"]}"' in r)
    assert '镇街终审' in row_at_street and '待镇街终审' in row_at_street
    # the per-process tab of the page header, and the case page's way back to the list
    assert f'href="/admin/cases?process={KEY}"' in html
    case_page = web.get(f'/admin/instances/{cases["done"]}').get_data(as_text=True)
    assert f'href="/admin/cases?process={KEY}"' in case_page and '案件列表' in case_page


def test_filters_by_process_version_status_and_step(login, cases):
    web = login('admin')
    assert listed(web.get(f'/admin/cases?process={KEY}')) == sorted(cases['all'], reverse=True)
    assert listed(web.get('/admin/cases?process=v_order')) == []
    assert listed(web.get(f'/admin/cases?process={KEY}&version=1')) == sorted(cases['all'], reverse=True)
    assert listed(web.get('/admin/cases?status=completed')) == [cases['done']]
    assert listed(web.get('/admin/cases?status=running')) == sorted(cases['all'][:3], reverse=True)
    assert listed(web.get('/admin/cases?status=cancelled')) == []
    assert listed(web.get('/admin/cases?step=社工站初审')) == sorted(cases['at_station'], reverse=True)
    assert listed(web.get(f'/admin/cases?process={KEY}&step=镇街终审')) == [cases['at_street']]
    step_box = web.get(f'/admin/cases?process={KEY}').get_data(as_text=True).split('id="f-step"')[1].split('</select>')[0]
    assert '社工站初审' in step_box and '镇街终审' in step_box and '提交服务对象信息' in step_box


@pytest.mark.parametrize('query, field, words', [
    ('process=nope', 'process', '没有这个流程'),
    ('version=1', 'version', '请先选择流程'),
    (f'process={KEY}&version=7', 'version', '该流程没有这个版本'),
    ('status=lost', 'status', '状态无效'),
    ('step=不存在的步骤', 'step', '没有这个步骤'),
    ('from=2026-02-30', 'from', '日期不存在'),
    ('from=2026-11-30&to=2026-11-01', 'from', '开始日期不能晚于结束日期'),
])
def test_bad_filter_is_explained_and_kept(login, cases, query, field, words):
    page = login('admin').get(f'/admin/cases?{query}')
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert words in html.split('id="filter-errors"')[1].split('</div>')[0]
    assert '<tbody>' not in html  # no list under a refused filter


def test_search_by_title_number_submitter_and_id_number(api, login, cases):
    web = login('admin')
    assert listed(web.get('/admin/cases?q=长者〇二号')) == [cases['at_station'][1]]
    assert listed(web.get(f'/admin/cases?q=%23{cases["at_street"]}')) == [cases['at_street']]
    assert listed(web.get(f'/admin/cases?q=%23{cases["done"]}')) == [cases['done']]
    assert cases['done'] in listed(web.get(f'/admin/cases?q={cases["done"]}'))  # and the titles with that number
    assert listed(web.get('/admin/cases?q=%2399999')) == []
    assert listed(web.get('/admin/cases?q=张建国')) == sorted(cases['all'], reverse=True)
    assert listed(web.get('/admin/cases?q=vol_zhang')) == sorted(cases['all'], reverse=True)
    assert listed(web.get(f'/admin/cases?q={unique_id(3)}')) == [cases['at_street']]  # the full ID number
    assert listed(web.get('/admin/cases?q=谁也不是')) == []
    assert '没有符合条件的案件' in web.get('/admin/cases?q=谁也不是').get_data(as_text=True)
    # a wildcard is a character, not a pattern
    assert listed(web.get('/admin/cases?q=%25')) == []


def test_date_range_of_creation_in_beijing_days(login, cases):
    web = login('admin')
    today = utcnow().astimezone(BEIJING).date()
    old = cases['at_station'][0]
    with transaction():
        db.session.get(WorkflowInstance, old).created_at = utcnow() - timedelta(days=10)
    day = (today - timedelta(days=10)).isoformat()
    assert listed(web.get(f'/admin/cases?from={today}&to={today}')) == sorted(
        set(cases['all']) - {old}, reverse=True)
    assert listed(web.get(f'/admin/cases?from={day}&to={day}')) == [old]
    assert listed(web.get(f'/admin/cases?to={day}')) == [old]
    assert listed(web.get(f'/admin/cases?from={today + timedelta(days=1)}')) == []


def test_paging_keeps_the_filters(login, cases, monkeypatch):
    monkeypatch.setattr(case_list, 'PER_PAGE', 2)
    web = login('admin')
    first = web.get(f'/admin/cases?process={KEY}&status=running')
    html = first.get_data(as_text=True)
    assert listed(first) == sorted(cases['all'][:3], reverse=True)[:2]
    assert '第 1 / 2 页，共 3 条' in html
    nxt = re.search(r'href="([^"]*page=2[^"]*)"', html).group(1).replace('&amp;', '&')
    assert 'status=running' in nxt and f'process={KEY}' in nxt
    assert listed(web.get(nxt)) == [min(cases['all'][:3])]


def _open_row(instance_id) -> HumanTask:
    db.session.expire_all()
    return db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                      HumanTask.status == 'open')).one()


def _side(web, instance_id) -> str:
    html = web.get(f'/admin/instances/{instance_id}').get_data(as_text=True)
    return html.split('class="iv-side card"')[1].split('id="reset"')[0]


def test_case_page_shows_who_can_act_and_warns_when_nobody_can(login, cases):
    web = login('admin')
    side = _side(web, cases['at_street'])
    assert '镇（街）管理员' in side  # the lane's role
    assert '西村街' in side and '新市街' in side  # household and residence streets: the task's scope
    assert 'street_xicun' in side or '西村街' in side.split('可办理的账号')[1]
    assert NO_ACTOR not in side
    # a task whose scope rows are gone is seen by nobody: the page says so and points at 回退
    task = _open_row(cases['at_street'])
    with transaction():
        db.session.execute(delete(HumanTaskScope).where(HumanTaskScope.human_task_id == task.id))
    side = _side(web, cases['at_street'])
    assert NO_ACTOR in side and 'href="#reset"' in side and '回退到已完成的步骤' in side
    # a submitter's own form names the submitter, never a warning
    side = _side(web, cases['all'][0])
    assert NO_ACTOR not in side


def test_case_page_names_the_accounts_and_warns_when_none_holds_the_role(login, cases):
    web = login('admin')
    at_station = cases['at_station'][0]
    side = _side(web, at_station)
    assert '社工站账号' in side and '西村街社工站（station_xicun）' in side and '新市街社工站（station_xinshi）' in side
    with transaction():
        for user in User.query.filter(User.username.in_(['station_xicun', 'station_xinshi'])):
            user.active = False
    side = _side(web, at_station)
    assert '无人可办理：管辖范围内没有“社工站账号”的账号，任何审核人都看不到它' in side
    assert 'station_xicun' not in side and '开通“社工站账号”账号' in side and 'href="#reset"' in side


def _deploy_unchecked(monkeypatch, xml):
    """A version published before the diagram check refused a review step without a scope variable (an old
    version still running cases in production): deployed with the lint switched off."""
    from app.services import instances
    from workflows import deployment
    monkeypatch.setattr(deployment, '_lint_parsed', lambda *a, **k: [])
    with transaction():
        version = instances.deploy(KEY, xml)
    monkeypatch.undo()
    return version.version


def test_migration_gives_a_stuck_task_the_scope_of_the_corrected_version(api, login, monkeypatch):
    admin, vol, station = api('admin'), api('vol_zhang'), api('station_xicun')
    assert STATION_SCOPE in BASE
    broken = _deploy_unchecked(monkeypatch, BASE.replace(STATION_SCOPE, b''))
    stuck = submit(vol, 7)
    assert open_task(station, stuck) is None  # the station review fell back to the whole city: nobody sees it
    web = login('admin')
    side = _side(web, stuck)
    assert NO_ACTOR in side and '流程图没有为此步骤指定管辖范围' in side
    # the corrected diagram (the station scope back, one label changed) is published and the case migrated
    fixed = BASE.replace('name="已入库"'.encode(), 'name="已入库（完成）"'.encode())
    draft = admin.client.post(f'/api/v1/processes/{KEY}/drafts', data=fixed, headers={**admin.headers, **XML})
    assert draft.status_code == 201 and draft.get_json()['problems'] == [], draft.get_json()
    pub = admin.post(f'/processes/{KEY}/drafts/{draft.get_json()["draft_id"]}/publish')
    assert pub.status_code == 201, pub.get_json()
    new = pub.get_json()['version']
    guid = _open_row(stuck).task_guid
    moved = admin.post(f'/processes/{KEY}/migrations', json={'from_version': broken, 'to_version': new,
                                                            'dry_run': False})
    assert moved.status_code == 200 and moved.get_json()['moved'] == [stuck], moved.get_json()
    row = _open_row(stuck)
    assert row.task_guid == guid and sorted(s.org_unit.code for s in row.scopes) == ['xicun_station', 'xinshi_station']
    assert all(s.is_open and s.lane == 'station_admin' for s in row.scopes)
    side = _side(web, stuck)
    assert NO_ACTOR not in side and '西村街社工站' in side
    approve(station, stuck)  # in the station's inbox again, and it can act
    assert open_task(api('street_xicun'), stuck) is not None


def test_migration_keeps_scope_and_claim_when_nothing_about_the_task_changed(api, login):
    admin, vol, station = api('admin'), api('vol_zhang'), api('station_xicun')
    inst = submit(vol, 8)
    task = open_task(station, inst)
    assert station.post(f'/tasks/{task["id"]}/claim').status_code in (200, 201)
    fixed = BASE.replace('name="已入库"'.encode(), 'name="已入库（完成）"'.encode())
    draft = admin.client.post(f'/api/v1/processes/{KEY}/drafts', data=fixed, headers={**admin.headers, **XML})
    admin.post(f'/processes/{KEY}/drafts/{draft.get_json()["draft_id"]}/publish')
    moved = admin.post(f'/processes/{KEY}/migrations', json={'from_version': 1, 'to_version': 2, 'dry_run': False})
    assert moved.get_json()['moved'] == [inst]
    row = _open_row(inst)
    assert row.claimed_by_id is not None and sorted(s.org_unit.code for s in row.scopes) == ['xicun_station', 'xinshi_station']


def test_the_process_list_leads_to_the_cases(login, cases):
    html = login('admin').get('/admin/processes').get_data(as_text=True)
    assert 'href="/admin/cases">案件列表</a>' in html
    assert f'href="/admin/cases?process={KEY}&amp;status=running">3</a>' in html, 'the running count opens them'
    assert f'href="/admin/cases?process={KEY}">案件</a>' in html
