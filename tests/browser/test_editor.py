"""BPMN editor in the browser: change a lane's role with the picker, publish, and the new chain is used
by new cases while an older case still goes to the street; live condition check and problem list."""
import pytest

from tests.browser.conftest import login_as
from tests.web.conftest import open_task, submit

ASSETS = 'app/static/vendor/bpmn-modeler.production.min.js'


@pytest.fixture(autouse=True)
def _needs_assets():
    from pathlib import Path
    if not (Path(__file__).resolve().parents[2] / ASSETS).exists():
        pytest.skip('editor assets not built (scripts/build_assets.sh)')


def open_editor(page, key='service_object_entry'):
    login_as(page, 'admin')
    page.goto(f'/admin/processes/{key}')
    page.wait_for_selector('body[data-editor-ready="1"]')


def select_element(page, element_id, x=12, y=60):
    """Click an element of the diagram (lanes: in their label strip)."""
    page.locator(f'g.djs-element[data-element-id="{element_id}"]').first.click(position={'x': x, 'y': y}, force=True)


def test_change_lane_role_publish_new_chain(api, new_page, shot):
    vol, station, gzva, street = api('vol_zhang'), api('station_xicun'), api('gzva'), api('street_xicun')
    older = submit(vol, 1)                                   # started on v1, waits at the station

    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    shot(page, 'editor')
    select_element(page, 'Lane_street_admin')
    picker = page.get_by_label('审核角色')
    assert picker.input_value() == 'street_admin'
    picker.select_option('association_admin')
    page.wait_for_selector('.lane-role:text("广志协")')
    shot(page, 'lane-picked')

    page.on('dialog', lambda d: d.accept())
    page.get_by_role('button', name='发布为新版本').click()
    page.wait_for_selector('#ed-status.ok:has-text("v2")')
    page.get_by_role('tab', name='版本').click()
    page.wait_for_selector('#versions tr[data-version="2"]')
    shot(page, 'published')

    new_case = submit(vol, 2)
    for case in (older, new_case):
        task = open_task(station, case)
        assert station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    assert open_task(gzva, new_case) is not None and open_task(street, new_case) is None
    assert open_task(street, older) is not None and open_task(gzva, older) is None

    inbox = new_page('desktop')
    login_as(inbox, 'gzva')
    inbox.goto('/inbox')
    assert '镇街终审' in inbox.locator('main').inner_text()


def test_condition_live_check_and_problem_list(new_page, shot):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    page.evaluate("""() => { const m = window.bpmnEditor.modeler;
        m.get('selection').select(m.get('elementRegistry').get('flow_too_many')); }""")
    field = page.get_by_label('条件', exact=True)
    assert field.input_value() == 'revision > 20'
    page.wait_for_selector('.cond-msg.ok')
    field.fill("__import__('os').system('id')")
    page.wait_for_selector('.cond-msg.bad')
    assert '不允许' in page.locator('.cond-msg').inner_text()
    field.fill('revisoin > 20')
    page.wait_for_selector('.cond-msg.bad:has-text("revisoin")')
    field.dispatch_event('change')
    shot(page, 'condition-check')

    page.get_by_role('button', name='保存草稿并检查').click()
    page.wait_for_selector('#problems li.clickable')
    item = page.locator('#problems li[data-element-id="flow_too_many"]')
    assert 'revisoin' in item.inner_text()
    assert page.locator('g.djs-element.has-problem[data-element-id="flow_too_many"]').count() == 1
    select_element(page, 'Lane_street_admin')
    item.click()
    page.wait_for_selector('.ed-pane h2:text("连线")')
    assert 'flow_too_many' in page.locator('#props').inner_text()
    assert page.get_by_label('条件', exact=True).input_value() == 'revisoin > 20'
    shot(page, 'problems')
    page.get_by_role('button', name='发布为新版本').click()
    page.wait_for_selector('#ed-status.bad')
    assert '问题' in page.locator('#ed-status').inner_text()
