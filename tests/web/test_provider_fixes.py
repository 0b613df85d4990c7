"""A service provider's day with V-orders (walk_roles problems 2, 5, 6, 7, 13 and 10's first item).

- A provider whose volunteers the station refused is no longer stuck: it returns the order (退回订单, with a reason)
  and the station dispatches it again (社工站重新派单: open to volunteers, or offer it to a provider that still has
  a volunteer to send); the station may also take back an order its provider does not dispatch (收回派单).
- The provider learns the station's decision on the volunteer it dispatched, with the reason; the re-dispatch page
  says whom the station refused and what to do.
- 待办审核 has an 已办理 tab: the steps a user handled that have no approve/reject result (a dispatch, a
  certification).
- A provider's menu has no empty 我的提交, and its order list offers only the statuses it can meet.
- An order started on the diagram version before the return path existed still finishes on that version."""
import re
from datetime import timedelta
from pathlib import Path

from lxml import etree
from sqlalchemy import select

from app.extensions import db
from app.models import Decision, HumanTask, Membership, Message, OrgUnit, User, VOrder, WorkflowInstance
from app.services import transaction
from app.services.instances import deploy, load_run, lock_instance, save_run
from tests.helpers import served_day, upload_png
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, order_data, order_of, travel_past_service

ROOT_DIR = Path(__file__).resolve().parents[2]
BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL'
RATINGS = {k: 5 for k in ('rating_overall', 'rating_arrangement', 'rating_effect', 'rating_attitude', 'rating_skill',
                          'rating_efficiency')}


# ---------------------------------------------------------------------------------------------- helpers

def offered_order(api, needed=1, title='吴伯读报（服务商）', so=None):
    """An order of vol_zhang's that station_xicun approved for provider_a: (instance, order id). `so`: the elder
    (one is entered and approved when not given; an elder is entered once)."""
    so = so or approved_object(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    resp = publisher.post('/processes/v_order/instances',
                          json={'data': order_data([so], title=title, volunteers_needed=needed)})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()['instance']
    complete(station, open_task(station, inst['id']), decision='approve',
             data={'dispatch_mode': 'provider', 'provider': 'provider_a'})
    return inst, int(inst['business_key'].split(':')[1])


def refused_volunteer(api, inst, reason='该时段已有其他服务安排'):
    """provider_a dispatches its only volunteer (李晓敏) and the station refuses her: the provider's new 服务商派单."""
    provider, station = api('provider_a'), api('station_xicun')
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    complete(station, open_task(station, inst['id'], '接单人审核'), decision='reject', reason=reason)
    return open_task(provider, inst['id'], '服务商派单')


def messages_of(username, **where) -> list[Message]:
    db.session.expire_all()
    q = select(Message).join(User, User.id == Message.user_id).where(User.username == username)
    for key, value in where.items():
        q = q.where(getattr(Message, key) == value)
    return list(db.session.scalars(q.order_by(Message.id)))


def text(html: str) -> str:
    """The page's words without tags and line breaks (what a reader sees, roughly)."""
    return re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', html))


def open_bpmn_ids(instance_id) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(HumanTask.bpmn_id).where(
        HumanTask.instance_id == instance_id, HumanTask.status == 'open')))


def order_row(order_id) -> VOrder:
    db.session.expire_all()
    return db.session.get(VOrder, order_id)


def second_provider(volunteers=('vol_wang',)):
    """Another provider of 荔湾区 (颐乐居家服务站) with the given street volunteers serving with it."""
    with transaction():
        liwan = db.session.scalar(select(OrgUnit).where(OrgUnit.code == 'liwan'))
        unit = OrgUnit(code='provider_b', name='颐乐居家服务站', kind='provider', parent=liwan, path=liwan.path + 'provider_b/')
        db.session.add(unit)
        for username in volunteers:
            user = db.session.scalar(select(User).where(User.username == username))
            db.session.add(Membership(user=user, role='volunteer', org_unit=unit))
    return unit


# ---------------------------------------------------------------------------------------------- 1. the way out

def test_provider_returns_the_order_and_the_station_opens_it_to_volunteers(api, login):
    inst, order_id = offered_order(api)
    again = refused_volunteer(api, inst, reason='李晓敏该时段已有其他服务安排')
    provider_page = login('provider_a')

    # the re-dispatch page speaks to a provider (problem 7): whom the station refused, why, and what to do
    html = provider_page.get(f'/inbox/tasks/{again["id"]}').get_data(as_text=True)
    seen = text(html)
    assert '社工站未通过您派单的志愿者李晓敏' in seen and '李晓敏该时段已有其他服务安排' in seen
    assert '请改派本服务商的其他志愿者' in seen and '退回订单' in seen
    assert '已退回，请按意见修改后重新提交' not in seen
    # nobody is left to send: the choice says how out, and 退回订单 is already chosen
    assert '您的志愿者都已派过此订单，请选择“退回订单”交社工站重新派单' in seen
    assert re.search(r'<input type="radio"[^>]*name="provider_action" value="return" checked', html), html

    # returning needs a reason; what was typed stays and nothing moves
    resp = provider_page.post(f'/inbox/tasks/{again["id"]}/decide',
                              data={'provider_action': 'return', 'return_reason': '', 'note': '已电话联系'})
    assert resp.status_code == 422
    refused = text(resp.get_data(as_text=True))
    assert '此项为必填项' in refused and '已电话联系' in resp.get_data(as_text=True)
    assert open_bpmn_ids(inst['id']) == ['provider_dispatch']

    resp = provider_page.post(f'/inbox/tasks/{again["id"]}/decide',
                              data={'provider_action': 'return', 'return_reason': '本中心暂无其他空闲志愿者'})
    assert resp.status_code == 302
    assert '已提交：服务商退回订单 · ' in text(provider_page.get(resp.headers['Location']).get_data(as_text=True))
    assert open_bpmn_ids(inst['id']) == ['redispatch']
    assert order_of(api('vol_zhang'), inst)['status_label'] == '待派单'

    # the station is told who returned it and why, with its new task (one message)
    [told] = [m for m in messages_of('station_xicun', kind='task') if '社工站重新派单' in m.title]
    assert '颐康居家养老服务中心' in told.title and '吴伯读报（服务商）' in told.title
    assert told.body == '颐康居家养老服务中心退回了订单，原因：本中心暂无其他空闲志愿者'
    # the history says it was a return, by whom, and why
    history = order_of(api('station_xicun'), inst)
    rows = db.session.scalars(select(Decision).where(Decision.instance_id == inst['id']).order_by(Decision.id)).all()
    assert [(r.task_title, r.reason) for r in rows if r.bpmn_id == 'provider_dispatch'][-1] == \
        ('服务商退回订单', '本中心暂无其他空闲志愿者')
    assert history['provider'] == 'provider_a'  # still named until the station dispatches it again
    # the case page's history names the return once (not "服务商退回订单 提交")
    case = login('station_xicun').get(f'/cases/{inst["id"]}').get_data(as_text=True)
    assert re.search(r'<strong>服务商退回订单</strong></div>', case), 'the step says what was done'

    station_page = login('station_xicun')
    task = open_task(api('station_xicun'), inst['id'], '社工站重新派单')
    seen = text(station_page.get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True))
    assert '订单已交回社工站，请重新派单' in seen and '本中心暂无其他空闲志愿者' in seen
    assert '服务商退回订单' in seen
    resp = station_page.post(f'/inbox/tasks/{task["id"]}/decide', data={'dispatch_mode': 'open'})
    assert resp.status_code == 302
    assert open_bpmn_ids(inst['id']) == ['accept']
    order = order_of(api('vol_zhang'), inst)
    assert order['status_label'] == '待接单' and order['dispatch_mode'] == 'open' and order['provider'] is None

    # a street volunteer takes it and the station approves: the order is served
    vol_wang = api('vol_wang')
    complete(vol_wang, open_task(vol_wang, inst['id']))
    complete(api('station_xicun'), open_task(api('station_xicun'), inst['id'], '接单人审核'), decision='approve')
    assert order_of(api('vol_zhang'), inst)['status_label'] == '进行中'


def test_the_station_takes_back_an_order_and_offers_it_to_another_provider(api, login):
    provider_b = second_provider(volunteers=()).id
    inst, order_id = offered_order(api)
    station_page = login('station_xicun')
    html = station_page.get(f'/orders/{order_id}').get_data(as_text=True)
    assert '收回派单' in html and '服务商「颐康居家养老服务中心」尚未派单' in text(html)

    # a reason is needed; the page keeps what was typed (here: spaces only)
    resp = station_page.post(f'/orders/{order_id}/take-back', data={'reason': '   '})
    assert resp.status_code == 422 and '请填写收回原因' in resp.get_data(as_text=True)
    assert open_bpmn_ids(inst['id']) == ['provider_dispatch']
    # neither the volunteer who published it nor another street's station may take it back
    assert login('vol_zhang').post(f'/orders/{order_id}/take-back', data={'reason': '我来改'}).status_code == 302
    assert login('station_shipai').post(f'/orders/{order_id}/take-back', data={'reason': 'x'}).status_code == 404
    assert open_bpmn_ids(inst['id']) == ['provider_dispatch']

    resp = station_page.post(f'/orders/{order_id}/take-back', data={'reason': '服务商两天未派单'})
    assert resp.status_code == 302
    task_id = int(resp.headers['Location'].split('/inbox/tasks/')[1].split('?')[0])
    assert open_bpmn_ids(inst['id']) == ['redispatch']
    # the provider learns it, with the reason; its 新待办 no longer waits unread
    [told] = messages_of('provider_a', kind='info')
    assert '社工站已收回V订单「吴伯读报（服务商）」的派单' in told.title and '服务商两天未派单' in told.title
    assert all(m.read_at is not None for m in messages_of('provider_a', kind='task'))
    rows = db.session.scalars(select(Decision).where(Decision.instance_id == inst['id'],
                                                     Decision.bpmn_id == 'provider_dispatch')).all()
    assert [(r.task_title, r.reason, r.role) for r in rows] == [('社工站收回派单', '服务商两天未派单', 'station_admin')]
    seen = text(station_page.get(f'/inbox/tasks/{task_id}').get_data(as_text=True))
    assert '社工站收回派单' in seen and '服务商两天未派单' in seen
    # the order page no longer reads as if the provider still held it
    assert '服务商 颐康居家养老服务中心（已收回）' in text(station_page.get(f'/orders/{order_id}').get_data(as_text=True))

    # offering it to a provider none of whose volunteers can go (here: none yet) is refused, with the choice kept
    resp = station_page.post(f'/inbox/tasks/{task_id}/decide', data={'dispatch_mode': 'provider', 'provider': 'provider_b'})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert '服务商「颐乐居家服务站」已没有可派此订单的志愿者，请选择其他服务商或开放给志愿者接单' in page
    assert re.search(r'<option value="provider_b"\s+selected>', page), 'the choice is kept'
    assert open_bpmn_ids(inst['id']) == ['redispatch']
    with transaction():
        db.session.add(Membership(user_id=db.session.scalar(select(User.id).where(User.username == 'vol_wang')),
                                  role='volunteer', org_unit_id=provider_b))
    resp = station_page.post(f'/inbox/tasks/{task_id}/decide', data={'dispatch_mode': 'provider', 'provider': 'provider_b'})
    assert resp.status_code == 302
    assert open_bpmn_ids(inst['id']) == ['provider_dispatch']
    assert order_row(order_id).provider.code == 'provider_b'
    # provider_a no longer lists the order; a provider_b administrator would get the 服务商派单
    provider_a = api('provider_a')
    assert all(t['instance_id'] != inst['id'] for t in provider_a.get('/tasks?state=open').get_json()['items'])
    assert order_of(api('vol_zhang'), inst)['provider'] == 'provider_b'


def test_a_return_while_an_acceptor_waits_reopens_the_place_in_the_new_way(api, login):
    """Two places: the provider sends 李晓敏, then returns the second place; the station opens the order to
    volunteers and 王小明 takes a place. Refusing 李晓敏 afterwards offers her place to volunteers again, not to
    the provider that returned the order (each branch of the case carries the dispatch it started with)."""
    inst, order_id = offered_order(api, needed=2)
    provider, station = api('provider_a'), api('station_xicun')
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    assert open_bpmn_ids(inst['id']) == ['acceptor_review', 'provider_dispatch']
    complete(provider, open_task(provider, inst['id'], '服务商派单'),
             data={'provider_action': 'return', 'return_reason': '只能派出一位志愿者'})
    complete(station, open_task(station, inst['id'], '社工站重新派单'), data={'dispatch_mode': 'open'})
    vol_wang = api('vol_wang')
    complete(vol_wang, open_task(vol_wang, inst['id']))
    assert open_bpmn_ids(inst['id']) == ['acceptor_review', 'acceptor_review']
    reviews = [t for t in station.get('/tasks?state=open').get_json()['items'] if t['instance_id'] == inst['id']]
    li_review = next(t for t in reviews if t['subject'] and '李晓敏' in t['subject'])
    complete(station, li_review, decision='reject', reason='李晓敏身体不适')
    assert open_bpmn_ids(inst['id']) == ['accept', 'acceptor_review']
    assert order_row(order_id).dispatch_mode == 'open'


def test_a_returned_order_nobody_dispatches_expires_at_its_start_time(api):
    inst, order_id = offered_order(api)
    complete(api('provider_a'), open_task(api('provider_a'), inst['id']),
             data={'provider_action': 'return', 'return_reason': '暂无志愿者'})
    with transaction():
        instance = lock_instance(inst['id'])
        run = load_run(instance)
        assert run.advance_clock(instance.next_timer_at - order_row(order_id).start_at + timedelta(hours=3)) > 0
        run.fire_timers()
        save_run(instance, run)
    assert order_row(order_id).status == 'expired'
    assert open_bpmn_ids(inst['id']) == []


def test_refusals_of_a_return_and_of_a_take_back(api, login):
    inst, order_id = offered_order(api)
    provider = api('provider_a')
    task = open_task(provider, inst['id'])
    resp = provider.post(f'/tasks/{task["id"]}/complete', json={'data': {'provider_action': 'return'}})
    assert resp.status_code == 422 and 'return_reason' in resp.get_json()['errors']
    resp = provider.post(f'/tasks/{task["id"]}/complete', json={'data': {'provider_action': 'dispatch'}})
    assert resp.status_code == 422 and resp.get_json()['errors']['volunteer'] == ['此项为必填项']
    # once the provider has dispatched and the order waits for the station, there is nothing to take back
    complete(provider, task, data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    page = login('station_xicun')
    assert '收回派单' not in page.get(f'/orders/{order_id}').get_data(as_text=True)
    resp = page.post(f'/orders/{order_id}/take-back', data={'reason': '太慢'}, follow_redirects=True)
    assert '该订单已不在等待服务商派单' in resp.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------- 2. the provider is told

def test_the_provider_learns_the_station_decision_on_its_volunteer(api):
    inst, order_id = offered_order(api)
    refused_volunteer(api, inst, reason='需要持证护理员')
    [refused] = messages_of('provider_a', kind='decision')
    assert refused.title == ('接单人审核未通过：社工站未通过您派单的志愿者李晓敏（V订单「吴伯读报（服务商）」），'
                             '原因：需要持证护理员')
    assert refused.link == f'/orders/{order_id}' and refused.body == '需要持证护理员'

    so = order_of(api('vol_zhang'), inst)['service_objects'][0]['id']
    second, second_id = offered_order(api, title='陪吴伯散步（服务商）', so=so)
    provider, station = api('provider_a'), api('station_xicun')
    complete(provider, open_task(provider, second['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    complete(station, open_task(station, second['id'], '接单人审核'), decision='approve')
    approved = [m for m in messages_of('provider_a', kind='decision') if m.link == f'/orders/{second_id}']
    assert [m.title for m in approved] == [
        '接单人审核通过：您派单的志愿者李晓敏已确定为V订单「陪吴伯散步（服务商）」的服务志愿者']


# ---------------------------------------------------------------------------------------------- 3. 已办理

def test_handled_tab_lists_dispatches_and_certifications(api, login):
    inst, order_id = offered_order(api)
    provider, station, gzva = api('provider_a'), api('station_xicun'), api('gzva')
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    page = login('provider_a')
    html = page.get('/inbox?state=handled').get_data(as_text=True)
    assert re.search(r'已办理<span class="count">1</span>', html), html
    assert '吴伯读报（服务商）' in html and '服务商派单' in html
    # the other tabs still count only reviews
    assert re.search(r'已通过<span class="count">0</span>', html) and re.search(r'未通过<span class="count">0</span>', html)
    assert '吴伯读报（服务商）' not in page.get('/inbox?state=approved').get_data(as_text=True)

    complete(station, open_task(station, inst['id'], '接单人审核'), decision='approve')
    travel_past_service(inst['id'])
    complete(api('vol_zhang'), open_task(api('vol_zhang'), inst['id']), data=RATINGS)
    today = served_day()
    complete(station, open_task(station, inst['id']),
             data={'service_start_date': today, 'service_end_date': today, 'person_times': 1, 'object_count': 1,
                   'volunteer_count': 1, 'service_hours': 2, 'summary': '顺利', 'results': '满意',
                   'photos': [upload_png(station)]})
    complete(gzva, open_task(gzva, inst['id']), decision='approve')
    html = login('station_xicun').get('/inbox?state=handled').get_data(as_text=True)
    assert '时数认证' in html and re.search(r'已办理<span class="count">1</span>', html)
    # the acceptor review and the publish review are 已通过, not 已办理
    assert re.search(r'已通过<span class="count">\d+</span>', html)
    rows = re.findall(r'<td data-label="步骤">([^<]*)</td>', html)
    assert rows == ['时数认证'], rows


# ---------------------------------------------------------------------------------------------- 5. the provider's menu

def test_provider_menu_and_order_list_filter(login):
    provider = login('provider_a').get('/orders').get_data(as_text=True)
    nav = provider.split('class="mainnav"')[1].split('</nav>')[0]
    assert '我的提交' not in nav and '订单管理' in nav and '待办审核' in nav
    options = re.findall(r'<option value="([a-z_]+)"', provider.split('id="f-status"')[1].split('</select>')[0])
    assert 'awaiting_dispatch' in options and 'done' in options and 'overdue' in options
    assert not {'pending_review', 'first_approved', 'rejected', 'abandoned'} & set(options)
    # a station publishes and reviews: its menu and filter are unchanged
    station = login('station_xicun').get('/orders').get_data(as_text=True)
    assert '我的提交' in station.split('class="mainnav"')[1].split('</nav>')[0]
    assert 'value="pending_review"' in station and 'value="rejected"' in station


# ---------------------------------------------------------------------------------------------- older diagram versions

def diagram_without_return() -> bytes:
    """The shipped diagram as it was before 退回订单: 服务商派单 leads straight to 登记接单人."""
    root = etree.fromstring((ROOT_DIR / 'bpmn' / 'v_order.bpmn').read_bytes())
    gone = {'gw_provider', 'redispatch', 'timer_redispatch', 'f_dispatch_ok', 'f_returned', 'f_redispatched',
            'f_timer_redispatch'}
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        if el.get('id') in gone or el.get('bpmnElement') in gone or (
                el.tag.split('}')[1] in ('flowNodeRef', 'incoming', 'outgoing') and (el.text or '').strip() in gone):
            el.getparent().remove(el)
    flow = root.find(f'.//{{{BPMN_NS}}}sequenceFlow[@id="f_dispatched"]')
    flow.set('targetRef', 'register_acceptor')
    register = root.find(f'.//{{{BPMN_NS}}}serviceTask[@id="register_acceptor"]')
    incoming = etree.Element(f'{{{BPMN_NS}}}incoming')
    incoming.text = 'f_dispatched'
    register.insert(1, incoming)
    xml = etree.tostring(root, xml_declaration=True, encoding='UTF-8')
    assert b'provider_action' not in xml and b'redispatch' not in xml
    return xml


def test_an_order_on_the_older_diagram_still_finishes_without_the_way_back(api, login):
    with transaction():
        old = deploy('v_order', diagram_without_return())
    inst, order_id = offered_order(api, title='旧版派单')
    assert inst['version'] == old.version
    with transaction():  # the new diagram is published again: new orders use it, the old one stays on its version
        newer = deploy('v_order', (ROOT_DIR / 'bpmn' / 'v_order.bpmn').read_bytes())
    provider_page = login('provider_a')
    task = open_task(api('provider_a'), inst['id'])
    html = provider_page.get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    assert 'value="dispatch"' in html and 'value="return"' not in html  # the form offers no way its version lacks
    resp = provider_page.post(f'/inbox/tasks/{task["id"]}/decide',
                              data={'provider_action': 'return', 'return_reason': '没人'})
    assert resp.status_code == 422 and '该订单按旧版流程办理，不能退回' in resp.get_data(as_text=True)
    assert '收回派单' not in login('station_xicun').get(f'/orders/{order_id}').get_data(as_text=True)

    complete(api('provider_a'), task, data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    complete(api('station_xicun'), open_task(api('station_xicun'), inst['id'], '接单人审核'), decision='approve')
    assert order_of(api('vol_zhang'), inst)['status_label'] == '进行中'
    assert db.session.get(WorkflowInstance, inst['id']).version.version == old.version < newer.version
    fresh, _ = offered_order(api, title='新版派单', so=order_of(api('vol_zhang'), inst)['service_objects'][0]['id'])
    assert fresh['version'] == newer.version
