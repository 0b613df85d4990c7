"""The inbox's 类型 and 排序 choices in a browser: a choice made with the pointer shows the list at once, one made
with the keyboard waits for 筛选, ticks in the batch form are not dropped, and the row fits a phone."""
import re

import pytest

from tests.browser.conftest import login_as
from tests.web.conftest import open_task, submit
from tests.web.test_inbox_filters_s18c import _order_at_station

pytestmark = pytest.mark.browser


@pytest.fixture
def mixed_inbox(api):
    """station_xicun's open tab: two service-object entries and a V-order 发布审核 (task ids, oldest first)."""
    vol, station = api('vol_zhang'), api('station_xicun')
    entries = [open_task(station, submit(vol, i))['id'] for i in range(2)]
    return entries + [_order_at_station(api)]


def _listed(page):
    return [int(re.search(r'/inbox/tasks/(\d+)', h).group(1))
            for h in page.locator('table.list td.title-cell a').evaluate_all('els => els.map(e => e.getAttribute("href"))')]


@pytest.mark.parametrize('kind', ['phone', 'desktop'])
def test_a_pointer_choice_shows_the_list_at_once(new_page, mixed_inbox, kind):
    page = new_page(kind)
    login_as(page, 'station_xicun')
    page.goto('/inbox')
    width = page.viewport_size['width']
    assert page.evaluate('document.documentElement.scrollWidth') <= width
    for box in ('#f-process', '#f-sort', '.inbox-filters button:has-text("筛选")'):
        b = page.locator(box).bounding_box()
        assert b['x'] >= 0 and b['x'] + b['width'] <= width, box
    with page.expect_navigation():
        page.locator('#f-process').dispatch_event('pointerdown')
        page.locator('#f-process').select_option('v_order')
    assert 'process=v_order' in page.url
    assert _listed(page) == [mixed_inbox[2]]
    with page.expect_navigation():
        page.locator('#f-process').dispatch_event('pointerdown')
        page.locator('#f-process').select_option('')
    with page.expect_navigation():
        page.locator('#f-sort').dispatch_event('pointerdown')
        page.locator('#f-sort').select_option('oldest')
    assert 'sort=oldest' in page.url and _listed(page) == mixed_inbox
    assert page.locator('#f-sort').input_value() == 'oldest'


def test_a_keyboard_choice_waits_for_the_filter_button(new_page, mixed_inbox):
    page = new_page('desktop')
    login_as(page, 'station_xicun')
    page.goto('/inbox')
    page.locator('#f-sort').focus()
    page.keyboard.press('ArrowDown')  # a closed select steps to 最早到达 (and says "change") without leaving the page
    page.wait_for_timeout(300)
    assert page.locator('#f-sort').input_value() == 'oldest' and 'sort=' not in page.url
    with page.expect_navigation():
        page.locator('.inbox-filters button:has-text("筛选")').click()
    assert 'sort=oldest' in page.url and _listed(page) == mixed_inbox


def test_ticked_tasks_are_not_dropped_by_a_choice(new_page, mixed_inbox):
    page = new_page('desktop')
    login_as(page, 'station_xicun')
    page.goto('/inbox')
    page.locator(f'input[name=task_ids][value="{mixed_inbox[0]}"]').check()
    page.locator('#f-process').dispatch_event('pointerdown')
    page.locator('#f-process').select_option('v_order')
    page.wait_for_timeout(300)
    assert 'process=' not in page.url
    assert page.locator(f'input[name=task_ids][value="{mixed_inbox[0]}"]').is_checked()


def test_without_javascript_the_filter_button_sends_the_choices(browser, live_server, mixed_inbox):
    ctx = browser.new_context(base_url=live_server, java_script_enabled=False, locale='zh-CN',
                              viewport={'width': 375, 'height': 812})
    try:
        page = ctx.new_page()
        login_as(page, 'station_xicun')
        page.goto('/inbox?q=长者')
        page.locator('#f-sort').select_option('oldest')
        page.locator('.inbox-filters button:has-text("筛选")').click()
        page.wait_for_load_state()
        assert 'sort=oldest' in page.url and 'q=' in page.url
        assert _listed(page) == mixed_inbox[:2], 'the search is kept'
        assert page.evaluate('document.documentElement.scrollWidth') <= 375
    finally:
        ctx.close()
