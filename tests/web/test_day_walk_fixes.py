"""A working day with fresh eyes (walk 14): the station finds 发布V订单 in 订单管理, a publisher's 确认完成并评价
page says which order it rates and leads back to it; a password of spaces is no password; the review list's
"all" export is review work only."""
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


def test_the_review_list_export_of_all_tasks_leaves_out_the_stations_own_submissions(app, api, monkeypatch):
    from tests.web.test_exports import _export
    from tests.web.test_v_order_lifecycle import approved_object, open_task
    from tests.web.test_v_order_rules import publish
    monkeypatch.setitem(app.config, 'REDIS_URL', None)
    station = api('station_xicun')
    so = approved_object(api)                     # the station reviewed this entry (社工站初审)
    inst = publish(station, so)                   # and published an order itself (填写订单, its own form)
    assert open_task(station, inst['id']) is not None
    _, rows = _export(station, kind='tasks', state='all')
    steps = [r[2] for r in rows[1:]]
    assert '社工站初审' in steps and '社工站发布审核' in steps
    assert '填写订单' not in steps, 'its own submission is not review work'
    done = station.get('/tasks?state=done').get_json()['items']
    assert done and all(t['lane'] != 'submitter' for t in done)
