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
    assert '新建账号' in rows[0] and '命令行' in rows[0] and 'user:station_new' in rows[0]  # newest first
    assert '公益池分配' in rows[1] and '广州市志愿者协会（gzva）' in rows[1] and 'user:vol_li' in rows[1]
    assert 'amount: 3' in rows[1] and 'reason: 困难帮扶' in rows[1]
    assert '导入团队志愿者' in rows[2] and '长者关爱服务队管理员（team_a）' in rows[2] and 'org_unit:team_a' in rows[2]
    assert '发布流程图' in rows[3] and '流程管理员（admin）' in rows[3] and 'diff: +0 −0 ~1' in rows[3]
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
    assert '回退案件' in row and f'instance:{inst_id}' in row and 'step: station_review' in row
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
