"""A busy station reviewer on the desktop: search by ID number, batch results that survive a reload, the list kept
through a decision with 办理下一件, tab counts, a page past the end, and a visible keyboard focus."""
import importlib.util
import pathlib
import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Decision, HumanTask
from app.services.validators import mask_id
from tests.helpers import name_no
from tests.web.conftest import open_task, submit, unique_id

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _cases(api, n, start=0):
    """n service-object cases at the station step: [(station task id, name, ID number)], newest last."""
    vol, station = api('vol_zhang'), api('station_xicun')
    out = []
    for i in range(start, start + n):
        inst = submit(vol, i)
        out.append((open_task(station, inst)['id'], f'长者{name_no(i)}号', unique_id(i)))
    return out


def _found(client, q, state='open'):
    return [t['id'] for t in client.get('/tasks', query_string={'q': q, 'state': state}).get_json()['items']]


def _linked(html, task_id):
    return re.search(rf'/inbox/tasks/{task_id}["?]', html) is not None


def _query(location):
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


# ------------------------------------------------------------------------------------------------- 1. search

def test_a_full_id_number_finds_its_case_and_the_masked_part_finds_nothing(api, login):
    cases = _cases(api, 3)
    station = api('station_xicun')
    (t0, _, id0), (t1, name1, id1), _ = cases
    assert _found(station, id1) == [t1]                                      # the full number: exactly that case
    spaced = f' {id1[:6]} {id1[6:14]} {id1[14:].lower()} '                  # typed with spaces (and a small x)
    assert _found(station, spaced) == [t1]
    assert _found(station, id1[-4:]) == [t1]                                 # the last 4, as before
    assert _found(station, name1) == [t1]
    assert _found(station, mask_id(id1)) == [t1]                             # the masked number copied from a list
    for nothing in (id1[:4], id1[:6], id1[:10], '*', '**********', id1[:17] + ('0' if id1[-1] != '0' else '1')):
        assert _found(station, nothing) == [], nothing                       # the start of every number: no match
    page = login('station_xicun')
    html = page.get('/inbox', query_string={'q': id1}).get_data(as_text=True)
    assert _linked(html, t1) and not _linked(html, t0)
    assert id1 not in re.sub(r'<[^>]*>', '', html)                            # no full number shown on the page
    hinted = page.get('/inbox', query_string={'q': id1[:6]}).get_data(as_text=True)
    assert '身份证号码请输入完整的18位，或只输入后4位' in hinted
    # a decided case too, in its tab
    assert station.post(f'/tasks/{t0}/complete', json={'decision': 'approve'}).status_code == 200
    assert _found(station, id0, 'approved') == [t0] and _found(station, id0[:6], 'approved') == []


def test_tasks_written_before_the_id_key_get_it_from_the_migration_backfill(api):
    (t0, _, id0), = _cases(api, 1)
    station = api('station_xicun')
    masked = db.session.scalar(select(HumanTask.search_text).where(HumanTask.id == t0))
    db.session.execute(update(HumanTask).where(HumanTask.id == t0).values(
        id_key=None, search_text=masked.replace(id0[-4:], mask_id(id0))))  # as the old code wrote it
    db.session.commit()
    assert _found(station, id0) == [] and _found(station, id0[:4]) == [t0]
    path = ROOT / 'app/migrations/versions/e2a7c4d9b3f1_task_id_search_key.py'
    spec = importlib.util.spec_from_file_location('e2_backfill', path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration.backfill(db.session.connection())
    db.session.commit()
    assert _found(station, id0) == [t0] and _found(station, id0[:4]) == [] and _found(station, id0[-4:]) == [t0]


# --------------------------------------------------------------------------------------- 2. batch, reloaded

def test_a_batch_result_page_survives_a_reload_without_running_the_batch_again(api, login):
    cases = _cases(api, 3)
    ids = [t for t, _, _ in cases]
    page = login('station_xicun')
    resp = page.post('/inbox/batch', data={'task_ids': [str(i) for i in ids], 'decision': 'approve',
                                          'list_q': '长者', 'list_page': '1'})
    assert resp.status_code == 302 and urlsplit(resp.headers['Location']).path == '/inbox/batch'
    decisions = db.session.scalar(select(func.count()).select_from(Decision))
    first, again = (page.get('/inbox/batch').get_data(as_text=True) for _ in range(2))
    for html in (first, again):
        assert '成功 3 条，失败 0 条' in html and '失败' in html and '该任务已被处理' not in html
        assert all(name in html for _, name, _ in cases)
        assert 'href="/inbox?q=' in html                                     # back to the list it came from
    assert db.session.scalar(select(func.count()).select_from(Decision)) == decisions
    # another reviewer signed in on this browser later does not see it
    other = login('station_xicun')
    assert other.get('/inbox/batch').status_code == 302


# ------------------------------------------------------------------------- 3. the list kept, 办理下一件

def test_a_decision_returns_to_the_same_list_and_offers_the_next_task(api, login):
    cases = _cases(api, 23)  # 2 pages; the list is newest first
    page = login('station_xicun')
    ctx = {'q': '长者', 'page': '2'}
    listing = page.get('/inbox', query_string=ctx).get_data(as_text=True)
    on_page_2 = [int(i) for i in re.findall(r'/inbox/tasks/(\d+)\?', listing)]
    assert len(on_page_2) == 3
    first = on_page_2[0]
    task_html = page.get(f'/inbox/tasks/{first}', query_string=ctx).get_data(as_text=True)
    assert 'href="/inbox?q=%E9%95%BF%E8%80%85&amp;page=2"' in task_html          # 返回待办: the same list
    assert 'name="list_q" value="长者"' in task_html and 'name="list_page" value="2"' in task_html
    assert '提交并办理下一件' in task_html
    resp = page.post(f'/inbox/tasks/{first}/decide', data={'decision': 'approve', 'list_q': '长者', 'list_page': '2'})
    assert resp.status_code == 302 and _query(resp.headers['Location']) == {'q': '长者', 'page': '2', 'done': str(first)}
    back = page.get(resp.headers['Location']).get_data(as_text=True)
    assert '已提交：社工站初审' in back and '办理下一件' in back                     # the flash names what was done
    # 提交并办理下一件: straight to the next task of the same list, the list still known
    resp = page.post(f'/inbox/tasks/{on_page_2[1]}/decide',
                     data={'decision': 'reject', 'reason': '照片模糊', 'then': 'next', 'list_q': '长者', 'list_page': '2'})
    nxt = page.get(resp.headers['Location'])
    assert nxt.status_code == 302
    assert urlsplit(nxt.headers['Location']).path == f'/inbox/tasks/{on_page_2[2]}'
    assert _query(nxt.headers['Location']) == {'q': '长者', 'page': '2'}
    landed = page.get(nxt.headers['Location']).get_data(as_text=True)
    assert '已提交：社工站初审' in landed and '审核结果：不通过' in landed
    # the last one of the list: the next is the first of the list again; with nothing left, the list says so
    assert page.get('/inbox/next', query_string={'after': on_page_2[2], **ctx}).headers['Location'].startswith(
        f'/inbox/tasks/{cases[-1][0]}')
    station = api('station_xicun')
    station.post('/tasks/batch', json={'task_ids': [t for t, _, _ in cases], 'decision': 'approve'})
    empty = page.get('/inbox/next', query_string={'q': '长者'}, follow_redirects=True).get_data(as_text=True)
    assert '这个列表中已没有其他可办理的待办任务' in empty
    # back on the list after the last decision: no 办理下一件 leading nowhere, the list says it is done
    finished = page.get('/inbox', query_string={'q': '长者', 'done': cases[0][0]}).get_data(as_text=True)
    assert '本列表的待办任务已全部办理完毕' in finished and '办理下一件' not in finished


# --------------------------------------------------------------------------- 4. counts and past the end

def test_every_tab_shows_its_count_and_a_page_past_the_end_says_so(api, login):
    cases = _cases(api, 4)
    station = api('station_xicun')
    station.post(f'/tasks/{cases[0][0]}/complete', json={'decision': 'approve'})
    station.post(f'/tasks/{cases[1][0]}/complete', json={'decision': 'reject', 'reason': '材料不全'})
    page = login('station_xicun')
    for state in ('open', 'approved', 'rejected'):
        html = page.get('/inbox', query_string={'state': state}).get_data(as_text=True)
        counts = re.findall(r'(未审核|已通过|未通过)<span class="count">(\d+)</span>', html)
        assert counts == [('未审核', '2'), ('已通过', '1'), ('未通过', '1')], (state, counts)
    searched = page.get('/inbox', query_string={'q': cases[2][1]}).get_data(as_text=True)
    assert re.findall(r'<span class="count">(\d+)</span>', searched) == ['1', '0', '0']
    past = page.get('/inbox', query_string={'page': 2}).get_data(as_text=True)
    assert '第 2 页已超出列表末尾（共 1 页）' in past and '暂无待审核的任务' not in past
    assert '回到最后一页（第 1 页）' in past and 'href="/inbox">回到最后一页' in past


# ------------------------------------------------------------------------------------------ 5. focus

def test_keyboard_focus_on_inputs_is_a_solid_ring():
    css = (ROOT / 'app/static/css/app.css').read_text(encoding='utf-8')
    assert 'rgba(11,87,208,.35)' not in css                                  # the pale 1.9:1 ring is gone
    rule = re.search(r'input:focus-visible, select:focus-visible, textarea:focus-visible \{([^}]*)\}', css)
    assert rule and 'outline:3px solid var(--focus)' in rule.group(1)
    assert '--focus:#0b57d0' in css
