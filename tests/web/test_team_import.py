"""团队志愿者: a team's roster and the batch import of volunteers from an .xlsx (every row or none), the accounts it
creates (username = phone, initial password = last 6 of the ID number, changed at first login) and their jurisdiction."""
import json
from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Membership, OrgUnit, User
from app.services.demo import make_id
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task
from tests.web.test_v_order_rules import publish

HEADER = ['姓名', '身份证号码', '手机号码', '监护人姓名', '监护人关系', '监护人身份证号码', '监护人手机号码']
TODAY = datetime.now(ZoneInfo('Asia/Shanghai')).date()
ADULT_ID = make_id('440104', date(1990, 4, 5), 71, female=True)
MINOR_ID = make_id('440104', date(TODAY.year - 12, 1, 15), 72)
GUARDIAN_ID = make_id('440104', date(1985, 2, 3), 73)
VOL_LI_PHONE = '13700000001'  # demo: vol_li
VOL_LI_ID = make_id('440103', date(1996, 7, 8), 11)
OTHER = ('周好人', make_id('440104', date(1970, 1, 1), 75), '13912345699')


def xlsx(rows, header=HEADER) -> BytesIO:
    wb = Workbook()
    ws = wb.active
    if header:
        ws.append(header)
    for row in rows:
        ws.append(list(row))
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    return out


GOOD = [('陈美玲', ADULT_ID, '13912345601'),
        ('林小宝', MINOR_ID, '13912345602', '林大山', '父子', GUARDIAN_ID, '13912345603'),
        ('李晓敏', VOL_LI_ID, VOL_LI_PHONE)]


def post_page(client, rows=None, *, data=None, name='志愿者.xlsx', team='team_a', **extra):
    body = {'file': (data if data is not None else xlsx(rows), name), **extra}
    return client.post(f'/teams/{team}/volunteers/import', data=body, content_type='multipart/form-data')


def post_api(client, rows=None, *, data=None, name='志愿者.xlsx', team='team_a', **extra):
    body = {'file': (data if data is not None else xlsx(rows), name), **extra}
    return client.post(f'/teams/{team}/volunteers/import', data=body, content_type='multipart/form-data')


def users() -> int:
    n = db.session.scalar(select(func.count()).select_from(User))
    db.session.remove()
    return n


def team_members(code='team_a') -> set[str]:
    team = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    names = set(db.session.scalars(select(User.username).join(Membership, Membership.user_id == User.id)
                                   .where(Membership.org_unit_id == team.id, Membership.role == 'volunteer')))
    db.session.remove()
    return names


def test_good_file_imports_new_adult_new_minor_and_existing_volunteer(login, api):
    before = users()
    rows = GOOD
    resp = post_page(login('team_a'), rows)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html
    assert '导入完成' in html and '新建 2 人，已有志愿者加入 1 人，已在本队 0 人' in html
    assert '初始密码为身份证号码后 6 位' in html
    assert users() == before + 2
    assert team_members() == {'13912345601', '13912345602', 'vol_li'}
    minor = db.session.scalar(select(User).where(User.username == '13912345602'))
    assert minor.must_change_password and minor.home_unit.code == 'xicun'
    assert json.loads(minor.guardian_json) == {'name': '林大山', 'relation': '父子', 'id_number': GUARDIAN_ID,
                                               'phone': '13912345603'}
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == 'team.volunteer_import'))
    detail = json.loads(log.detail_json)
    assert log.actor_id is not None and detail['team'] == 'team_a'
    assert (detail['created'], detail['joined'], detail['already']) == (2, 1, 0)
    db.session.remove()
    # the roster shows them, ID numbers masked, the minor with the guardian; the API lists the same
    page = login('team_a').get('/teams/team_a/volunteers').get_data(as_text=True)
    assert '陈美玲' in page and ADULT_ID not in page and ADULT_ID[:4] + '*' * 10 + ADULT_ID[-4:] in page
    assert '林大山' in page and '未成年' in page
    items = api('station_xicun').get('/teams/team_a/volunteers').get_json()
    assert items['total'] == 3 and {i['name'] for i in items['items']} == {'陈美玲', '林小宝', '李晓敏'}
    # the same file again: everybody is already in the team, nobody new
    again = post_page(login('team_a'), rows).get_data(as_text=True)
    assert '新建 0 人，已有志愿者加入 0 人，已在本队 3 人' in again and users() == before + 2


def test_template_has_the_documented_header_and_one_example_row(login):
    resp = login('team_a').get('/teams/team_a/volunteers/template.xlsx')
    assert resp.status_code == 200
    ws = load_workbook(BytesIO(resp.data)).worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == HEADER and len(rows) == 2
    # uploaded unchanged, its example row is refused rather than imported
    html = post_page(login('team_a'), data=BytesIO(resp.data)).get_data(as_text=True)
    assert '这是模板中的示例行' in html


@pytest.mark.parametrize('row, column, message', [
    (('', ADULT_ID, '13912345601'), '姓名', '请填写姓名'),
    (('陈美玲', ADULT_ID[:-1] + ('0' if ADULT_ID[-1] != '0' else '1'), '13912345601'), '身份证号码', '无效'),
    (('陈美玲', '440104' + f'{TODAY.year + 1}0101' + '123X', '13912345601'), '身份证号码', '无效'),
    (('陈美玲', ADULT_ID, '1391234560'), '手机号码', '手机号码“1391234560”无效'),
    (('陈美玲', ADULT_ID, '12912345601'), '手机号码', '无效'),
    (('林小宝', MINOR_ID, '13912345602'), '监护人姓名', '未满 18 周岁'),
    (('林小宝', MINOR_ID, '13912345602', '林大山', '父子', GUARDIAN_ID, ''), '监护人手机号码', '须填写监护人手机号码'),
    (('林小宝', MINOR_ID, '13912345602', '林大山', '兄弟', make_id('440104', date(TODAY.year - 16, 1, 1), 74),
      '13912345603'), '监护人身份证号码', '监护人须已满 18 周岁'),
    (('林小宝', MINOR_ID, '13912345602', '林大山', '父子', GUARDIAN_ID, '123'), '监护人手机号码', '无效'),
    (('张三', make_id('440103', date(1958, 3, 12), 10), VOL_LI_PHONE), '手机号码', '两个不同的已有账号'),
    (('李小敏', VOL_LI_ID, VOL_LI_PHONE), '姓名', '不一致'),
    (('李晓敏', make_id('440103', date(1996, 7, 8), 12), VOL_LI_PHONE), '身份证号码', '另一身份证号码'),
])
def test_each_bad_row_is_reported_and_nothing_is_imported(login, row, column, message):
    before = users()
    resp = post_page(login('team_a'), [OTHER, row])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert '没有导入任何人' in html and column in html and message in html, html[html.find('error-summary'):][:1500]
    assert users() == before


def test_duplicates_within_the_file_name_the_first_row(api):
    resp = post_api(api('team_a'), [GOOD[0], ('陈美华', ADULT_ID, '13912345609'), ('陈美丽', GUARDIAN_ID, '13912345601')])
    assert resp.status_code == 422
    errors = resp.get_json()['errors']
    assert {'row': 3, 'column': '身份证号码', 'field': 'id_number', 'message': '与第 2 行的身份证号码重复'} in errors
    assert {'row': 4, 'column': '手机号码', 'field': 'phone', 'message': '与第 2 行的手机号码重复'} in errors


def test_one_bad_row_creates_nobody(login, api):
    before = users()
    rows = GOOD[:2] + [('坏行', '123', '13912345688')]
    html = post_page(login('team_a'), rows).get_data(as_text=True)
    # the file's rows stay on screen, each with its result
    assert '第 4 行' in html and '林小宝' in html and '陈美玲' in html and '无误' in html
    resp = post_api(api('team_a'), rows)
    assert resp.status_code == 422 and [e['row'] for e in resp.get_json()['errors']] == [4]
    assert users() == before and team_members() == set()


def test_api_dry_run_and_import(api):
    before = users()
    client = api('team_a')
    resp = post_api(client, GOOD[:2], dry_run='1')
    assert resp.status_code == 200 and resp.get_json()['created'] == 2 and resp.get_json()['dry_run'] is True
    assert users() == before
    body = post_api(client, GOOD[:2]).get_json()
    assert (body['created'], body['joined'], body['already'], body['errors']) == (2, 0, 0, [])
    assert users() == before + 2


def test_files_that_are_refused(api, login):
    client = api('team_a')
    renamed = post_api(client, data=BytesIO(b'%PDF-1.4 not a workbook' * 10), name='名单.xlsx')
    assert renamed.status_code == 422 and '不是有效的 .xlsx 文件' in renamed.get_json()['errors'][0]['message']
    zip_not_xlsx = BytesIO()
    import zipfile
    with zipfile.ZipFile(zip_not_xlsx, 'w') as zf:
        zf.writestr('a.txt', 'hello')
    assert post_api(client, data=BytesIO(zip_not_xlsx.getvalue())).status_code == 422
    xls = post_api(client, GOOD[:1], name='名单.xls')
    assert xls.status_code == 422 and '.xlsx' in xls.get_json()['message']
    missing = post_api(client, data=xlsx([('陈美玲', ADULT_ID)], header=['姓名', '身份证号']))
    assert missing.status_code == 422 and '缺少：手机号码' in missing.get_json()['message']
    empty = post_api(client, data=xlsx([], header=None))
    assert empty.status_code == 422 and '表格是空的' in empty.get_json()['message']
    header_only = post_api(client, [])
    assert header_only.status_code == 422 and '没有志愿者' in header_only.get_json()['message']
    big = post_api(client, data=BytesIO(b'PK' + b'\0' * (5 * 1024 * 1024)))
    assert big.status_code == 413 and '5 MB' in big.get_json()['message']
    html = post_page(login('team_a'), data=BytesIO(b'not a workbook'), name='名单.xlsx').get_data(as_text=True)
    assert '不是有效的 .xlsx 文件' in html


def test_more_than_2000_rows_is_refused(api):
    rows = [(f'志愿者{i}', ADULT_ID, f'139{i:08d}') for i in range(2001)]
    resp = post_api(api('team_a'), rows)
    assert resp.status_code == 422 and '一次最多导入 2000 人' in resp.get_json()['message']


@pytest.mark.parametrize('username, status', [('station_xinshi', 404), ('team_vet', 404), ('vol_li', 404),
                                              ('street_xicun', 404)])
def test_only_the_teams_admin_and_its_streets_station(login, api, username, status):
    before = users()
    assert login('team_a').get('/teams/team_a/volunteers').status_code == 200  # the team's own admin
    page = login(username)
    assert page.get('/teams/team_a/volunteers').status_code == status
    assert page.get('/teams/team_a/volunteers/template.xlsx').status_code == status
    assert post_page(page, GOOD[:1]).status_code == status
    assert post_api(api(username), GOOD[:1]).status_code == status
    assert api(username).get('/teams/team_a/volunteers').status_code == status
    assert users() == before


def test_station_of_the_street_manages_its_teams(login):
    station = login('station_xicun')
    assert station.get('/teams/team_vet/volunteers').status_code == 200
    index = station.get('/teams').get_data(as_text=True)
    assert '西村街长者关爱志愿服务队' in index and '西村街退役军人志愿服务队' in index
    assert login('team_a').get('/teams').headers['Location'].endswith('/teams/team_a/volunteers')
    assert '团队志愿者' in login('team_a').get('/teams/team_a/volunteers').get_data(as_text=True)
    assert login('station_xinshi').get('/teams/nosuch/volunteers').status_code == 404
    assert login('vol_li').get('/teams').status_code == 404


def test_new_volunteer_logs_in_changes_password_and_sees_xicun_orders(app, login, api):
    assert post_page(login('team_a'), GOOD[:1]).status_code == 200
    client = app.test_client()
    resp = client.post('/login', data={'username': '13912345601', 'password': ADULT_ID[-6:]})
    assert resp.status_code == 302 and '/password' in resp.headers['Location']
    assert '/password' in client.get('/m/orders/open').headers['Location']  # every page waits for the change
    short = client.post('/password', data={'password': 'abc', 'confirm': 'abc'})
    assert short.status_code == 422 and '至少 8 位' in short.get_data(as_text=True)
    assert client.post('/password', data={'password': 'abcd1234', 'confirm': 'abcd1235'}).status_code == 422
    assert client.post('/password', data={'password': 'abcd1234', 'confirm': 'abcd1234'}).status_code == 302
    assert not db.session.scalar(select(User.must_change_password).where(User.username == '13912345601'))
    db.session.remove()
    # an open V-order of xicun is on the new volunteer's list, as it is on vol_li's
    station = api('station_xicun')
    inst = publish(station, approved_object(api), title='陪长者散步')
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    mine = client.get('/m/orders/open').get_data(as_text=True)
    assert '陪长者散步' in mine
    assert '陪长者散步' in login('vol_li').get('/m/orders/open').get_data(as_text=True)
    fresh = app.test_client()
    assert fresh.post('/login', data={'username': '13912345601', 'password': 'abcd1234'}).headers['Location'] == '/'
