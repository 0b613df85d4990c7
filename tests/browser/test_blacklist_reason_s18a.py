"""The blacklist reason box counts as it is typed, like every other reason box: a pasted 600-character reason is kept
whole, the counter says how much is over, and the refused save shows the whole text again."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, login_as

pytestmark = pytest.mark.browser

LONG = ('该团队多次发布与实际不符的活动信息，' * 34)[:600]


def test_a_pasted_long_reason_is_counted_not_cut(browser, live_server, shot):
    ctx = browser.new_context(base_url=live_server, **DESKTOP)
    try:
        gzva = ctx.new_page()
        login_as(gzva, 'gzva')
        gzva.goto('/activities/admin')
        gzva.locator('#f-unit-black').select_option('team_a')
        box, count = gzva.locator('#f-reason-black'), gzva.locator('#count-f-reason-black')
        expect(count).to_have_text('已输入 0 / 500')
        box.fill(LONG)
        expect(box).to_have_value(LONG)  # nothing cut
        expect(count).to_have_text('已输入 600 / 500，超出 100 个字，请删减')
        gzva.locator('#list-black').get_by_role('button', name='加入').click()
        expect(gzva.locator('#field-reason-black .field-error')).to_contain_text('现有 600 个字')
        expect(gzva.locator('#f-reason-black')).to_have_value(LONG)
        expect(gzva.locator('#f-unit-black')).to_have_value('team_a')
        shot(gzva, 'refused')
        gzva.locator('#f-reason-black').fill(LONG[:500])
        expect(gzva.locator('#count-f-reason-black')).to_have_text('已输入 500 / 500')
        gzva.locator('#list-black').get_by_role('button', name='加入').click()
        expect(gzva.locator('.flash.success')).to_contain_text('已加入名单')
    finally:
        ctx.close()
