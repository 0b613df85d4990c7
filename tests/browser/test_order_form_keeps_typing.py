"""登记本人信息 leaves the V-order form for the registration page; coming back to 发布V订单 in the same tab finds
what was already typed (title, category, item, time, the choice 为自己下单) still there."""
import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import login_as
from tests.web.test_v_order_lifecycle import approved_object

pytestmark = pytest.mark.browser


def test_registering_oneself_midway_keeps_the_order_typed_so_far(new_page, api):
    approved_object(api)
    db.session.remove()
    page = new_page('phone')
    login_as(page, 'vol_zhang')
    page.goto('/m/orders/new')
    page.get_by_label('订单标题').fill('帮我买菜送上楼')
    page.get_by_role('radio', name='专业类养老志愿服务').check()
    page.locator('#f-street').select_option(label='荔湾区 · 西村街')
    page.get_by_role('radio', name='为自己下单').check()
    page.get_by_role('link', name='登记本人信息').click()
    expect(page).to_have_url('/m/service-objects/new')  # the registration page, not the order

    page.goto('/m/orders/new')  # back from the menu, later, in the same tab
    expect(page.get_by_label('订单标题')).to_have_value('帮我买菜送上楼')
    expect(page.get_by_role('radio', name='专业类养老志愿服务')).to_be_checked()
    expect(page.locator('#f-street')).to_have_value(page.locator('#f-street option', has_text='西村街').get_attribute('value'))
    expect(page.get_by_role('radio', name='为自己下单')).to_be_checked()
    expect(page.locator('.self-object')).to_be_visible()  # the part the restored choice shows

    page.goto('/m/orders/new')  # kept once: a later visit starts empty
    expect(page.get_by_label('订单标题')).to_have_value('')
