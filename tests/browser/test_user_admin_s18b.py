"""用户管理 in a real browser at desktop width: the administrator finds a reviewer's account from the menu, reads
what deactivating it will do, is stopped without a reason, deactivates it, and the reviewer's open browser is
signed out. The role picker offers only the units a chosen role may sit on."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login_as

pytestmark = pytest.mark.browser


def _no_sideways_scroll(page):
    assert page.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1')


def test_admin_deactivates_a_reviewer_at_desktop_width(new_page, shot):
    station = new_page('desktop')
    login_as(station, 'station_xicun')
    station.goto('/inbox')
    expect(station.locator('h1')).to_be_visible()

    admin = new_page('desktop')
    login_as(admin, 'admin')
    admin.get_by_role('navigation', name='主菜单').get_by_role('link', name='用户管理').click()
    expect(admin.locator('h1')).to_have_text('用户管理')
    admin.get_by_label('搜索').fill('0004')  # the last digits of the station's phone number
    admin.get_by_role('button', name='筛选').click()
    row = admin.locator('table.users tbody tr')
    expect(row).to_have_count(1)
    expect(row).to_contain_text('社工站账号 @ 西村街社工站')
    _no_sideways_scroll(admin)
    shot(admin, 'list')

    row.get_by_role('link', name='西村街社工站').click()
    expect(admin.locator('#deactivate-what')).to_contain_text('它在所有浏览器上的登录和全部接口令牌立即失效')
    admin.get_by_role('button', name='停用账号').click()
    expect(admin.locator('#err-reason')).to_contain_text('请填写停用原因')
    expect(station.locator('h1')).to_be_visible()

    admin.locator('#f-reason').fill('人员调岗，由新社工接手')
    expect(admin.locator('#count-f-reason')).to_contain_text('已输入 11 / 500')
    _no_sideways_scroll(admin)
    shot(admin, 'confirm')
    admin.get_by_role('button', name='停用账号').click()
    expect(admin.locator('.flash.success')).to_contain_text('已停用账号“西村街社工站”')
    expect(admin.locator('h1 .badge')).to_have_text('停用')
    expect(admin.locator('dl.data')).to_contain_text('人员调岗，由新社工接手')
    expect(admin.get_by_role('button', name='启用账号')).to_be_visible()
    shot(admin, 'deactivated')

    station.reload()
    assert '/login' in station.url  # the reviewer's open browser is signed out, and told why
    expect(station.locator('.flash.warning')).to_contain_text('您的账号已被管理员停用，已退出登录')
    station.get_by_label('用户名').fill('station_xicun')
    station.get_by_label('密码', exact=True).fill('demo1234')
    station.get_by_role('button', name='登录').click()
    # the right password: the account is said to be deactivated (a wrong one still reads 用户名或密码错误)
    expect(station.locator('.flash.error')).to_contain_text('该账号已停用，如有疑问请联系管理员')


def test_the_role_picker_offers_the_units_of_the_chosen_role(new_page, shot):
    admin = new_page('desktop')
    login_as(admin, 'admin')
    admin.goto('/admin/users/new')
    admin.locator('#f-role').select_option('station_admin')
    offered = admin.locator('#f-unit optgroup:not([disabled]) option')
    expect(offered.first).to_be_attached()
    assert all(t.endswith('）') and '社工站' in t for t in offered.all_inner_texts())
    admin.locator('#f-unit').select_option('xicun_station')
    admin.locator('#f-role').select_option('street_admin')  # the station no longer fits: the choice is cleared
    expect(admin.locator('#f-unit')).to_have_value('')
    admin.locator('#f-unit').select_option('xicun')
    admin.get_by_label('用户名').fill('street_xicun2')
    admin.get_by_label('姓名或单位名称').fill('西村街道办（二）')
    admin.get_by_role('button', name='新建用户').click()
    expect(admin.locator('.flash.success')).to_contain_text('已新建账号“西村街道办（二）”')
    expect(admin.locator('.temp-password-value')).to_have_text(re.compile(r'^[A-Za-z2-9]{10}$'))
    _no_sideways_scroll(admin)
    shot(admin, 'created')
