"""用户管理 (/admin/users) for process administrators: find accounts, create one, add and remove roles, deactivate
and activate, reset a password; each change audited with the administrator as its actor, as an operator and the
people concerned notice it."""
import html
import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, HumanTask, User
from app.services import accounts
from tests.conftest import PASSWORD
from tests.helpers import start_entry
from tests.web.conftest import open_task


def _user(username) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def _text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def _rows(resp) -> list[str]:
    """The list's rows as text (tags dropped)."""
    body = resp.get_data(as_text=True)
    tbody = body.split('<tbody>')[1].split('</tbody>')[0]
    return [html.unescape(re.sub(r'<[^>]+>', ' ', r)) for r in tbody.split('</tr>') if '<td' in r]


def _sign_in(app, username, password=PASSWORD):
    client = app.test_client()
    return client, client.post('/login', data={'username': username, 'password': password})


def _claimed_station_task(api):
    """An entry by vol_zhang waiting for 社工站初审, claimed by station_xicun: (task id, station's API client)."""
    vol, station = api('vol_zhang'), api('station_xicun')
    resp = start_entry(vol)
    assert resp.status_code == 201, resp.get_json()
    task = open_task(station, resp.get_json()['instance']['id'])
    assert station.post(f'/tasks/{task["id"]}/claim').status_code == 200
    return task['id'], station


def _uid(username) -> int:
    return _user(username).id


# ---------------------------------------------------------------- the list

def test_list_shows_roles_at_units_by_name_and_pages_searches_filters(login, api):
    for i in range(25):
        accounts.create_user(f'zz_vol{i:02d}', f'测试志愿者{i:02d}', 'volunteer', 'xicun', 'long-enough-1')
    admin = login('admin')
    first = admin.get('/admin/users')
    assert first.status_code == 200
    rows = _rows(first)
    assert len(rows) == 20 and '共 41 个账号' in _text(first)
    station = next(r for r in rows if 'station_xicun' in r)
    assert '西村街社工站' in station and '社工站账号 @ 西村街社工站' in station and '启用' in station
    assert 'xicun_station' not in station  # the unit by its name, not its code
    vol_li = next(r for r in rows if 'vol_li' in r)
    assert '志愿者 @ 西村街' in vol_li and '志愿者 @ 颐康居家养老服务中心' in vol_li
    second = admin.get('/admin/users?page=2')
    assert len(_rows(second)) == 20 and not set(_rows(second)) & set(rows)
    assert len(_rows(admin.get('/admin/users?page=3'))) == 1

    by_phone = _rows(admin.get('/admin/users?q=0004'))  # the last digits of 13900000004
    assert len(by_phone) == 1 and 'station_xicun' in by_phone[0]
    assert len(_rows(admin.get('/admin/users?q=张建国'))) == 1
    streets = _rows(admin.get('/admin/users?role=street_admin'))
    assert sorted(r.split()[1] for r in streets) == ['street_shipai', 'street_xicun', 'street_xinshi']

    assert _rows(admin.get('/admin/users?status=inactive'))[0].strip() == '没有符合条件的账号'
    assert admin.post(f'/admin/users/{_uid("gzva")}/deactivate', data={'reason': '测试'}).status_code == 302
    inactive = _rows(admin.get('/admin/users?status=inactive'))
    assert len(inactive) == 1 and 'gzva' in inactive[0] and '停用' in inactive[0]
    assert 'gzva' not in ' '.join(_rows(admin.get('/admin/users?status=active&q=gz')))

    bad = admin.get('/admin/users?role=boss&q=abc')
    assert bad.status_code == 422 and '角色无效，请从列表中选择' in _text(bad) and 'value="abc"' in _text(bad)


def test_only_process_admins_have_the_pages_and_the_menu_link(login):
    admin, station = login('admin'), login('station_xicun')
    assert '>用户管理</a>' in _text(admin.get('/admin/processes'))
    assert '>用户管理</a>' not in _text(station.get('/inbox'))
    uid = _uid('street_xicun')
    for url in ('/admin/users', f'/admin/users/{uid}', '/admin/users/new'):
        assert station.get(url).status_code == 403, url
    assert station.post(f'/admin/users/{uid}/deactivate', data={'reason': 'x'}).status_code == 403
    assert station.post(f'/admin/users/{uid}/password').status_code == 403
    assert _user('street_xicun').active and not _user('street_xicun').must_change_password


# ---------------------------------------------------------------- deactivate / activate

def test_deactivating_ends_sign_ins_and_tokens_and_releases_claimed_tasks(app, login, api):
    task_id, station_api = _claimed_station_task(api)
    station_web = login('station_xicun')
    assert station_web.get('/inbox').status_code == 200
    admin = login('admin')
    uid = _uid('station_xicun')

    page = _text(admin.get(f'/admin/users/{uid}'))
    assert '它认领中的 1 个任务将取消认领，回到所在单位的待办中' in page  # said before it is done
    assert '它在所有浏览器上的登录和全部接口令牌立即失效' in page
    assert '它是“社工站账号 @ 西村街社工站”唯一启用的账号：停用后，这个单位的这类待办将无人处理' in page
    accounts.create_user('station_xicun2', '西村街社工站（二）', 'station_admin', 'xicun_station', 'long-enough-1')
    assert '唯一启用的账号' not in _text(admin.get(f'/admin/users/{uid}'))  # a colleague sees its tasks

    done = admin.post(f'/admin/users/{uid}/deactivate', data={'reason': '人员调岗'}, follow_redirects=True)
    text = _text(done)
    assert '已停用账号“西村街社工站”' in text and '1 个网页登录和 1 个接口令牌已失效' in text
    assert '1 个认领中的任务已取消认领' in text and '由 流程管理员 停用' in text and '人员调岗' in text

    assert station_web.get('/inbox').status_code == 302  # the open browser is signed out
    assert station_api.get('/me').status_code == 401  # the token is refused
    assert _sign_in(app, 'station_xicun')[1].status_code == 200  # the login form again: refused
    db.session.expire_all()
    assert db.session.get(HumanTask, task_id).claimed_by_id is None

    row = db.session.scalar(select(AuditLog).where(AuditLog.action == 'user.deactivate'))
    assert row.actor_id == _uid('admin') and row.target == 'user:station_xicun'
    assert '"via": "web"' in row.detail_json and str(task_id) in row.detail_json


def test_a_reason_is_required_and_a_long_one_is_refused_whole(login):
    admin, station = login('admin'), login('station_xicun')
    uid = _uid('station_xicun')
    empty = admin.post(f'/admin/users/{uid}/deactivate', data={'reason': '   '})
    assert empty.status_code == 422 and '请填写停用原因' in _text(empty)
    long = '长' * 600
    refused = admin.post(f'/admin/users/{uid}/deactivate', data={'reason': long})
    text = _text(refused)
    assert refused.status_code == 422 and long in text  # kept in the box, not cut
    assert '已输入 600 / 500，超出 100 个字，请删减' in text and '意见不能超过 500 个字' in text
    assert _user('station_xicun').active and station.get('/inbox').status_code == 200


def test_an_admin_cannot_deactivate_themselves(login):
    admin = login('admin')
    uid = _uid('admin')
    assert '不能停用自己的账号' in _text(admin.get(f'/admin/users/{uid}'))
    assert 'name="reason"' not in _text(admin.get(f'/admin/users/{uid}'))
    forged = admin.post(f'/admin/users/{uid}/deactivate', data={'reason': '试试'})
    assert forged.status_code == 409 and '不能停用自己的账号' in _text(forged)
    assert _user('admin').active and admin.get('/admin/users').status_code == 200


def test_activating_lets_the_account_sign_in_again(app, login):
    admin = login('admin')
    uid = _uid('street_xicun')
    admin.post(f'/admin/users/{uid}/deactivate', data={'reason': '休假'})
    assert _sign_in(app, 'street_xicun')[1].status_code == 200
    refused = admin.post(f'/admin/users/{uid}/activate', data={'reason': ''})
    assert refused.status_code == 422 and '请填写启用原因' in _text(refused)
    back = admin.post(f'/admin/users/{uid}/activate', data={'reason': '休假结束'}, follow_redirects=True)
    assert '已启用账号“西村街道办”' in _text(back) and '由 流程管理员 启用' in _text(back)
    assert _sign_in(app, 'street_xicun')[1].status_code == 302
    again = admin.post(f'/admin/users/{uid}/activate', data={'reason': '再来'})
    assert again.status_code == 409 and '该账号已经是启用状态' in _text(again)


def test_a_session_of_an_account_made_inactive_elsewhere_opens_nothing(login):
    """Whatever made the account inactive (a script, the database), its cookies stop working at once."""
    station = login('station_xicun')
    assert station.get('/inbox').status_code == 200
    user = _user('station_xicun')
    user.active = False
    db.session.commit()
    assert station.get('/inbox').status_code == 302


# ---------------------------------------------------------------- roles

def test_adding_a_role_uses_the_command_lines_rule_in_names(app, login):
    admin = login('admin')
    uid = _uid('street_shipai')
    cli = app.test_cli_runner().invoke(args=['create-user', 'street_shipai', '--role', 'station_admin',
                                             '--unit', 'shipai'])
    cli_message = cli.output.strip().removeprefix('Error: ')
    assert cli.exit_code == 1 and '社工站账号' in cli_message and '石牌街' in cli_message
    wrong = admin.post(f'/admin/users/{uid}/roles', data={'role': 'station_admin', 'unit': 'shipai'})
    # the same rule; the page speaks in names, the command line adds the codes its operator types
    assert wrong.status_code == 422 and '社工站账号只能设在社工站类单位上，石牌街是街道' in _text(wrong)
    assert 'value="shipai" selected' in _text(wrong)  # the choice is kept
    assert len(_user('street_shipai').memberships) == 1

    added = admin.post(f'/admin/users/{uid}/roles', data={'role': 'station_admin', 'unit': 'shipai_station'},
                       follow_redirects=True)
    assert '已添加角色' in _text(added) and '社工站账号' in _text(added) and '石牌街社工站' in _text(added)
    twice = admin.post(f'/admin/users/{uid}/roles', data={'role': 'station_admin', 'unit': 'shipai_station'})
    assert twice.status_code == 422 and '该账号已有角色：社工站账号 @ 石牌街社工站' in _text(twice)
    assert ('station_admin', 'shipai_station') in {(m.role, m.org_unit.code) for m in _user('street_shipai').memberships}


def test_removing_a_role_refuses_the_last_one_and_releases_its_claims(login, api):
    task_id, _station_api = _claimed_station_task(api)
    admin = login('admin')
    uid = _uid('station_xicun')
    station_role = _user('station_xicun').memberships[0].id
    page = _text(admin.get(f'/admin/users/{uid}'))
    assert '唯一的角色，不能移除' in page and f'roles/{station_role}/remove' not in page
    last = admin.post(f'/admin/users/{uid}/roles/{station_role}/remove')
    assert last.status_code == 409 and '这是该账号唯一的角色，不能移除' in _text(last)

    admin.post(f'/admin/users/{uid}/roles', data={'role': 'street_admin', 'unit': 'xicun'})
    station = login('station_xicun')
    gone = admin.post(f'/admin/users/{uid}/roles/{station_role}/remove', follow_redirects=True)
    assert '已移除角色：社工站账号 @ 西村街社工站' in _text(gone)
    assert {m.role for m in _user('station_xicun').memberships} == {'street_admin'}
    db.session.expire_all()
    assert db.session.get(HumanTask, task_id).claimed_by_id is None  # no longer theirs to hold
    assert station.get(f'/inbox/tasks/{task_id}').status_code == 404
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == 'user.membership_remove'))
    assert row.actor_id == _uid('admin') and str(task_id) in row.detail_json


def test_an_admin_cannot_remove_their_own_process_admin_role(login):
    admin = login('admin')
    uid = _uid('admin')
    admin.post(f'/admin/users/{uid}/roles', data={'role': 'association_admin', 'unit': 'gz'})
    mine = next(m for m in _user('admin').memberships if m.role == 'process_admin')
    assert '不能移除自己的流程管理员角色' in _text(admin.get(f'/admin/users/{uid}'))
    refused = admin.post(f'/admin/users/{uid}/roles/{mine.id}/remove')
    assert refused.status_code == 409 and '不能移除自己的流程管理员角色' in _text(refused)
    assert 'process_admin' in {m.role for m in _user('admin').memberships}


# ---------------------------------------------------------------- password reset

def test_a_reset_shows_a_temporary_password_once_which_must_be_replaced(app, login):
    admin, station = login('admin'), login('station_xicun')
    uid = _uid('station_xicun')
    resp = admin.post(f'/admin/users/{uid}/password')
    text = _text(resp)
    temporary = re.search(r'class="temp-password-value">([^<]+)<', text).group(1)
    assert resp.status_code == 200 and len(temporary) >= 10 and '只显示这一次' in text
    assert temporary not in _text(admin.get(f'/admin/users/{uid}'))  # shown once
    assert station.get('/inbox').status_code == 302  # their sign-ins ended
    assert _sign_in(app, 'station_xicun')[1].status_code == 200  # the old password is refused
    client, signed = _sign_in(app, 'station_xicun', temporary)
    assert signed.status_code == 302 and '/password' in signed.headers['Location']
    assert client.get('/inbox').status_code == 302  # nothing else until a password of their own is set
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == 'user.set_password'))
    assert row.actor_id == _uid('admin') and temporary not in row.detail_json


# ---------------------------------------------------------------- new user

def test_a_new_user_with_a_generated_password(app, login):
    admin = login('admin')
    resp = admin.post('/admin/users/new', data={'username': 'station_shipai2', 'display_name': '石牌街社工站（二）',
                                                'phone': '138 0013 8009', 'role': 'station_admin',
                                                'unit': 'shipai_station', 'password': ''})
    text = _text(resp)
    assert resp.status_code == 200 and '已新建账号“石牌街社工站（二）”' in text
    temporary = re.search(r'class="temp-password-value">([^<]+)<', text).group(1)
    user = _user('station_shipai2')
    assert user.phone == '13800138009' and user.must_change_password
    assert [(m.role, m.org_unit.code) for m in user.memberships] == [('station_admin', 'shipai_station')]
    signed = _sign_in(app, 'station_shipai2', temporary)[1]
    assert signed.status_code == 302 and '/password' in signed.headers['Location']
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == 'user.create'))
    assert row.actor_id == _uid('admin') and temporary not in row.detail_json


def test_a_refused_new_user_keeps_what_was_typed_and_says_why_at_each_field(app, login):
    admin = login('admin')
    typed = {'username': 'station_xicun', 'display_name': '新社工', 'phone': '12345', 'role': 'station_admin',
             'unit': 'xicun', 'password': 'short'}
    resp = admin.post('/admin/users/new', data=typed)
    text = _text(resp)
    assert resp.status_code == 422
    assert '用户名 station_xicun 已被使用' in text and '为它添加角色' in text
    assert '请填写正确的 11 位手机号码，或留空' in text and '密码至少 8 位' in text
    assert '社工站账号只能设在社工站类单位上，西村街是街道' in text
    for name in ('username', 'display_name', 'phone', 'password'):
        assert f'value="{typed[name]}"' in text, name
    assert 'value="station_admin" data-kinds="station" selected' in text and 'value="xicun" selected' in text
    assert 'id="err-username"' in text and 'id="err-unit"' in text and 'id="err-phone"' in text
    assert _user('station_xicun').display_name == '西村街社工站'  # the existing account is left alone
    empty = _text(admin.post('/admin/users/new', data={}))
    assert '请填写姓名或单位名称' in empty and '请选择角色' in empty and '请选择单位' in empty


def test_the_command_line_still_adds_a_role_to_an_existing_user(app):
    result = app.test_cli_runner().invoke(args=['create-user', 'street_shipai', '--role', 'station_admin',
                                                '--unit', 'shipai_station'])
    assert result.exit_code == 0 and '已存在' in result.output
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == 'user.membership_add'))
    assert row.actor_id is None and '"via": "cli"' in row.detail_json


# ---------------------------------------------------------------- the audit log

def test_the_changes_read_in_chinese_in_the_accounts_filter_of_the_audit_log(login):
    admin = login('admin')
    uid = _uid('street_xicun')
    admin.post(f'/admin/users/{uid}/roles', data={'role': 'station_admin', 'unit': 'xicun_station'})
    added = next(m for m in _user('street_xicun').memberships if m.role == 'station_admin')
    admin.post(f'/admin/users/{uid}/roles/{added.id}/remove')
    admin.post(f'/admin/users/{uid}/deactivate', data={'reason': '调离岗位'})
    admin.post(f'/admin/users/{uid}/activate', data={'reason': '回到岗位'})
    rows = _rows(admin.get('/admin/audit?group=accounts'))
    assert [next(a for a in ('启用账号', '停用账号', '移除账号的角色', '为账号增加角色') if a in r) for r in rows] == \
        ['启用账号', '停用账号', '移除账号的角色', '为账号增加角色']
    assert all('流程管理员（admin）' in r for r in rows)
    assert '原因： 回到岗位' in rows[0] and '原因： 调离岗位' in rows[1] and '结束的网页登录： 0' in rows[1]
    assert '角色： 社工站账号' in rows[2] and '单位： 西村街社工站（xicun_station）' in rows[2]
    for raw in ('user.deactivate', 'ended_sign_ins', 'released_tasks', 'via', 'web'):
        assert raw not in ' '.join(rows), raw


# ---------------------------------------------------------------- API

def test_the_api_lists_and_deactivates_for_admins_only(api, app):
    admin, station = api('admin'), api('station_xicun')
    listed = admin.get('/admin/users?role=station_admin').get_json()
    assert listed['total'] == 3 and listed['per_page'] == 20 and listed['page'] == 1
    item = next(i for i in listed['items'] if i['username'] == 'station_xicun')
    assert item['active'] and item['memberships'][0]['role_label'] == '社工站账号'
    assert item['memberships'][0]['unit_name'] == '西村街社工站'
    assert station.get('/admin/users').status_code == 403
    uid = item['id']
    assert station.post(f'/admin/users/{_uid("street_xicun")}/deactivate', json={'reason': 'x'}).status_code == 403

    missing = admin.post(f'/admin/users/{uid}/deactivate', json={})
    assert missing.status_code == 422 and missing.get_json()['errors']['reason'] == ['请填写停用原因']
    done = admin.post(f'/admin/users/{uid}/deactivate', json={'reason': '离职'})
    body = done.get_json()
    assert done.status_code == 200 and body['user']['active'] is False and body['ended_api_logins'] == 1
    assert station.get('/me').status_code == 401
    assert admin.post(f'/admin/users/{uid}/deactivate', json={'reason': '离职'}).status_code == 409
    assert admin.post(f'/admin/users/{uid}/activate', json={'reason': '返岗'}).get_json()['user']['active'] is True
    assert _sign_in(app, 'station_xicun')[1].status_code == 302
    via = [r.detail_json for r in db.session.scalars(select(AuditLog).where(AuditLog.target == 'user:station_xicun'))]
    assert via and all('"via": "api"' in d for d in via)


def test_an_unknown_or_forged_account_number_is_404_and_changes_nothing(login):
    admin = login('admin')
    assert admin.get(f'/admin/users/{_uid("gzva")}').status_code == 200
    for url in ('/admin/users/999999', '/admin/users/99999999999999999999'):
        assert admin.get(url).status_code == 404, url
    assert admin.post('/admin/users/999999/password').status_code == 404
    assert admin.post('/admin/users/999999/deactivate', data={'reason': '无'}).status_code == 404
    assert admin.post(f'/admin/users/{_uid("gzva")}/roles/999999/remove').status_code == 404
    assert len(_user('gzva').memberships) == 1 and _user('gzva').active
