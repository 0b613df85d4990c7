"""Service-object entry end to end in a real browser: a volunteer on a phone submits (once with a
wrong phone number), the station and then the street approve on desktop, the volunteer sees 已通过
and the object is in the street's service-object library. Screenshots go to test-artifacts/."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login_as
from tests.helpers import ELDER_ID, png_bytes

pytestmark = pytest.mark.browser


def _age_today(id_number: str) -> int:
    born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    today = date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def field(page, text):
    """The input whose <label> starts with `text` (labels end with a red * when required)."""
    return page.get_by_label(re.compile('^' + re.escape(text)))


def _fill_entry_form(page, proof_path, phone):
    field(page, '姓名').fill('陈伯')
    field(page, '联系电话').fill(phone)
    field(page, '服务对象类别').select_option(label='长者')
    field(page, '身份证号码').fill(ELDER_ID)
    field(page, '性别').select_option(label='男')
    field(page, '年龄').fill(str(_age_today(ELDER_ID)))
    field(page, '政治面貌').select_option(label='群众')
    field(page, '自理能力等级').select_option(label='半自理')
    field(page, '居住状态').select_option(label='独居')
    field(page, '户籍区域').select_option(label='荔湾区 · 西村街')
    field(page, '户籍地址').fill('荔湾区西村街环市西路 1 号')
    field(page, '所在社区').fill('西村社区')
    field(page, '居住街道').select_option(label='白云区 · 新市街')
    field(page, '居住地址').fill('白云区新市街新市路 2 号')
    field(page, '备注').fill('行动不便，需上门服务')
    field(page, '证明材料').set_input_files(str(proof_path))
    field(page, '填表人姓名').fill('张建国')
    field(page, '填表人联系方式').fill('13700000000')


def _approve_from_inbox(page, shot, who):
    page.goto('/inbox')
    row = page.locator('table.list tbody tr', has_text='陈伯')
    expect(row).to_have_count(1)
    shot(page, f'{who}-inbox')
    row.get_by_role('link', name=re.compile('陈伯')).click()
    expect(page.locator('h1')).to_contain_text('陈伯')
    return page


def test_service_object_entry_phone_to_library(new_page, shot, tmp_path):
    proof = tmp_path / '证明材料.png'
    proof.write_bytes(png_bytes(40, 30))

    # -- volunteer on a phone ---------------------------------------------------------------
    phone = new_page('phone')
    phone.goto('/login')
    shot(phone, 'phone-login')
    login_as(phone, 'vol_zhang')
    expect(phone).to_have_url(re.compile(r'/m/$'))
    shot(phone, 'phone-home')
    phone.get_by_role('link', name=re.compile('录入服务对象')).click()
    expect(phone.locator('h1')).to_have_text('服务对象录入')
    shot(phone, 'phone-form-empty')

    _fill_entry_form(phone, proof, phone='12345')
    expect(phone.locator('.file-status')).to_contain_text('已选择 1 张')
    phone.get_by_role('button', name='提交').click()

    # wrong phone: the message is in red next to the phone field, the summary links to it
    phone_field = phone.locator('#field-phone')
    expect(phone_field.locator('.field-error')).to_contain_text('手机号码应为 11 位数字')
    expect(phone_field.locator('.field-error')).to_have_css('color', 'rgb(207, 34, 46)')
    expect(phone.locator('.field-error:visible')).to_have_count(1)
    summary = phone.locator('.error-summary')
    expect(summary).to_be_visible()
    expect(summary.get_by_role('link', name=re.compile('联系电话'))).to_have_attribute('href', '#f-phone')
    expect(field(phone, '联系电话')).to_have_value('12345')
    expect(field(phone, '联系电话')).to_have_attribute('aria-invalid', 'true')
    # everything else typed is still there, the uploaded picture is kept
    expect(field(phone, '姓名')).to_have_value('陈伯')
    expect(field(phone, '身份证号码')).to_have_value(ELDER_ID)
    expect(field(phone, '居住状态')).to_have_value('alone')
    expect(field(phone, '户籍区域')).to_have_value('xicun')
    expect(field(phone, '居住街道')).to_have_value('xinshi')
    expect(field(phone, '自理能力等级')).to_have_value('partial')
    expect(field(phone, '备注')).to_have_value('行动不便，需上门服务')
    expect(field(phone, '填表人联系方式')).to_have_value('13700000000')
    kept = phone.locator('#field-proof_files input[type=checkbox][name=proof_files]')
    expect(kept).to_have_count(1)
    expect(kept).to_be_checked()
    expect(phone.locator('.file-status')).to_contain_text('已保留 1 张')
    shot(phone, 'phone-form-errors')

    summary.get_by_role('link', name=re.compile('联系电话')).click()
    expect(field(phone, '联系电话')).to_be_focused()
    field(phone, '联系电话').fill('13800138000')
    phone.get_by_role('button', name='提交').click()

    expect(phone).to_have_url(re.compile(r'/m/cases/\d+$'))
    expect(phone.locator('.status-line')).to_contain_text('待社工站初审')
    expect(phone.locator('.flash.success')).to_contain_text('已提交')
    case_url = phone.url
    shot(phone, 'phone-case-pending')

    # -- station review on desktop ------------------------------------------------------------
    desk = new_page('desktop')
    login_as(desk, 'station_xicun')
    expect(desk).to_have_url(re.compile(r'/inbox$'))
    _approve_from_inbox(desk, shot, 'station')
    data = desk.locator('dl.data')
    for text in ('陈伯', '13800138000', '长者', '男', '独居', '半自理', '西村街', '新市街', '西村社区',
                 '荔湾区西村街环市西路 1 号', '白云区新市街新市路 2 号', '张建国', '13700000000'):
        expect(data).to_contain_text(text)
    expect(data.locator('img')).to_have_count(1)
    expect(desk.locator('.why')).to_contain_text('西村街社工站')
    shot(desk, 'station-task')
    desk.get_by_label('通过', exact=True).check()
    desk.get_by_role('button', name='提交审核结果').click()
    expect(desk.locator('.flash.success')).to_contain_text('已提交')
    expect(desk.locator('table.list tbody tr', has_text='陈伯')).to_have_count(0)

    # -- street final review --------------------------------------------------------------------
    desk.get_by_role('button', name='退出').click()
    login_as(desk, 'street_xinshi')
    _approve_from_inbox(desk, shot, 'street')
    expect(desk.locator('ol.history')).to_contain_text('社工站初审')
    desk.get_by_label('通过', exact=True).check()
    desk.get_by_label(re.compile('^审核意见')).fill('材料齐全')
    shot(desk, 'street-task')
    desk.get_by_role('button', name='提交审核结果').click()
    expect(desk.locator('.flash.success')).to_contain_text('已提交')

    # -- the volunteer sees the result ------------------------------------------------------------
    phone.goto(case_url)
    expect(phone.locator('.status-line')).to_contain_text('已通过')
    expect(phone.locator('ol.history')).to_contain_text('材料齐全')
    shot(phone, 'phone-case-approved')

    # -- and the object is in the household street's library --------------------------------------
    desk.get_by_role('button', name='退出').click()
    login_as(desk, 'street_xicun')
    desk.goto('/library')
    row = desk.locator('table.list tbody tr', has_text='陈伯')
    expect(row).to_have_count(1)
    expect(row).to_contain_text('已通过')
    expect(row).to_contain_text('v1')
    shot(desk, 'library')
