"""审计日志 after the QA walk: every audit row records where it came from (网页 / 接口 / 命令行), whoever wrote it;
every action, detail and object reads in Chinese words (the API keeps the codes); every action has a 操作类别; the
page is in the administrator's menu."""
import json
import re
from pathlib import Path

import click
import pytest
from flask.cli import with_appcontext
from lxml import html as lxml_html
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from app.models.base import utcnow
from app.services import audit_log, audit_source
from tests.web.shop_helpers import BATH, award, item, user
from tests.web.test_activity_signups import publish, sign_up
from tests.web.test_audit_page import rows_of
from tests.web.test_v_order_dispatch import _dispatched_order
from tests.web.test_v_order_lifecycle import complete, open_task
from tests.web.test_withdraw_s18w1 import _entry

APP = Path(__file__).resolve().parents[2] / 'app'


def _page(client, url='/admin/audit'):
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def _via(action):
    db.session.expire_all()
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == action)).all()
    return [json.loads(r.detail_json).get('via') for r in rows]


# ---------------------------------------------------------------- 来源 of every writer

def test_a_withdrawal_in_the_browser_reads_web_and_over_the_api_reads_api(api, login):
    by_api = _entry(api)
    assert api('vol_zhang').post(f'/instances/{by_api}/withdraw', json={'reason': '录错了'}).status_code == 200
    in_browser = _entry(api)
    page = login('vol_zhang')
    assert page.post(f'/m/cases/{in_browser}/withdraw', data={'reason': '重复录入'}).status_code == 302
    assert sorted(_via('instance.withdraw')) == ['api', 'web']

    admin = login('admin')
    rows = rows_of(_page(admin, '/admin/audit?group=withdraw'))
    assert len(rows) == 2
    assert '网页' in rows[0] and '提交人撤回案件' in rows[0] and f'案件 #{in_browser}' in rows[0]
    assert '接口' in rows[1] and f'案件 #{by_api}' in rows[1] and '原因： 录错了' in rows[1]
    assert not any('未记录' in r for r in rows)
    [web_row] = rows_of(_page(admin, '/admin/audit?source=web&group=withdraw'))
    assert '重复录入' in web_row
    assert '没有符合条件的记录' in _page(admin, '/admin/audit?source=unrecorded&group=withdraw')
    # the API: the same sources, the target as written
    items = api('admin').get('/audit?group=withdraw').get_json()['items']
    assert [(i['source'], i['target']) for i in items] == [('web', f'instance:{in_browser}'),
                                                          ('api', f'instance:{by_api}')]
    assert all(k != 'via' for i in items for k, _v in i['details'])


def test_declining_a_dispatch_in_the_browser_reads_web(api, login):
    inst, order_id, provider = _dispatched_order(api)
    complete(provider, open_task(provider, inst['id']), data={'provider_action': 'dispatch', 'volunteer': 'vol_li'})
    assert login('vol_li').post(f'/orders/{order_id}/withdraw', data={'reason': '那天要陪母亲住院'}).status_code == 302
    assert _via('v_order.declined') == ['web']
    [row] = rows_of(_page(login('admin'), '/admin/audit?group=v_order'))
    assert '网页' in row and 'V订单志愿者拒绝派单' in row and f'V订单 #{order_id}' in row
    assert f'V订单编号： {order_id}' in row and '派单的服务商： 颐康居家养老服务中心（provider_a）' in row
    assert 'v_order' not in row and 'order_id' not in row and 'via_provider_id' not in row


def test_a_sign_up_cancelled_over_the_api_reads_api_with_its_activity_and_old_status(api, login):
    act = publish(api)
    signup = sign_up(api('vol_li'), act).get_json()['signup']
    assert api('vol_li').post(f'/signups/{signup["id"]}/cancel', json={'reason': '临时有事'}).status_code == 200
    assert _via('activity_signup.cancel') == ['api']
    [row] = rows_of(_page(login('admin'), '/admin/audit?group=activity_signup'))
    assert '接口' in row and '取消活动报名' in row and f'活动报名 #{signup["id"]}' in row
    assert '活动： 重阳节敬老探访（#' in row and '原状态： 待审核' in row and '原因： 临时有事' in row
    assert 'pending' not in row and 'activity_id' not in row


def _command(module: str):
    """A `flask` command defined in `module` that writes an audit row as a service does (no "via" of its own)."""
    @with_appcontext
    def write():
        db.session.add(AuditLog(actor_id=user('admin').id, action='instance.withdraw', target='instance:77',
                                detail_json='{"reason": "命令行写的"}', at=utcnow()))
        db.session.commit()
    write.__module__ = module
    return click.command('write-audit')(write)


def test_a_command_records_cli_but_the_job_runners_and_plain_service_calls_record_nothing(app, api):
    runner = app.test_cli_runner()
    assert runner.invoke(_command('app.cli')).exit_code == 0
    assert _via('instance.withdraw') == ['cli']
    db.session.execute(AuditLog.__table__.delete())
    assert runner.invoke(_command('app.jobs.worker')).exit_code == 0  # a timer's rows are the system's
    assert _via('instance.withdraw') == [None]
    db.session.execute(AuditLog.__table__.delete())
    # a service called outside a request and a command: nothing says where from (as before)
    assert audit_source.current() is None
    db.session.add(AuditLog(actor_id=user('admin').id, action='instance.withdraw', target='instance:1',
                            detail_json='{}', at=utcnow()))
    db.session.commit()
    assert _via('instance.withdraw') == [None]
    [item] = api('admin').get('/audit').get_json()['items']
    assert item['source'] == 'unrecorded'


def test_a_person_acting_from_the_command_line_is_listed_under_the_command_line(app, api, login):
    assert app.test_cli_runner().invoke(_command('app.cli')).exit_code == 0
    [item] = api('admin').get('/audit?source=cli').get_json()['items']
    assert item['actor_username'] == 'admin' and item['source'] == 'cli'
    assert api('admin').get('/audit?source=unrecorded').get_json()['total'] == 0
    [row] = rows_of(_page(login('admin'), '/admin/audit?source=cli'))
    assert '流程管理员（admin）' in row and '命令行' in row


def test_a_writer_that_names_its_source_keeps_it():
    assert audit_source.stamped('{"via": "cli", "a": 1}', 'web') is None
    assert json.loads(audit_source.stamped('{"a": 1}', 'web')) == {'a': 1, 'via': 'web'}
    assert audit_source.stamped('[1, 2]', 'web') is None and audit_source.stamped('{}', None) is None


# ---------------------------------------------------------------- words, not codes

def _mark_in_browser(login, note):
    page = login('provider_a')
    doc = lxml_html.fromstring(page.get('/shop/redemptions').get_data(as_text=True))
    [form] = doc.xpath('//table[contains(@class, "handovers")]//form')
    data = {i.get('name'): i.get('value') for i in form.xpath('.//input[@type="hidden"]')}
    return page, form.get('action'), data


def test_a_hand_over_marked_reads_in_words(api, login):
    award('vol_zhang', 60)
    assert api('vol_zhang').post(f'/shop/items/{item(BATH).id}/redeem',
                                 json={'request_token': 'h19-bath-01'}).status_code == 201
    page, action, data = _mark_in_browser(login, '')
    assert page.post(action, data={**data, 'status': 'arranged', 'note': '12月5日上午10点上门'}).status_code == 302
    assert page.post(action, data={**data, 'status': 'delivered', 'note': ''}).status_code == 302
    assert _via('shop_fulfilment.arranged') == ['web'] and _via('shop_fulfilment.delivered') == ['web']

    html = _page(login('admin'), '/admin/audit?group=shop_fulfilment')
    delivered, arranged = rows_of(html)
    assert '兑换记录标记为已发放' in delivered and '兑换记录 #' in delivered and '网页' in delivered
    assert '修改前： 状态：已安排；给志愿者的说明：12月5日上午10点上门' in delivered and '状态： 已发放' in delivered
    assert '兑换记录标记为已安排' in arranged and '修改前： 状态：待安排' in arranged
    assert '给志愿者的说明： 12月5日上午10点上门' in arranged and '领取人： 张建国' in arranged
    assert f'兑换资源： {BATH}' in arranged and '单位： 颐康居家养老服务中心（provider_a）' in arranged
    for raw in ('shop_fulfilment', 'arranged', 'delivered', 'before', 'recipient', 'note', 'None', 'status='):
        assert raw not in delivered + arranged, raw
    # the API: keys and codes
    items = api('admin').get('/audit?group=shop_fulfilment').get_json()['items']
    assert items[0]['action'] == 'shop_fulfilment.delivered' and items[0]['target'].startswith('shop_fulfilment:')
    assert ['status', 'delivered'] in items[0]['details']


def _written(*rows):
    for action, target, detail in rows:
        db.session.add(AuditLog(actor_id=user('admin').id, action=action, target=target,
                                detail_json=json.dumps(detail, ensure_ascii=False), at=utcnow()))
    db.session.commit()
    db.session.remove()


def test_objects_read_as_names_and_the_object_filter_takes_codes_names_and_numbers(api, login):
    _written(('user.deactivate', 'user:vol_wang', {'username': 'vol_wang', 'reason': '离职'}),
             ('org_unit.create', 'org_unit:xicun', {'code': 'xicun'}),
             ('unit_list.white.add', 'team_a', {'list': 'white', 'org_unit': 'team_a', 'name': '长者关爱服务队'}),
             ('sensitive_word.add', '赌博', {'word': '赌博'}),
             ('process.draft', 'v_order draft 7', {'draft_id': 7}),
             ('process.migrate', 'v_order v1->v2', {'from_version': 1, 'to_version': 2}),
             ('shop_item.create', 'shop_item:5', {'name': '理发券'}),
             ('v_order.withdrawn', 'v_order:3', {'order_id': 3}))
    admin = login('admin')
    html = _page(admin)
    text = ' '.join(rows_of(html))
    for shown in ('账号 王小明（vol_wang）', '单位 西村街（xicun）', '单位 长者关爱服务队（team_a）', '敏感词「赌博」',
                  '草稿 #7', '版本 v1 → v2', '兑换资源 #5', 'V订单 #3'):
        assert shown in text, shown
    for raw in ('user:', 'org_unit:', 'shop_item:', 'v_order:', 'draft 7', '->'):
        assert raw not in text, raw

    def matched(q):
        resp = admin.get('/admin/audit', query_string={'q': q})
        assert resp.status_code == 200
        return len(rows_of(resp.get_data(as_text=True)))

    assert matched('user:vol_wang') == matched('vol_wang') == matched('王小明') == 1  # as before, and by name
    assert matched('西村街') == 2 and matched('长者关爱') == 1  # the street, and the team named after it
    assert matched('#3') == 1 and matched('v_order') == 3
    # the API keeps the targets as written
    targets = {i['target'] for i in api('admin').get('/audit').get_json()['items']}
    assert {'user:vol_wang', 'v_order:3', 'team_a', 'v_order draft 7'} <= targets


def _actions_written_in_app() -> set[str]:
    """Every action an audit row is written with in app/: the literal ones where AuditLog rows and the writers'
    _audit helpers are called, and the ones made from a variable (f'shop_item.{decision}' …) spelled out."""
    found = set()
    for path in APP.rglob('*.py'):
        text = path.read_text(encoding='utf-8')
        for call in re.finditer(r'(?:AuditLog\(|_audit\()(.{0,200})', text, re.S):
            found |= set(re.findall(r"'((?:[a-z_]+\.)+[a-z_]+)'", call.group(1)[:120]))
    found = {a for a in found if not a.startswith(('app.', 'db.'))}
    found |= {'shop_item.approve', 'shop_item.reject', 'shop_fulfilment.arranged', 'shop_fulfilment.delivered',
              'v_order.declined', 'v_order.withdrawn', 'unit_list.white.add', 'unit_list.black.add',
              'unit_list.black.remove', audit_log.RESET}
    return found


def test_every_action_has_a_chinese_label_and_exactly_one_group():
    actions = _actions_written_in_app()
    assert {'instance.withdraw', 'activity_signup.cancel', 'pool.allocate', 'user.create'} <= actions
    assert actions <= set(audit_log.ACTION_LABELS), actions - set(audit_log.ACTION_LABELS)
    for action in audit_log.ACTION_LABELS:
        groups = [key for key, (_label, parts) in audit_log.GROUPS.items()
                  if any(action == p or (p.endswith('.') and action.startswith(p)) for p in parts)]
        assert len(groups) == 1, (action, groups)
        assert re.search(r'[\u4e00-\u9fff]', str(audit_log.ACTION_LABELS[action])), action


@pytest.mark.parametrize('keys', [
    ('step', 'reason'),                                         # submissions.withdraw
    ('order_id', 'reason', 'via_provider_id'),                  # v_order_steps.withdraw_acceptance
    ('before', 'status', 'note', 'item', 'recipient', 'role', 'unit'),  # shop.mark_fulfilment
    ('activity_id', 'was', 'reason', 'signup_id'),              # activity_signups
    ('reason', 'item', 'role', 'unit', 'batch'),                # shop.review_item
])
def test_every_detail_key_of_the_writers_has_a_label(keys):
    assert set(keys) <= set(audit_log.DETAIL_LABELS), set(keys) - set(audit_log.DETAIL_LABELS)


# ---------------------------------------------------------------- the menu and the page's words

def _nav(html):
    return lxml_html.fromstring(html).xpath('//nav//a')


def test_the_audit_log_is_in_the_admin_menu_and_marked_current_there(login):
    admin = login('admin')
    audit = {a.text_content().strip(): a.get('aria-current') for a in _nav(_page(admin))}
    assert audit['审计日志'] == 'page' and audit['流程管理'] is None and audit['用户管理'] is None
    processes = {a.text_content().strip(): a.get('aria-current') for a in _nav(_page(admin, '/admin/processes'))}
    assert processes['流程管理'] == 'page' and processes['审计日志'] is None
    assert [a.get('href') for a in _nav(_page(admin)) if a.text_content().strip() == '审计日志'] == ['/admin/audit']
    assert 'href="/admin/audit"' not in login('station_xicun').get('/', follow_redirects=True).get_data(as_text=True)


def test_the_intro_names_every_category_and_there_is_no_fixed_back_link(login):
    html = _page(login('admin'))
    doc = lxml_html.fromstring(html)
    [intro] = doc.xpath('//main//p[contains(@class, "muted")][1]')
    for label in audit_log.group_options().values():
        assert label in intro.text_content(), label
    assert not doc.xpath('//main//a[@href="/admin/processes"]')
    options = doc.xpath('//select[@name="group"]/option/text()')
    assert {'案件撤回', 'V订单接单变动', '兑换记录', '活动报名'} <= set(options)
