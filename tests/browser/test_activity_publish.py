"""Activity publishing end to end in a real browser: 广志协 blacklists team_a, whitelists the veterans'
team and adds a word on the lists page; team_a publishes on a phone (375 px), is stopped by the word,
is rejected and resubmits; team_vet publishes from the desktop and skips the association but not the
bureau; the blacklisted row is bold red in the inbox; the public list is read on a phone."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login_as
from tests.browser.test_page_tour import check_phone_page

pytestmark = pytest.mark.browser


def fill_activity(page, title, veterans=False):
    page.locator('#f-title').fill(title)
    page.locator('#f-service_field').select_option('elderly_care')
    if veterans:
        page.get_by_label('退役军人志愿活动').check()
    page.locator('#f-street').select_option('xicun')
    page.locator('#f-place').fill('西村街长者饭堂')
    page.locator('#f-start_at').fill('2031-05-01T09:00')
    page.locator('#f-end_at').fill('2031-05-01T11:00')
    page.locator('#f-recruit_count').fill('8')
    page.locator('#f-description').fill('陪伴长者聊天、量血压。')
    page.get_by_role('button', name='提交审核').click()


def review(page, title, decision, reason=''):
    page.goto('/inbox')
    page.locator('table.list tbody tr', has_text=title).get_by_role('link', name=title).click()
    page.get_by_label(decision, exact=True).check()
    if reason:
        page.locator('textarea[name=reason]').first.fill(reason)
    page.get_by_role('button', name='提交审核结果').click()
    expect(page.locator('.flash.success')).to_contain_text('已提交')


def test_publish_review_resubmit_and_public_list(new_page, shot):
    # -- 广志协 sets up the lists on the desktop -------------------------------------------------
    gzva = new_page('desktop')
    login_as(gzva, 'gzva')
    gzva.get_by_role('link', name='名单与敏感词').click()
    gzva.locator('#f-unit-black').select_option('team_a')
    gzva.locator('#f-reason-black').fill('多次发布与实际不符的招募信息')
    gzva.locator('#list-black').get_by_role('button', name='加入').click()
    expect(gzva.locator('.flash.success')).to_contain_text('已加入名单')
    gzva.locator('#f-unit-white').select_option('team_vet')
    gzva.locator('#list-white').get_by_role('button', name='加入').click()
    gzva.locator('#f-words').fill('赌博')
    gzva.locator('#words').get_by_role('button', name='添加').click()
    expect(gzva.locator('.flash.success')).to_contain_text('已添加敏感词')
    expect(gzva.locator('#list-black li.blacklisted')).to_contain_text('西村街长者关爱志愿服务队')
    expect(gzva.locator('#changes tbody tr')).to_have_count(3)
    shot(gzva, 'gzva-lists')

    # -- team_a on a phone: the word is caught, then the activity goes to review ----------------
    phone = new_page('phone')
    login_as(phone, 'team_a')
    phone.get_by_role('button', name='菜单').click()  # a phone's menu is folded under its button
    phone.get_by_role('link', name='我的活动').click()
    check_phone_page(phone)
    phone.get_by_role('link', name='发布志愿活动').click()
    fill_activity(phone, '赌 博 知识讲座')
    expect(phone.locator('#field-title .field-error')).to_contain_text('包含敏感词：赌博')
    expect(phone.locator('#f-title')).to_have_value('赌 博 知识讲座')
    expect(phone.locator('#f-place')).to_have_value('西村街长者饭堂')
    assert phone.evaluate('document.documentElement.scrollWidth') <= 375
    shot(phone, 'team-a-sensitive-word')
    phone.locator('#f-title').fill('防诈骗知识讲座')
    phone.get_by_role('button', name='提交审核').click()
    expect(phone).to_have_url(re.compile(r'/activities/cases/\d+$'))
    expect(phone.locator('.status-line')).to_contain_text('待广志协审核')
    case_url = phone.url
    check_phone_page(phone)
    shot(phone, 'team-a-pending')

    # -- team_vet from the desktop: whitelisted, so straight to the bureau -----------------------
    vet_team = new_page('desktop')
    login_as(vet_team, 'team_vet')
    vet_team.goto('/activities/new')
    fill_activity(vet_team, '退役军人进社区', veterans=True)
    expect(vet_team.locator('.status-line')).to_contain_text('待退役军人事务局终审')
    expect(vet_team.locator('main')).to_contain_text('广志协审核（白名单免审）')
    shot(vet_team, 'team-vet-skipped')

    # -- the blacklisted team is bold red in 广志协's inbox; team_vet's is not there ----------------
    gzva.goto('/inbox')
    row = gzva.locator('table.list tbody tr', has_text='防诈骗知识讲座')
    expect(row).to_have_class(re.compile('blacklisted'))
    expect(row.locator('.badge')).to_have_text('黑名单')
    link = row.get_by_role('link', name='防诈骗知识讲座')
    color, weight = link.evaluate('e => [getComputedStyle(e).color, getComputedStyle(e).fontWeight]')
    assert color == 'rgb(207, 34, 46)' and int(weight) >= 700
    expect(gzva.locator('table.list')).not_to_contain_text('退役军人进社区')
    shot(gzva, 'gzva-inbox-blacklisted')
    review(gzva, '防诈骗知识讲座', '不通过', '请写明讲座的主讲人')

    # -- team_a reads the reason on the phone and resubmits ---------------------------------------
    phone.goto('/activities/mine')
    expect(phone.locator('.card', has_text='防诈骗知识讲座')).to_contain_text('查看原因')
    phone.goto(case_url)
    expect(phone.locator('main')).to_contain_text('请写明讲座的主讲人')
    check_phone_page(phone)
    shot(phone, 'team-a-rejected')
    phone.get_by_role('link', name='修改后重新提交').first.click()
    expect(phone.locator('#f-title')).to_have_value('防诈骗知识讲座')
    phone.locator('#f-description').fill('主讲人：西村派出所民警。')
    phone.get_by_role('button', name='提交审核').click()
    expect(phone.locator('.flash.success')).to_contain_text('已重新提交')
    review(gzva, '防诈骗知识讲座', '通过')

    # -- the bureau approves on a phone ------------------------------------------------------------
    bureau = new_page('phone')
    login_as(bureau, 'veterans')
    expect(bureau.locator('main')).to_contain_text('退役军人进社区')
    review(bureau, '退役军人进社区', '通过')

    # -- anyone reads the public list on a phone ----------------------------------------------------
    public = new_page('phone')
    public.goto('/activities')
    cards = public.locator('ul.cards li.activity')
    expect(cards).to_have_count(2)
    expect(cards.filter(has_text='退役军人进社区')).to_contain_text('退役军人志愿活动')
    check_phone_page(public)
    shot(public, 'public-list')
    cards.filter(has_text='防诈骗知识讲座').get_by_role('link').click()
    expect(public.locator('main')).to_contain_text('主讲人：西村派出所民警。')
    expect(public.locator('main')).not_to_contain_text('黑名单')
    check_phone_page(public)
    shot(public, 'public-detail')
    phone.goto(case_url)
    expect(phone.locator('.status-line')).to_contain_text('已通过')
