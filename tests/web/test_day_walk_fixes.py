"""A working day with fresh eyes (walk 14): the station finds 发布V订单 in 订单管理, a publisher's 确认完成并评价
page says which order it rates and leads back to it; a password of spaces is no password."""
from tests.web.test_v_order_lifecycle import travel_past_service
from tests.web.test_v_order_rules import staffed_order


def test_the_order_list_offers_publishing_to_those_who_may(login):
    assert '发布V订单' in login('station_xicun').get('/orders').get_data(as_text=True)
    assert '发布V订单' not in login('street_xicun').get('/orders').get_data(as_text=True)


def test_the_rating_page_names_the_order_and_leads_back_to_it(api, login):
    inst = staffed_order(api)
    travel_past_service(inst['id'])
    page = login('vol_zhang').get(f'/m/cases/{inst["id"]}/resubmit').get_data(as_text=True)
    assert '确认完成并评价' in page
    assert f'href="/m/cases/{inst["id"]}">‹ 陪陈伯复诊</a>' in page and '事项：陪陈伯复诊' in page


def test_a_password_of_spaces_is_refused_on_the_page_and_by_the_cli(app, login):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User
    user = db.session.scalar(select(User).where(User.username == 'vol_li'))
    user.must_change_password = True
    db.session.commit()
    page = login('vol_li').post('/password', data={'password': ' ' * 10, 'confirm': ' ' * 10})
    assert page.status_code == 422 and '新密码不能只是空格' in page.get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=['set-password', 'vol_li', '--password', ' ' * 10])
    assert result.exit_code == 1 and '密码至少 8 位' in result.output
