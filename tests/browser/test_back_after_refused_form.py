"""Back and Forward over a refused form open a page, not the browser's "confirm form resubmission" error.

Pages are never cached (no-store), so a page that answered a POST (a form refused with its errors) could only be
shown again by posting again: Chromium showed ERR_CACHE_MISS there. Such a page now stands in the history as its
own address, or, for a refused review decision, as the task's page."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import login_as
from tests.helpers import start_entry

pytestmark = pytest.mark.browser


def test_forward_onto_a_refused_phone_form_opens_the_form(new_page):
    page = new_page('phone')
    login_as(page, 'vol_zhang')
    page.goto('/m/service-objects/new')
    page.get_by_label(re.compile('^姓名')).fill('陈伯')
    page.locator('main button[type=submit]').click()
    expect(page.locator('.field-error').first).to_be_visible()  # refused: nothing else filled in
    expect(page.get_by_label(re.compile('^姓名'))).to_have_value('陈伯')

    page.go_back()
    expect(page).to_have_url(re.compile(r'/m/service-objects/new$'))
    page.go_forward()  # onto the refused page: was net::ERR_CACHE_MISS
    expect(page).to_have_url(re.compile(r'/m/service-objects/new$'))
    expect(page.locator('h1')).to_contain_text('服务对象录入')
    page.reload()
    expect(page.locator('h1')).to_contain_text('服务对象录入')


def test_back_from_the_inbox_after_a_refused_then_accepted_decision(new_page, api):
    resp = start_entry(api('vol_zhang'), name='陈伯')
    assert resp.status_code == 201, resp.get_json()
    task_id = next(t['id'] for t in api('station_xicun').get('/tasks?state=open').get_json()['items']
                   if t['instance_id'] == resp.get_json()['instance']['id'])
    db.session.remove()  # the server thread may share this connection (SQLite in memory)

    page = new_page('desktop')
    login_as(page, 'station_xicun')
    page.goto(f'/inbox/tasks/{task_id}')
    page.get_by_role('radio', name='不通过').check()
    page.get_by_role('button', name='提交审核结果').click()
    expect(page.locator('.field-error').first).to_be_visible()  # a rejection needs a reason
    page.get_by_role('radio', name='通过', exact=True).check()
    page.get_by_role('button', name='提交审核结果').click()
    expect(page).to_have_url(re.compile(r'/inbox'))
    expect(page.locator('.flash').first).to_be_visible()

    page.go_back()  # onto the refused decision: was net::ERR_CACHE_MISS
    expect(page).to_have_url(re.compile(rf'/inbox/tasks/{task_id}$'))
    expect(page.locator('h1')).to_contain_text('陈伯')
