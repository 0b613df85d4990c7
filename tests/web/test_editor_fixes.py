"""Process administration fixes (audit 13): a draft edited from an older version is not published over a newer one,
steps without a way out and processes without an end event are refused, the editor's own draft is replaced instead
of piling up, the editor heading in English, the operator's recovery form, single-letter sensitive words."""
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from app.extensions import db
from app.models import Decision, User, WorkflowDraft
from app.services import process_admin
from app.services.errors import Forbidden
from app.services.instances import reset_instance
from tests.helpers import start_entry
from tests.web.conftest import open_task
from tests.web.test_process_admin import BASE, KEY, XML, draft, street_to_association

ROOT = Path(__file__).resolve().parents[2]
V_ORDER = (ROOT / 'bpmn' / 'v_order.bpmn').read_bytes()
NS = {'bpmn': 'http://www.omg.org/spec/BPMN/20100524/MODEL', 'bpmndi': 'http://www.omg.org/spec/BPMN/20100524/DI'}


@pytest.fixture
def admin(api):
    return api('admin')


def versions(admin, key=KEY):
    return [v['version'] for v in admin.get(f'/processes/{key}/versions').get_json()]


def publish(admin, draft_id, key=KEY):
    return admin.post(f'/processes/{key}/drafts/{draft_id}/publish')


def user(name):
    return db.session.scalar(select(User).where(User.username == name))


# ---------------------------------------------------------------- 1. lost update

def test_draft_from_an_older_version_is_not_published_over_a_newer_one(admin):
    """Two edits start from v1; the first is published as v2; the second is refused (409, who, when, what to do)
    instead of silently becoming v3 without the first one's change."""
    first = draft(admin, street_to_association()).get_json()
    second = draft(admin, BASE.replace('name="社工站初审"'.encode(), 'name="社工站审核（B改）"'.encode())).get_json()
    assert first['base_version'] == second['base_version'] == 1
    assert publish(admin, first['draft_id']).status_code == 201
    resp = publish(admin, second['draft_id'])
    assert resp.status_code == 409, resp.get_json()
    body = resp.get_json()
    assert body['error'] == 'stale_draft'
    for words in ('流程管理员', '发布了版本 v2', 'v1 上修改', '请打开最新版本重新修改'):
        assert words in body['message'], body['message']
    assert versions(admin) == [2, 1]
    # an edit of v2 goes through
    again = draft(admin, BASE, ).get_json()
    assert again['base_version'] == 2 and publish(admin, again['draft_id']).status_code == 201


def test_editor_page_sends_its_base_version_and_is_refused_when_stale(admin, login):
    web = login('admin')
    url = f'/admin/api/processes/{KEY}/drafts'
    assert publish(admin, draft(admin, street_to_association()).get_json()['draft_id']).status_code == 201
    stale = web.post(url + '?base_version=1', data=BASE, headers=XML)
    assert stale.status_code == 201 and stale.get_json()['base_version'] == 1
    resp = web.post(f'{url}/{stale.get_json()["draft_id"]}/publish')
    assert resp.status_code == 409 and '请打开最新版本重新修改' in resp.get_json()['message']
    # opening an old version to roll back is fine: the page says it knew of v2
    fresh = web.post(url + '?base_version=2', data=BASE, headers=XML).get_json()
    assert web.post(f'{url}/{fresh["draft_id"]}/publish').status_code == 201
    assert versions(admin) == [3, 2, 1]
    for bad in ('99', 'x', '-1'):
        resp = web.post(f'{url}?base_version={bad}', data=BASE, headers=XML)
        assert resp.status_code == 422 and 'base_version' in resp.get_json()['errors'], resp.get_json()


# ---------------------------------------------------------------- 5. drafts do not pile up

def draft_count(key=KEY):
    return next(r['drafts'] for r in process_admin.overview(user('admin')) if r['key'] == key)


def test_editor_saves_over_its_own_draft_and_stale_drafts_are_not_counted(admin, login):
    web = login('admin')
    url = f'/admin/api/processes/{KEY}/drafts'
    first = web.post(url + '?base_version=1', data=BASE, headers=XML).get_json()['draft_id']
    for xml in (street_to_association(), BASE, street_to_association()):   # check, check, publish click
        assert web.post(f'{url}?base_version=1&replace={first}', data=xml, headers=XML).get_json()['draft_id'] == first
    assert draft_count() == 1
    db.session.expire_all()
    assert db.session.get(WorkflowDraft, first).xml == street_to_association()
    other = draft(admin, BASE).get_json()['draft_id']       # a script's draft: a new one
    assert other != first and draft_count() == 2
    assert web.post(f'{url}/{first}/publish').status_code == 201
    assert draft_count() == 0                                # `other` was made from v1: it can no longer be published
    # a published draft is never overwritten: the next save makes a new one
    after = web.post(f'{url}?base_version=2&replace={first}', data=BASE, headers=XML).get_json()['draft_id']
    assert after not in (first, other) and draft_count() == 1


# ---------------------------------------------------------------- 2. end events and dead ends

def without(xml: bytes, *ids: str) -> bytes:
    """The diagram with the elements removed as the editor's Delete key does: the element, its flows, the
    references to them and their shapes."""
    root = etree.fromstring(xml)
    gone = set(ids)
    for flow in root.iterfind('.//bpmn:sequenceFlow', NS):
        if flow.get('sourceRef') in gone or flow.get('targetRef') in gone:
            gone.add(flow.get('id'))
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        ref = (el.text or '').strip() if el.tag.split('}')[-1] in ('incoming', 'outgoing', 'flowNodeRef') else None
        if el.get('id') in gone or el.get('bpmnElement') in gone or ref in gone:
            el.getparent().remove(el)
    return etree.tostring(root, xml_declaration=True, encoding='UTF-8')


@pytest.mark.parametrize('key,end,before,name', [
    ('v_order', 'end_done', 'award', '发放积分'), ('v_order', 'end_remind7', 'remind7', None),
    ('v_order', 'end_abandoned', 'abandon', None), (KEY, 'end_approved', 'approve', '入库')])
def test_deleted_end_event_leaves_a_step_without_a_way_out(admin, key, end, before, name):
    xml = V_ORDER if key == 'v_order' else BASE
    resp = draft(admin, without(xml, end), key)
    assert resp.status_code == 201, resp.get_json()
    problems = resp.get_json()['problems']
    assert [p['element_id'] for p in problems] == [before], problems
    assert '没有出口' in problems[0]['message'] and problems[0]['line']
    if name:
        assert name in problems[0]['message']
    assert publish(admin, resp.get_json()['draft_id'], key).status_code == 422
    assert versions(admin, key) == [1]


def test_diagram_without_any_end_event_is_refused(admin):
    ends = [el.get('id') for el in etree.fromstring(BASE).iterfind('.//bpmn:endEvent', NS)]
    resp = draft(admin, without(BASE, *ends))
    problems = resp.get_json()['problems']
    assert any(p['element_id'] == KEY and '没有结束事件' in p['message'] for p in problems), problems
    assert publish(admin, resp.get_json()['draft_id']).status_code == 422


def test_shipped_diagrams_still_pass(admin):
    for key in ('service_object_entry', 'v_order', 'activity_publish', 'relative_gift'):
        xml = (ROOT / 'bpmn' / f'{key}.bpmn').read_bytes()
        assert draft(admin, xml, key).get_json()['problems'] == [], key


# ---------------------------------------------------------------- 4. heading in English

def test_editor_heading_names_the_process_in_english(login):
    html = login('admin').get('/admin/processes/v_order?lang=en').get_data(as_text=True)
    heading = html.split('<h1>', 1)[1].split('</h1>', 1)[0]
    title = html.split('<title>', 1)[1].split('</title>', 1)[0]
    assert '耆望成真' not in heading and '耆望成真' not in title, (heading, title)


# ---------------------------------------------------------------- 6. operator recovery

def case_at_street(api):
    vol, station = api('vol_zhang'), api('station_xicun')
    inst = start_entry(vol).get_json()['instance']['id']
    assert station.post(f'/tasks/{open_task(station, inst)["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    return inst


def test_admin_sends_a_case_back_to_a_completed_step(api, login):
    inst = case_at_street(api)
    web = login('admin')
    page = web.get(f'/admin/instances/{inst}').get_data(as_text=True)
    assert '回退到已完成的步骤' in page and 'value="station_review"' in page and 'value="street_review"' not in page
    url = f'/admin/instances/{inst}/reset'

    refused = web.post(url, data={'bpmn_id': 'station_review', 'reason': ''})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and '请填写回退原因' in html and '请勾选确认' in html
    assert 'value="station_review" selected' in html
    kept = web.post(url, data={'bpmn_id': 'street_review', 'reason': '误批，重新审核'})
    assert kept.status_code == 422 and '误批，重新审核</textarea>' in kept.get_data(as_text=True)
    assert '请选择要回退到的步骤' in kept.get_data(as_text=True)
    assert open_task(api('station_xicun'), inst) is None

    done = web.post(url, data={'bpmn_id': 'station_review', 'reason': '误批，重新审核', 'confirm': '1'},
                    follow_redirects=True)
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and '已回退到“社工站初审”。当前步骤：社工站初审' in html
    assert open_task(api('station_xicun'), inst) is not None and open_task(api('street_xicun'), inst) is None
    row = db.session.scalar(select(Decision).where(Decision.instance_id == inst, Decision.decision == 'reset'))
    assert row.reason == '误批，重新审核' and row.bpmn_id == 'station_review' and row.actor.username == 'admin'


def test_only_process_admins_may_reset(api, login):
    inst = case_at_street(api)
    data = {'bpmn_id': 'station_review', 'reason': '误批', 'confirm': '1'}
    for name in ('gzva', 'station_xicun', 'street_xicun'):
        assert login(name).post(f'/admin/instances/{inst}/reset', data=data).status_code == 403
    with pytest.raises(Forbidden):
        reset_instance(user('gzva'), inst, 'station_review', '误批')
    assert db.session.scalar(select(func.count()).select_from(Decision).where(Decision.decision == 'reset')) == 0
    assert open_task(api('street_xicun'), inst) is not None


# ---------------------------------------------------------------- 7. sensitive words

@pytest.mark.parametrize('word', ['a', 'Ａ', '7', ' x '])
def test_single_letter_or_digit_is_not_a_sensitive_word(api, login, word):
    resp = api('gzva').post('/sensitive-words', json={'word': word})
    assert resp.status_code == 422, resp.get_json()
    assert '只有一个字母或数字' in str(resp.get_json())
    page = login('gzva').post('/activities/admin/words', data={'words': f'赌博\n{word}'})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and '只有一个字母或数字' in html and '赌博' in html


def test_single_chinese_character_is_a_sensitive_word(api):
    assert api('gzva').post('/sensitive-words', json={'word': '赌'}).status_code == 201
    assert api('gzva').post('/sensitive-words', json={'word': 'ab'}).status_code == 201
