"""Phone walk (walk_phone items 4 and 14) in a real browser at 375 px: an unread message is told from a read one at a
glance (a dot, bold, a bar at its card's left; read: normal weight), on the desktop too; the home's points tiles
and 我的提交's 类型 filter fit the phone's width."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services import messages, transaction
from tests.browser.conftest import login_as
from tests.helpers import start_entry
from tests.web.test_activity_signups import publish, sign_up

pytestmark = pytest.mark.browser


def _two_messages():
    zhang = db.session.scalar(select(User).where(User.username == 'vol_zhang'))
    with transaction():
        messages.send([zhang.id], kind='info', title='还没看的消息：报名成功', link='/m/')
        [seen] = messages.send([zhang.id], kind='info', title='已经看过的消息：积分到账', link='/m/points')
    messages.mark_read(zhang, seen.id)
    db.session.remove()


def _looks(page, title) -> dict:
    """How the message's title link looks: its weight, and its dot (size and colour) if it has one."""
    return page.locator('table.messages a', has_text=title).evaluate("""a => {
        const dot = a.querySelector('.unread-dot'), box = dot && dot.getBoundingClientRect();
        const row = a.closest('tr'), style = getComputedStyle(row);
        return {weight: getComputedStyle(a.querySelector('strong') || a.querySelector('span') || a).fontWeight,
                dot: box ? [Math.round(box.width), Math.round(box.height), getComputedStyle(dot).backgroundColor] : null,
                bar: style.borderLeftWidth};
    }""")


@pytest.mark.parametrize('kind', ['phone', 'desktop'])
def test_unread_and_read_messages_differ_at_a_glance(new_page, shot, kind):
    _two_messages()
    page = new_page(kind)
    login_as(page, 'vol_zhang')
    page.goto('/messages')
    shot(page, f'messages-{kind}')
    unread, read = _looks(page, '还没看的消息'), _looks(page, '已经看过的消息')
    assert int(unread['weight']) >= 700 and int(read['weight']) == 400, (unread, read)
    assert unread['dot'] is not None and unread['dot'][0] >= 8 and unread['dot'][2] == 'rgb(179, 18, 31)', unread
    assert read['dot'] is None
    if kind == 'phone':
        assert unread['bar'] == '5px' and read['bar'] == '1px', (unread, read)
        assert page.evaluate('document.documentElement.scrollWidth') <= 375


def test_home_tiles_and_kind_filter_fit_the_phone(new_page, shot, api):
    zhang = api('vol_zhang')
    assert start_entry(zhang).status_code == 201
    assert sign_up(zhang, publish(api)).status_code == 201
    db.session.remove()
    page = new_page('phone')
    login_as(page, 'vol_zhang')
    page.goto('/m/')
    shot(page, 'home')
    page.locator('a.tile', has_text='我的积分').click()
    assert page.url.endswith('/m/points')
    page.goto('/m/')
    page.locator('a.tile', has_text='积分商城').click()
    assert page.url.endswith('/m/shop')
    page.goto('/m/cases')
    shot(page, 'cases')
    assert page.evaluate('document.documentElement.scrollWidth') <= 375
    assert page.locator('.case').count() == 2
    page.locator('.kind-filter a', has_text='活动报名').click()
    shot(page, 'cases-signups')
    assert page.locator('.case').all_inner_texts()[0].startswith('张建国报名「重阳节敬老探访」')
    assert page.locator('.case').count() == 1
    assert page.locator('.kind-filter a[aria-current=page]').inner_text().startswith('活动报名')
