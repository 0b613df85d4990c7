"""The district's 兑换资源审核 batch bar speaks of resources, not tasks, and refuses an empty batch in the page."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login_as

pytestmark = pytest.mark.browser


def test_the_batch_bar_names_resources(new_page):
    page = new_page('desktop')
    login_as(page, 'district_liwan')
    page.goto('/shop/review')
    count = page.locator('#batch-form .batch-count')
    expect(count).to_have_text('勾选兑换资源后可批量处理')
    page.get_by_role('button', name='批量通过').click()  # nothing ticked: refused before it is sent
    expect(page.locator('#batch-problem')).to_have_text('请先勾选要审核的兑换资源')
    page.locator('#batch-form input[name=task_ids]').first.check()
    expect(count).to_have_text('已选 1 项')
