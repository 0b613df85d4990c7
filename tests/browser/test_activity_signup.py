"""Activity sign-up end to end in a real browser: vol_li signs up to a published activity on a phone (375 px),
team_a approves it from the desktop inbox, and the phone shows 已录取 with the places counted."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Activity, HumanTask, User
from app.services import tasks
from tests.browser.conftest import login_as
from tests.browser.test_page_tour import check_phone_page
from tests.web.test_activity_flow import activity_data

pytestmark = pytest.mark.browser


def _user(name):
    return db.session.scalar(select(User).where(User.username == name))


def published_activity() -> Activity:
    inst = tasks.start_instance(_user('team_a'), 'activity_publish', activity_data(recruit_count=8))
    review = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.status == 'open'))
    tasks.complete_task(_user('gzva'), review.id, decision='approve')
    return db.session.scalar(select(Activity).where(Activity.instance_id == inst.id))


def test_volunteer_signs_up_on_a_phone_and_team_approves(new_page, shot):
    act = published_activity()
    phone = new_page('phone')
    login_as(phone, 'vol_li')
    phone.goto('/activities')
    phone.get_by_role('link', name='重阳节敬老探访').click()
    expect(phone.locator('.signup-box')).to_contain_text('已录取 0 / 招募 8')
    check_phone_page(phone)
    shot(phone, 'detail')
    phone.get_by_role('link', name='报名', exact=True).click()
    expect(phone.locator('#f-phone')).to_have_value(_user('vol_li').phone)
    phone.locator('#f-note').fill('有照顾长者的经验')
    check_phone_page(phone)
    shot(phone, 'form')
    phone.get_by_role('button', name='确认报名').click()
    expect(phone.locator('.flash.success')).to_contain_text('已报名，等待发布单位审核')
    card = phone.locator('li.signup', has_text='重阳节敬老探访')
    expect(card.locator('.badge')).to_have_text('待审核')
    check_phone_page(phone)
    shot(phone, 'mine-pending')

    desk = new_page('desktop')
    login_as(desk, 'team_a')
    desk.goto('/inbox')
    desk.locator('table.list tbody tr', has_text='李晓敏报名').get_by_role('link').first.click()
    expect(desk.locator('main')).to_contain_text('有照顾长者的经验')
    desk.get_by_label('通过', exact=True).check()
    desk.get_by_role('button', name='提交审核结果').click()
    expect(desk.locator('.flash.success')).to_contain_text('已提交')
    desk.goto(f'/activities/{act.id}/signups')
    expect(desk.locator('#places')).to_have_text('已录取 1 / 招募 8')
    expect(desk.locator('#signups, table.signups')).to_contain_text('已录取')
    shot(desk, 'team-list')

    phone.goto('/activities/signups/mine')
    expect(card.locator('.badge')).to_have_text('已录取')
    expect(card.get_by_role('link', name='取消报名')).to_be_visible()
    check_phone_page(phone)
    shot(phone, 'mine-approved')
