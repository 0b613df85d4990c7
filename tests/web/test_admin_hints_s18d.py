"""walk_office #3 (admin hint), #6, #7 as the process admin meets them outside the browser: the shipped V-order's
switch flow reads true whether on or off, a migration names the steps that block a case by their names and lists
the movable cases with their titles, a draft refused as stale stays reachable with what it changed, and a case
stuck because its street has no 社工站 says how to create the station and bring the case back."""
import re
from pathlib import Path

from lxml import etree
from sqlalchemy import delete, select

from app.extensions import db
from app.models import HumanTask, HumanTaskScope, OrgUnit, User, WorkflowDraft, WorkflowInstance
from app.services import accounts, transaction
from tests.helpers import entry_data, upload_png
from tests.web.conftest import open_task, submit, unique_id
from tests.web.test_process_admin import BASE, KEY, draft, street_to_association
from tests.web.test_v_order_lifecycle import approved_object, complete, order_data
from tests.web.test_v_order_lifecycle import open_task as order_task

ROOT = Path(__file__).resolve().parents[2]
V_ORDER = (ROOT / 'bpmn' / 'v_order.bpmn').read_bytes()
BPMN = '{http://www.omg.org/spec/BPMN/20100524/MODEL}'


def _side(web, instance_id) -> str:
    html = web.get(f'/admin/instances/{instance_id}').get_data(as_text=True)
    return html.split('class="iv-side card"')[1].split('id="reset"')[0]


def _text(html: str) -> str:
    return ' '.join(re.sub(r'<[^>]+>', ' ', html).split())


def db_title(instance_id) -> str:
    db.session.expire_all()
    return db.session.get(WorkflowInstance, instance_id).title


# ---------------------------------------------------------------- the shipped switch flow

def test_the_shipped_association_switch_is_labelled_for_both_positions():
    root = etree.fromstring(V_ORDER)
    flow = root.find(f'.//{BPMN}sequenceFlow[@id="f_assoc_on"]')
    assert flow.get('sourceRef') == 'gw_assoc' and flow.get('targetRef') == 'association_review'
    assert flow.find(f'{BPMN}conditionExpression').text == 'False', 'shipped switched off'
    name = flow.get('name')
    assert name == '广志协终审（开关）'
    assert 'True' not in name and '改为' not in name and '开启' not in name, 'the label holds when switched on'


# ---------------------------------------------------------------- migration in the admin's words

def test_a_blocked_case_is_told_by_step_name_and_movable_cases_come_with_titles(api):
    admin, vol, station, street = api('admin'), api('vol_zhang'), api('station_xicun'), api('street_xicun')
    waiting = submit(vol, 1)                 # at the station: can move
    past = submit(vol, 2)                    # the street decided once: its step changed behind it
    complete(station, open_task(station, past), decision='approve')
    complete(street, open_task(street, past), decision='reject', reason='材料不全')
    resp = draft(admin, street_to_association())
    assert admin.post(f'/processes/{KEY}/drafts/{resp.get_json()["draft_id"]}/publish').status_code == 201

    body = admin.post(f'/processes/{KEY}/migrations', json={'from_version': 1, 'to_version': 2,
                                                           'dry_run': True}).get_json()
    assert body['movable'] == [waiting]
    assert body['movable_cases'] == [{'instance_id': waiting, 'title': db_title(waiting)}]
    assert body['movable_cases'][0]['title'].startswith('长者〇一号（')
    [blocked] = body['blocked']
    assert blocked['instance_id'] == past and blocked['title'].startswith('长者〇二号（')
    # the street's lane changed: its steps (the review, its result gateway and its 退回) by their names
    assert blocked['reason'] == '已经过的步骤在新版本中被修改或删除：终审结果、终审退回、镇街终审'


def test_two_steps_of_one_name_are_told_apart_by_their_ids(api):
    """The V-order has two system steps named 退回修改: a case that went through one is blocked by that one."""
    admin, vol, station = api('admin'), api('vol_zhang'), api('station_xicun')
    so = approved_object(api)
    resp = vol.post('/processes/v_order/instances', json={'data': order_data([so])})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()['instance']['id']
    complete(station, order_task(station, inst), decision='reject', reason='时间写错了')
    # v2 renames the step the rejection went through; in v1, the version the case runs on, two steps share its name
    changed = V_ORDER.replace('<bpmn:serviceTask id="publish_rejected" name="退回修改">'.encode(),
                              '<bpmn:serviceTask id="publish_rejected" name="发布审核退回修改">'.encode())
    assert changed != V_ORDER
    resp = draft(admin, changed, 'v_order')
    assert resp.status_code == 201 and resp.get_json()['problems'] == [], resp.get_json()
    assert admin.post(f'/processes/v_order/drafts/{resp.get_json()["draft_id"]}/publish').status_code == 201
    body = admin.post('/processes/v_order/migrations', json={'from_version': 1, 'to_version': 2,
                                                            'dry_run': True}).get_json()
    reasons = {b['instance_id']: b['reason'] for b in body['blocked']}
    assert reasons[inst] == '已经过的步骤在新版本中被修改或删除：退回修改（publish_rejected）', reasons


# ---------------------------------------------------------------- a stale draft stays reachable

def test_a_draft_refused_as_stale_is_listed_and_opens_with_what_it_changed(api, login):
    admin = api('admin')
    mine = draft(admin, BASE.replace('name="社工站初审"'.encode(), 'name="社工站初审（含入户）"'.encode())).get_json()
    theirs = draft(admin, street_to_association()).get_json()
    assert admin.post(f'/processes/{KEY}/drafts/{theirs["draft_id"]}/publish').status_code == 201
    refused = admin.post(f'/processes/{KEY}/drafts/{mine["draft_id"]}/publish')
    assert refused.status_code == 409 and refused.get_json()['error'] == 'stale_draft'

    web = login('admin')
    listing = web.get('/admin/processes').get_data(as_text=True)
    link = f'href="/admin/processes/{KEY}?draft={mine["draft_id"]}"'
    assert link in listing, 'the refused draft is listed with a link to open it'
    row = _text(listing.split(link)[0].rsplit('<tr>', 1)[1] + listing.split(link)[1].split('</tr>')[0])
    assert '不能发布的旧草稿（基于旧版本）' in row and f'草稿 #{mine["draft_id"]}（基于 v1' in row

    page = web.get(f'/admin/processes/{KEY}?draft={mine["draft_id"]}').get_data(as_text=True)
    notice = _text(page.split('id="stale-draft"')[1].split('</div>')[0])
    assert '本草稿是在 v1 上修改的' in notice and '发布了 v2' in notice and '不能再发布' in notice
    assert '本草稿相对 v1 的修改： 修改 社工站初审（含入户）（station_review）' in notice
    assert '在新标签页打开最新版本 v2' in notice
    # a draft that can still be published has no such notice
    fresh = draft(admin, BASE.replace('name="社工站初审"'.encode(), 'name="社工站审核"'.encode())).get_json()
    assert 'id="stale-draft"' not in web.get(f'/admin/processes/{KEY}?draft={fresh["draft_id"]}').get_data(as_text=True)
    assert db.session.get(WorkflowDraft, mine['draft_id']) is not None


# ---------------------------------------------------------------- a street without its 社工站

def _fall_to_city(instance_id) -> None:
    """The instance's open task scoped to the whole city, as it was made while its street had no 社工站 (before
    submitters were kept from choosing such a street)."""
    with transaction():
        row = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                         HumanTask.status == 'open')).one()
        db.session.execute(delete(HumanTaskScope).where(HumanTaskScope.human_task_id == row.id))
        city = db.session.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)))
        db.session.add(HumanTaskScope(human_task_id=row.id, org_unit_id=city.id, path=city.path, lane=row.lane,
                                      process_key=row.process_key, created_at=row.created_at))


def _rename_unit(code, new_code) -> None:
    with transaction():
        db.session.scalar(select(OrgUnit).where(OrgUnit.code == code)).code = new_code


def _new_street():
    accounts.create_unit('newstreet', '新街', 'street', 'liwan')
    accounts.create_unit('newstreet_station', '新街社工站', 'station', 'newstreet')
    accounts.create_user('station_new', '新街社工站', 'station_admin', 'newstreet_station', 'demo1234')
    accounts.create_user('street_new', '新街', 'street_admin', 'newstreet', 'demo1234')


def test_a_case_of_a_street_without_a_station_says_to_create_it_and_reset(api, login):
    _new_street()
    vol = api('vol_zhang')
    stuck = submit(vol, 5, household_street='newstreet', residence_street='newstreet')
    _fall_to_city(stuck)
    _rename_unit('newstreet_station', 'gone_station')  # as if it had never been made
    web = login('admin')
    side = _text(_side(web, stuck))
    assert '无人可办理：此步骤应由“newstreet_station”办理，但分派任务时该单位不存在' in side
    assert '开通“社工站账号”账号' not in side, 'no station can sit on the city'
    assert 'flask create-unit newstreet_station 新街社工站 --kind station --parent newstreet' in side
    assert '--role station_admin --unit newstreet_station' in side
    assert '把案件退回“提交服务对象信息”' in side and '重新计算管辖范围' in side and '之后的步骤需要重新办理' in side
    # once the station exists, the page no longer asks to create it, and still says how to bring the case back
    _rename_unit('gone_station', 'newstreet_station')
    side = _text(_side(web, stuck))
    assert '“新街社工站（newstreet_station）”' in side and 'flask create-unit' not in side
    assert '把案件退回“提交服务对象信息”' in side


def test_a_reset_to_the_stuck_step_itself_scopes_it_again(api, login):
    """The step ran once before (the street sent the entry back): the page offers a reset to the step itself, and
    the reset makes its task again with the scope the case names, now that the station exists."""
    _new_street()
    vol, station, street = api('vol_zhang'), api('station_new'), api('street_new')
    stuck = submit(vol, 6, household_street='newstreet', residence_street='newstreet')
    complete(station, open_task(station, stuck), decision='approve')
    complete(street, open_task(street, stuck), decision='reject', reason='地址不全')
    resp = vol.post(f'/tasks/{open_task(vol, stuck)["id"]}/complete', json={'data': entry_data(
        [upload_png(vol)], name='长者〇六号', id_number=unique_id(6), household_street='newstreet',
        residence_street='newstreet')})
    assert resp.status_code == 200, resp.get_json()
    _fall_to_city(stuck)
    _rename_unit('newstreet_station', 'gone_station')
    assert open_task(station, stuck) is None
    web = login('admin')
    side = _text(_side(web, stuck))
    assert '把案件退回“社工站初审”' in side and '退回本步骤即可，之前的步骤不用重新办理' in side

    _rename_unit('gone_station', 'newstreet_station')  # the station is made
    done = web.post(f'/admin/instances/{stuck}/reset', data={'bpmn_id': 'station_review', 'confirm': '1',
                                                            'reason': '新街社工站已开通，重新分派'})
    assert done.status_code == 302
    row = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == stuck, HumanTask.status == 'open')).one()
    assert [s.org_unit.code for s in row.scopes] == ['newstreet_station']
    assert open_task(station, stuck) is not None
    assert '无人可办理' not in _side(web, stuck)


def test_other_tasks_nobody_holds_keep_the_account_hint(api, login):
    """A task scoped to an existing station that has no active account still says to open an account there."""
    inst = submit(api('vol_zhang'), 6)
    with transaction():
        for user in User.query.filter(User.username.in_(['station_xicun', 'station_xinshi'])):
            user.active = False
    side = _text(_side(login('admin'), inst))
    assert '开通“社工站账号”账号' in side and 'flask create-unit' not in side
