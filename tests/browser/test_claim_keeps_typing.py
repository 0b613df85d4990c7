"""认领 reloads the task page: the reason a reviewer already typed, and the decision picked, are still there."""
import pytest

from tests.browser.conftest import login_as
from tests.web.conftest import open_task, submit

pytestmark = pytest.mark.browser


def test_claiming_keeps_the_typed_reason_and_decision(api, new_page):
    inst = submit(api('vol_zhang'), 1)
    task = open_task(api('station_xicun'), inst)
    page = new_page('desktop')
    login_as(page, 'station_xicun')
    page.goto(f'/inbox/tasks/{task["id"]}')
    page.locator('#decision-form input[name=decision][value=reject]').check()
    page.locator('#decision-form textarea[name=reason]').fill('身份证照片模糊，请重新拍摄')
    page.get_by_role('button', name='认领', exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role('button', name='取消认领').count() == 1
    assert page.locator('#decision-form textarea[name=reason]').input_value() == '身份证照片模糊，请重新拍摄'
    assert page.locator('#decision-form input[name=decision][value=reject]').is_checked()
