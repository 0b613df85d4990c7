"""广志协's lists in a real browser, with JavaScript switched off: blacklisting asks for a reason and keeps the chosen
unit when it is missing; the review list shows the publishing team in bold red with 黑名单 beside it; taking the
team off the list goes through a confirmation page (nothing happens on the first click)."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, login_as
from tests.web.test_activity_flow import activity_data

pytestmark = pytest.mark.browser

TEAM_A = '西村街长者关爱志愿服务队'


def test_blacklist_reason_publisher_mark_and_confirmed_removal_without_javascript(browser, live_server, shot):
    ctx = browser.new_context(base_url=live_server, java_script_enabled=False, **DESKTOP)
    try:
        gzva = ctx.new_page()
        login_as(gzva, 'gzva')
        gzva.goto('/activities/admin')
        gzva.locator('#f-unit-black').select_option('team_a')
        gzva.locator('#list-black').get_by_role('button', name='加入').click()
        expect(gzva.locator('#field-reason-black .field-error')).to_contain_text('请填写加入黑名单的原因')
        expect(gzva.locator('#f-unit-black')).to_have_value('team_a')
        gzva.locator('#f-reason-black').fill('多次发布与实际不符的招募信息')
        gzva.locator('#list-black').get_by_role('button', name='加入').click()
        expect(gzva.locator('#list-black li.blacklisted')).to_contain_text('原因：多次发布与实际不符的招募信息')
        expect(gzva.locator('#f-unit-white option[value="team_a"]')).to_have_count(0)
        shot(gzva, 'lists')

        team = ctx.request  # team_a publishes through the API (the form itself is walked elsewhere)
        token = team.post('/api/v1/auth/token', data={'username': 'team_a', 'password': 'demo1234'}).json()['token']
        resp = team.post('/api/v1/processes/activity_publish/instances', headers={'Authorization': f'Bearer {token}'},
                         data={'data': activity_data(title='社区义剪')})
        assert resp.status == 201, resp.text()

        gzva.goto('/inbox')
        row = gzva.locator('table.list tbody tr', has_text='社区义剪')
        publisher = row.locator('td[data-label="发布单位"]')
        expect(publisher.locator('.publisher')).to_have_text(TEAM_A)
        expect(publisher.locator('.badge')).to_have_text('黑名单')
        color, weight = publisher.locator('.publisher').evaluate(
            'e => [getComputedStyle(e).color, getComputedStyle(e).fontWeight]')
        assert color == 'rgb(207, 34, 46)' and int(weight) >= 700
        shot(gzva, 'inbox')

        gzva.goto('/activities/admin')
        gzva.locator('#list-black li', has_text=TEAM_A).get_by_role('link', name='移出').click()
        expect(gzva.locator('main')).to_contain_text(f'确认将 {TEAM_A} 移出黑名单？')
        gzva.goto('/activities/admin')
        expect(gzva.locator('#list-black li.blacklisted')).to_contain_text(TEAM_A)  # the first click changed nothing
        gzva.locator('#list-black li', has_text=TEAM_A).get_by_role('link', name='移出').click()
        gzva.locator('#f-reason').fill('已整改')
        gzva.get_by_role('button', name='确认移出').click()
        expect(gzva.locator('.flash.success')).to_contain_text('已移出名单')
        expect(gzva.locator('#list-black')).to_contain_text('暂无单位')
        expect(gzva.locator('#changes tbody tr').first).to_contain_text('原因：已整改')
        shot(gzva, 'removed')
    finally:
        ctx.close()
