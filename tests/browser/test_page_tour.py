"""Every page a volunteer or reviewer sees, at phone width (375 px) and on desktop: screenshots to
test-artifacts/ and the checks a real user would trip over: no sideways scrolling on a phone,
touch targets of at least 44 px, 17 px+ text on a phone, the large-font mode, the 404 page."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.services.demo import make_id
from tests.browser.conftest import login_as
from tests.helpers import ELDER_ID, ELDER_ID_2, start_entry

pytestmark = pytest.mark.browser

THIRD_ID = make_id('440111', date(1945, 3, 8), 33, female=True)

# what must be at least 44 px tall (and wide) to be tapped
TAPPABLE = ('button, .btn, header.top a, .tab, select, '
            'input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), '
            'textarea, .radio, .check, .file-pick, summary, '
            '.tile, .case a, .pager a')

WIDE_JS = """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 375.5)
    .slice(0, 8).map(e => `${e.tagName.toLowerCase()}.${e.className} right=${e.getBoundingClientRect().right}`)"""

SMALL_TARGETS_JS = """(sel) => [...document.querySelectorAll(sel)].filter(e => {
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(e).visibility === 'hidden' || e.closest('.sr-only')) return false;
    return r.height < 43.5 || r.width < 43.5;
}).map(e => {
    const r = e.getBoundingClientRect(), text = (e.innerText || e.name || '').trim().slice(0, 20);
    return `${e.tagName.toLowerCase()}.${e.className} "${text}" ${Math.round(r.width)}x${Math.round(r.height)}`;
})"""

# the text typed into a form control (date and datetime-local pickers included) is 17 px or more on a phone
SMALL_FIELD_TEXT_JS = """() => [...document.querySelectorAll(
        'input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), select, textarea')]
    .filter(e => e.getBoundingClientRect().height && parseFloat(getComputedStyle(e).fontSize) < 16.95)
    .map(e => `${e.tagName.toLowerCase()}[type=${e.type}]#${e.id} ${getComputedStyle(e).fontSize}`)"""

DATE_INPUTS_JS = """() => [...document.querySelectorAll('input[type=date], input[type=datetime-local], input[type=time]')]
    .map(e => { const r = e.getBoundingClientRect();
                return {id: e.id, type: e.type, width: r.width, height: r.height,
                        font: parseFloat(getComputedStyle(e).fontSize)}; })"""


def _open_task(client, instance_id):
    return next(t for t in client.get('/tasks?state=open').get_json()['items'] if t['instance_id'] == instance_id)


@pytest.fixture
def cases(api):
    """Three cases of vol_zhang: pending at the station, rejected by the station, approved."""
    vol, station, street = api('vol_zhang'), api('station_xicun'), api('street_xinshi')
    ids = {}
    for key, id_number, name in (('approved', THIRD_ID, '李婆婆'), ('rejected', ELDER_ID_2, '王阿姨'),
                                 ('pending', ELDER_ID, '陈伯')):
        resp = start_entry(vol, id_number=id_number, name=name)
        assert resp.status_code == 201, resp.get_json()
        ids[key] = resp.get_json()['instance']['id']
    r = station.post(f'/tasks/{_open_task(station, ids["rejected"])["id"]}/complete',
                     json={'decision': 'reject', 'reason': '证明材料照片不清晰，请重新拍摄户口本首页'})
    assert r.status_code == 200, r.get_json()
    for reviewer in (station, street):
        r = reviewer.post(f'/tasks/{_open_task(reviewer, ids["approved"])["id"]}/complete', json={'decision': 'approve'})
        assert r.status_code == 200, r.get_json()
    db.session.remove()  # the server thread may share this connection (SQLite in memory)
    return ids


def check_phone_page(page):
    """No sideways scrolling, big enough text and touch targets."""
    page.wait_for_load_state('load')
    width = page.evaluate('document.documentElement.scrollWidth')
    wide = page.evaluate(WIDE_JS) if width > 375 else []
    assert width <= 375, f'{page.url}: page is {width}px wide at a 375px viewport: {wide}'
    base = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert base >= 17, f'{page.url}: base font {base}px'
    small = page.evaluate(SMALL_TARGETS_JS, TAPPABLE)
    assert not small, f'{page.url}: small touch targets {small}'
    tiny = page.evaluate(SMALL_FIELD_TEXT_JS)
    assert not tiny, f'{page.url}: form controls with text under 17px {tiny}'


def test_phone_pages(new_page, shot, cases):
    page = new_page('phone')
    page.goto('/login')
    check_phone_page(page)
    page.get_by_label('用户名').fill('vol_zhang')
    page.get_by_label('密码', exact=True).fill('wrong')
    page.get_by_role('button', name='登录').click()
    expect(page.locator('.flash.error')).to_contain_text('用户名或密码错误')
    expect(page.get_by_label('用户名')).to_have_value('vol_zhang')
    shot(page, 'login-error')
    login_as(page, 'vol_zhang')
    check_phone_page(page)
    expect(page.locator('ul.cards li')).to_have_count(3)
    shot(page, 'home')

    page.goto('/m/cases')
    check_phone_page(page)
    shot(page, 'cases')

    page.goto(f'/m/cases/{cases["pending"]}')
    expect(page.locator('.status-line')).to_contain_text('待社工站初审')
    check_phone_page(page)
    shot(page, 'case-pending')

    page.goto(f'/m/cases/{cases["approved"]}')
    expect(page.locator('.status-line')).to_contain_text('已通过')
    check_phone_page(page)
    shot(page, 'case-approved')

    page.goto(f'/m/cases/{cases["rejected"]}')
    expect(page.locator('.status-line')).to_contain_text('审核不通过，待修改')
    reason = page.locator('details.reason')
    # returned to the submitter: the reason is already open; 查看原因 folds and unfolds it
    expect(reason).to_have_attribute('open', '')
    page.get_by_text('查看原因').click()
    expect(reason.locator('.reason-text')).to_be_hidden()
    page.get_by_text('查看原因').click()
    reason_text = reason.locator('.reason-text')
    expect(reason_text).to_be_visible()
    expect(reason_text).to_contain_text('证明材料照片不清晰')
    check_phone_page(page)
    shot(page, 'case-rejected-reason')
    page.get_by_role('link', name='修改后重新提交').click()
    expect(page.locator('h1')).to_have_text('修改后重新提交')
    expect(page.get_by_label(re.compile('^姓名'))).to_have_value('王阿姨')
    expect(page.locator('.file-status')).to_contain_text('已保留 1 张')
    check_phone_page(page)
    shot(page, 'resubmit-form')

    # an empty submission: every required field is marked, the summary links to the first one
    page.goto('/m/service-objects/new')
    check_phone_page(page)
    page.get_by_role('button', name='提交').click()
    summary = page.locator('.error-summary')
    expect(summary).to_be_visible()
    expect(summary.locator('a').first).to_have_attribute('href', '#f-name')
    assert page.locator('.field.has-error').count() >= 10
    expect(page.locator('#err-proof_files')).to_be_visible()
    check_phone_page(page)
    shot(page, 'form-all-errors')

    # large-font mode: toggled from the header, remembered across pages
    toggle = page.get_by_role('button', name='大字模式')
    expect(toggle).to_have_attribute('aria-pressed', 'false')
    before = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    toggle.click()
    expect(page.locator('body')).to_have_class(re.compile(r'\belder\b'))
    expect(toggle).to_have_attribute('aria-pressed', 'true')
    after = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert after >= before + 3, (before, after)
    page.goto(f'/m/cases/{cases["rejected"]}')
    expect(page.locator('body')).to_have_class(re.compile(r'\belder\b'))
    check_phone_page(page)
    shot(page, 'elder-case')
    page.goto('/m/')
    check_phone_page(page)
    shot(page, 'elder-home')
    page.goto('/m/service-objects/new')
    check_phone_page(page)
    shot(page, 'elder-form')
    page.get_by_role('button', name='大字模式').click()
    expect(page.locator('body')).not_to_have_class(re.compile(r'\belder\b'))

    page.goto('/no-such-page')
    expect(page.locator('h1')).to_contain_text('找不到')
    expect(page.locator('.error-code')).to_contain_text('404')
    check_phone_page(page)
    shot(page, 'error-404')


def test_reviewer_pages(new_page, shot, cases):
    desk = new_page('desktop')
    login_as(desk, 'station_xicun')
    rows = desk.locator('table.list tbody tr')
    expect(rows).to_have_count(1)  # the pending case; the other two were handled
    shot(desk, 'inbox-open')
    desk.locator('.tabs').get_by_role('link', name='已通过').click()
    expect(rows.filter(has_text='李婆婆')).to_have_count(1)
    shot(desk, 'inbox-approved')
    desk.locator('.tabs').get_by_role('link', name='未通过').click()
    expect(rows.filter(has_text='王阿姨')).to_have_count(1)
    shot(desk, 'inbox-rejected')
    rows.filter(has_text='王阿姨').get_by_role('link').first.click()
    expect(desk.locator('.task-done')).to_contain_text('不通过')
    shot(desk, 'task-done')

    desk.goto('/inbox')
    desk.get_by_role('link', name=re.compile('陈伯')).click()
    expect(desk.locator('dl.data')).to_contain_text('陈伯')
    shot(desk, 'task-open')
    # rejecting without a reason is refused next to the reason box
    desk.get_by_label('不通过', exact=True).check()
    desk.get_by_role('button', name='提交审核结果').click()
    expect(desk.locator('#field-reason .field-error')).to_be_visible()
    shot(desk, 'task-reject-no-reason')

    desk.goto('/inbox')
    desk.get_by_label('全选').check()
    expect(desk.locator('.batch-count')).to_contain_text('已选 1 项')
    desk.get_by_role('button', name='批量通过').click()
    desk.get_by_role('group', name='确认对 1 件任务执行批量通过？').get_by_role('button', name='批量通过').click()
    expect(desk.locator('h1')).to_have_text('批量处理结果')
    expect(desk.locator('table.list')).to_contain_text('成功')
    expect(desk.locator('table.list td.title-cell a')).to_have_count(1)  # the case, by name, linked to its task
    shot(desk, 'batch-result')

    desk.get_by_role('button', name='退出').click()
    login_as(desk, 'street_xicun')
    desk.goto('/library')
    expect(desk.locator('table.list tbody tr', has_text='李婆婆')).to_have_count(1)
    shot(desk, 'library')
    desk.locator('.tabs').get_by_role('link', name='全部版本').click()
    shot(desk, 'library-all')
    desk.goto('/inbox/tasks/999999')
    expect(desk.locator('h1')).to_contain_text('找不到')
    expect(desk.locator('.error-code')).to_contain_text('404')
    shot(desk, 'error-404')

    # reviewers sometimes open the inbox on a phone too
    phone = new_page('phone')
    login_as(phone, 'street_xinshi')
    expect(phone.locator('table.list tbody tr', has_text='陈伯')).to_have_count(1)
    check_phone_page(phone)
    shot(phone, 'phone-inbox')
    phone.get_by_role('link', name=re.compile('陈伯')).click()
    expect(phone.locator('dl.data')).to_contain_text('陈伯')  # the task page has loaded
    check_phone_page(phone)
    shot(phone, 'phone-task')
    phone.goto('/library')
    check_phone_page(phone)
    shot(phone, 'phone-library')


@pytest.mark.parametrize('user,url,fields', [
    ('vol_zhang', '/m/orders/new', ['f-start_at', 'f-end_at']),
    ('team_a', '/activities/new', ['f-start_at', 'f-end_at']),
], ids=['v-order-publish', 'activity-publish'])
def test_date_pickers_on_a_phone_are_as_big_as_the_other_fields(new_page, shot, user, url, fields):
    page = new_page('phone')
    login_as(page, user)
    page.goto(url)
    dates = page.evaluate(DATE_INPUTS_JS)
    assert [d['id'] for d in dates] == fields, dates  # the check below is never vacuous
    title = page.locator('#f-title').bounding_box()
    for d in dates:
        assert d['height'] >= 44 and d['font'] >= 17, f'{url}: {d}'
        assert abs(d['width'] - title['width']) < 1, f'{url}: {d["id"]} is {d["width"]}px wide, text fields {title["width"]}px'
    check_phone_page(page)
    shot(page, 'empty')
    page.locator(f'#{fields[0]}').fill('2031-03-05T09:00')
    page.locator(f'#{fields[0]}').scroll_into_view_if_needed()
    shot(page, 'filled')
