"""BPMN editor in the browser: change a lane's role with the picker, publish, and the new chain is used
by new cases while an older case still goes to the street; live condition check and problem list."""
import pytest

from tests.browser.conftest import login_as
from tests.web.conftest import open_task, submit
from tests.web.test_process_admin import BASE, BROKEN, _replace_element, street_to_association

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
    # published times read in Beijing time, like every other page (the API gives UTC)
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo
    published = page.locator('#versions tr[data-version="2"] td').nth(1).inner_text()
    now = datetime.now(UTC).astimezone(ZoneInfo('Asia/Shanghai'))
    assert published.startswith(now.strftime('%Y-%m-%d %H:')) or published.startswith(now.strftime('%Y-%m-%d')), published
    assert ' · admin' in published

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


def several_problems() -> bytes:
    """One diagram with six problems: a lane that is not a role, an unknown form, an unsafe condition, a
    condition naming an unknown variable, a gateway without default, and a script task."""
    xml = (BASE.replace(b'name="street_admin"', b'name="street_boss"')
           .replace(b'value="review.json"/>\n          <spiffworkflow:property name="scope" value="street_scope"',
                    b'value="nope.json"/>\n          <spiffworkflow:property name="scope" value="street_scope"')
           .replace(b'revision &gt; 20', b"__import__('os').system('id')")
           .replace(b'>decision == "reject"</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>\n'
                    b'    <bpmn:sequenceFlow id="flow_station_back"',
                    b'>decison == "reject"</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>\n'
                    b'    <bpmn:sequenceFlow id="flow_station_back"'))
    xml = (xml.replace('name="终审结果" default="flow_to_approve"'.encode(), 'name="终审结果"'.encode())
           .replace('<bpmn:sequenceFlow id="flow_to_approve" name="通过" sourceRef="gw_street" targetRef="approve"/>'
                    .encode(), '<bpmn:sequenceFlow id="flow_to_approve" name="通过" sourceRef="gw_street" '
                    'targetRef="approve"><bpmn:conditionExpression>decision == "approve"</bpmn:conditionExpression>'
                    '</bpmn:sequenceFlow>'.encode()))
    return _replace_element(xml, 'serviceTask', 'approve',
                            '<bpmn:scriptTask id="approve" name="入库"><bpmn:incoming>flow_to_approve</bpmn:incoming>'
                            '<bpmn:outgoing>flow_approved</bpmn:outgoing><bpmn:script>x = 1</bpmn:script>'
                            '</bpmn:scriptTask>')


def upload(page, xml: bytes, name='broken.bpmn'):
    page.locator('#upload-file').set_input_files({'name': name, 'mimeType': 'application/xml', 'buffer': xml})


def listed_and_marked(page):
    listed = page.locator('#problems li').evaluate_all('els => els.map(e => e.dataset.elementId)')
    marked = page.locator('g.djs-element.has-problem').evaluate_all('els => els.map(e => e.dataset.elementId)')
    return listed, set(marked)


def test_every_problem_listed_and_highlighted(api, new_page, shot):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    upload(page, several_problems())
    page.wait_for_selector('#ed-status.bad:has-text("broken.bpmn")')
    page.wait_for_selector('#problems li.clickable')
    expected = {'Lane_street_admin', 'street_review', 'flow_too_many', 'flow_station_reject', 'gw_street', 'approve'}
    listed, marked = listed_and_marked(page)
    assert sorted(listed) == sorted(expected) and marked == expected
    text = page.locator('#problems').inner_text()
    for words in ('street_boss', 'nope.json', '不允许', 'decison', '默认路径', '脚本任务'):
        assert words in text, words
    shot(page, 'six-problems')
    page.locator('#problems li[data-element-id="Lane_street_admin"]').click()
    assert page.get_by_label('审核角色').input_value() == 'street_boss'

    # an XSD error names its line and marks the element it is in
    xsd = BASE.replace(b'<bpmn:userTask id="station_review"', b'<bpmn:userTask priority="high" id="station_review"')
    assert xsd != BASE
    upload(page, xsd, 'xsd.bpmn')
    page.wait_for_selector('#ed-status.bad:has-text("xsd.bpmn")')
    item = page.locator('#problems li').first
    assert '行' in item.locator('.where').inner_text() and 'BPMN' in item.inner_text()
    assert listed_and_marked(page) == (['station_review'], {'station_review'})
    shot(page, 'xsd-error')

    # a process without start event is marked on its pool
    upload(page, BROKEN['missing_start'][0], 'nostart.bpmn')
    page.wait_for_selector('#ed-status.bad:has-text("nostart.bpmn")')
    assert listed_and_marked(page) == (['service_object_entry'], {'Participant_service_object_entry'})
    assert '开始事件' in page.locator('#problems').inner_text()
    shot(page, 'missing-start')

    # unreadable files are refused with a clear message and nothing is stored or published
    upload(page, b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', 'xxe.bpmn')
    page.wait_for_selector('#ed-status.bad:has-text("xxe.bpmn")')
    assert '已被拒绝' in page.locator('#ed-status').inner_text()
    assert 'ENTITY' in page.locator('#problems').inner_text()
    upload(page, b'<bpmn:definitions><oops', 'bad.bpmn')
    page.wait_for_selector('#problems:has-text("XML 格式错误")')
    shot(page, 'refused')
    admin = api('admin')
    assert [v['version'] for v in admin.get('/processes/service_object_entry/versions').get_json()] == [1]


def test_lane_name_is_never_typed_on_the_canvas(new_page):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    page.locator('g.djs-element[data-element-id="Lane_street_admin"]').first.dblclick(position={'x': 12, 'y': 60},
                                                                                      force=True)
    assert page.locator('.djs-direct-editing-parent:visible').count() == 0
    picker = page.get_by_label('审核角色')
    assert picker.input_value() == 'street_admin'
    assert picker.evaluate('el => el === document.activeElement')
    assert picker.locator('option').evaluate_all('os => os.map(o => o.value)')[1:] == [
        'submitter', 'volunteer', 'team_admin', 'station_admin', 'street_admin', 'district_admin',
        'association_admin', 'provider_admin', 'veterans_admin', 'process_admin']
    # a task's name is still edited on the canvas
    page.locator('g.djs-element[data-element-id="street_review"]').first.dblclick(force=True)
    assert page.locator('.djs-direct-editing-parent:visible').count() == 1


def test_versions_migration_and_instance_viewer(api, new_page, shot):
    vol, station, admin = api('vol_zhang'), api('station_xicun'), api('admin')
    case = submit(vol, 3)
    task = open_task(station, case)
    assert station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    past = submit(vol, 4)   # street already decided once: its changed step is behind it, it cannot move
    station.post(f'/tasks/{open_task(station, past)["id"]}/complete', json={'decision': 'approve'})
    street = api('street_xicun')
    assert street.post(f'/tasks/{open_task(street, past)["id"]}/complete',
                       json={'decision': 'reject', 'reason': '材料不全'}).status_code == 200
    resp = admin.client.post('/api/v1/processes/service_object_entry/drafts', data=street_to_association(),
                             headers={**admin.headers, 'Content-Type': 'application/xml'})
    assert admin.post(f'/processes/service_object_entry/drafts/{resp.get_json()["draft_id"]}/publish').status_code == 201

    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    page.get_by_role('tab', name='版本').click()
    row = page.locator('#versions tr[data-version="1"]')
    assert row.locator('.running-count').inner_text() == '2' and '镇街终审 × 1' in row.inner_text()
    page.get_by_role('button', name='比较').click()
    page.wait_for_selector('#diff .diff.changed')
    assert 'street_review' in page.locator('#diff').inner_text()
    shot(page, 'versions-diff')

    page.get_by_role('tab', name='迁移').click()
    page.get_by_role('button', name='试运行（不改动）').click()
    page.wait_for_selector(f'#mig-movable a:text("#{case}")')
    result = page.locator('#mig-result')
    assert '可以迁移的案件 (1)' in result.inner_text() and '不能迁移的案件 (1)' in result.inner_text()
    assert f'#{past}' in page.locator('#mig-blocked').inner_text()
    page.on('dialog', lambda d: d.accept())
    page.get_by_role('button', name='执行迁移').click()
    page.wait_for_selector('#mig-result p.ok')
    # after applying, the result says what happened, not what could happen
    text = result.inner_text()
    assert '已迁移 1 个案件' in text and '已迁移的案件 (1)' in text and '未迁移的案件（仍在原版本上运行） (1)' in text
    assert '可以迁移' not in text and '不能迁移' not in text
    assert page.locator('#mig-moved').inner_text().strip().startswith(f'#{case} 长者〇三号（')  # with its title
    blocked = page.locator('#mig-not-moved').inner_text()
    assert f'#{past}' in blocked and '镇街终审' in blocked and 'street_review' not in blocked
    shot(page, 'migrated')

    page.goto(f'/admin/instances/{case}')
    page.wait_for_selector('body[data-viewer-ready="1"]')
    done = page.locator('g.djs-element.done').evaluate_all('els => els.map(e => e.dataset.elementId)')
    assert {'start', 'submit', 'station_review'} <= set(done) and 'street_review' not in done
    current = page.locator('g.djs-element.current').evaluate_all('els => els.map(e => e.dataset.elementId)')
    assert current == ['street_review']
    text = page.locator('main').inner_text()
    assert 'v2' in text and '流程版本迁移 v1 → v2' in text and '社工站初审' in text
    shot(page, 'instance-viewer')


def test_unsaved_edits_are_kept_unless_confirmed_and_a_stale_edit_is_not_published(api, new_page):
    """Opening a version or uploading a file over unpublished edits asks first; publishing an edit of v1 after
    someone else published v2 is refused with who/when and what to do, and v2 stays the latest."""
    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    admin = api('admin')
    # someone else publishes a change meanwhile (the same diagram again would be refused: nothing new)
    other = admin.client.post('/api/v1/processes/service_object_entry/drafts',
                              data=BASE.replace('name="社工站初审"'.encode(), 'name="社工站审核"'.encode()),
                              headers={**admin.headers, 'Content-Type': 'application/xml'})
    assert admin.post(f'/processes/service_object_entry/drafts/{other.get_json()["draft_id"]}/publish').status_code == 201

    select_element(page, 'Lane_street_admin')
    page.get_by_label('审核角色').select_option('association_admin')
    page.wait_for_selector('.lane-role:text("广志协")')
    dialogs, answer = [], {'accept': False}

    def on_dialog(d):
        dialogs.append(d.message)
        d.accept() if answer['accept'] else d.dismiss()
    page.on('dialog', on_dialog)

    page.get_by_role('tab', name='版本').click()
    page.locator('#versions tr[data-version="1"] button', has_text='打开').click()
    assert len(dialogs) == 1 and '尚未发布的修改' in dialogs[0] and 'v1' in dialogs[0]
    assert page.locator('.lane-role:text("广志协")').count() == 1            # kept
    upload(page, BASE, 'other.bpmn')
    assert len(dialogs) == 2 and 'other.bpmn' in dialogs[1]
    assert page.locator('.lane-role:text("广志协")').count() == 1

    answer['accept'] = True
    page.get_by_role('button', name='发布为新版本').click()
    page.wait_for_selector('#ed-status.bad:has-text("请打开最新版本重新修改")')
    assert 'v2' in page.locator('#ed-status').inner_text()
    assert [v['version'] for v in admin.get('/processes/service_object_entry/versions').get_json()] == [2, 1]

    page.locator('#versions tr[data-version="2"] button', has_text='打开').click()
    page.wait_for_selector('#ed-source:has-text("v2")')
    assert page.locator('.lane-role:text("广志协")').count() == 0            # replaced, after the confirm
    page.get_by_role('tab', name='元素属性').click()
    select_element(page, 'Lane_street_admin')
    page.get_by_label('审核角色').select_option('association_admin')
    page.get_by_role('button', name='发布为新版本').click()
    page.wait_for_selector('#ed-status.ok:has-text("v3")')


# ---------------------------------------------------------------- the editor walk's fixes

def select_id(page, element_id):
    page.evaluate("""id => { const m = window.bpmnEditor.modeler;
        m.get('selection').select(m.get('elementRegistry').get(id)); }""", element_id)


def element_name(page, element_id):
    return page.evaluate("id => window.bpmnEditor.modeler.get('elementRegistry').get(id).businessObject.name",
                         element_id)


def test_scope_is_picked_from_the_process_variables_and_a_missing_one_is_refused(api, new_page, shot):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    select_id(page, 'street_review')
    scope = page.get_by_label('管辖范围变量')
    assert scope.input_value() == 'street_scope'
    options = scope.locator('option').all_inner_texts()
    assert options[0] == '请选择管辖范围变量'
    assert 'street_scope · 服务对象的户籍街道和居住街道' in options and 'station_scope · 这两个街道的社工站' in options
    select_id(page, 'station_review')
    assert page.get_by_label('管辖范围变量').input_value() == 'station_scope'
    assert 'street_scope · 服务对象的户籍街道和居住街道 （该泳道的角色看不到）' in page.get_by_label(
        '管辖范围变量').locator('option').all_inner_texts()

    select_id(page, 'street_review')
    page.get_by_label('管辖范围变量').select_option('')
    shot(page, 'scope-emptied')
    page.on('dialog', lambda d: d.accept())
    page.get_by_role('button', name='发布为新版本').click()
    page.wait_for_selector('#ed-status.bad:has-text("未发布")')
    item = page.locator('#problems li[data-element-id="street_review"]')
    assert '“镇街终审”（street_review）' in item.inner_text() and '没有设置管辖范围变量' in item.inner_text()
    shot(page, 'scope-refused')

    # an uploaded diagram naming a variable the process does not provide: shown as it is, not silently changed
    upload(page, BASE.replace(b'value="street_scope"', b'value="district_scope"'), 'district.bpmn')
    page.wait_for_selector('#ed-status.bad:has-text("district.bpmn")')
    assert '“district_scope”不是本流程提供的变量' in page.locator('#problems').inner_text()
    page.get_by_role('tab', name='元素属性').click()
    select_id(page, 'street_review')
    scope = page.get_by_label('管辖范围变量')
    assert scope.input_value() == 'district_scope'
    assert '本流程没有这个变量' in scope.locator('option:checked').inner_text()
    assert [v['version'] for v in api('admin').get('/processes/service_object_entry/versions').get_json()] == [1]


def test_condition_help_lists_the_variables_and_the_default_picker_names_targets(new_page, shot):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    select_id(page, 'flow_street_reject')
    help_box = page.locator('.cond-help')
    text = help_box.inner_text()
    for words in ('表单“审核”（镇街终审、社工站初审）', 'decision 审核结果：approve 通过、reject 不通过',
                  '表单“服务对象录入”（提交服务对象信息）', 'category 服务对象类别：elderly 长者',
                  'revision 第几次提交', 'street_scope 服务对象的户籍街道和居住街道'):
        assert words in text, words
    field = page.get_by_label('条件', exact=True)
    field.fill('')
    help_box.get_by_role('button', name='category', exact=True).click()
    field.press('End')
    field.type(' == "elderly"')
    page.wait_for_selector('.cond-msg.ok')
    assert field.input_value() == 'category == "elderly"'
    shot(page, 'condition-help')

    select_id(page, 'gw_revision')
    labels = page.get_by_label('默认路径').locator('option').all_inner_texts()
    assert labels[0] == '无' and sorted(labels[1:]) == ['→ 社工站初审', '超过20次 → 终止录入'], labels
    assert not any('flow_' in label for label in labels)


def test_a_saved_draft_is_reopened_and_the_published_version_is_one_click_away(api, new_page, shot):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    select_id(page, 'station_review')
    page.get_by_label('名称').fill('社工站复核')
    page.get_by_label('名称').dispatch_event('change')
    page.get_by_role('button', name='保存草稿并检查').click()
    page.wait_for_selector('#ed-status.ok:has-text("已保存")')
    assert '正在编辑草稿 #' in page.locator('#ed-source').inner_text()

    page.locator('a.back, p.back a').first.click()
    page.wait_for_url('**/admin/processes')
    shot(page, 'list-with-draft')
    page.get_by_role('link', name='打开草稿').click()
    page.wait_for_selector('body[data-editor-ready="1"]')
    source = page.locator('#ed-source').inner_text()
    assert '正在编辑草稿 #' in source and '保存于' in source and '基于版本 v1' in source, source
    assert element_name(page, 'station_review') == '社工站复核'
    shot(page, 'draft-reopened')

    page.get_by_role('link', name='改为打开已发布版本 v1').click()
    page.wait_for_selector('body[data-editor-ready="1"]')
    assert element_name(page, 'station_review') == '社工站初审'
    assert '打开未发布的草稿' in page.locator('#ed-source').inner_text()
    page.get_by_role('link', name='打开未发布的草稿').click()
    page.wait_for_selector('body[data-editor-ready="1"]')
    assert element_name(page, 'station_review') == '社工站复核'
    # publishing the reopened draft: the page saves over its own draft and publishes it
    page.on('dialog', lambda d: d.accept())
    page.get_by_role('button', name='发布为新版本').click()
    page.wait_for_selector('#ed-status.ok:has-text("v2")')
    assert [v['version'] for v in api('admin').get('/processes/service_object_entry/versions').get_json()] == [2, 1]


def test_publishing_without_a_change_is_refused_without_asking(api, new_page):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    dialogs = []
    page.on('dialog', lambda d: (dialogs.append(d.message), d.accept()))
    page.get_by_role('button', name='发布为新版本').click()
    page.wait_for_selector('#ed-status.bad:has-text("无需发布")')
    assert '与当前版本 v1 相同' in page.locator('#ed-status').inner_text() and dialogs == []
    assert [v['version'] for v in api('admin').get('/processes/service_object_entry/versions').get_json()] == [1]


def test_download_from_the_keyboard_saves_the_canvas_of_that_moment(new_page):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1440, 'height': 900})
    open_editor(page)
    for key, name in (('Enter', '社工站复核'), ('Space', '社工站再审')):
        select_id(page, 'station_review')
        page.get_by_label('名称').fill(name)
        page.get_by_label('名称').dispatch_event('change')
        page.locator('#btn-download').focus()
        with page.expect_download(timeout=5000) as download:
            page.keyboard.press(key)
        assert download.value.suggested_filename == 'service_object_entry.bpmn'
        with open(download.value.path(), encoding='utf-8') as fh:
            assert f'name="{name}"' in fh.read(), key
