"""Accessibility audit fixes in a real browser: star ratings by screen reader and arrow keys, text that follows the
browser's text size, the phone header and home page at 375 px in 大字模式, the editor's upload by keyboard, a batch
decision that asks first, and an export followed in place without reloading the page."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import ExportJob
from app.models.base import utcnow
from tests.browser.conftest import login_as
from tests.web.conftest import submit
from tests.web.test_v_order_lifecycle import travel_past_service
from tests.web.test_v_order_rules import staffed_order

pytestmark = pytest.mark.browser


def test_star_radios_are_named_and_the_arrow_keys_move_the_way_they_are_drawn(api, new_page):
    inst = staffed_order(api)
    travel_past_service(inst['id'])
    db.session.remove()
    page = new_page('phone')
    login_as(page, 'vol_zhang')
    page.goto(f'/m/cases/{inst["id"]}/resubmit')
    group = page.get_by_role('radiogroup', name=re.compile('总体'))
    expect(group.get_by_role('radio')).to_have_count(5)
    three = group.get_by_role('radio', name='3 星')
    page.locator('label[for="f-rating_overall-3"]').click()
    expect(three).to_be_checked()
    page.keyboard.press('ArrowRight')
    four = group.get_by_role('radio', name='4 星')
    expect(four).to_be_checked()
    x = {n: page.locator(f'label[for="f-rating_overall-{n}"]').bounding_box()['x'] for n in (3, 4)}
    assert x[4] > x[3], 'ArrowRight chose the star drawn to the right'
    # the chosen star and those before it are filled; an empty star is at least 3:1 on white
    page.mouse.move(0, 0)  # a star under the pointer previews its rating
    colours = [page.locator(f'label[for="f-rating_overall-{n}"]').evaluate('e => getComputedStyle(e).color') for n in (1, 4, 5)]
    assert colours[0] == colours[1] != colours[2]
    assert colours[2] == 'rgb(125, 133, 144)'


def test_text_follows_the_browsers_text_size(new_page):
    page = new_page('phone')
    login_as(page, 'vol_zhang')
    size = 'parseFloat(getComputedStyle(document.body).fontSize)'
    assert round(page.evaluate(size)) == 17
    page.evaluate("document.documentElement.style.fontSize = '200%'")  # what a 32 px browser default gives the root
    assert round(page.evaluate(size)) == 32
    page.locator('#elder-toggle').click()
    assert page.evaluate(size) > 32


@pytest.mark.parametrize('scale', ['100%', '200%'])
def test_phone_in_large_font_mode_keeps_everything_on_the_screen(new_page, scale):
    page = new_page('phone')
    login_as(page, 'station_xicun')
    page.locator('#elder-toggle').click()
    page.goto('/inbox')
    page.evaluate(f"document.documentElement.style.fontSize = '{scale}'")
    width = page.viewport_size['width']
    assert page.evaluate('document.documentElement.scrollWidth') <= width
    english = page.locator('header a[lang=en]').bounding_box()
    assert english['x'] >= 0 and english['x'] + english['width'] <= width
    search = page.locator('form.search input[type=search]').bounding_box()
    assert search['x'] + search['width'] <= width
    who = page.locator('.who')
    assert who.evaluate('e => e.scrollWidth <= e.clientWidth'), 'the name is not cut off'

    login_as(page, 'vol_zhang')
    page.goto('/m/')
    page.evaluate(f"document.documentElement.style.fontSize = '{scale}'")
    assert page.evaluate('document.documentElement.scrollWidth') <= width
    for tile in page.locator('.tile').all():
        label = tile.evaluate('e => e.lastChild.textContent.trim() || e.innerText.split("\\n").pop()')
        lines = tile.evaluate('e => { const r = document.createRange(); r.selectNodeContents(e); '
                              'return new Set([...r.getClientRects()].map(c => Math.round(c.top))).size; }')
        assert lines <= 4, (label, lines)  # the icon and at most three lines of words, never one character a line


# Why the first Enter sometimes opened no chooser: Playwright turns on Chromium's file-chooser interception
# (Page.setInterceptFileChooserDialog) only when the page's first `filechooser` listener is added, and does not wait
# for it, so `expect_file_chooser()` around the key press sends the switch and the key together. The switch travels
# on the page's DevTools session, the key through the browser's input pipeline, which the renderer serves first when
# its main thread is busy (a loaded machine, the editor still drawing): the Enter then opened a real chooser, which
# headless Chromium cancels at once (a `cancel` event on the input, seen in a trace), and Playwright saw nothing.
# The key itself was never dropped. Listening from the start makes the interception certain long before the key
# (every call since is a round trip on that session); the press then lands on a busy page on purpose, once.
BUSY_PAGE = 'setTimeout(() => { const t = performance.now(); while (performance.now() - t < 500); }, 0)'


def test_the_diagram_upload_works_from_the_keyboard(new_page):
    if not (Path(__file__).resolve().parents[2] / 'app/static/vendor/bpmn-modeler.production.min.js').exists():
        pytest.skip('editor assets not built (scripts/build_assets.sh)')
    page = new_page('desktop')
    choosers = []
    page.on('filechooser', lambda chooser: choosers.append(chooser))
    login_as(page, 'admin')
    page.goto('/admin/processes/service_object_entry')
    page.wait_for_selector('body[data-editor-ready="1"]')
    page.locator('#btn-download').focus()
    page.keyboard.press('Tab')
    assert page.evaluate('document.activeElement.id') == 'upload-file', 'the file box itself, named 上传 .bpmn'
    assert page.get_by_label('上传 .bpmn').evaluate('e => e.id') == 'upload-file'
    page.evaluate(BUSY_PAGE)  # the page's main thread busy for half a second, as on a loaded machine
    with page.expect_file_chooser(timeout=5000) as chooser:  # one Enter, one chooser
        page.keyboard.press('Enter')
    assert chooser.value.element.get_attribute('id') == 'upload-file'
    assert len(choosers) == 1
    with page.expect_file_chooser() as clicked:  # the mouse clicks the label drawn as a button
        page.locator('#btn-upload').click()
    assert clicked.value.element.get_attribute('id') == 'upload-file'
    assert len(choosers) == 2


def _station_tasks(api):
    return len(api('station_xicun').get('/tasks?state=open').get_json()['items'])


def test_a_batch_decision_asks_first_naming_the_count(api, new_page):
    for i in range(2):
        submit(api('vol_zhang'), i)
    db.session.remove()
    page = new_page('desktop')
    login_as(page, 'station_xicun')
    page.goto('/inbox')
    page.locator('#check-all').check()
    page.get_by_role('button', name='批量通过').click()
    question = page.get_by_role('group', name='确认对 2 件任务执行批量通过？')
    expect(question).to_be_visible()
    expect(page).to_have_url(re.compile(r'/inbox$'))
    assert _station_tasks(api) == 2
    db.session.remove()
    question.get_by_role('button', name='取消').click()
    expect(question).to_be_hidden()
    page.get_by_role('button', name='批量通过').click()
    expect(question.get_by_role('button', name='批量通过')).to_be_focused()
    question.get_by_role('button', name='批量通过').click()
    page.wait_for_url(re.compile(r'/inbox(/batch|\?)'))
    assert _station_tasks(api) == 0
    db.session.remove()


def test_a_running_export_updates_in_place(api, new_page):
    submit(api('vol_zhang'), 0)
    job_id = api('station_xicun').post('/exports', json={'kind': 'tasks'}).get_json()['id']
    job = db.session.get(ExportJob, job_id)
    job.status, job.started_at, job.done_rows = 'running', utcnow() - timedelta(seconds=5), 0
    db.session.commit()
    db.session.remove()
    page = new_page('desktop')
    login_as(page, 'station_xicun')
    page.goto('/exports')
    row = page.locator(f'#export-{job_id}')
    expect(row.locator('.badge')).to_have_text('生成中')
    expect(page.get_by_role('link', name='刷新')).to_be_hidden()  # the page follows the progress by itself
    page.locator('#f-q').fill('长者')
    page.evaluate('window.__same_page = true')

    job = db.session.get(ExportJob, job_id)
    job.status, job.done_rows, job.finished_at = 'done', job.total_rows, utcnow()
    db.session.commit()
    db.session.remove()
    expect(row.get_by_role('link', name='下载')).to_be_visible(timeout=8000)
    expect(row.locator('.badge')).to_have_text('已完成')
    expect(page.get_by_role('status').filter(has_text='已导出完成')).to_have_count(1)
    assert page.evaluate('window.__same_page === true'), 'the page was not reloaded'
    assert page.locator('#f-q').input_value() == '长者'


def test_phone_menu_folds_under_its_button_and_opens_on_tap(new_page):
    """In 大字模式 on a phone the header's seven menu entries took three rows, over a third of the first screen: the
    menu now folds under 菜单, and the header keeps the brand, the tools and the messages."""
    page = new_page('phone')
    login_as(page, 'vol_zhang')
    page.locator('#elder-toggle').click()
    page.goto('/m/')
    header = 'document.querySelector("header.top").getBoundingClientRect().height'
    shop = page.locator('header').get_by_role('link', name='积分商城')
    toggle = page.get_by_role('button', name='菜单')
    expect(shop).to_be_hidden()
    expect(toggle).to_have_attribute('aria-expanded', 'false')
    assert page.evaluate(header) < 740 / 4, page.evaluate(header)
    expect(page.locator('header .msg-link')).to_be_visible()
    toggle.click()
    expect(toggle).to_have_attribute('aria-expanded', 'true')
    shop.click()
    expect(page.locator('h1')).to_have_text('积分商城')

    desk = new_page('desktop')  # a desktop keeps its menu open, with no button
    login_as(desk, 'vol_zhang')
    expect(desk.locator('header').get_by_role('link', name='积分商城')).to_be_visible()
    expect(desk.get_by_role('button', name='菜单')).to_be_hidden()
