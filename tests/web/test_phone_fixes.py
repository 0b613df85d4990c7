"""Audit 13 (walks 4 and 5) fixes for elderly phone users and the association's pool:
- the service-object entry form names every problem in one refused submission (the age / gender against the ID
  number and an ID number already entered come with the other fields' errors), on the page and the API;
- 可接订单 titles are 44 px touch targets, a volunteer's order page says 我要接单, no Chinese glyph as an icon;
- the 团队志愿者 link only for those who manage a team; a roster page past the end says so;
- the 公益池 volunteer is typed (mobile number, name or username), with suggestions, not picked from every volunteer."""
import re
from datetime import date

from lxml import html as lxml_html
from sqlalchemy import func, select

from app.extensions import db
from app.models import InstanceFile, LedgerEntry, Membership, OrgUnit, ServiceObject, User
from app.services import transaction
from app.services.demo import make_id
from tests.helpers import ELDER_ID, start_entry
from tests.web.conftest import page_form, png_upload
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task
from tests.web.test_v_order_rules import publish

WRONG_AGE = 50  # ELDER_ID was born in 1950


def _doc(resp):
    return lxml_html.fromstring(resp.get_data(as_text=True))


def _field_errors(doc, field):
    return [' '.join(p.text_content().split()).replace('错误：', '', 1).strip()
            for p in doc.xpath(f'//*[@id="field-{field}"]//p[@class="field-error"]')]


def _so_rows():
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(ServiceObject)),
            db.session.scalar(select(func.count()).select_from(InstanceFile)))


# ---------------------------------------------------------------- 1. every entry problem at once

def test_api_wrong_age_and_gender_come_with_a_bad_filler_phone(api, row_counts):
    before = row_counts()
    resp = start_entry(api('vol_zhang'), age=WRONG_AGE, gender='female', filler_phone='137000000001')
    assert resp.status_code == 422
    errors = resp.get_json()['errors']
    assert set(errors) == {'age', 'gender', 'filler_phone'}, errors
    assert errors['age'][0].startswith('年龄与身份证号码不符：身份证显示为 ')
    assert errors['gender'] == ['性别与身份证号码不符：身份证显示为男']
    assert row_counts() == before


def test_api_duplicate_id_number_comes_with_a_bad_phone(api, row_counts):
    assert start_entry(api('vol_li')).status_code == 201
    before = row_counts()
    resp = start_entry(api('vol_zhang'), phone='123')
    assert resp.status_code == 422
    errors = resp.get_json()['errors']
    assert set(errors) == {'id_number', 'phone'}, errors
    assert '请勿重复录入' in errors['id_number'][0] and '手机号码应为 11 位数字' in errors['phone'][0]
    assert row_counts() == before


def test_api_invalid_id_number_is_not_also_compared_with_the_age(api):
    bad_id = ELDER_ID[:17] + ('0' if ELDER_ID[17] != '0' else '1')
    resp = start_entry(api('vol_zhang'), id_number=bad_id, age=WRONG_AGE, phone='123')
    assert resp.status_code == 422
    assert set(resp.get_json()['errors']) == {'id_number', 'phone'}


def test_api_someone_elses_photo_comes_with_the_other_errors(api):
    from tests.helpers import upload_png
    other = upload_png(api('vol_li'))
    from tests.helpers import entry_data
    resp = api('vol_zhang').post('/processes/service_object_entry/instances',
                                 json={'data': entry_data([other], phone='123', age=WRONG_AGE)})
    assert resp.status_code == 422
    errors = resp.get_json()['errors']
    assert set(errors) == {'proof_files', 'phone', 'age'}
    assert '不属于您' in errors['proof_files'][0]


def test_page_names_age_gender_and_filler_phone_in_one_answer_and_keeps_the_photo(login):
    client = login('vol_zhang')
    before = _so_rows()
    resp = client.post('/m/service-objects/new', content_type='multipart/form-data',
                       data={**page_form(age=str(WRONG_AGE), gender='female', filler_phone='137000000001'),
                             'proof_files_new': [png_upload('ok.png')]})
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _field_errors(doc, 'age')[0].startswith('年龄与身份证号码不符')
    assert _field_errors(doc, 'gender') == ['性别与身份证号码不符：身份证显示为男']
    assert '手机号码应为 11 位数字' in _field_errors(doc, 'filler_phone')[0]
    assert '有 3 处需要修改' in resp.get_data(as_text=True)
    assert _so_rows()[0] == before[0], 'nothing entered'
    kept = doc.xpath('//input[@name="proof_files"][@checked]/@value')
    assert len(kept) == 1
    # one round: correcting the three fields is enough
    ok = client.post('/m/service-objects/new', content_type='multipart/form-data',
                     data={**page_form(), 'proof_files': kept})
    assert ok.status_code == 302, ok.get_data(as_text=True)[:800]


def test_resubmission_names_the_age_with_the_other_errors(login, api):
    vol = api('vol_zhang')
    inst_id = start_entry(vol).get_json()['instance']['id']
    station = api('station_xicun')
    complete(station, open_task(station, inst_id), decision='reject', reason='请补充户口本')
    from tests.web.conftest import open_task as task_of
    task = task_of(vol, inst_id)
    resp = vol.post(f'/tasks/{task["id"]}/complete', json={'data': {
        **page_form(phone='123', age=WRONG_AGE), 'proof_files': _files_of(inst_id)}})
    assert resp.status_code == 422
    assert set(resp.get_json()['errors']) == {'phone', 'age'}


def _files_of(instance_id):
    return list(db.session.scalars(select(InstanceFile.file_id).where(InstanceFile.instance_id == instance_id)))


# ---------------------------------------------------------------- 3. orders on the phone

def _open_order(api):
    so = approved_object(api)
    inst = publish(api('vol_zhang'), so)
    order_id = int(inst['business_key'].split(':')[1])
    return inst, order_id


def test_volunteer_reads_i_accept_and_reviewer_keeps_the_step_name(api, login):
    inst, order_id = _open_order(api)
    station = api('station_xicun')
    review = login('station_xicun').get(f'/orders/{order_id}').get_data(as_text=True)
    assert '去处理：社工站发布审核' in review
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    doc = _doc(login('vol_li').get(f'/orders/{order_id}'))
    buttons = [' '.join(a.text_content().split()) for a in doc.xpath('//a[contains(@class, "btn primary")]')]
    assert '我要接单' in buttons and not any('志愿者接单' in b for b in buttons)


def test_open_order_titles_are_touch_targets():
    css = open('app/static/css/app.css', encoding='utf-8').read()
    rule = re.search(r'\.order-open h2 a\s*\{([^}]*)\}', css)
    assert rule and 'min-height:44px' in rule.group(1).replace(' ', '')


def test_no_chinese_glyph_as_an_icon_in_english(login):
    client = login('vol_li')
    client.set_cookie('lang', 'en')
    for url in ('/m/', '/m/orders'):
        doc = _doc(client.get(url))
        icons = [s.text_content() for s in doc.xpath('//span[@class="tile-icon"]')]
        assert icons and not any(re.search(r'[\u4e00-\u9fff]', i) for i in icons), (url, icons)


# ---------------------------------------------------------------- 4. 团队志愿者

def _nav_links(client):
    return _doc(client.get('/inbox')).xpath('//a[normalize-space()="团队志愿者"]/@href')


def test_team_link_only_for_those_who_manage_a_team(login):
    assert _nav_links(login('station_xicun')) == ['/teams']
    assert _nav_links(login('team_a')) == ['/teams']
    for username in ('station_shipai', 'station_xinshi', 'street_xicun'):
        client = login(username)
        assert _nav_links(client) == [], username
        assert client.get('/teams').status_code == 404


def test_team_link_costs_no_query_of_the_organisation(app):
    """The menu renders on every page: whether a station manages a team is read from the cached tree, with no
    query beyond the user's memberships (loaded for every page anyway)."""
    from flask_login import login_user
    from sqlalchemy import event

    from app.blueprints.teams import team_nav
    from app.services import org_cache
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)
    for username, shown in (('station_xicun', True), ('station_shipai', False)):
        user = db.session.scalar(select(User).where(User.username == username))
        list(user.memberships)
        org_cache.of_kind('team')
        with app.test_request_context('/inbox'):
            login_user(user)
            event.listen(db.engine, 'before_cursor_execute', seen)
            try:
                assert bool(team_nav()) is shown, username
            finally:
                event.remove(db.engine, 'before_cursor_execute', seen)
    assert statements == []


def _add_volunteers(team_code, n):
    with transaction():
        team = db.session.scalar(select(OrgUnit).where(OrgUnit.code == team_code))
        for i in range(n):
            db.session.add(User(username=f'roster{i:03d}', display_name=f'队员{i:03d}', password_hash='x',
                                id_number=make_id('440103', date(1990, 1, 1), 100 + i), phone=f'1360000{i:04d}',
                                memberships=[Membership(role='volunteer', org_unit=team)]))
    db.session.remove()


def test_roster_page_past_the_end_says_so_and_links_the_last_page(login):
    _add_volunteers('team_a', 29)
    client = login('team_a')
    resp = client.get('/teams/team_a/volunteers?page=9')
    text = ' '.join(_doc(resp).xpath('//tr[@class="empty"]')[0].text_content().split())
    assert '本队还没有志愿者' not in text
    assert '这一页已超过最后一页（共 29 名志愿者）' in text
    links = _doc(resp).xpath('//tr[@class="empty"]//a/@href')
    assert links and 'page=2' in links[0]
    assert len(_doc(client.get(links[0])).xpath('//table[@class="list"]/tbody/tr[not(@class="empty")]')) == 9
    empty = login('team_vet').get('/teams/team_vet/volunteers').get_data(as_text=True)
    assert '本队还没有志愿者' in empty


# ---------------------------------------------------------------- 5. 公益池: the volunteer is typed

def _pool_with(points):
    from app.services import ledger
    from tests.web.shop_helpers import award, user
    award('vol_zhang', points)
    with transaction():
        ledger.donate(user('vol_zhang'), points, key='test:pool', reason='捐入公益池', business_ref='pool')
    db.session.remove()


def _allocations():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def _allocate(page, who, token, amount='2', reason='表现突出'):
    return page.post('/shop/pool/allocate', data={'username': who, 'amount': amount, 'reason': reason,
                                                   'request_token': token})


def _balance(username):
    from app.services import ledger
    from tests.web.shop_helpers import user
    db.session.expire_all()
    return ledger.statement(user(username))['available']


def test_pool_page_has_a_text_box_not_a_list_of_every_volunteer(login):
    doc = _doc(login('gzva').get('/shop/pool'))
    assert not doc.xpath('//select[@name="username"]')
    [box] = doc.xpath('//input[@name="username"]')
    assert box.get('type') == 'text' and box.get('id') == 'f-username'
    assert box.get('data-suggest') == '/shop/pool/volunteers' and doc.xpath(f'//datalist[@id="{box.get("list")}"]')
    assert 'hint-username' in box.get('aria-describedby')


def test_pool_allocation_by_mobile_number_name_username_and_listed_form(login):
    _pool_with(20)
    page = login('gzva')
    li = db.session.scalar(select(User).where(User.username == 'vol_li'))
    spaced = f' {li.phone[:3]} {li.phone[3:7]} {li.phone[7:]} '
    for i, who in enumerate((li.phone, '李晓敏', 'vol_li', '李晓敏（vol_li）', spaced)):
        resp = _allocate(page, who, f'pool-typed-{i:04d}')
        assert resp.status_code == 302, (who, resp.get_data(as_text=True)[:600])
    assert _balance('vol_li') == 10


def test_pool_double_click_allocates_once(login):
    _pool_with(10)
    page = login('gzva')
    assert _allocate(page, '李晓敏', 'pool-double-001').status_code == 302
    assert _allocate(page, '李晓敏', 'pool-double-001').status_code == 302
    assert _balance('vol_li') == 2


def test_pool_unknown_volunteer_is_said_at_the_box_with_the_other_problems(login):
    _pool_with(10)
    page = login('gzva')
    before = _allocations()
    resp = _allocate(page, '李大妈', 'pool-unknown-01', amount='两分', reason='')
    assert resp.status_code == 422
    doc = _doc(resp)
    assert _field_errors(doc, 'username') == [
        '找不到志愿者“李大妈”：请核对手机号码、姓名或用户名（只能分配给已登记的志愿者）']
    assert _field_errors(doc, 'amount') == ['请输入整数积分'] and _field_errors(doc, 'reason') == ['请填写分配原因']
    assert doc.xpath('//input[@name="username"]/@value') == ['李大妈'], 'what was typed stays'
    assert doc.xpath('//input[@name="username"]/@aria-invalid') == ['true']
    # a staff account is not a volunteer; nothing typed is no volunteer either
    assert '找不到志愿者“station_xicun”' in _allocate(page, 'station_xicun', 'pool-unknown-02').get_data(as_text=True)
    assert '请填写志愿者的手机号码、姓名或用户名' in _allocate(page, '  ', 'pool-unknown-03').get_data(as_text=True)
    assert _allocations() == before


def test_pool_two_volunteers_of_one_name_ask_for_the_mobile_number(login):
    _pool_with(10)
    with transaction():
        xicun = db.session.scalar(select(OrgUnit).where(OrgUnit.code == 'xicun'))
        db.session.add(User(username='li_2', display_name='李晓敏', password_hash='x', phone='13612345678',
                            memberships=[Membership(role='volunteer', org_unit=xicun)]))
    db.session.remove()
    page = login('gzva')
    resp = _allocate(page, '李晓敏', 'pool-same-0001')
    assert resp.status_code == 422
    assert _field_errors(_doc(resp), 'username') == [
        '有多位志愿者叫“李晓敏”，请改填要分配的那一位的手机号码']
    assert _allocate(page, '13612345678', 'pool-same-0002').status_code == 302
    assert _balance('li_2') == 2 and _balance('vol_li') == 0


def test_pool_suggestions_for_the_association_only(login):
    page = login('gzva')
    items = page.get('/shop/pool/volunteers?q=李').get_json()['items']
    assert [i['username'] for i in items] == ['vol_li']
    assert items[0]['value'] == '李晓敏（vol_li）' and items[0]['phone']
    assert {i['username'] for i in page.get('/shop/pool/volunteers?q=vol_').get_json()['items']} == \
        {'vol_zhang', 'vol_li', 'vol_wang'}
    by_phone = page.get('/shop/pool/volunteers', query_string={'q': items[0]['phone'][-4:]}).get_json()['items']
    assert 'vol_li' in [i['username'] for i in by_phone]
    assert page.get('/shop/pool/volunteers?q=station').get_json()['items'] == []
    assert page.get('/shop/pool/volunteers?q=%25').get_json()['items'] == []
    assert page.get('/shop/pool/volunteers').get_json()['items'] == []
    assert login('vol_li').get('/shop/pool/volunteers?q=李').status_code == 403
