"""A volunteer a provider dispatched an order to declines it on a phone (375 px): the reason box counts to 200, an
empty reason is refused in place, and the order goes back to the provider."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import login_as
from tests.browser.test_page_tour import check_phone_page
from tests.web.test_v_order_dispatch import _dispatched_order
from tests.web.test_v_order_lifecycle import complete, open_task

pytestmark = pytest.mark.browser


def test_volunteer_declines_a_dispatch_on_the_phone(new_page, shot, api):
    inst, order_id, provider = _dispatched_order(api)
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    db.session.remove()  # the server thread may share this connection (SQLite in memory)
    phone = new_page('phone')
    login_as(phone, 'vol_li')
    phone.goto(f'/orders/{order_id}')
    box = phone.locator('#withdraw')
    expect(box.get_by_role('heading', name='拒绝派单')).to_be_visible()
    check_phone_page(phone)
    reason = box.get_by_label('原因')
    reason.fill('那天要陪母亲住院')
    expect(box.locator('.char-count')).to_contain_text('已输入 8 / 200')
    shot(phone, 'decline-dispatch')
    box.get_by_role('button', name='确认拒绝派单').click()
    expect(phone.locator('.flash.success')).to_contain_text('已拒绝派单，社工站和服务商会收到您的原因')
    expect(phone).to_have_url(re.compile(rf'/orders/{order_id}$'))
    expect(phone.locator('body')).to_contain_text('李晓敏（已拒绝派单）')
    expect(phone.locator('#withdraw')).to_have_count(0)
    expect(phone.locator('.status-line')).to_contain_text('待派单')
    check_phone_page(phone)
