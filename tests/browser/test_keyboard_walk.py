"""The keyboard and screen-reader walk: the header is tabbed in the order it is drawn, its focus ring shows on the
red bar, a batch refused in the page names its reason to a screen reader and marks the field, a picked file that
is not an image is announced and tied to the file box, and 认领 leaves Tab at the decision form."""
import pytest

from tests.browser.conftest import login_as
from tests.web.conftest import open_task, submit

pytestmark = pytest.mark.browser

FOCUSED = """() => { const e = document.activeElement; const r = e.getBoundingClientRect();
  return {inHeader: !!e.closest('header'), text: e.textContent.trim(), x: r.x, y: r.y,
          part: e.closest('.mainnav') ? 'menu' : e.closest('.me') ? 'me' : 'bar', outline: getComputedStyle(e).outlineColor} }"""


def _header_stops(page) -> list[dict]:
    page.locator('body').focus()
    stops = []
    for _ in range(40):
        page.keyboard.press('Tab')
        now = page.evaluate(FOCUSED)
        if not now['inHeader']:
            if stops:
                break
            continue
        stops.append(now)
    return stops


@pytest.mark.parametrize('width', [1280, 1024])
def test_the_header_is_tabbed_in_the_order_it_is_drawn(new_page, width):
    page = new_page('desktop')
    page.set_viewport_size({'width': width, 'height': 800})
    login_as(page, 'gzva')  # the longest menu: two rows at 1024 px
    page.goto('/inbox')
    stops = _header_stops(page)
    texts = [s['text'] for s in stops]
    assert texts[0] == '公益时间银行' and texts[-1] == '退出', texts
    parts = [s['part'] for s in stops]
    assert parts == sorted(parts, key=['bar', 'menu', 'me'].index), 'brand and tools, then the menu, then 消息…退出'
    for a, b in zip(stops, stops[1:]):
        # within a part the next stop is to the right on the same line or on a line below; the column of 消息 and
        # 退出 sits to the right of the menu
        same_line = abs(a['y'] - b['y']) < 4
        if a['part'] == b['part']:
            assert (same_line and b['x'] > a['x']) or b['y'] > a['y'] + 4, (a['text'], b['text'])
        else:
            assert b['x'] > a['x'] or b['y'] > a['y'] + 4, (a['text'], b['text'])
    assert max(s['y'] for s in stops if s['part'] == 'bar') < min(s['y'] for s in stops if s['part'] != 'bar') + 4, \
        'the brand and the tools are never below the menu'
    assert texts.index('大字模式' if '大字模式' in texts else 'A+大字模式') < texts.index('待办审核') < texts.index('消息')
    # the ring on the red header is white, not the body's blue (1.1:1 against the red)
    assert all(s['outline'] == 'rgb(255, 255, 255)' for s in stops), {s['text']: s['outline'] for s in stops}


def test_a_batch_refused_in_the_page_is_announced_and_marks_its_field(api, new_page):
    submit(api('vol_zhang'), 1)
    page = new_page('desktop')
    login_as(page, 'station_xicun')
    page.goto('/inbox')
    problem = page.locator('#batch-problem')
    assert problem.get_attribute('role') == 'alert'
    page.get_by_role('button', name='批量通过').click()
    assert problem.inner_text() == '请先勾选要处理的任务'
    picked_first = page.evaluate("() => [document.activeElement.getAttribute('aria-invalid'), "
                                 "document.activeElement.getAttribute('aria-describedby')]")
    assert picked_first == ['true', 'batch-problem']
    page.locator('table input[name=task_ids]').first.check()
    page.get_by_role('button', name='批量不通过').click()
    reason = page.locator('#f-batch-reason')
    assert problem.inner_text() == '批量不通过时必须填写意见'
    assert reason.get_attribute('aria-invalid') == 'true'
    assert reason.get_attribute('aria-describedby').split() == ['count-f-batch-reason', 'batch-problem']
    assert page.locator('#check-all').get_attribute('aria-invalid') is None, 'the tick boxes are fine now'


def test_a_file_that_is_not_an_image_is_announced_and_tied_to_the_file_box(new_page):
    page = new_page('phone')
    login_as(page, 'vol_zhang')
    page.goto('/m/service-objects/new')
    files = page.locator('input[type=file]')
    files.set_input_files(files=[{'name': 'notes.txt', 'mimeType': 'text/plain', 'buffer': b'hello'}])
    problem = page.locator('.file-problem')
    assert problem.get_attribute('role') == 'alert' and 'notes.txt' in problem.inner_text()
    assert files.get_attribute('aria-invalid') == 'true'
    assert problem.get_attribute('id') in files.get_attribute('aria-describedby').split()


def test_after_claiming_tab_goes_on_at_the_decision_form(api, new_page):
    task = open_task(api('station_xicun'), submit(api('vol_zhang'), 2))
    page = new_page('desktop')
    login_as(page, 'station_xicun')
    page.goto(f'/inbox/tasks/{task["id"]}')
    page.get_by_role('button', name='认领').click()
    page.wait_for_load_state()
    assert page.url.endswith('#decision-form')
    page.keyboard.press('Tab')
    assert page.evaluate("() => !!document.activeElement.closest('#decision-form')")
