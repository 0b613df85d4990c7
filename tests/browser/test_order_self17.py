"""walk17 on a phone (375 px): 为自己下单 shows the volunteer himself as the only, fixed service object (or says
plainly that he is not registered yet, with the way to register), 地图位置 is chosen with 使用所选街道的位置 and said
in words while the raw boxes stay under 手动输入坐标, and the 专业资质证明 line says required for 专业类."""
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import login_as
from tests.browser.test_page_tour import check_phone_page
from tests.web.test_order_form_fixes17 import _own_record
from tests.web.test_v_order_lifecycle import approved_object

pytestmark = pytest.mark.browser

CENTRES = json.loads((Path(__file__).resolve().parents[2] / 'app' / 'data' / 'street_centres.json').read_text('utf-8'))
NO_OWN = '为自己下单需要您本人已登记为服务对象并通过审核。'


def _local(hours: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).astimezone(ZoneInfo('Asia/Shanghai')).strftime('%Y-%m-%dT%H:%M')


def test_ordering_for_oneself_on_a_phone(new_page, shot, api):
    approved_object(api)  # 陈伯, in the library
    db.session.remove()
    page = new_page('phone')
    login_as(page, 'vol_zhang')
    page.goto('/m/orders/new')
    chen = page.get_by_role('checkbox', name='陈伯')
    expect(chen).to_be_visible()

    page.get_by_role('radio', name='为自己下单').check()
    expect(chen).to_be_hidden()
    expect(page.locator('.self-object')).to_contain_text(NO_OWN)
    expect(page.get_by_role('link', name='登记本人信息')).to_have_attribute('href', '/m/service-objects/new')
    check_phone_page(page)
    shot(page, 'self-not-registered')
    page.get_by_role('radio', name='为他人下单').check()
    expect(chen).to_be_visible()
    expect(page.locator('.self-object')).to_be_hidden()

    _own_record(api)  # he registers himself; the station and the street approve
    db.session.remove()
    page.goto('/m/orders/new')
    page.get_by_role('radio', name='为自己下单').check()
    expect(page.locator('.self-object')).to_contain_text('本人：张建国（4401')
    expect(chen).to_be_hidden()
    page.get_by_label('订单标题').fill('帮我打扫房间')

    # 专业资质证明: required for 专业类, optional otherwise, said as the category changes
    status = page.locator('#field-qualification_files .file-status')
    expect(status).to_have_text('还没有选择照片（可选，最多 9 张）')
    page.get_by_role('radio', name='专业类养老志愿服务').check()
    expect(status).to_have_text('还没有选择照片（需要 1–9 张）')
    page.get_by_role('radio', name='通用型养老志愿服务').check()
    expect(status).to_have_text('还没有选择照片（可选，最多 9 张）')
    page.locator('#f-service_item').select_option(label='助洁服务')

    # 地图位置: the chosen street's centre, in words; the typed boxes are tucked away
    lat = page.locator('input[name="location.lat"]')
    expect(lat).to_be_hidden()
    geo = page.locator('.geo-status')
    page.get_by_role('button', name='使用所选街道的位置').click()
    expect(geo).to_have_text('请先在上面选择“服务区域 / 街道”，再点“使用所选街道的位置”')
    page.locator('#f-street').select_option(label='荔湾区 · 西村街')
    page.get_by_role('button', name='使用所选街道的位置').click()
    expect(geo).to_have_text('已选择：西村街附近')
    expect(lat).to_have_value(f"{CENTRES['xicun']['lat']:.6f}")
    page.locator('#f-street').select_option(label='白云区 · 新市街')  # the point follows the street
    expect(geo).to_have_text('已选择：新市街附近')
    expect(lat).to_have_value(f"{CENTRES['xinshi']['lat']:.6f}")
    page.locator('#f-street').select_option(label='荔湾区 · 西村街')
    expect(geo).to_have_text('已选择：西村街附近')
    check_phone_page(page)
    shot(page, 'self-registered-street-point')

    page.get_by_label('服务地址').fill('西村街西湾路 8 号')
    page.get_by_label('开始时间').fill(_local(48))
    page.get_by_label('结束时间').fill(_local(50))
    page.get_by_label('服务需求').fill('打扫卫生，整理房间')
    page.get_by_role('button', name='提交订单').click()
    expect(page.locator('.flash.success')).to_contain_text('订单已提交，等待社工站审核')
    facts = page.locator('dl.data').first
    expect(facts).to_contain_text('为自己下单')
    expect(facts).to_contain_text('张建国')
    expect(page.locator('.order-location')).to_contain_text('西村街附近')
    check_phone_page(page)
    shot(page, 'order-page')


def test_without_location_permission_the_street_is_offered(new_page):
    page = new_page('phone')
    login_as(page, 'vol_zhang')
    page.goto('/m/orders/new')
    page.get_by_role('button', name='使用我的位置').click()
    expect(page.locator('.geo-status')).to_contain_text('无法获取您的位置：请点“使用所选街道的位置”')
    page.get_by_role('button', name='提交订单').click()
    # the summary's 地图位置 link leads to the buttons, not to the tucked-away boxes
    page.locator('#error-summary a', has_text='地图位置').click()
    expect(page.get_by_role('button', name='使用我的位置')).to_be_focused()
    expect(page.locator('input[name="location.lat"]')).to_be_hidden()
    page.get_by_text('手动输入坐标').click()
    expect(page.locator('input[name="location.lat"]')).to_be_visible()
    expect(page.locator('input[name="location.lat"]')).to_have_value('')
