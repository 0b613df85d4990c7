"""Fixes from the second walk-through: word lists, who may publish, list conflicts, the veterans tag, errors at once."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Activity, AuditLog, OrgUnit, SensitiveWord, UnitListEntry, User, WorkflowInstance
from tests.web.test_activity_flow import decide, open_task, started
from tests.web.test_activity_pages import FORM
from workflows import service_tasks


def _words():
    db.session.expire_all()
    return sorted(db.session.scalars(select(SensitiveWord.word)))


def _textarea(html):
    return re.search(r'<textarea id="f-words"[^>]*>(.*?)</textarea>', html, re.S).group(1)


def test_pasted_list_adds_new_words_and_names_listed_and_repeated_ones(login, api):
    api('gzva').post('/sensitive-words', json={'word': '赌博'})
    gzva = login('gzva')
    resp = gzva.post('/activities/admin/words', data={'words': '传销\n赌 博\n邪教\n传销'}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and _words() == sorted(['赌博', '传销', '邪教'])
    assert '已添加敏感词 2 个：传销、邪教' in html
    assert '已在列表中，未重复添加：赌 博' in html and '输入中重复，只添加一次：传销' in html


def test_repeat_inside_an_empty_list_is_not_called_already_listed(login):
    gzva = login('gzva')
    html = gzva.post('/activities/admin/words', data={'words': '赌博\n法轮功\n赌博'}, follow_redirects=True)\
        .get_data(as_text=True)
    assert _words() == sorted(['赌博', '法轮功'])
    assert '已在列表中' not in html and '输入中重复，只添加一次：赌博' in html


def test_bad_line_keeps_the_typed_text_with_the_message_at_the_field(login):
    gzva = login('gzva')
    text = '传销\n！！！\n' + '长' * 101
    resp = gzva.post('/activities/admin/words', data={'words': text})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and _words() == []
    assert _textarea(html).strip() == text
    field = html[html.index('id="field-words"'):html.index('id="field-words"') + 2000]
    assert '“！！！”只包含空格或符号' in field and '超过 100 个字' in field


def test_nothing_new_says_so_at_the_field(login, api):
    api('gzva').post('/sensitive-words', json={'word': '赌博'})
    gzva = login('gzva')
    db.session.expire_all()
    before = db.session.scalar(select(func.count()).select_from(AuditLog))
    resp = gzva.post('/activities/admin/words', data={'words': '赌博'})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and '没有添加新的敏感词' in html and '已在列表中，未重复添加：赌博' in html
    assert _textarea(html).strip() == '赌博'
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == before


def test_api_still_refuses_a_list_with_a_listed_word_all_or_none(api):
    gzva = api('gzva')
    gzva.post('/sensitive-words', json={'word': '赌博'})
    resp = gzva.post('/sensitive-words', json={'words': ['传销', '赌博']})
    assert resp.status_code == 422 and _words() == ['赌博']


def test_volunteer_is_told_who_can_publish_before_filling_the_form(login):
    vol = login('vol_zhang')
    page = vol.get('/activities/new')
    html = page.get_data(as_text=True)
    assert page.status_code == 403 and '只能由志愿服务团队或社工站的管理员发布' in html
    assert 'name="title"' not in html
    mine = vol.get('/activities/mine').get_data(as_text=True)
    assert 'href="/activities/new"' not in mine and '只能由志愿服务团队或社工站的管理员发布' in mine
    assert vol.post('/activities/new', data=FORM).status_code == 403
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(WorkflowInstance)) == 0
    team = login('team_a')
    assert 'name="title"' in team.get('/activities/new').get_data(as_text=True)
    assert 'href="/activities/new"' in team.get('/activities/mine').get_data(as_text=True)


def _kinds(code):
    db.session.expire_all()
    return sorted(db.session.scalars(select(UnitListEntry.kind).join(OrgUnit, OrgUnit.id == UnitListEntry.org_unit_id)
                                     .where(OrgUnit.code == code)))


def test_blacklisting_a_whitelisted_unit_moves_it_and_says_so(login):
    gzva = login('gzva')
    html = gzva.post('/activities/admin/lists/white', data={'org_unit': 'team_a'}, follow_redirects=True)\
        .get_data(as_text=True)
    assert '移出 西村街长者关爱志愿服务队' in html[html.index('id="list-white"'):html.index('id="list-black"')]
    html = gzva.post('/activities/admin/lists/black', data={'org_unit': 'team_a', 'reason': '发布虚假信息'},
                     follow_redirects=True)\
        .get_data(as_text=True)
    assert _kinds('team_a') == ['black']
    assert '已将 西村街长者关爱志愿服务队 加入黑名单，并移出白名单' in html
    white = html[html.index('id="list-white"'):html.index('id="list-black"')]
    assert '移出 西村街长者关爱志愿服务队' not in white
    log = html[html.index('id="changes"'):]
    assert '移出白名单' in log and '加入黑名单' in log
    html = gzva.post('/activities/admin/lists/white', data={'org_unit': 'team_a'}, follow_redirects=True)\
        .get_data(as_text=True)
    assert _kinds('team_a') == ['black'] and '在黑名单中，不能加入白名单' in html


def test_veterans_tag_shows_once_on_review_and_public_pages(login, api, client):
    team, gzva, vet = api('team_a'), api('gzva'), api('veterans')
    inst = started(team, tags=['veterans', 'elderly'])
    decide(gzva, inst['id'])
    task = open_task(vet, inst['id'])
    page = login('veterans').get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    assert page.count('退役军人志愿活动') == 1, page.count('退役军人志愿活动')
    case = login('team_a').get(f'/activities/cases/{inst["id"]}').get_data(as_text=True)
    assert case.count('退役军人志愿活动') == 1
    decide(vet, inst['id'])
    act_id = db.session.scalar(select(Activity.id).where(Activity.instance_id == inst['id']))
    detail = client.get(f'/activities/{act_id}').get_data(as_text=True)
    body = detail[detail.index('<h1>'):]
    assert body.count('退役军人志愿活动') == 1 and '助老' in body


def test_veterans_team_without_the_tag_still_shows_it_once(login, api):
    inst = started(api('team_vet'), tags=['elderly'])
    case = login('team_vet').get(f'/activities/cases/{inst["id"]}').get_data(as_text=True)
    assert case.count('退役军人志愿活动') == 1


def test_form_reports_recruit_count_and_both_time_errors_at_once(login):
    team = login('team_a')
    resp = team.post('/activities/new', data={**FORM, 'recruit_count': '0', 'start_at': '2020-03-05T09:00',
                                              'end_at': '2020-03-05T08:00'})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert '不能小于 1' in html and '开始时间不能早于现在' in html and '结束时间须晚于开始时间' in html
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 0
    assert db.session.scalar(select(func.count()).select_from(WorkflowInstance)) == 0


def test_schema_error_and_sensitive_word_and_bad_tag_at_once(api):
    api('gzva').post('/sensitive-words', json={'word': '义剪'})
    resp = api('team_a').post('/processes/activity_publish/instances', json={'data': {
        'title': '社区义剪', 'service_field': 'community', 'tags': ['超长的标签' * 4], 'street': 'xicun',
        'place': '西村', 'start_at': '2031-03-05T09:00', 'end_at': '2031-03-05T08:00', 'recruit_count': 0,
        'description': '理发'}})
    assert resp.status_code == 422
    text = str(resp.get_json())
    assert '义剪' in text and '结束时间须晚于开始时间' in text and '太长' in text


def test_skip_step_still_refuses_a_unit_left_on_both_lists_by_older_data(api):
    """Blacklisting now moves a unit off the whitelist; rows from before the fix may still have both."""
    gzva = api('gzva')
    gzva.post('/unit-lists/white', json={'org_unit': 'team_a'})
    team_a = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == 'team_a'))
    gzva_id = db.session.scalar(select(User.id).where(User.username == 'gzva'))
    db.session.add(UnitListEntry(kind='black', org_unit_id=team_a, created_by_id=gzva_id))
    db.session.commit()
    inst = started(api('team_vet'))
    with pytest.raises(RuntimeError, match='黑名单'):
        service_tasks.call('activity.skip_review', {'instance_id': inst['id'], 'team_unit': 'team_a'}, {})
    db.session.rollback()


def test_listed_units_say_what_and_where_they_are_not_their_codes(login):
    gzva = login('gzva')
    html = gzva.post('/activities/admin/lists/black', data={'org_unit': 'xicun_station', 'reason': '多次虚报时长'},
                     follow_redirects=True).get_data(as_text=True)
    black = html[html.index('id="list-black"'):html.index('</section>', html.index('id="list-black"'))]
    assert '西村街社工站' in black and '社工站 · 荔湾区 · 西村街' in black
    assert 'xicun_station' not in black.replace('org_unit=xicun_station', '')  # only in the 移出 link
    log = html[html.index('id="changes"'):]
    assert '社工站 · 荔湾区 · 西村街' in log and '>xicun_station<' not in log
