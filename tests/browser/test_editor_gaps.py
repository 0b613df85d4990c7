"""Editor gaps in a real browser: the canvas toolbar (撤销/重做/放大/缩小/适合窗口) by keyboard, 放弃草稿 in the
editor and on the processes list (asked first, the published version kept), and a problem's technical detail."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, WorkflowDraft
from tests.browser.conftest import login_as
from tests.browser.test_editor import open_editor, select_element, upload
from tests.web.test_process_admin import BASE, KEY

pytestmark = pytest.mark.browser

ZOOM = 'bpmnEditor.modeler.get("canvas").zoom()'


@pytest.fixture(autouse=True)
def _needs_assets():
    from pathlib import Path
    if not (Path(__file__).resolve().parents[2] / 'app/static/vendor/bpmn-modeler.production.min.js').exists():
        pytest.skip('editor assets not built (scripts/build_assets.sh)')


def drafts():
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(WorkflowDraft))


def name_of(page, element_id):
    return page.evaluate(f'bpmnEditor.modeler.get("elementRegistry").get("{element_id}").businessObject.name')


def active_id(page):
    return page.evaluate('document.activeElement && document.activeElement.id')


def test_undo_redo_and_zoom_from_the_toolbar_by_keyboard(new_page, shot):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    tools = page.get_by_role('group', name='画布工具')
    undo, redo = tools.get_by_role('button', name='撤销上一步修改'), tools.get_by_role('button', name='重做刚撤销的修改')
    expect(undo).to_be_disabled()
    expect(redo).to_be_disabled()
    shot(page, 'nothing-to-undo')

    select_element(page, 'station_review', x=50, y=40)
    page.get_by_label('名称').fill('社工站初审（改）')
    page.keyboard.press('Tab')
    expect(undo).to_be_enabled()
    expect(redo).to_be_disabled()
    assert name_of(page, 'station_review') == '社工站初审（改）'

    # the toolbar comes right after the file box in the tab order, and Enter presses its buttons
    page.locator('#upload-file').focus()
    page.keyboard.press('Tab')
    assert active_id(page) == 'btn-undo'
    page.keyboard.press('Enter')
    assert name_of(page, 'station_review') == '社工站初审'
    expect(undo).to_be_disabled()
    expect(redo).to_be_enabled()
    assert active_id(page) == 'btn-redo', 'the focus went on to 重做, not to the page'
    shot(page, 'undone')
    page.keyboard.press('Space')
    assert name_of(page, 'station_review') == '社工站初审（改）'
    expect(redo).to_be_disabled()
    assert active_id(page) == 'btn-undo'

    fitted = page.evaluate(ZOOM)
    page.keyboard.press('Tab')  # 重做 is disabled: the next stop is 放大
    assert active_id(page) == 'btn-zoom-in'
    page.keyboard.press('Enter')
    bigger = page.evaluate(ZOOM)
    assert bigger > fitted
    page.keyboard.press('Tab')
    assert active_id(page) == 'btn-zoom-out'
    page.keyboard.press('Enter')
    page.keyboard.press('Enter')
    assert page.evaluate(ZOOM) < bigger
    shot(page, 'zoomed-out')
    page.keyboard.press('Tab')
    assert active_id(page) == 'btn-zoom-fit'
    page.keyboard.press('Enter')
    assert page.evaluate(ZOOM) == pytest.approx(fitted, rel=0.01)
    # zoomed in as far as it goes, 放大 is disabled and the focus is on 缩小
    page.locator('#btn-zoom-in').focus()
    for _ in range(12):
        if page.locator('#btn-zoom-in').is_disabled():
            break
        page.keyboard.press('Enter')
    expect(page.locator('#btn-zoom-in')).to_be_disabled()
    assert page.evaluate(ZOOM) == pytest.approx(4, rel=0.01)
    assert active_id(page) == 'btn-zoom-out'


def test_discard_the_draft_in_the_editor(api, new_page, shot):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    discard = page.locator('#btn-discard')
    expect(discard).to_be_hidden()  # the published version: no draft to discard
    select_element(page, 'station_review', x=50, y=40)
    page.get_by_label('名称').fill('社工站初审（改）')
    page.keyboard.press('Tab')
    page.get_by_role('button', name='保存草稿并检查').click()
    page.wait_for_selector('#ed-status.ok')
    assert drafts() == 1
    draft_id = db.session.scalar(select(WorkflowDraft.id))
    expect(discard).to_be_visible()
    expect(discard).to_have_text(f'放弃草稿 #{draft_id}')

    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once('dialog', lambda d: answer(d, False))
    discard.click()
    assert questions and f'#{draft_id}' in questions[0] and '无法恢复' in questions[0]
    assert drafts() == 1, 'cancelled: the draft stays'
    shot(page, 'draft-saved')

    page.once('dialog', lambda d: answer(d, True))
    discard.focus()
    page.keyboard.press('Enter')
    page.wait_for_url(re.compile(r'published=1'))
    page.wait_for_selector('body[data-editor-ready="1"]')
    expect(page.locator('#ed-status.ok')).to_have_text(f'草稿 #{draft_id} 已放弃，已回到已发布版本 v1。')
    expect(page.locator('#btn-discard')).to_be_hidden()
    expect(page.locator('#ed-source')).to_contain_text('已发布版本 v1')
    assert name_of(page, 'station_review') == '社工站初审'
    assert drafts() == 0
    assert AuditLog.query.filter_by(action='process.draft_discard').count() == 1
    assert [v['version'] for v in api('admin').get(f'/processes/{KEY}/versions').get_json()] == [1]
    shot(page, 'discarded')


def test_discard_a_draft_from_the_processes_list(api, new_page, shot):
    admin = api('admin')
    resp = admin.client.post(f'/api/v1/processes/{KEY}/drafts', headers={**admin.headers, 'Content-Type': 'application/xml'},
                             data=BASE.replace('name="社工站初审"'.encode(), 'name="社工站初审（改）"'.encode()))
    draft_id = resp.get_json()['draft_id']
    db.session.remove()
    page = new_page('desktop')
    login_as(page, 'admin')
    page.goto('/admin/processes')
    row = page.locator('tr', has=page.get_by_role('link', name=re.compile(f'打开草稿 #{draft_id}')))
    question = row.get_by_text(re.compile(f'放弃草稿 #{draft_id}（'))
    expect(question).to_be_hidden()
    row.locator('summary', has_text='放弃草稿').focus()
    page.keyboard.press('Enter')  # opens the question; nothing is deleted yet
    expect(question).to_be_visible()
    assert '无法恢复' in question.inner_text() and '已发布的版本不受影响' in question.inner_text()
    assert drafts() == 1
    shot(page, 'asked')
    row.get_by_role('button', name='确定放弃').click()
    page.wait_for_load_state()
    expect(page.locator('.flash.success')).to_contain_text(f'已放弃草稿 #{draft_id}')
    expect(page.get_by_role('link', name=re.compile('打开草稿'))).to_have_count(0)
    assert drafts() == 0
    shot(page, 'discarded')


def test_a_problem_shows_the_parsers_words_as_a_technical_detail(new_page, shot):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    no_default = BASE.replace('name="终审结果" default="flow_to_approve"'.encode(), 'name="终审结果"'.encode())
    upload(page, no_default, 'no-default.bpmn')
    page.wait_for_selector('#ed-status.bad:has-text("no-default.bpmn")')
    item = page.locator('#problems li[data-element-id="flow_to_approve"]')
    message = item.locator('.msg').inner_text()
    assert '终审结果' in message and '通过' in message and '默认路径' in message
    assert 'Non-default' not in message
    detail = item.get_by_text('技术细节')
    expect(item.locator('code[lang=en]')).to_be_hidden()
    detail.click()
    expect(item.locator('code[lang=en]')).to_contain_text('Non-default exclusive outgoing sequence flow')
    expect(page.locator('#pane-problems')).to_be_visible()  # opening the detail is not a click on the problem
    shot(page, 'detail')
    item.locator('.msg').click()  # the problem itself still leads to its element
    expect(page.locator('#pane-props')).to_be_visible()
