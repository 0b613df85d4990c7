"""A gift to a relative end to end in a real browser: a volunteer on a phone (375 px) browses the
shop, asks to give an elderly-care service to her father (first with an under-60 ID number), sees the
points held; 广志协 approves it in the desktop inbox; the volunteer sees the result and the points spent."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login_as
from tests.browser.test_page_tour import check_phone_page
from tests.helpers import png_bytes
from tests.web.shop_helpers import BATH, PARENT_ID, YOUNG_ID, award

pytestmark = pytest.mark.browser


def field(page, text):
    return page.get_by_label(re.compile('^' + re.escape(text)))


def test_gift_request_on_a_phone_then_approved_in_the_inbox(new_page, shot, tmp_path):
    award('vol_li', 60)
    proof = tmp_path / '户口本.png'
    proof.write_bytes(png_bytes(40, 30))

    phone = new_page('phone')
    login_as(phone, 'vol_li')
    phone.get_by_role('button', name='菜单').click()  # a phone's menu is folded under its button
    phone.get_by_role('link', name='积分商城').first.click()
    expect(phone.locator('h1')).to_have_text('积分商城')
    expect(phone.locator('.tab[aria-current=page]')).to_have_text('养老服务兑换')
    card = phone.locator('.shop-item', has_text=BATH)
    expect(card).to_contain_text('30 养老时间积分')
    expect(card).to_contain_text('仅可使用养老时间积分')
    check_phone_page(phone)
    shot(phone, 'phone-shop')
    for section in ('物品兑换', '其他兑换', '积分公益'):
        phone.locator('.tabs').get_by_role('link', name=section).click()
        expect(phone.locator('.tab[aria-current=page]')).to_have_text(section)
        check_phone_page(phone)
        shot(phone, f'phone-shop-{section}')
    phone.locator('.tabs').get_by_role('link', name='养老服务兑换').click()

    # a volunteer under 60 cannot redeem an elderly-care service for herself: the card says so and
    # points to the gift instead of offering a button that only leads to a refusal
    expect(card.get_by_role('button', name='个人兑换')).to_have_count(0)
    note = card.get_by_role('note')
    expect(note).to_contain_text('须年满 60 周岁')
    expect(note).to_contain_text('赠予直系亲属')
    expect(note).to_be_visible()
    shot(phone, 'phone-shop-under-60')
    card.get_by_role('link', name='赠予直系亲属').click()
    expect(phone.locator('h1')).to_have_text('赠予直系亲属')
    expect(phone.locator('main')).to_contain_text('李晓敏')
    expect(phone.locator('main')).to_contain_text('本人信息来自您的账号，不能修改')
    check_phone_page(phone)
    shot(phone, 'phone-gift-form')

    field(phone, '亲属姓名').fill('李大爷')
    phone.locator('input[name=relation][value=parent]').check()
    field(phone, '亲属手机号码').fill('13800138071')
    field(phone, '亲属身份证号码').fill(YOUNG_ID)
    field(phone, '亲属关系证明').set_input_files(str(proof))
    phone.get_by_role('button', name='提交申请').click()
    expect(phone.locator('#field-relative_id_number .field-error')).to_contain_text('受赠亲属须年满 60 周岁')
    expect(field(phone, '亲属姓名')).to_have_value('李大爷')
    expect(phone.locator('.file-status')).to_contain_text('已保留 1 张')
    check_phone_page(phone)
    shot(phone, 'phone-gift-under-60')

    field(phone, '亲属身份证号码').fill(PARENT_ID)
    phone.get_by_role('button', name='提交申请').click()
    expect(phone).to_have_url(re.compile(r'/m/cases/\d+$'))
    expect(phone.locator('.status-line')).to_contain_text('待广志协审核')
    expect(phone.locator('.flash.success')).to_contain_text('积分已冻结')
    case_url = phone.url
    check_phone_page(phone)
    shot(phone, 'phone-gift-pending')
    phone.get_by_role('button', name='菜单').click()
    phone.get_by_role('link', name='我的积分').first.click()
    expect(phone.locator('.points-held')).to_have_text('30')
    expect(phone.locator('.points-available')).to_have_text('30')
    expect(phone.locator('.ledger-entries')).to_contain_text('冻结积分')
    check_phone_page(phone)
    shot(phone, 'phone-points-held')

    # -- 广志协 in the desktop inbox ----------------------------------------------------------------
    desk = new_page('desktop')
    login_as(desk, 'gzva')
    desk.goto('/inbox')
    row = desk.locator('table.list tbody tr', has_text='赠予李大爷')
    expect(row).to_have_count(1)
    shot(desk, 'gzva-inbox')
    row.get_by_role('link', name=re.compile('赠予李大爷')).click()
    data = desk.locator('dl.data')
    for text in (BATH, '30 养老时间积分', '李晓敏', '来自账号，不可修改', '李大爷', '父母', PARENT_ID, '86 岁'):
        expect(data).to_contain_text(text)
    expect(data.locator('img')).to_have_count(1)
    expect(desk.locator('input[name=volunteer_id_number]')).to_have_count(0)
    shot(desk, 'gzva-task')
    desk.get_by_label('通过', exact=True).check()
    desk.get_by_role('button', name='提交审核结果').click()
    expect(desk.locator('.flash.success')).to_contain_text('已提交')
    expect(desk.locator('table.list tbody tr', has_text='赠予李大爷')).to_have_count(0)

    # -- the volunteer sees the result ---------------------------------------------------------
    phone.goto(case_url)
    expect(phone.locator('.status-line')).to_contain_text('已通过')
    expect(phone.locator('dl.data')).to_contain_text('联系受赠人李大爷')
    check_phone_page(phone)
    shot(phone, 'phone-gift-approved')
    phone.goto('/m/points')
    expect(phone.locator('.points-balance')).to_have_text('30')
    expect(phone.locator('.points-held')).to_have_text('0')
    phone.goto('/messages')
    expect(phone.locator('main')).to_contain_text('已通过审核')
    shot(phone, 'phone-messages')
    phone.goto('/m/shop/mine')
    expect(phone.locator('main')).to_contain_text('已通过，已扣除积分')
    check_phone_page(phone)
    shot(phone, 'phone-mine')


def test_district_bureau_puts_its_own_resources_on_sale(new_page, shot):
    desk = new_page('desktop')
    login_as(desk, 'district_liwan')
    desk.get_by_role('link', name='兑换资源审核').click()
    rows = desk.locator('table.list tbody tr')
    expect(rows).to_have_count(2)
    expect(desk.locator('table.list')).not_to_contain_text('越秀区长者体检套餐')
    shot(desk, 'district-review')
    row = rows.filter(has_text='康复理疗体验')
    row.get_by_label('不通过', exact=True).check()
    row.get_by_role('button', name='提交').click()
    # the message sits at that item's 意见, the summary names the item, and 不通过 stays chosen
    row = desk.locator('table.list tbody tr', has_text='康复理疗体验')
    expect(row.locator('.field-error')).to_contain_text('不通过时必须填写原因')
    expect(desk.locator('#error-summary')).to_contain_text('康复理疗体验（1 次）：不通过时必须填写原因')
    expect(row.get_by_label('不通过', exact=True)).to_be_checked()
    expect(desk.locator('.flash.error')).to_have_count(0)
    shot(desk, 'district-reject-no-reason')
    row.get_by_label('通过', exact=True).check()
    row.get_by_role('button', name='提交').click()
    expect(desk.locator('.flash.success')).to_contain_text('已提交审核结果')
    expect(rows).to_have_count(1)
    desk.locator('.tabs').get_by_role('link', name='已通过').click()
    expect(desk.locator('table.list')).to_contain_text('康复理疗体验')
    shot(desk, 'district-approved')

    award('vol_zhang', 60)  # the gift link is offered when the points pay for it
    phone = new_page('phone')
    login_as(phone, 'vol_zhang')
    phone.goto('/m/shop?section=elderly_care')
    expect(phone.locator('.shop-item', has_text='康复理疗体验')).to_have_count(1)
    expect(phone.locator('.shop-item', has_text='越秀区长者体检套餐')).to_have_count(0)
    # vol_zhang is over 60: 个人兑换 as well as the gift, and no age note
    card = phone.locator('.shop-item', has_text='康复理疗体验')
    expect(card.get_by_role('button', name='个人兑换')).to_be_visible()
    expect(card.get_by_role('link', name='赠予直系亲属')).to_be_visible()
    expect(phone.get_by_role('note')).to_have_count(0)
    check_phone_page(phone)
    shot(phone, 'phone-shop-over-60')

    # 个人兑换 asks first: what is spent and what is left; cancelling spends nothing
    card.get_by_role('button', name='个人兑换').click()
    expect(phone.locator('h1')).to_have_text('确认兑换')
    expect(phone.locator('.quote-available')).to_have_text('60')
    expect(phone.locator('.quote-after')).to_have_text('20')
    check_phone_page(phone)
    shot(phone, 'phone-redeem-confirm')
    phone.get_by_role('link', name='取消，不兑换').click()
    expect(phone.locator('h1')).to_have_text('积分商城')
    expect(phone.locator('.tiles .tile').first).to_contain_text('60')
    card.get_by_role('button', name='个人兑换').click()
    phone.get_by_role('button', name='确认兑换（扣除 40 积分）').click()
    expect(phone.locator('.flash.success')).to_contain_text('兑换成功，已扣除 40 积分')
    expect(phone.locator('main')).to_contain_text('康复理疗体验')
    shot(phone, 'phone-redeemed')
