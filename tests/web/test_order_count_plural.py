"""订单管理's count in English: "1 order", "2 orders" (ngettext), never "1 orders"."""
from tests.web.test_v_order_lifecycle import approved_object
from tests.web.test_v_order_rules import publish


def test_the_order_count_is_singular_for_one_order_in_english(api, login):
    so = approved_object(api)
    publish(api('vol_zhang'), so, title='陪陈伯复诊')
    publish(api('vol_zhang'), so, title='陪陈伯买菜')
    street = login('street_xicun')
    street.set_cookie('lang', 'en')
    one = street.get('/orders?q=复诊').get_data(as_text=True)
    assert '>1 order<' in one and '1 orders' not in one
    assert '>2 orders<' in street.get('/orders').get_data(as_text=True)
    street.set_cookie('lang', 'zh')
    assert '共 1 张订单' in street.get('/orders?q=复诊').get_data(as_text=True)
