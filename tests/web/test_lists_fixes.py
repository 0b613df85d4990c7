"""广志协's white/black lists as reviewers meet them (walk_roles problems 1, 9, 11, 12):
- 黑名单 marks a case a blacklisted team or station *submitted as*, in its reviewers' open lists only: not a
  volunteer's own request or entry (whatever team they belong to), not the unit's own inbox, not decided rows;
- the review list names the publishing unit, with the 黑名单 badge next to the unit's name;
- 名单与敏感词: the add dropdowns offer only units that may be added, blacklisting needs a reason (kept in the
  log and shown on the list), removals go through a confirmation page, the 403 says what the page is;
- the activity resubmission form shows the reviewer's reason."""
import json
import re

from sqlalchemy import event, select

from app.extensions import db
from app.models import AuditLog, HumanTask, Membership, OrgUnit, SensitiveWord, UnitListEntry, User
from app.services import unit_lists
from tests.helpers import start_entry
from tests.web.conftest import unique_id
from tests.web.shop_helpers import award, started_gift
from tests.web.test_activity_flow import decide, started

TEAM_A, TEAM_VET, STATION = '西村街长者关爱志愿服务队', '西村街退役军人志愿服务队', '西村街社工站'


def _blacklist(api, code):
    assert api('gzva').post('/unit-lists/black', json={'org_unit': code, 'reason': '发布虚假信息'}).status_code == 201


def _row(html, title) -> str:
    """The <tr> of the list row whose link reads `title`."""
    rows = re.findall(r'<tr[ >](?:(?!</tr>).)*</tr>', html, re.S)
    found = [r for r in rows if f'>{title}</a>' in r]
    assert len(found) == 1, (title, len(found))
    return found[0]


def _row_with(html, text) -> str:
    return next(r for r in re.findall(r'<tr[ >](?:(?!</tr>).)*</tr>', html, re.S) if text in r)


def _publisher_cell(row) -> str:
    m = re.search(r'<td data-label="发布单位">(.*?)</td>', row, re.S)
    assert m, row
    return m.group(1)


def _unit(code) -> OrgUnit:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def _user(username) -> User:
    return db.session.scalar(select(User).where(User.username == username))


# ---- 1. the mark belongs to the unit a case was submitted as ------------------------------------------------------

def test_a_volunteer_in_a_blacklisted_team_is_not_marked_on_their_own_gift_or_entry(api, login):
    _blacklist(api, 'team_a')
    db.session.add(Membership(user_id=_user('vol_zhang').id, role='volunteer', org_unit_id=_unit('team_a').id))
    db.session.commit()
    award('vol_zhang', 60)
    zhang = api('vol_zhang')
    started_gift(zhang)
    start_entry(zhang, name='陈伯')
    gzva = login('gzva').get('/inbox').get_data(as_text=True)
    row = _row_with(gzva, '赠予')
    assert 'blacklisted' not in row and '黑名单' not in row
    station = login('station_xicun').get('/inbox').get_data(as_text=True)
    entry = _row_with(station, '陈伯')
    assert 'blacklisted' not in entry and '黑名单' not in entry


def test_a_blacklisted_teams_activity_names_the_team_with_the_badge_beside_it(api, login):
    _blacklist(api, 'team_vet')
    started(api('team_vet'), title='黑名单团队的讲座')
    started(api('team_a'), title='普通团队的探访')
    html = login('gzva').get('/inbox').get_data(as_text=True)
    assert '<th>发布单位</th>' in html
    black, normal = _row(html, '黑名单团队的讲座'), _row(html, '普通团队的探访')
    assert 'class="blacklisted"' in black
    assert re.search(rf'<span class="publisher blacklisted">{TEAM_VET}</span> <span class="badge s-rejected">黑名单</span>',
                     _publisher_cell(black))
    assert _publisher_cell(normal) == f'<span class="publisher">{TEAM_A}</span>'
    assert 'blacklisted' not in normal and '黑名单' not in normal


def test_the_veterans_bureau_sees_the_publishing_team_and_the_mark_too(api, login):
    _blacklist(api, 'team_vet')
    inst = started(api('team_vet'), title='老兵进社区宣讲')
    decide(api('gzva'), inst['id'])
    row = _row(login('veterans').get('/inbox').get_data(as_text=True), '老兵进社区宣讲')
    assert TEAM_VET in _publisher_cell(row) and '黑名单' in _publisher_cell(row)


def test_decided_rows_carry_no_mark_of_a_later_listing(api, login):
    inst = started(api('team_a'), title='重阳节敬老探访')
    decide(api('gzva'), inst['id'])
    _blacklist(api, 'team_a')
    started(api('team_a'), title='列入黑名单后的活动')
    gzva = login('gzva')
    done = _row(gzva.get('/inbox?state=approved').get_data(as_text=True), '重阳节敬老探访')
    assert TEAM_A in _publisher_cell(done)  # who published it is still said
    assert 'blacklisted' not in done and '黑名单' not in done
    assert '黑名单' in _publisher_cell(_row(gzva.get('/inbox').get_data(as_text=True), '列入黑名单后的活动'))


def test_a_blacklisted_station_is_not_marked_in_its_own_inbox_but_is_for_the_street(api, login):
    _blacklist(api, 'xicun_station')
    station_api = api('station_xicun')
    inst = start_entry(station_api, name='社工站录入的长者').get_json()['instance']
    start_entry(api('vol_zhang'), name='志愿者录入的长者', id_number=unique_id(1))
    own = login('station_xicun').get('/inbox').get_data(as_text=True)
    assert '黑名单' not in own and 'blacklisted' not in own
    task = next(t for t in station_api.get('/tasks?state=open').get_json()['items'] if t['instance_id'] == inst['id'])
    assert station_api.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    street = login('street_xicun').get('/inbox').get_data(as_text=True)
    row = _row_with(street, '社工站录入的长者')
    assert STATION in _publisher_cell(row) and '黑名单' in _publisher_cell(row) and 'class="blacklisted"' in row
    # the task page says it too, beside why the task is in the inbox
    street_task = next(t for t in api('street_xicun').get('/tasks?state=open').get_json()['items']
                       if t['instance_id'] == inst['id'])
    page = login('street_xicun').get(f'/inbox/tasks/{street_task["id"]}').get_data(as_text=True)
    assert re.search(rf'发布单位：<strong class="publisher blacklisted">{STATION}</strong> '
                     r'<span class="badge s-rejected">黑名单</span>', page)


def test_the_publishers_of_a_page_cost_one_query_and_none_without_review_tasks(api, app):
    _blacklist(api, 'team_vet')
    for i in range(5):
        started(api('team_vet' if i % 2 else 'team_a'), title=f'活动{i}')
    rows = list(db.session.scalars(select(HumanTask).where(HumanTask.status == 'open', HumanTask.lane == 'association_admin')))
    gzva = _user('gzva')
    assert gzva.memberships  # loaded with the signed-in user on a real page
    statements = []

    def count(*args):
        statements.append(args[2])
    event.listen(db.engine, 'before_cursor_execute', count)
    try:
        found = unit_lists.review_publishers(gzva, rows, mark=True)
        assert len(statements) == 1, statements
        assert unit_lists.review_publishers(gzva, [], mark=True) == {} and len(statements) == 1
    finally:
        event.remove(db.engine, 'before_cursor_execute', count)
    assert sorted((p['name'], p['black']) for p in found.values()) == sorted([(TEAM_A, False)] * 3 + [(TEAM_VET, True)] * 2)


# ---- 3. the 名单与敏感词 page ---------------------------------------------------------------------------------------

def _options(html, kind) -> list[str]:
    select_html = re.search(rf'<select id="f-unit-{kind}".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([^"]+)"', select_html)


def _codes(kind) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(OrgUnit.code).join(UnitListEntry, UnitListEntry.org_unit_id == OrgUnit.id)
                                     .where(UnitListEntry.kind == kind)))


def test_the_add_dropdowns_offer_only_units_that_can_be_added(login):
    gzva = login('gzva')
    assert gzva.post('/activities/admin/lists/white', data={'org_unit': 'team_a'}).status_code == 302
    resp = gzva.post('/activities/admin/lists/black', data={'org_unit': 'team_vet', 'reason': '多次发布虚假招募'})
    assert resp.status_code == 302
    html = gzva.get('/activities/admin').get_data(as_text=True)
    white, black = _options(html, 'white'), _options(html, 'black')
    assert 'team_a' not in white and 'team_vet' not in white and 'xicun_station' in white
    assert 'team_vet' not in black and 'team_a' in black and 'xicun_station' in black
    assert re.search(r'<option value="team_a">[^<]*（在白名单中，加入后移出白名单）</option>', html)


def test_blacklisting_needs_a_reason_which_the_list_and_the_log_show(login):
    gzva = login('gzva')
    resp = gzva.post('/activities/admin/lists/black', data={'org_unit': 'team_vet', 'reason': '  '})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and '请填写加入黑名单的原因' in html
    assert '<option value="team_vet" selected>' in html  # the chosen unit is kept
    assert _codes('black') == [] and db.session.scalar(select(AuditLog.id)) is None
    resp = gzva.post('/activities/admin/lists/black', data={'org_unit': 'team_vet', 'reason': '多次发布虚假招募'})
    assert resp.status_code == 302 and _codes('black') == ['team_vet']
    log = db.session.scalars(select(AuditLog).where(AuditLog.action == 'unit_list.black.add')).one()
    assert json.loads(log.detail_json)['reason'] == '多次发布虚假招募'
    html = gzva.get('/activities/admin').get_data(as_text=True)
    listed = html[html.index('id="list-black"'):html.index('id="words"')]
    assert TEAM_VET in listed and '多次发布虚假招募' in listed
    assert '多次发布虚假招募' in html[html.index('id="changes"'):]


def test_removing_a_unit_asks_first_and_records_the_optional_reason(login):
    gzva = login('gzva')
    gzva.post('/activities/admin/lists/black', data={'org_unit': 'team_vet', 'reason': '多次发布虚假招募'})
    page = gzva.get('/activities/admin').get_data(as_text=True)
    link = '/activities/admin/lists/black/delete?org_unit=team_vet'
    assert f'href="{link}"' in page
    confirm = gzva.get(link)
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and f'确认将 {TEAM_VET} 移出黑名单？' in text and 'value="yes"' in text
    assert _codes('black') == ['team_vet']
    # a POST from an old page (no confirmation) only shows the question
    resp = gzva.post('/activities/admin/lists/black/delete', data={'org_unit': 'team_vet'})
    assert resp.status_code == 200 and '确认将' in resp.get_data(as_text=True) and _codes('black') == ['team_vet']
    resp = gzva.post('/activities/admin/lists/black/delete', data={'org_unit': 'team_vet', 'confirm': 'yes',
                                                                  'reason': '已整改'})
    assert resp.status_code == 302 and _codes('black') == []
    log = db.session.scalars(select(AuditLog).where(AuditLog.action == 'unit_list.black.remove')).one()
    assert json.loads(log.detail_json)['reason'] == '已整改'
    assert gzva.get(link).status_code == 404  # no longer listed: nothing to confirm


def test_deleting_a_word_asks_first(login):
    gzva = login('gzva')
    gzva.post('/activities/admin/words', data={'words': '赌博'})
    page = gzva.get('/activities/admin').get_data(as_text=True)
    assert 'href="/activities/admin/words/delete?word=%E8%B5%8C%E5%8D%9A"' in page
    resp = gzva.post('/activities/admin/words/delete', data={'word': '赌博'})
    assert resp.status_code == 200 and '确认删除敏感词“赌博”' in resp.get_data(as_text=True)
    assert db.session.scalars(select(SensitiveWord.word)).all() == ['赌博']
    resp = gzva.post('/activities/admin/words/delete', data={'word': '赌博', 'confirm': 'yes'})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.scalars(select(SensitiveWord.word)).all() == []
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == 'sensitive_word.remove'))


def test_other_roles_are_told_what_the_page_is(login):
    team = login('team_a')
    for url in ('/activities/admin', '/activities/admin/lists/black/delete?org_unit=team_vet',
                '/activities/admin/words/delete?word=x'):
        resp = team.get(url)
        text = resp.get_data(as_text=True)
        assert resp.status_code == 403 and '名单与敏感词' in text and '白名单、黑名单和敏感词' in text, url
    assert team.post('/activities/admin/lists/black/delete', data={'org_unit': 'team_vet', 'confirm': 'yes'}).status_code == 403


# ---- 4. the resubmission form shows why the activity came back ---------------------------------------------------

def test_the_resubmission_form_shows_the_rejection_reason(api, login):
    inst = started(api('team_vet'), title='老兵进社区宣讲')
    decide(api('gzva'), inst['id'], 'reject', '请写明宣讲的主讲人和集合地点')
    team = login('team_vet')
    form = team.get(f'/activities/cases/{inst["id"]}/resubmit').get_data(as_text=True)
    reason = re.search(r'<section class="reason resubmit-reason".*?</section>', form, re.S).group(0)
    assert '请写明宣讲的主讲人和集合地点' in reason and '广志协审核' in reason
    refused = team.post(f'/activities/cases/{inst["id"]}/resubmit', data={'title': ''})
    assert refused.status_code == 422 and '请写明宣讲的主讲人和集合地点' in refused.get_data(as_text=True)
