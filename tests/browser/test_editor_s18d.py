"""walk_office #6, #7 in a real browser: the editor's 元素属性 tab says what to do before anything is selected, a
True/False condition is a 开启/关闭 switch, the variable help names two steps of one name once, 放弃草稿 says where
the editor went back to, a draft refused as stale stays one click away, the migration dry run lists titles, and the
case viewer opens with the whole chain in view."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login_as
from tests.browser.test_editor import open_editor, select_element
from tests.web.conftest import open_task, submit
from tests.web.test_process_admin import BASE

ASSETS = 'app/static/vendor/bpmn-modeler.production.min.js'
KEY = 'service_object_entry'
XML = {'Content-Type': 'application/xml'}


@pytest.fixture(autouse=True)
def _needs_assets():
    from pathlib import Path
    if not (Path(__file__).resolve().parents[2] / ASSETS).exists():
        pytest.skip('editor assets not built (scripts/build_assets.sh)')


def select_by_id(page, element_id):
    page.evaluate(f"""() => {{ const m = window.bpmnEditor.modeler;
        m.get('selection').select(m.get('elementRegistry').get('{element_id}')); }}""")


def condition_of(page, flow_id):
    xml = page.evaluate('bpmnEditor.modeler.saveXML().then(r => r.xml)')
    flow = re.search(rf'<bpmn:sequenceFlow id="{flow_id}".*?</bpmn:sequenceFlow>', xml, re.S).group(0)
    return re.search(r'name="([^"]*)"', flow).group(1), re.search(r'>([^<]*)</bpmn:conditionExpression>', flow).group(1)


def test_the_association_review_is_switched_on_and_off_without_typing_python(new_page, shot):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1366, 'height': 800})
    open_editor(page, 'v_order')
    expect(page.locator('#props')).to_have_text('点击图中的泳道、步骤或连线，在这里修改。')  # nothing selected yet
    shot(page, 'opened')

    select_by_id(page, 'f_assoc_on')
    switch = page.get_by_role('group', name='开关：是否走这条连线')
    on = switch.get_by_role('radio', name=re.compile('^开启：.*进入“广志协终审”'))
    off = switch.get_by_role('radio', name=re.compile('^关闭：'))
    expect(off).to_be_checked()
    expect(switch).to_contain_text('当前：已关闭')
    expect(switch).to_contain_text('保存为 True（开启）或 False（关闭）')
    expect(page.get_by_label('条件', exact=True)).to_be_hidden()  # the Python words are behind 改为按条件判断
    on.check()
    expect(switch).to_contain_text('当前：已开启')
    assert condition_of(page, 'f_assoc_on') == ('广志协终审（开关）', 'True')
    shot(page, 'switched-on')
    off.check()
    assert condition_of(page, 'f_assoc_on') == ('广志协终审（开关）', 'False')
    # a written condition is still one click away, and it is what the switch stands for
    page.get_by_text('改为按条件判断（高级）').click()
    expect(page.get_by_label('条件', exact=True)).to_have_value('False')
    # selecting nothing again brings the hint back
    page.evaluate("bpmnEditor.modeler.get('selection').select(null)")
    expect(page.locator('#props')).to_have_text('点击图中的泳道、步骤或连线，在这里修改。')

    # a flow with a real condition keeps its box; the variable help names the two 退回修改 steps once
    select_by_id(page, 'f_to_provider')
    expect(page.get_by_label('条件', exact=True)).to_have_value('dispatch_mode == "provider"')
    expect(page.get_by_role('group', name='开关：是否走这条连线')).to_have_count(0)
    help_text = page.locator('.cond-help').inner_text()
    assert '系统步骤“退回修改（共 2 处）”的结果' in help_text and '退回修改、退回修改' not in help_text, help_text


def test_discarding_says_where_the_editor_went_back_to(api, new_page):
    admin = api('admin')
    resp = admin.client.post(f'/api/v1/processes/{KEY}/drafts', headers={**admin.headers, **XML},
                             data=BASE.replace('name="社工站初审"'.encode(), 'name="社工站初审（改）"'.encode()))
    draft_id = resp.get_json()['draft_id']
    page = new_page('desktop')
    page.set_viewport_size({'width': 1366, 'height': 800})
    open_editor(page)   # the draft saved last opens
    page.once('dialog', lambda d: d.accept())
    page.get_by_role('button', name=f'放弃草稿 #{draft_id}').click()
    page.wait_for_url(re.compile(r'published=1'))
    page.wait_for_selector('body[data-editor-ready="1"]')
    expect(page.locator('#ed-status')).to_have_text(f'草稿 #{draft_id} 已放弃，已回到已发布版本 v1。')
    assert 'discarded=' not in page.url, 'a reload does not say it again'
    page.reload()
    page.wait_for_selector('body[data-editor-ready="1"]')
    expect(page.locator('#ed-status')).to_have_text('')


def test_a_draft_refused_as_stale_stays_one_click_away(api, new_page, shot):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1366, 'height': 800})
    open_editor(page)
    admin = api('admin')
    other = admin.client.post(f'/api/v1/processes/{KEY}/drafts', headers={**admin.headers, **XML},
                              data=BASE.replace('name="镇街终审"'.encode(), 'name="镇街审核"'.encode()))
    assert admin.post(f'/processes/{KEY}/drafts/{other.get_json()["draft_id"]}/publish').status_code == 201

    select_element(page, 'station_review', x=50, y=40)
    page.get_by_label('名称').fill('社工站初审（含入户）')
    page.keyboard.press('Tab')
    page.on('dialog', lambda d: d.accept())
    page.get_by_role('button', name='发布为新版本').click()
    page.wait_for_selector('#ed-status.bad:has-text("因此未发布")')
    link = page.locator('#ed-status a#open-refused-draft')
    expect(link).to_have_text(re.compile(r'打开未发布的草稿 #\d+（查看本次修改）'))
    expect(page.locator('#ed-status')).to_contain_text('在新标签页打开最新版本')
    shot(page, 'refused')
    link.click()
    page.wait_for_selector('body[data-editor-ready="1"]')
    notice = page.locator('#stale-draft')
    expect(notice).to_contain_text('本草稿是在 v1 上修改的')
    expect(notice.locator('#stale-changes')).to_contain_text('修改 社工站初审（含入户）（station_review）')
    assert page.evaluate('bpmnEditor.modeler.get("elementRegistry").get("station_review").businessObject.name') \
        == '社工站初审（含入户）', 'the refused draft itself is open'
    shot(page, 'stale-draft')
    page.goto('/admin/processes')
    expect(page.get_by_role('link', name=re.compile(r'草稿 #\d+（基于 v1'))).to_have_count(1)


def test_the_dry_run_lists_movable_cases_with_their_titles(api, new_page):
    vol, admin = api('vol_zhang'), api('admin')
    case = submit(vol, 3)
    resp = admin.client.post(f'/api/v1/processes/{KEY}/drafts', headers={**admin.headers, **XML},
                             data=BASE.replace('name="镇街终审"'.encode(), 'name="镇街审核"'.encode()))
    assert admin.post(f'/processes/{KEY}/drafts/{resp.get_json()["draft_id"]}/publish').status_code == 201
    page = new_page('desktop')
    page.set_viewport_size({'width': 1366, 'height': 800})
    open_editor(page)
    page.get_by_role('tab', name='迁移').click()
    page.get_by_role('button', name='试运行（不改动）').click()
    page.wait_for_selector('#mig-movable a')
    assert page.locator('#mig-movable').inner_text().strip().startswith(f'#{case} 长者〇三号（')


def test_the_case_viewer_opens_with_the_whole_chain_in_view(api, new_page, shot):
    case = submit(api('vol_zhang'), 4)
    station = api('station_xicun')
    assert station.post(f'/tasks/{open_task(station, case)["id"]}/complete',
                        json={'decision': 'approve'}).status_code == 200
    page = new_page('desktop')
    page.set_viewport_size({'width': 1366, 'height': 800})
    login_as(page, 'admin')
    page.goto(f'/admin/instances/{case}')
    page.wait_for_selector('body[data-viewer-ready="1"]')
    box = page.locator('#iv-canvas').bounding_box()
    for element_id in ('start', 'submit', 'street_review', 'end_approved'):  # the start of the chain to its end
        shape = page.locator(f'#iv-canvas g.djs-element[data-element-id="{element_id}"]').bounding_box()
        assert box['x'] <= shape['x'] and shape['x'] + shape['width'] <= box['x'] + box['width'], element_id
    before = page.locator('#iv-canvas .viewport').get_attribute('transform')
    page.get_by_role('button', name='缩放流程图以适合窗口').click()
    assert page.locator('#iv-canvas .viewport').get_attribute('transform') == before, 'opened as 适合窗口 shows it'
    shot(page, 'fitted')
