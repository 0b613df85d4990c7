"""撤回 a pending gift on a phone (375 px): the case page's button, a confirmation that says the points are released,
then the case reads 已撤回 with the reason and the points are available again."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login_as
from tests.browser.test_page_tour import check_phone_page
from tests.web.shop_helpers import award, points, started_gift

pytestmark = pytest.mark.browser


def test_withdrawing_a_pending_gift_on_a_phone(new_page, shot, api):
    award('vol_li', 60)
    li = api('vol_li')
    inst = started_gift(li)
    assert points(li) == (60, 30, 30)

    phone = new_page('phone')
    login_as(phone, 'vol_li')
    phone.goto(f'/m/cases/{inst["id"]}')
    expect(phone.locator('.status-line')).to_contain_text('待广志协审核')
    button = phone.get_by_role('link', name='撤回', exact=True)
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box['height'] >= 44 and box['width'] >= 300, box  # a large tap target, the width of the phone
    check_phone_page(phone)
    shot(phone, 'case-pending')

    button.click()
    expect(phone.locator('h1')).to_have_text('撤回')
    expect(phone.locator('main')).to_contain_text('冻结的 30 养老时间积分将解冻，回到您的可用积分。')
    check_phone_page(phone)
    reason = phone.get_by_label('撤回原因')
    reason.fill('家里已经安排了')
    expect(phone.locator('#count-f-reason')).to_contain_text('已输入 7 / 200')
    shot(phone, 'confirm')
    assert points(li) == (60, 30, 30)  # nothing happens before the confirmation

    phone.get_by_role('button', name='确认撤回').click()
    expect(phone.locator('.withdrawn-note')).to_contain_text('撤回，冻结的积分已解冻')
    expect(phone.locator('.flash.success')).to_have_count(0)  # said once, by the page's own note
    expect(phone.locator('.status-line')).to_contain_text('已撤回')
    expect(phone.locator('.withdrawn-note')).to_contain_text('撤回原因：家里已经安排了')
    expect(phone.locator('.history')).to_contain_text('提交人撤回')
    expect(phone.get_by_role('link', name='撤回', exact=True)).to_have_count(0)
    check_phone_page(phone)
    shot(phone, 'case-withdrawn')
    assert points(li) == (60, 0, 60)

    phone.goto('/m/points')
    expect(phone.locator('main')).to_contain_text('（受赠人：李大爷）已撤回，解冻积分')
    check_phone_page(phone)
