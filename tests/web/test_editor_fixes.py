"""Process administration fixes (audit 13): a draft edited from an older version is not published over a newer one,
steps without a way out and processes without an end event are refused, the editor's own draft is replaced instead
of piling up, the editor heading in English, the operator's recovery form, single-letter sensitive words."""
import re
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


def renamed(name='社工站初审（新）', xml=BASE) -> bytes:
    """The shipped diagram with the station's review renamed: a change, which publishing accepts."""
    return xml.replace('name="社工站初审"'.encode(), f'name="{name}"'.encode())


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
    other = draft(admin, renamed()).get_json()['draft_id']  # a script's draft: a new one
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


# ---------------------------------------------------------------- editor walk: 管辖范围变量 (scope variables)

STREET_SCOPE = b'<spiffworkflow:property name="scope" value="street_scope"/>'
STATION_SCOPE = b'<spiffworkflow:property name="scope" value="station_scope"/>'


def street_lane_as(role: str, xml=BASE) -> bytes:
    return xml.replace(b'id="Lane_street_admin" name="street_admin"', f'id="Lane_street_admin" name="{role}"'.encode())


def problems_of(admin, xml, key=KEY):
    resp = draft(admin, xml, key)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()['draft_id'], resp.get_json()['problems']


@pytest.mark.parametrize('xml, words', [
    # the walk: a district review step whose scope was left empty, or names a variable nobody provides
    (street_lane_as('district_admin').replace(STREET_SCOPE, b''),
     ('“镇街终审”（street_review）', '区民政局', '没有设置管辖范围变量', 'street_scope（服务对象的户籍街道和居住街道）')),
    (street_lane_as('district_admin').replace(STREET_SCOPE, STREET_SCOPE.replace(b'street_scope', b'district_scope')),
     ('“镇街终审”（street_review）', '“district_scope”不是本流程提供的变量', '请改选：street_scope')),
    (BASE.replace(STREET_SCOPE, STREET_SCOPE.replace(b'street_scope', b' street_scope')),
     ('“镇街终审”（street_review）', '不是本流程提供的变量')),
    # a station's step scoped to the streets: no station account is at or above a street
    (BASE.replace(STATION_SCOPE, STREET_SCOPE),
     ('“社工站初审”（station_review）', '社工站账号', '“street_scope”（服务对象的户籍街道和居住街道）不在', 'station_scope')),
], ids=['district-empty', 'district-unknown', 'padded', 'station-sees-no-street'])
def test_a_reviewer_step_without_a_scope_it_can_see_is_refused(admin, xml, words):
    draft_id, problems = problems_of(admin, xml)
    assert len(problems) == 1, problems
    [problem] = problems
    assert problem['element_id'] in ('street_review', 'station_review') and problem['line']
    for w in words:
        assert w in problem['message'], (w, problem['message'])
    resp = publish(admin, draft_id)
    assert resp.status_code == 422 and resp.get_json()['problems'][0]['message'] == problem['message']
    assert versions(admin) == [1]


def test_a_district_step_with_a_provided_scope_publishes_and_reaches_the_district(api, admin):
    draft_id, problems = problems_of(admin, street_lane_as('district_admin'))
    assert problems == []
    assert publish(admin, draft_id).status_code == 201
    inst = case_at_street(api)
    assert open_task(api('district_liwan'), inst) is not None and open_task(api('street_xicun'), inst) is None


def test_a_city_wide_step_needs_no_scope_but_a_named_one_must_exist(api, admin):
    """The association, the veterans bureau and the process admins hold their role on the city: a task without a
    scope is scoped to the city, which they see. A name the process does not provide is still refused."""
    no_scope = street_to_association().replace(STREET_SCOPE, b'')
    draft_id, problems = problems_of(admin, no_scope)
    assert problems == []
    assert publish(admin, draft_id).status_code == 201
    inst = case_at_street(api)
    assert open_task(api('gzva'), inst) is not None
    typo = street_to_association().replace(STREET_SCOPE, STREET_SCOPE.replace(b'street_scope', b'review_scope'))
    _draft_id, problems = problems_of(admin, typo)
    assert [p['element_id'] for p in problems] == ['street_review']
    assert '“review_scope”不是本流程提供的变量' in problems[0]['message'] and '留空（全市）' in problems[0]['message']


SHIPPED = sorted(p.stem for p in (ROOT / 'bpmn').glob('*.bpmn'))


@pytest.mark.parametrize('key', SHIPPED)
def test_every_shipped_diagram_passes_and_a_change_of_it_publishes(admin, key):
    """Each process declares the scope variables its diagram's steps use, and the diagram deploys."""
    xml = (ROOT / 'bpmn' / f'{key}.bpmn').read_bytes()
    draft_id, problems = problems_of(admin, xml, key)
    assert problems == [], problems
    changed = re.sub(rb'(<bpmn:process id="%s"[^>]*name=")' % key.encode(), rb'\1(new) ', xml, count=1)
    assert changed != xml
    draft_id, problems = problems_of(admin, changed, key)
    assert problems == [] and publish(admin, draft_id, key).status_code == 201
    assert versions(admin, key) == [2, 1]


def test_every_scope_a_shipped_diagram_uses_is_declared_by_its_process():
    from app.services.hooks import hooks_for
    for key in SHIPPED:
        root = etree.fromstring((ROOT / 'bpmn' / f'{key}.bpmn').read_bytes())
        used = {p.get('value') for p in root.iter('{*}property') if p.get('name') == 'scope'}
        assert used and used <= set(hooks_for(key).scope_variables), (key, used)


# ---------------------------------------------------------------- editor walk: publishing nothing new

def test_publishing_the_current_diagram_again_is_refused(admin, login):
    resp = draft(admin, BASE)
    assert resp.get_json()['same_as'] == {'version': 1, 'message': '与当前版本 v1 相同，无需发布'}
    refused = publish(admin, resp.get_json()['draft_id'])
    assert refused.status_code == 409 and refused.get_json()['error'] == 'unchanged'
    assert refused.get_json()['message'] == '与当前版本 v1 相同，无需发布'
    # the editor re-writes the file (indentation, layout): not a change either
    moved = BASE.replace(b'\n    ', b'\n      ').replace(b'<dc:Bounds x="', b'<dc:Bounds x="1')
    assert moved != BASE
    web = login('admin')
    saved = web.post(f'/admin/api/processes/{KEY}/drafts?base_version=1', data=moved, headers=XML).get_json()
    assert saved['problems'] == [] and '图形布局和格式不算修改' in saved['same_as']['message']
    refused = web.post(f'/admin/api/processes/{KEY}/drafts/{saved["draft_id"]}/publish')
    assert refused.status_code == 409 and '与当前版本 v1 相同' in refused.get_json()['message']
    assert versions(admin) == [1]
    # a real change publishes; publishing it once more is the same as v2
    changed = draft(admin, renamed()).get_json()
    assert changed['same_as'] is None and publish(admin, changed['draft_id']).status_code == 201
    again = draft(admin, renamed()).get_json()
    assert again['same_as']['version'] == 2 and publish(admin, again['draft_id']).status_code == 409
    assert versions(admin) == [2, 1]


# ---------------------------------------------------------------- editor walk: a saved draft is reopened

def editor_config(html: str) -> dict:
    import json
    return json.loads(html.split('id="editor-config">', 1)[1].split('</script>', 1)[0])


def test_a_saved_draft_is_reopened_from_the_list_and_by_the_editor(admin, login):
    web = login('admin')
    url = f'/admin/api/processes/{KEY}/drafts'
    # a publish click without changes leaves a draft the same as v1: nothing to pick up
    web.post(url + '?base_version=1', data=BASE, headers=XML)
    listing = web.get('/admin/processes').get_data(as_text=True)
    assert '打开草稿' not in listing and editor_config(web.get(f'/admin/processes/{KEY}').get_data(as_text=True))['draft'] is None

    saved = web.post(url + '?base_version=1', data=renamed('社工站复核'), headers=XML).get_json()['draft_id']
    listing = web.get('/admin/processes').get_data(as_text=True)
    link = f'href="/admin/processes/{KEY}?draft={saved}"'
    assert link in listing and f'1 · 打开草稿 #{saved}</a>' in listing

    for page_url in (f'/admin/processes/{KEY}', f'/admin/processes/{KEY}?draft={saved}'):
        html = web.get(page_url).get_data(as_text=True)
        heading = html.split('id="ed-source">', 1)[1].split('</p>', 1)[0]
        assert f'正在编辑草稿 #{saved}（保存于 ' in heading and '），基于版本 v1' in heading
        assert f'href="/admin/processes/{KEY}?published=1"' in heading and '改为打开已发布版本 v1' in heading
        cfg = editor_config(html)
        assert cfg['draft']['id'] == saved and cfg['draft']['mine'] is True and cfg['draft']['base_version'] == 1
        assert cfg['draft']['problems'] == []
    assert '社工站复核' in web.get(f'/admin/api/processes/{KEY}/bpmn?draft={saved}').get_data(as_text=True)

    back = web.get(f'/admin/processes/{KEY}?published=1').get_data(as_text=True)
    heading = back.split('id="ed-source">', 1)[1].split('</p>', 1)[0]
    assert '正在编辑：已发布版本 v1' in heading and f'?draft={saved}"' in heading and f'打开未发布的草稿 #{saved}' in heading
    assert editor_config(back)['draft'] is None

    # once published (or made stale by a newer version) the draft is no longer offered
    assert publish(admin, saved).status_code == 201
    assert editor_config(web.get(f'/admin/processes/{KEY}').get_data(as_text=True))['draft'] is None
    assert editor_config(web.get(f'/admin/processes/{KEY}?draft={saved}').get_data(as_text=True))['draft'] is None
    assert '打开草稿' not in web.get('/admin/processes').get_data(as_text=True)


def test_another_admins_draft_opens_and_is_saved_as_ones_own(api, login):
    from app.services.accounts import create_user
    create_user('admin2', '第二管理员', 'process_admin', 'gz', 'demo1234')
    theirs = draft(api('admin2'), renamed('社工站复核')).get_json()['draft_id']
    web = login('admin')
    html = web.get(f'/admin/processes/{KEY}').get_data(as_text=True)
    cfg = editor_config(html)
    assert cfg['draft']['id'] == theirs and cfg['draft']['mine'] is False
    assert '（由 第二管理员 保存；您再保存时会另存为您自己的草稿）' in html.split('id="ed-source">', 1)[1].split('</p>', 1)[0]
    # the editor saves without replace= then: admin2's draft stays as it was
    mine = web.post(f'/admin/api/processes/{KEY}/drafts?base_version=1&replace={theirs}', data=renamed('社工站再审'),
                    headers=XML).get_json()['draft_id']
    assert mine != theirs and draft_count() == 2


# ---------------------------------------------------------------- editor walk: what the editor's pickers offer

def test_editor_offers_the_process_scope_variables_and_the_condition_variables(login):
    web = login('admin')
    cfg = editor_config(web.get('/admin/processes/v_order').get_data(as_text=True))
    scopes = {s['name']: s for s in cfg['options']['scopes']}
    assert set(scopes) == {'station_scope', 'street_scope', 'review_scope', 'provider_scope'}
    assert scopes['street_scope']['label'] == '订单的服务街道'
    assert 'station_admin' not in scopes['street_scope']['roles'] and 'street_admin' in scopes['street_scope']['roles']
    assert scopes['review_scope']['roles'] == ['association_admin', 'process_admin', 'veterans_admin']
    assert {'association_admin', 'veterans_admin', 'process_admin'} == set(cfg['options']['cityRoles'])
    assert {'order_id', 'revision'} <= {d['name'] for d in cfg['options']['data']}
    review = next(f for f in cfg['options']['forms'] if f['name'] == 'v_order_review.json')
    decision = next(f for f in review['fields'] if f['name'] == 'decision')
    assert decision['label'] == '审核结果' and decision['values'] == [['approve', '通过'], ['reject', '不通过']]
    gift = editor_config(web.get('/admin/processes/relative_gift').get_data(as_text=True))['options']
    assert gift['unkeptForms'] == ['relative_gift.json'] and [s['name'] for s in gift['scopes']] == ['review_scope']
