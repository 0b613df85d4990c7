"""积分公益 on a phone (375 px): after 确认捐赠, the browser's Back button brings the confirmation back as "捐赠已完成"
with no button to pay again, for 项目捐分 and for 捐入公益池; 广志协's /shop/pool lists the pool donation once."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login_as
from tests.browser.test_page_tour import check_phone_page
from tests.web.shop_helpers import award

pytestmark = pytest.mark.browser
PROJECT = '关爱独居长者项目'


def _donate_then_back(phone, shot, card, button, amount, name):
    phone.goto('/m/shop?section=charity')
    card = phone.locator(card)
    card.locator('input[name=amount]').fill(str(amount))
    card.get_by_role('button', name=button).click()
    expect(phone.locator('h1')).to_have_text('确认捐赠')
    expect(phone).to_have_url(re.compile(r'request_token='))     # the confirmation's one-time address
    check_phone_page(phone)
    shot(phone, f'{name}-confirm')
    phone.get_by_role('button', name=f'确认捐赠（扣除 {amount} 积分）').click()
    expect(phone.locator('.flash.success')).to_contain_text(f'捐分成功，已扣除 {amount} 积分')

    phone.go_back()
    expect(phone.locator('h1')).to_have_text('捐赠已完成')
    expect(phone.get_by_role('alert')).to_have_text('该捐赠已完成，请勿重复提交')
    expect(phone.locator('main')).to_contain_text('这次确认只扣除一次积分，没有重复捐赠')
    expect(phone.get_by_role('button', name=re.compile('确认捐赠'))).to_have_count(0)
    check_phone_page(phone)
    shot(phone, f'{name}-back')
    phone.reload()                                                # reloading it pays nothing either
    expect(phone.locator('h1')).to_have_text('捐赠已完成')


def test_back_after_a_donation_on_a_phone_pays_nothing_more(new_page, shot):
    award('vol_zhang', 60)
    phone = new_page('phone')
    login_as(phone, 'vol_zhang')
    project_card = f'.shop-item:has(h2:text-is("{PROJECT}"))'
    _donate_then_back(phone, shot, project_card, '项目捐分', 5, 'project')
    _donate_then_back(phone, shot, '#pool', '捐入公益池', 10, 'pool')

    phone.goto('/m/points?type=elderly_time')
    main = phone.locator('main')
    expect(main.locator('li', has_text=f'项目捐分「{PROJECT}」')).to_have_count(1)
    expect(main.locator('li', has_text='积分捐入公益池')).to_have_count(1)
    shot(phone, 'points')

    desk = new_page('desktop')
    login_as(desk, 'gzva')
    desk.goto('/shop/pool')
    expect(desk.locator('.pool-balance')).to_have_text('10')
    expect(desk.locator('tr.pool-in')).to_have_count(1)
    expect(desk.locator('tr.pool-in')).to_contain_text('+10')
    shot(desk, 'pool')
