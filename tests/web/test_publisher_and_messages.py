"""A V-order's publisher on the phone: told to confirm and rate, told when it becomes possible, shown the step by its
own name; acceptor reviews name their acceptor in messages; a returned form shows the reviewer's reason; the
order form's error summary counts and links every item it lists."""
import re
from datetime import timedelta
from html import unescape

from sqlalchemy import select

from app.extensions import db
from app.models import Message, User, VOrder
from app.models.base import utcnow
from app.services.v_orders import beijing
from tests.web.conftest import submit
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, travel_past_service
from tests.web.test_v_order_rules import publish, staffed_order

RATINGS = {k: '5' for k in ('rating_overall', 'rating_arrangement', 'rating_effect', 'rating_attitude', 'rating_skill',
                            'rating_efficiency')}


def _messages(username, **where):
    user = db.session.scalar(select(User).where(User.username == username))
    db.session.expire_all()
    cond = [Message.user_id == user.id] + [getattr(Message, k) == v for k, v in where.items()]
    return db.session.scalars(select(Message).where(*cond).order_by(Message.id)).all()


def test_publisher_is_told_to_confirm_and_rate_once_the_last_acceptor_is_approved(api):
    inst = staffed_order(api)
    case = f'/m/cases/{inst["id"]}'
    about_case = _messages('vol_zhang', link=case)
    assert [m.title for m in about_case] == [
        '您的提交「陪陈伯复诊」社工站发布审核（开放给志愿者接单）：已通过，下一步：志愿者接单',
        '您的提交「陪陈伯复诊」接单人审核（李晓敏）：已通过；新待办：确认完成并评价']
    message = about_case[-1]
    assert message.kind == 'task' and message.read_at is None
    # the to-do is settled once it is done
    travel_past_service(inst['id'])
    publisher = api('vol_zhang')
    complete(publisher, open_task(publisher, inst['id']), data={k: int(v) for k, v in RATINGS.items()})
    assert _messages('vol_zhang', link=case)[-1].read_at is not None


def test_acceptor_reviews_name_the_acceptor_in_every_message(api):
    inst = staffed_order(api, needed=2)
    station = sorted(m.title for m in _messages('station_xicun', kind='task') if '接单人审核' in m.title)
    assert station == ['新待办：接单人审核（李晓敏） · 陪陈伯复诊', '新待办：接单人审核（王小明） · 陪陈伯复诊']
    # the station took the newer acceptance first (王小明): approving the other one, 李晓敏, staffed the order
    publisher = [m.title for m in _messages('vol_zhang', link=f'/m/cases/{inst["id"]}') if '接单人审核' in m.title]
    assert publisher == ['您的提交「陪陈伯复诊」接单人审核（王小明）：已通过',
                         '您的提交「陪陈伯复诊」接单人审核（李晓敏）：已通过；新待办：确认完成并评价']


def test_a_rejected_order_still_gets_one_message_with_the_reason(api):
    so = approved_object(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    inst = publish(publisher, so)
    complete(station, open_task(station, inst['id']), decision='reject', reason='地址不详细')
    rows = _messages('vol_zhang', link=f'/m/cases/{inst["id"]}')
    assert [(m.kind, m.title) for m in rows] == [
        ('decision', '您的提交「陪陈伯复诊」社工站发布审核：不通过，原因：地址不详细')]


def test_before_the_service_ends_the_case_page_says_when_rating_becomes_possible(api, login):
    inst = staffed_order(api)
    order = db.session.scalar(select(VOrder).where(VOrder.instance_id == inst['id']))
    end = beijing(order.end_at)
    phone = login('vol_zhang')
    page = phone.get(f'/m/cases/{inst["id"]}').get_data(as_text=True)
    assert f'服务结束后（{end} 起）可确认完成并评价' in page
    assert '修改后重新提交' not in page and f'/m/cases/{inst["id"]}/resubmit' not in page, 'no active button yet'
    # a bookmarked form link says the same on the case page
    resp = phone.get(f'/m/cases/{inst["id"]}/resubmit')
    assert resp.status_code == 302 and resp.headers['Location'].endswith(f'/m/cases/{inst["id"]}')
    assert f'服务结束后（{end} 起）可确认完成并评价' in phone.get(resp.headers['Location']).get_data(as_text=True)
    # so does the desktop task page the order page or an old message may lead to
    confirm = open_task(api('vol_zhang'), inst['id'])
    desk = phone.get(f'/inbox/tasks/{confirm["id"]}', follow_redirects=True).get_data(as_text=True)
    assert f'服务结束后（{end} 起）可确认完成并评价' in desk and '★' not in desk
    # and the rating step still refuses it
    early = phone.post(f'/m/cases/{inst["id"]}/resubmit', data=RATINGS)
    assert early.status_code == 422 and f'服务尚未结束，{end} 服务结束后才能确认完成并评价' in early.get_data(as_text=True)


def test_confirm_and_rate_goes_by_its_own_name_not_as_a_resubmission(api, login):
    inst = staffed_order(api)
    travel_past_service(inst['id'])
    phone = login('vol_zhang')
    page = phone.get(f'/m/cases/{inst["id"]}').get_data(as_text=True)
    assert '修改后重新提交' not in page and '服务结束后' not in page
    button = re.search(r'<a class="btn primary block" href="([^"]+)">([^<]+)</a>', page)
    assert button and button.group(2) == '确认完成并评价'
    form = phone.get(button.group(1)).get_data(as_text=True)
    assert '<h1>确认完成并评价</h1>' in form and '修改后重新提交' not in form
    assert '的意见' not in form, 'no rejection to show on a rating form'
    done = phone.post(button.group(1), data={**RATINGS, 'comment': '很细心'}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert '已确认完成并评价，等待社工站认证服务时数' in text and '已重新提交' not in text
    assert '待认证' in text


def test_a_returned_case_is_still_corrected_and_its_form_shows_the_reason(api, login):
    vol, station = api('vol_zhang'), api('station_xicun')
    inst = submit(vol, 5)
    task = open_task(station, inst)
    complete(station, task, decision='reject', reason='证明材料不清晰，请重新拍照')
    phone = login('vol_zhang')
    page = phone.get(f'/m/cases/{inst}').get_data(as_text=True)
    assert re.search(r'<a class="btn primary block" href="[^"]+/resubmit">修改后重新提交</a>', page)
    form = phone.get(f'/m/cases/{inst}/resubmit').get_data(as_text=True)
    assert '<h1>修改后重新提交</h1>' in form
    head = form[form.index('<h1>'):form.index('name="name"')]
    assert '社工站初审（西村街社工站）的意见' in head and '证明材料不清晰，请重新拍照' in head


def _summary(html):
    box = html[html.index('id="error-summary"'):]
    box = box[:box.index('</div>')]
    count = int(re.search(r'有 (\d+) 处需要修改', box).group(1))
    return count, [unescape(h) for h in re.findall(r'<li>(?:<a href="#([^"]+)">)?', box)]


def test_empty_order_form_counts_every_listed_item_and_each_link_has_a_target(api, login):
    approved_object(api)
    phone = login('vol_zhang')
    html = phone.post('/m/orders/new', data={'demand_type': '', 'category': ''}).get_data(as_text=True)
    count, targets = _summary(html)
    assert count == len(targets) and count >= 10
    assert 'f-service_object_ids' in targets and 'f-location' in targets
    for target in targets:
        assert target and f'id="{target}"' in html, f'#{target} leads nowhere'
    # the group is focusable (the summary's script focuses the target), the map point's first box is the latitude
    assert re.search(r'<div class="checks" role="group" id="f-service_object_ids" tabindex="-1"', html)
    assert re.search(r'<input id="f-location" name="location\.lat"', html)


def test_rating_errors_link_to_their_stars(api, login):
    inst = staffed_order(api)
    travel_past_service(inst['id'])
    html = login('vol_zhang').post(f'/m/cases/{inst["id"]}/resubmit', data={}).get_data(as_text=True)
    count, targets = _summary(html)
    assert count == len(targets) == 6
    for target in targets:
        assert f'id="{target}"' in html, f'#{target} leads nowhere'


def test_a_started_service_is_not_rated_until_it_has_ended(api, login):
    """SPEC §2.2: after the service the publisher confirms completion and rates. An order whose start passed a
    minute ago is still being served: the page says from when rating is possible; once the end passed it is offered."""
    inst = staffed_order(api)
    order = db.session.scalar(select(VOrder).where(VOrder.instance_id == inst['id']))
    order.start_at = order.start_at - timedelta(hours=2, minutes=1)
    order.end_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    end = beijing(order.end_at)
    phone = login('vol_zhang')
    page = phone.get(f'/m/cases/{inst["id"]}').get_data(as_text=True)
    assert f'服务结束后（{end} 起）可确认完成并评价' in page and '>确认完成并评价</a>' not in page
    early = phone.post(f'/m/cases/{inst["id"]}/resubmit', data=RATINGS)
    assert early.status_code == 422 and f'服务尚未结束，{end} 服务结束后才能确认完成并评价' in early.get_data(as_text=True)
    order.end_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = phone.get(f'/m/cases/{inst["id"]}').get_data(as_text=True)
    assert '服务结束后' not in page and '>确认完成并评价</a>' in page
