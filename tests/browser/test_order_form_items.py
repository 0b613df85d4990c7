"""The order form offers only the service items of the 服务类别 chosen: a station worker picked 助浴服务 under
通用型 and learned only after 发布 that it belongs to 专业类."""
import pytest

from tests.browser.conftest import login_as

pytestmark = pytest.mark.browser

GENERAL = ['陪同外出', '代办服务', '助洁服务', '精神慰藉', '助学服务', '助乐服务', '送餐服务']
PROFESSIONAL = ['助浴服务', '个人护理', '安全援助', '医疗保健', '康复护理', '心理咨询', '法律咨询']


def _offered(page) -> list[str]:
    return page.locator('#f-service_item option:not([value=""])').evaluate_all(
        'opts => opts.filter(o => !o.hidden && !o.disabled).map(o => o.textContent.trim())')


def test_service_items_follow_the_category(new_page):
    page = new_page('phone')
    login_as(page, 'vol_zhang')
    page.goto('/m/orders/new')
    assert page.get_by_role('radio', name='通用型养老志愿服务').is_checked(), 'the form starts on 通用型'
    assert _offered(page) == GENERAL
    page.get_by_role('radio', name='专业类养老志愿服务').check()
    assert _offered(page) == PROFESSIONAL
    page.locator('#f-service_item').select_option(label='助浴服务')
    page.get_by_role('radio', name='通用型养老志愿服务').check()
    assert _offered(page) == GENERAL
    assert page.locator('#f-service_item').input_value() == '', 'an item of the other category is cleared'
