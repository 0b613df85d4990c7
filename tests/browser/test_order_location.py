"""The order form's 地图位置 on a phone: "使用我的位置" fills latitude and longitude from the phone's location,
says so, refuses a place outside the city, and tells the user what to do when location is not allowed."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, login_as

pytestmark = pytest.mark.browser


def _order_form(browser, live_server, **context):
    ctx = browser.new_context(base_url=live_server, **PHONE, **context)
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    login_as(page, 'vol_zhang')
    page.goto('/m/orders/new')
    return ctx, page


def test_locate_fills_the_map_point(browser, live_server, shot):
    ctx, page = _order_form(browser, live_server, geolocation={'latitude': 23.1291, 'longitude': 113.2644,
                                                               'accuracy': 30}, permissions=['geolocation'])
    try:
        lat, lng = page.locator('input[name="location.lat"]'), page.locator('input[name="location.lng"]')
        expect(lat).to_have_value('')
        page.get_by_role('button', name='使用我的位置').click()
        expect(lat).to_have_value('23.129100')
        expect(lng).to_have_value('113.264400')
        expect(page.locator('.geo-status')).to_contain_text('已填入当前位置（误差约 30 米）')
        shot(page, 'located')
        ctx.set_geolocation({'latitude': 39.9042, 'longitude': 116.4074})  # Beijing: outside the city
        page.get_by_role('button', name='使用我的位置').click()
        expect(page.locator('.geo-status')).to_contain_text('您现在的位置不在广州市范围内')
        expect(lat).to_have_value('23.129100')
    finally:
        ctx.close()


def test_locate_without_permission_says_what_to_do(browser, live_server):
    ctx, page = _order_form(browser, live_server)
    try:
        page.get_by_role('button', name='使用我的位置').click()
        expect(page.locator('.geo-status')).to_contain_text('或在手机设置中允许浏览器使用定位')
        expect(page.locator('input[name="location.lat"]')).to_have_value('')
    finally:
        ctx.close()
