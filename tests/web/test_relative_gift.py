"""赠予直系亲属 through the API and the pages: hold on submit, 广志协 approves (spend + stock) or
rejects (release, "—"), the 30-day expiry, batch decisions, and every refusal."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Decision, GiftRequest, HumanTask, LedgerHold, Message, WorkflowInstance
from app.services import ledger_checks, timers
from tests.helpers import png_bytes, upload_png
from tests.web.shop_helpers import (
    BATH,
    CLEAN,
    PARENT_ID,
    RICE,
    SPOUSE_ID,
    YOUNG_ID,
    award,
    item,
    move_clock,
    points,
    review_task,
    set_stock,
    shop_item,
    start_gift,
    started_gift,
    user,
)


@pytest.fixture
def li(api):
    award('vol_li', 60)
    return api('vol_li')


def _count(model, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _messages(username):
    db.session.expire_all()
    return list(db.session.scalars(select(Message).where(Message.user_id == user(username).id, Message.kind == 'decision')
                                   .order_by(Message.id)))


def _gift(client, instance_id):
    return next(g for g in client.get('/gifts').get_json()['items'] if g['instance_id'] == instance_id)


def test_submit_holds_points_and_reserves_a_unit_then_approval_spends_once(api, li):
    gzva = api('gzva')
    inst = started_gift(li)
    assert inst['status_label'] == '待广志协审核' and inst['title'] == f'赠予李大爷：{BATH}'
    assert points(li) == (60, 30, 30)
    assert (shop_item(li, BATH)['stock'], shop_item(li, BATH)['available']) == (20, 19)
    task = review_task(gzva, inst['id'])
    assert task['lane'] == 'association_admin' and task['scope'] == ['gz']
    for outsider in ('district_liwan', 'station_xicun', 'vol_zhang'):
        assert review_task(api(outsider), inst['id']) is None
        assert api(outsider).get(f'/tasks/{task["id"]}').status_code == 404
    detail = gzva.get(f'/tasks/{task["id"]}').get_json()
    assert detail['data']['volunteer_id_number'] == user('vol_li').id_number
    assert detail['data']['relative_age'] == '86 岁' and detail['data']['logistics'] == '审核通过后安排'
    assert detail['data']['kinship_files'] and detail['form']['properties'].keys() == {'decision', 'reason'}

    r = gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'})
    assert r.status_code == 200, r.get_json()
    done = r.get_json()['instance']
    assert (done['status'], done['outcome'], done['status_label']) == ('completed', 'approved', '已通过')
    assert points(li) == (30, 0, 30)
    assert (shop_item(li, BATH)['stock'], shop_item(li, BATH)['available']) == (19, 19)
    gift = _gift(li, inst['id'])
    assert gift['status'] == 'approved' and '李大爷' in gift['logistics'] and gift['logistics'] != '—'
    assert gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code == 409
    assert points(li) == (30, 0, 30)
    [msg] = _messages('vol_li')
    assert '已通过审核' in msg.title and '30 积分' in msg.title and msg.link == f'/m/cases/{inst["id"]}'
    kinds = [e['kind'] for e in li.get('/me/points').get_json()['entries']]
    assert kinds == ['post_hold', 'hold', 'award']
    assert [h['decision'] for h in li.get(f'/instances/{inst["id"]}').get_json()['history']] == ['submit', 'approve']
    assert ledger_checks.check_invariants() == []


def test_rejection_needs_a_reason_releases_everything_and_shows_a_dash(api, li, login):
    gzva = api('gzva')
    inst = started_gift(li)
    task = review_task(gzva, inst['id'])
    r = gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject'})
    assert r.status_code == 422 and 'reason' in r.get_json()['errors']
    assert points(li) == (60, 30, 30)
    r = gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject', 'reason': '关系证明照片看不清'})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()['instance']['status_label'] == '未通过'
    assert points(li) == (60, 0, 60)
    assert (shop_item(li, BATH)['stock'], shop_item(li, BATH)['available']) == (20, 20)
    gift = _gift(li, inst['id'])
    assert (gift['status'], gift['logistics'], gift['reason']) == ('rejected', '—', '关系证明照片看不清')
    [msg] = _messages('vol_li')
    assert '未通过' in msg.title and '关系证明照片看不清' in msg.title
    statement = li.get('/me/points').get_json()
    assert [(e['kind'], e['amount'], e['held_change']) for e in statement['entries']] == [
        ('void_hold', 0, -30), ('hold', 0, 30), ('award', 60, 0)]
    assert all(e['reason'] for e in statement['entries'])
    page = login('vol_li')
    html = page.get(f'/m/cases/{inst["id"]}').get_data(as_text=True)
    assert re.search(r'物流 / 服务安排</dt>\s*<dd>\s*—\s*</dd>', html)
    assert '关系证明照片看不清' in html
    mine = page.get('/m/shop/mine').get_data(as_text=True)
    assert '未通过，积分已解冻' in mine and '—' in mine


def test_unreviewed_hold_expires_after_thirty_days(api, li):
    gzva = api('gzva')
    inst = started_gift(li)
    task = review_task(gzva, inst['id'])
    assert task['due_at'] is not None
    move_clock(inst['id'], timedelta(days=29))
    assert timers.fire_due() == 0
    assert points(li) == (60, 30, 30) and review_task(gzva, inst['id']) is not None
    move_clock(inst['id'], timedelta(days=1, minutes=1))
    assert timers.fire_due() == 1
    view = li.get(f'/instances/{inst["id"]}').get_json()
    assert (view['status'], view['outcome'], view['status_label']) == ('completed', 'expired', '已过期')
    assert view['history'][-1]['decision'] == 'auto' and '30 天' in view['history'][-1]['reason']
    assert points(li) == (60, 0, 60)
    assert shop_item(li, BATH)['available'] == 20
    assert review_task(gzva, inst['id']) is None
    assert gzva.post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'}).status_code in (404, 409)
    assert points(li) == (60, 0, 60)
    gift = _gift(li, inst['id'])
    assert gift['status'] == 'expired' and gift['logistics'] == '—'
    [msg] = _messages('vol_li')
    assert '超过 30 天未审核' in msg.title
    assert timers.fire_due() == 0
    assert ledger_checks.check_invariants() == []


def test_batch_approve_and_reject_report_each_item(api):
    award('vol_zhang', 100)
    zhang, gzva = api('vol_zhang'), api('gzva')
    first = started_gift(zhang, BATH)
    second = started_gift(zhang, CLEAN)
    third = started_gift(zhang, BATH, relative_name='王阿婆', relation='spouse', relative_id_number=SPOUSE_ID)
    assert points(zhang) == (100, 75, 25)
    ids = [review_task(gzva, i['id'])['id'] for i in (first, second, third)]
    results = gzva.post('/tasks/batch', json={'task_ids': ids[:2] + [999999], 'decision': 'approve'}).get_json()['results']
    assert [(r['task_id'], r['ok']) for r in results] == [(ids[0], True), (ids[1], True), (999999, False)]
    assert points(zhang) == (55, 30, 25)
    refused = gzva.post('/tasks/batch', json={'task_ids': ids, 'decision': 'reject'}).get_json()['results']
    assert [r['ok'] for r in refused] == [False, False, False]
    assert '不通过原因' in refused[2]['error'] or '必填' in refused[2]['error']
    assert refused[0]['code'] == 'already_handled'
    done = gzva.post('/tasks/batch', json={'task_ids': ids, 'decision': 'reject', 'reason': '请补充户口本'}
                     ).get_json()['results']
    assert [r['ok'] for r in done] == [False, False, True]
    assert points(zhang) == (55, 0, 55)
    assert [g['status'] for g in zhang.get('/gifts').get_json()['items']] == ['rejected', 'approved', 'approved']
    assert len(_messages('vol_zhang')) == 3
    assert ledger_checks.check_invariants() == []


def test_batch_from_the_inbox_page(api, login):
    award('vol_zhang', 100)
    zhang = api('vol_zhang')
    insts = [started_gift(zhang, BATH), started_gift(zhang, CLEAN)]
    page = login('gzva')
    html = page.get('/inbox').get_data(as_text=True)
    assert f'赠予李大爷：{BATH}' in html
    ids = [str(review_task(api('gzva'), i['id'])['id']) for i in insts]
    r = page.post('/inbox/batch', follow_redirects=True, data={'task_ids': ids, 'decision': 'approve'})
    assert r.status_code == 200 and '成功 2 条，失败 0 条' in r.get_data(as_text=True)
    assert points(zhang) == (55, 0, 55)


BAD = [
    ({'relative_id_number': YOUNG_ID}, 'relative_id_number', '须年满 60 周岁'),
    ({'relative_id_number': PARENT_ID[:-1] + ('0' if PARENT_ID[-1] != '0' else '1')}, 'relative_id_number', '身份证号码无效'),
    ({'relative_id_number': '44010419500402'}, 'relative_id_number', '身份证号码无效'),
    ({'kinship_files': []}, 'kinship_files', '必填'),
    ({'relative_phone': '12345'}, 'relative_phone', '手机号码'),
    ({'relation': 'cousin'}, 'relation', '有效的选项'),
    ({'relative_name': ''}, 'relative_name', '必填'),
]


@pytest.mark.parametrize('overrides,field,words', BAD)
def test_bad_requests_are_refused_with_field_messages_and_store_nothing(api, li, overrides, field, words):
    resp = start_gift(li, **overrides)
    assert resp.status_code == 422, resp.get_json()
    assert any(words in m for m in resp.get_json()['errors'][field]), resp.get_json()
    assert _count(GiftRequest) == _count(WorkflowInstance) == _count(LedgerHold) == 0
    assert points(li) == (60, 0, 60)


def test_own_id_number_is_refused(api):
    award('vol_zhang', 100)
    zhang = api('vol_zhang')
    resp = start_gift(zhang, relative_id_number=user('vol_zhang').id_number.lower())
    assert resp.status_code == 422
    assert '本人的身份证号码' in resp.get_json()['errors']['relative_id_number'][0]


def test_more_points_than_available_is_refused(api, li):
    started_gift(li, BATH)  # holds 30 of 60
    resp = start_gift(li, BATH, relative_name='王阿婆', relation='spouse', relative_id_number=SPOUSE_ID)
    assert resp.status_code == 201
    resp = start_gift(li, CLEAN)
    assert resp.status_code == 422
    assert resp.get_json()['errors']['points'] == ['可用积分不足：可用 0 分，需要 15 分']
    assert points(li) == (60, 60, 0) and _count(GiftRequest) == 2


def test_out_of_stock_unapproved_and_non_service_items_are_refused(api, li):
    set_stock(BATH, 0)
    resp = start_gift(li, BATH)
    assert resp.status_code == 422 and '库存不足' in resp.get_json()['errors']['item_id'][0]
    resp = start_gift(li, '康复理疗体验（1 次）')  # still pending the district's review
    assert resp.status_code == 422 and '尚未上架' in resp.get_json()['errors']['item_id'][0]
    resp = start_gift(li, RICE)
    assert resp.status_code == 422 and '养老服务兑换' in resp.get_json()['errors']['item_id'][0]
    assert _count(GiftRequest) == 0 and points(li) == (60, 0, 60)


def test_only_volunteers_start_and_only_own_files(api, li):
    zhang = api('vol_zhang')
    foreign = upload_png(zhang, 'other.png')
    resp = start_gift(li, kinship_files=[foreign])
    assert resp.status_code == 422 and '不属于您' in resp.get_json()['errors']['kinship_files'][0]
    station = api('station_xicun')
    assert start_gift(station).status_code == 403


def test_double_tap_same_token_is_one_request(api, li):
    first = start_gift(li, request_token='tap-0123456789')
    assert first.status_code == 201
    again = start_gift(li, request_token='tap-0123456789')
    assert again.status_code == 409
    body = again.get_json()
    assert body['error'] == 'duplicate_request' and '请勿重复提交' in body['message']
    assert _count(GiftRequest) == 1 and _count(LedgerHold) == 1 and points(li) == (60, 30, 30)


def test_same_relative_and_item_while_pending_is_refused(api, li):
    started_gift(li)
    resp = start_gift(li)
    assert resp.status_code == 422 and '正在审核中' in resp.get_json()['errors']['relative_id_number'][0]
    assert points(li) == (60, 30, 30)


def test_gifts_are_private(api, li):
    inst = started_gift(li)
    gift_id = _gift(li, inst['id'])['id']
    assert li.get(f'/gifts/{gift_id}').status_code == 200
    assert api('vol_zhang').get(f'/gifts/{gift_id}').status_code == 404
    assert api('vol_zhang').get(f'/instances/{inst["id"]}').status_code == 404
    assert api('gzva').get(f'/gifts/{gift_id}').status_code == 200


# ---- pages ---------------------------------------------------------------------------------------

def _page_values(token, **overrides):
    values = {'relative_name': '李大爷', 'relation': 'parent', 'relative_phone': '13800138071',
              'relative_id_number': PARENT_ID, 'request_token': token}
    values.update(overrides)
    return values


def _png():
    from io import BytesIO
    return (BytesIO(png_bytes()), 'hukou.png')


def test_phone_gift_page_double_tap_and_errors_keep_input(login):
    award('vol_li', 60)
    page = login('vol_li')
    bath = item(BATH).id
    form = page.get(f'/m/shop/items/{bath}/gift').get_data(as_text=True)
    assert '李晓敏' in form and 'name="volunteer_id_number"' not in form and '本人信息来自您的账号' in form
    token = form.split('name="request_token" value="')[1].split('"')[0]
    assert len(token) >= 16
    bad = page.post(f'/m/shop/items/{bath}/gift', data={**_page_values(token, relative_id_number=YOUNG_ID),
                                                         'kinship_files_new': _png()},
                    content_type='multipart/form-data')
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and '须年满 60 周岁' in html and YOUNG_ID in html and '已保留 1 张' in html
    kept = html.split('name="kinship_files" value="')[1].split('"')[0]
    data = {**_page_values(token), 'kinship_files': kept}
    first = page.post(f'/m/shop/items/{bath}/gift', data=data)
    second = page.post(f'/m/shop/items/{bath}/gift', data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers['Location'] == second.headers['Location']
    assert _count(GiftRequest) == 1 and _count(LedgerHold) == 1
    case = page.get(first.headers['Location']).get_data(as_text=True)
    assert '待广志协审核' in case and '李大爷' in case


def test_gift_page_only_for_elderly_care_items(login):
    page = login('vol_li')
    assert page.get(f'/m/shop/items/{item(RICE).id}/gift').status_code == 404
    assert page.get(f'/m/shop/items/{item("越秀区长者体检套餐").id}/gift').status_code == 404


def test_review_page_shows_the_volunteer_identity_read_only(api, li, login):
    inst = started_gift(li)
    task = review_task(api('gzva'), inst['id'])
    html = login('gzva').get(f'/inbox/tasks/{task["id"]}').get_data(as_text=True)
    assert user('vol_li').id_number in html and '来自账号，不可修改' in html
    assert 'name="volunteer_id_number"' not in html and '86 岁' in html
    decisions = db.session.scalar(select(func.count()).select_from(Decision))
    assert decisions == 1
    assert _count(HumanTask, HumanTask.process_key == 'relative_gift', HumanTask.status == 'open') == 1
