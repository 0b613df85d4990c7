"""审计日志 (/admin/audit and GET /api/v1/audit): events written the real way (a diagram published, a team sheet
imported, pool points allocated, an account made on the command line, a case reset, sensitive words added) are
listed newest first with readable names, filtered and paged, for process administrators only."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, User
from app.services import sensitive_words
from tests.web.conftest import case_at_street  # noqa: F401  (fixture)
from tests.web.shop_helpers import award
from tests.web.test_process_admin import BASE, KEY, draft
from tests.web.test_team_import import GOOD, post_page

TODAY = datetime.now(ZoneInfo('Asia/Shanghai')).date()


def publish_diagram(api):
    admin = api('admin')
    made = draft(admin, BASE.replace('name="社工站初审"'.encode(), 'name="社工站初审（新）"'.encode()))
    assert made.status_code in (200, 201), made.get_json()
    assert admin.post(f'/processes/{KEY}/drafts/{made.get_json()["draft_id"]}/publish').status_code == 201


def allocate_pool_points(api):
    award('vol_zhang', 20)
    assert api('vol_zhang').post('/shop/donations', json={'target': 'pool', 'amount': 10, 'point_type': 'elderly_time',
                                                           'request_token': 'don-audit-0001'}).status_code == 201
    assert api('gzva').post('/shop/pool/allocations', json={'username': 'vol_li', 'amount': 3, 'reason': '困难帮扶',
                                                            'request_token': 'alloc-secret-0001'}).status_code == 201


def cli_create_user(app):
    result = app.test_cli_runner().invoke(args=['create-user', 'station_new', '--name', '新社工站', '--role',
                                                'station_admin', '--unit', 'xicun_station'],
                                          input='first-pass-1\nfirst-pass-1\n')
    assert result.exit_code == 0, result.output
    db.session.expire_all()


@pytest.fixture
def events(app, api, login):
    publish_diagram(api)
    assert post_page(login('team_a'), GOOD).status_code in (200, 302)
    allocate_pool_points(api)
    cli_create_user(app)
    db.session.remove()


def rows_of(html: str) -> list[str]:
    body = html.split('<tbody>', 1)[1].split('</tbody>', 1)[0]
    return [re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', tr)).strip() for tr in body.split('<tr')[1:]]


def test_the_page_lists_each_kind_of_event_readably_newest_first(events, login):
    page = login('admin').get('/admin/audit')
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = rows_of(html)
    assert len(rows) == 5
    assert '新建账号' in rows[0] and '命令行' in rows[0] and '账号 新社工站（station_new）' in rows[0]  # newest first
    assert '公益池分配' in rows[1] and '广州市志愿者协会（gzva）' in rows[1] and '账号 李晓敏（vol_li）' in rows[1]
    assert '积分： 3' in rows[1] and '原因： 困难帮扶' in rows[1]  # the details' words, not their keys
    assert '导入团队志愿者' in rows[2] and '长者关爱服务队管理员（team_a）' in rows[2]
    assert '单位 西村街长者关爱志愿服务队（team_a）' in rows[2]
    assert '发布流程图' in rows[3] and '流程管理员（admin）' in rows[3] and '改动： 新增 0 项，删除 0 项，修改 1 项' in rows[3]
    assert '保存流程图草稿' in rows[4]
    assert f'href="/admin/processes/{KEY}"' in html  # a diagram event links to its editor
    assert 'alloc-secret-0001' not in html  # the request token is never shown
    assert re.search(r'\d{4}-\d\d-\d\d \d\d:\d\d', rows[0])
    assert '审计日志' in login('admin').get('/admin/processes').get_data(as_text=True)


def test_the_api_lists_the_same_events(events, api):
    body = api('admin').get('/audit').get_json()
    assert body['total'] == 5 and body['page'] == 1
    assert [i['action'] for i in body['items']] == ['user.create', 'pool.allocate', 'team.volunteer_import',
                                                    'process.publish', 'process.draft']
    cli, pool = body['items'][0], body['items'][1]
    assert cli['actor'] == '命令行' and cli['actor_username'] is None and cli['action_label'] == '新建账号'
    assert ['role', 'station_admin'] in cli['details'] and not any(k == 'via' for k, _v in cli['details'])
    assert pool['actor_username'] == 'gzva' and pool['target'] == 'user:vol_li'
    assert 'alloc-secret-0001' not in str(body)
    assert body['items'][3]['process_key'] == KEY
    assert api('admin', lang='en').get('/audit').get_json()['items'][0]['at_local'] == cli['at_local']


def test_filters(events, api, login):
    admin = api('admin')
    assert [i['action'] for i in admin.get('/audit?group=process').get_json()['items']] == ['process.publish',
                                                                                          'process.draft']
    assert admin.get('/audit?group=pool').get_json()['total'] == 1
    assert admin.get('/audit?group=accounts').get_json()['items'][0]['actor'] == '命令行'
    assert admin.get('/audit?actor=team_').get_json()['items'][0]['action'] == 'team.volunteer_import'
    assert admin.get('/audit?actor=协会').get_json()['total'] == 1  # the name too
    assert admin.get('/audit?q=station_new').get_json()['total'] == 1
    assert admin.get('/audit?q=alloc-secret').get_json()['total'] == 0  # the hidden token is not searchable
    today = TODAY.isoformat()
    assert admin.get(f'/audit?from={today}&to={today}').get_json()['total'] == 5
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert admin.get(f'/audit?from={tomorrow}').get_json()['total'] == 0
    assert admin.get(f'/audit?to={(TODAY - timedelta(days=1)).isoformat()}').get_json()['total'] == 0
    bad = admin.get(f'/audit?from={tomorrow}&to={today}')
    assert bad.status_code == 422 and bad.get_json()['errors']['from'] == ['开始日期不能晚于结束日期']
    assert admin.get('/audit?group=nope').status_code == 422
    assert admin.get('/audit?from=2026-02-30').status_code == 422

    web = login('admin')
    html = web.get('/admin/audit?group=team').get_data(as_text=True)
    assert len(rows_of(html)) == 1 and '导入团队志愿者' in html and 'value="team" selected' in html
    refused = web.get('/admin/audit?from=2026-13-01&actor=gzva')
    assert refused.status_code == 422 and '日期格式不正确' in refused.get_data(as_text=True)
    assert 'value="gzva"' in refused.get_data(as_text=True)  # the typed filter is kept


def test_paging_twenty_a_page(api, login):
    gzva = db.session.get(User, db.session.scalar(select(User.id).where(User.username == 'gzva')))
    sensitive_words.add_words(gzva, [f'测试敏感词{i:02d}' for i in range(23)])
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 23
    admin = api('admin')
    first, second = admin.get('/audit').get_json(), admin.get('/audit?page=2').get_json()
    assert first['total'] == second['total'] == 23
    assert len(first['items']) == 20 and len(second['items']) == 3
    assert first['items'][0]['target'] == '测试敏感词22' and second['items'][-1]['target'] == '测试敏感词00'
    assert first['items'][0]['action_label'] == '添加敏感词'
    html = login('admin').get('/admin/audit?group=lists&page=2').get_data(as_text=True)
    assert len(rows_of(html)) == 3 and '第 2 / 2 页，共 23 条' in html


def test_a_case_reset_is_listed_and_links_to_the_case(case_at_street, login, api):  # noqa: F811
    inst_id, _task = case_at_street()
    web = login('admin')
    reset = web.post(f'/admin/instances/{inst_id}/reset',
                     data={'bpmn_id': 'station_review', 'reason': '资料<b>有误</b>', 'confirm': '1'})
    assert reset.status_code == 302
    html = web.get('/admin/audit?group=reset').get_data(as_text=True)
    [row] = rows_of(html)
    assert '回退案件' in row and f'案件 #{inst_id}' in row and '步骤： 社工站初审' in row  # the step by its name
    assert f'href="/admin/instances/{inst_id}"' in html
    assert '资料&lt;b&gt;有误&lt;/b&gt;' in html and '<b>有误' not in html  # escaped
    [item] = api('admin').get('/audit?group=reset').get_json()['items']
    assert item['instance_id'] == inst_id and item['actor_username'] == 'admin'


@pytest.mark.parametrize('username', ['gzva', 'station_xicun', 'vol_zhang'])
def test_others_are_refused(events, api, login, username):
    assert login(username).get('/admin/audit').status_code == 403
    assert api(username).get('/audit').status_code == 403
    assert api(username).get('/audit?group=nope').status_code == 403
    assert 'href="/admin/audit"' not in login(username).get('/').get_data(as_text=True)


# ---------------------------------------------------------------- details in words; the command-line filter

def run_cli(app, *args, input=None):
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    assert result.exit_code == 0, result.output
    db.session.expire_all()


def test_details_read_as_labels_and_names_not_as_keys(events, app, login, api):
    run_cli(app, 'create-unit', 'xicun_team9', '西村街青年志愿服务队', '--kind', 'team', '--parent', 'xicun')
    db.session.remove()
    rows = rows_of(login('admin').get('/admin/audit').get_data(as_text=True))
    unit, account, pool, team = rows[0], rows[1], rows[2], rows[3]
    assert '新建单位' in unit and '命令行' in unit
    assert '单位代码： xicun_team9' in unit and '名称： 西村街青年志愿服务队' in unit
    assert '单位类型： 志愿服务团队' in unit and '上级单位： 西村街（xicun）' in unit and '退役军人单位： 否' in unit
    assert '用户名： station_new' in account and '显示名称： 新社工站' in account
    assert '角色： 社工站账号' in account and '单位： 西村街社工站（xicun_station）' in account  # role and unit by name
    assert '志愿者： 李晓敏（vol_li）' in pool and '分录号：' in pool
    assert '团队： 西村街长者关爱志愿服务队（team_a）' in team and '文件： ' in team and '行数： 3' in team
    assert '新建志愿者： 2' in team and '已有志愿者加入： 1' in team and '加入的账号： 李晓敏' in team
    for raw in ('role:', 'station_admin', 'kind:', 'team_name', 'created_user_ids', 'via', 'cli', 'amount', 'is_veterans'):
        assert all(raw not in row for row in rows), raw
    # the API keeps the machine-readable keys and values, and nothing else was added to its rows
    items = api('admin').get('/audit').get_json()['items']
    assert ['kind', 'team'] in items[0]['details'] and ['role', 'station_admin'] in items[1]['details']
    assert ['amount', '3'] in items[2]['details'] and any(k == 'created_user_ids' for k, _v in items[3]['details'])
    assert all('shown' not in i for i in items)


def test_english_page_reads_the_details_in_english(events, login):
    rows = rows_of(login('admin').get('/admin/audit?lang=en').get_data(as_text=True))
    assert 'Command line' in rows[0] and 'Username: station_new' in rows[0] and 'Role: Social work station' in rows[0]
    assert 'Reason: 困难帮扶' in rows[1] and 'Volunteer: 李晓敏 (vol_li)' in rows[1] and 'Points: 3' in rows[1]
    assert 'Team: 西村街长者关爱志愿服务队 (team_a)' in rows[2]
    assert all('：' not in row and 'role:' not in row and '角色' not in row for row in rows)


def test_an_unknown_detail_key_is_shown_as_it_is(login):
    db.session.add(AuditLog(actor_id=None, action='user.create', target='user:x',
                            detail_json='{"shoe_size": 42, "role": "volunteer", "api_token": "t0p"}'))
    db.session.commit()
    db.session.remove()
    [row] = rows_of(login('admin').get('/admin/audit').get_data(as_text=True))
    assert 'shoe_size： 42' in row and '角色： 志愿者' in row
    assert 'api_token' not in row and 't0p' not in row and '系统' in row  # no actor, not the command line


def test_command_line_events_have_their_own_filter(events, app, api, login):
    run_cli(app, 'set-password', 'vol_zhang', '--password', 'new-pass-123', '--must-change')
    db.session.remove()
    admin = api('admin')
    cli = admin.get('/audit?source=cli').get_json()
    assert cli['total'] == 2
    assert [i['action'] for i in cli['items']] == ['user.set_password', 'user.create']
    assert {i['actor'] for i in cli['items']} == {'命令行'} and {i['actor_username'] for i in cli['items']} == {None}
    assert admin.get('/audit?source=cli&group=accounts').get_json()['total'] == 2
    assert admin.get('/audit?source=cli&group=process').get_json()['total'] == 0
    assert admin.get('/audit?source=cli&actor=admin').get_json()['total'] == 0
    everyone = admin.get('/audit').get_json()
    assert everyone['total'] == 6  # the filter narrows, leaving it out lists all
    for person in ('admin', 'gzva', 'team_a', '流程管理员'):  # the command-line rows are nobody's
        actions = [i['action'] for i in admin.get(f'/audit?actor={person}').get_json()['items']]
        assert actions and not {'user.create', 'user.set_password'} & set(actions), person
    bad = admin.get('/audit?source=person')
    assert bad.status_code == 422 and bad.get_json()['errors']['source'] == ['来源无效']

    web = login('admin')
    html = web.get('/admin/audit?source=cli').get_data(as_text=True)
    rows = rows_of(html)
    assert len(rows) == 2 and all(row.split(' ', 3)[3].startswith('命令行') for row in rows)
    assert '重置账号密码' in rows[0] and '下次登录须修改密码： 是' in rows[0] and 'new-pass-123' not in html
    assert '<option value="cli" selected>命令行</option>' in html and '清除筛选' in html
    assert '命令行' not in ' '.join(rows_of(web.get('/admin/audit?actor=admin').get_data(as_text=True)))
    en = web.get('/admin/audit?source=cli&lang=en').get_data(as_text=True)
    assert '<option value="cli" selected>Command line</option>' in en and len(rows_of(en)) == 2
    refused = web.get('/admin/audit?source=nope')
    assert refused.status_code == 422 and '来源无效' in refused.get_data(as_text=True)
