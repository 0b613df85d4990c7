"""Accounts as their owners meet them: the password page names the password they actually have (an imported
volunteer's ID-number tail, or an administrator's temporary one), a deactivated account with the right password is
told it is deactivated (a wrong password still reads 用户名或密码错误), a browser signed out by the deactivation says
why, and a role refused on the wrong kind of unit is explained in names, not codes."""
import html
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services import accounts
from app.services.errors import ValidationFailed
from tests.conftest import PASSWORD
from tests.web.test_team_import import ADULT_ID, GOOD, post_page


def _text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def _uid(username) -> int:
    db.session.expire_all()
    return db.session.scalar(select(User.id).where(User.username == username))


def _reset(admin, username) -> str:
    """The temporary password 重置密码 shows the administrator once."""
    page = _text(admin.post(f'/admin/users/{_uid(username)}/password'))
    return re.search(r'class="temp-password-value">([^<]+)<', page).group(1)


def _signed_in(app, username, password):
    client = app.test_client()
    resp = client.post('/login', data={'username': username, 'password': password})
    assert resp.status_code == 302 and '/password' in resp.headers['Location'], _text(resp)[:300]
    return client


# ---------------------------------------------------------------- which password must be replaced

def test_after_an_admin_reset_the_password_page_speaks_of_the_temporary_password(app, login):
    temporary = _reset(login('admin'), 'station_xicun')
    client = _signed_in(app, 'station_xicun', temporary)
    page = _text(client.get('/password'))
    assert '您正在使用管理员重置的临时密码。为了账号安全，请先设置新密码再继续使用。' in page
    assert '至少 8 位，不能与临时密码相同' in page
    assert '初始密码' not in page and '身份证' not in page

    again = client.post('/password', data={'password': temporary, 'confirm': temporary})
    text = _text(again)
    assert again.status_code == 422 and '新密码不能与临时密码相同' in text
    assert '初始密码' not in text and '管理员重置的临时密码' in text  # the refused page says the same
    assert client.post('/password', data={'password': 'my-own-pass-1', 'confirm': 'my-own-pass-1'}).status_code == 302


def test_the_api_refuses_a_token_for_the_temporary_password_naming_it(app, login):
    temporary = _reset(login('admin'), 'station_xicun')
    resp = app.test_client().post('/api/v1/auth/token', json={'username': 'station_xicun', 'password': temporary})
    body = resp.get_json()
    assert resp.status_code == 403 and body['error'] == 'password_change_required'
    assert body['message'] == '您还在使用管理员重置的临时密码：请先在网页登录并修改密码，再使用接口'


def test_a_new_account_made_by_an_admin_speaks_of_its_temporary_password(app, login):
    made = _text(login('admin').post('/admin/users/new', data={
        'username': 'station_shipai2', 'display_name': '石牌街社工站（二）', 'phone': '', 'role': 'station_admin',
        'unit': 'shipai_station', 'password': ''}))
    temporary = re.search(r'class="temp-password-value">([^<]+)<', made).group(1)
    page = _text(_signed_in(app, 'station_shipai2', temporary).get('/password'))
    assert '您正在使用管理员为新账号设置的临时密码' in page and '不能与临时密码相同' in page
    assert '身份证' not in page


def test_an_imported_volunteer_reads_of_the_id_number_until_an_admin_resets_it(app, login):
    assert post_page(login('team_a'), GOOD[:1]).status_code == 200
    page = _text(_signed_in(app, '13912345601', ADULT_ID[-6:]).get('/password'))
    assert '您正在使用初始密码（身份证号码后 6 位）' in page and '不能与初始密码相同' in page

    temporary = _reset(login('admin'), '13912345601')  # the latest setting of the password is what it is
    page = _text(_signed_in(app, '13912345601', temporary).get('/password'))
    assert '管理员重置的临时密码' in page and '身份证' not in page


# ---------------------------------------------------------------- a deactivated account

def _deactivate(admin, username):
    resp = admin.post(f'/admin/users/{_uid(username)}/deactivate', data={'reason': '人员调岗'})
    assert resp.status_code == 302, _text(resp)[:300]


def test_the_right_password_of_a_deactivated_account_is_told_so_and_only_it(app, login):
    _deactivate(login('admin'), 'vol_wang')
    right = app.test_client().post('/login', data={'username': 'vol_wang', 'password': PASSWORD})
    assert right.status_code == 200 and '该账号已停用，如有疑问请联系管理员' in _text(right)
    assert '用户名或密码错误' not in _text(right)
    wrong = app.test_client().post('/login', data={'username': 'vol_wang', 'password': 'not-the-one'})
    assert wrong.status_code == 200 and '用户名或密码错误' in _text(wrong) and '停用' not in _text(wrong)


def test_the_api_tells_a_deactivated_account_apart_only_with_the_right_password(app, login):
    _deactivate(login('admin'), 'vol_wang')
    client = app.test_client()
    right = client.post('/api/v1/auth/token', json={'username': 'vol_wang', 'password': PASSWORD})
    assert right.status_code == 403 and right.get_json()['error'] == 'account_disabled'
    assert right.get_json()['message'] == '该账号已停用，如有疑问请联系管理员' and 'token' not in right.get_json()
    wrong = client.post('/api/v1/auth/token', json={'username': 'vol_wang', 'password': 'not-the-one'})
    assert wrong.status_code == 401 and wrong.get_json()['message'] == '用户名或密码错误'


def test_a_browser_signed_out_by_the_deactivation_is_told_why_once(login):
    wang, li = login('vol_wang'), login('vol_li')
    assert wang.get('/m/orders/open').status_code == 200
    admin = login('admin')
    _deactivate(admin, 'vol_wang')
    gone = wang.get('/m/orders/open', follow_redirects=True)
    assert gone.request.path == '/login' and '您的账号已被管理员停用，已退出登录；如有疑问请联系管理员' in _text(gone)
    assert '已被管理员停用' not in _text(wang.get('/login'))  # said once

    _reset(admin, 'vol_li')  # signed out for another reason: nothing is said about deactivation
    other = li.get('/m/orders/open', follow_redirects=True)
    assert other.request.path == '/login' and '停用' not in _text(other)


def test_a_remembered_browser_signed_out_by_the_deactivation_is_told_why(app, login):
    wang = app.test_client()
    wang.post('/login', data={'username': 'vol_wang', 'password': PASSWORD, 'remember': '1'})
    assert wang.get_cookie('remember_token') is not None
    wang.delete_cookie('session')  # the browser was closed: only the remember cookie is left
    assert wang.get('/m/orders/open').status_code == 200
    _deactivate(login('admin'), 'vol_wang')
    wang.delete_cookie('session')
    gone = wang.get('/m/orders/open', follow_redirects=True)
    assert gone.request.path == '/login' and '您的账号已被管理员停用' in _text(gone)
    assert wang.get_cookie('remember_token') is None  # forgotten with the notice


def test_a_browser_signed_out_earlier_is_not_told_of_a_later_deactivation(app, login):
    wang = login('vol_wang')
    cookie = wang.get_cookie('session').value
    assert wang.post('/logout').status_code == 302
    _deactivate(login('admin'), 'vol_wang')
    copied = app.test_client()  # the session cookie as it was before the logout (a copy or a back-up)
    copied.set_cookie('session', cookie)
    page = copied.get('/m/orders/open', follow_redirects=True)
    assert page.request.path == '/login' and '停用' not in _text(page)


# ---------------------------------------------------------------- roles on the wrong kind of unit

def test_a_role_on_the_wrong_kind_of_unit_is_explained_in_names_on_pages(app, login):
    admin = login('admin')
    wrong = admin.post(f'/admin/users/{_uid("street_shipai")}/roles', data={'role': 'station_admin', 'unit': 'xicun'})
    text = _text(wrong)
    assert wrong.status_code == 422 and '社工站账号只能设在社工站类单位上，西村街是街道' in text
    assert '（station）' not in text and '（xicun）' not in text and '（street）' not in text
    city = _text(admin.post(f'/admin/users/{_uid("street_shipai")}/roles', data={'role': 'volunteer', 'unit': 'gz'}))
    assert '志愿者只能设在街道、志愿服务团队或服务商类单位上，广州市是市' in city

    made = _text(admin.post('/admin/users/new', data={'username': 'x_new', 'display_name': '新社工', 'phone': '',
                                                      'role': 'station_admin', 'unit': 'xicun', 'password': ''}))
    assert '社工站账号只能设在社工站类单位上，西村街是街道' in made

    # the command line's operator types codes: its message names them beside the names
    cli = app.test_cli_runner().invoke(args=['create-user', 'street_shipai', '--role', 'station_admin',
                                             '--unit', 'shipai'])
    assert cli.exit_code == 1
    assert '社工站账号（station_admin）只能设在社工站（station）类单位上，石牌街（shipai）是街道（street）' in cli.output


def test_a_unit_under_the_wrong_kind_of_parent_is_explained_in_names_with_the_codes_typed():
    """flask create-unit: once only codes ("station 的上级单位须是 street，liwan 是 district")."""
    with pytest.raises(ValidationFailed) as refused:
        accounts.create_unit('liwan_station', '荔湾社工站', 'station', 'liwan')
    assert refused.value.errors == {'parent': ['社工站（station）的上级单位须是街道（street），荔湾区（liwan）是区（district）']}
    with pytest.raises(ValidationFailed) as refused:
        accounts.create_unit('team_x', '新队', 'team', 'gz')
    assert refused.value.errors['parent'] == [
        '志愿服务团队（team）的上级单位须是街道（street）或志愿服务团队（team），广州市（gz）是市（city）']
