"""A street created without its 社工站 (flask create-unit newstreet 新街 --kind street, no newstreet_station) cannot be
chosen on the forms whose first review is that street's station (服务对象录入, 发布V订单): their pickers leave it out and
the server refuses it at the field, through the pages and the API, with nothing stored and the rest of the typed
input kept. Without the refusal the case's 社工站初审 would get the city as its scope and wait where no reviewer sees
it. Once the station exists (also when another process created it: within ORG_CACHE_SECONDS) the street is offered."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import OrgUnit, VOrder
from app.services import accounts, org_cache
from tests.helpers import start_entry
from tests.web.conftest import open_task, page_form, png_upload
from tests.web.test_v_order_lifecycle import order_data

REFUSED = '新街尚未开通社工站，暂不能选择；请联系管理员'


def _new_street():
    accounts.create_unit('newstreet', '新街', 'street', 'liwan')


def _offered(html: str) -> bool:
    return 'value="newstreet"' in html


def test_the_entry_form_leaves_out_a_street_without_station_and_the_api_refuses_it(api, row_counts):
    _new_street()
    vol = api('vol_zhang')
    before = row_counts()
    resp = start_entry(vol, household_street='newstreet')
    assert resp.status_code == 422
    assert resp.get_json()['errors']['household_street'] == [REFUSED]
    resp = start_entry(vol, residence_street='newstreet')
    assert resp.status_code == 422 and resp.get_json()['errors']['residence_street'] == [REFUSED]
    assert row_counts() == before, 'nothing stored'
    # a street that does not exist at all is still an unknown one
    resp = start_entry(vol, residence_street='nowhere')
    assert resp.get_json()['errors']['residence_street'] == ['未知的街道代码']

    accounts.create_unit('newstreet_station', '新街社工站', 'station', 'newstreet')
    resp = start_entry(vol, household_street='newstreet', residence_street='newstreet')
    assert resp.status_code == 201, resp.get_json()
    task = resp.get_json()['instance']['open_tasks'][0]
    assert task['scope'] == ['newstreet_station'], 'the first review reaches the new station, not the whole city'


def test_the_phone_form_says_why_at_the_street_and_keeps_what_was_typed(login, row_counts):
    _new_street()
    page = login('vol_zhang')
    form = page.get('/m/service-objects/new').get_data(as_text=True)
    assert not _offered(form) and 'value="xicun"' in form
    before = row_counts()
    data = {**page_form(name='周奶奶', household_street='newstreet'), 'proof_files_new': [png_upload()]}
    resp = page.post('/m/service-objects/new', data=data, content_type='multipart/form-data')
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    field = html.split('id="field-household_street"')[1].split('id="field-')[0]
    assert REFUSED in field, 'said at the street it is about'
    assert 'value="周奶奶"' in html and '荔湾区西村街环市西路 1 号' in html, 'the typed input is kept'
    assert row_counts() == before

    accounts.create_unit('newstreet_station', '新街社工站', 'station', 'newstreet')
    assert _offered(page.get('/m/service-objects/new').get_data(as_text=True))


def test_the_order_form_leaves_out_a_street_without_station(api, login):
    """vol_li also serves with provider_a (荔湾区): every street of the district is in her area."""
    _new_street()
    page = login('vol_li')
    assert 'value="fengyuan"' in page.get('/m/orders/new').get_data(as_text=True)
    assert not _offered(page.get('/m/orders/new').get_data(as_text=True))
    so = _approved_object(api)
    resp = api('vol_li').post('/processes/v_order/instances', json={'data': order_data([so], street='newstreet')})
    assert resp.status_code == 422 and resp.get_json()['errors']['street'] == [REFUSED]
    assert db.session.scalar(select(func.count()).select_from(VOrder)) == 0, 'nothing stored'

    accounts.create_unit('newstreet_station', '新街社工站', 'station', 'newstreet')
    assert _offered(page.get('/m/orders/new').get_data(as_text=True))
    resp = api('vol_li').post('/processes/v_order/instances', json={'data': order_data([so], street='newstreet')})
    assert resp.status_code == 201, resp.get_json()
    assert open_task(api('station_xicun'), resp.get_json()['instance']['id']) is None
    assert resp.get_json()['instance']['open_tasks'][0]['scope'] == ['newstreet_station']


def test_a_station_created_by_another_process_opens_its_street_within_the_cache_time(app, login, monkeypatch):
    """`flask create-unit newstreet_station …` runs in its own process: the running server hears of it when its copy of
    the tree is read again (ORG_CACHE_SECONDS), and offers the street from then on."""
    _new_street()
    page = login('vol_zhang')
    assert not _offered(page.get('/m/service-objects/new').get_data(as_text=True))
    street = db.session.scalar(select(OrgUnit).where(OrgUnit.code == 'newstreet'))
    db.session.execute(OrgUnit.__table__.insert().values(code='newstreet_station', name='新街社工站', kind='station',
                                                         parent_id=street.id, path=street.path + 'newstreet_station/'))
    db.session.commit()  # a plain insert: no ORM event here, as when another process wrote it
    assert not _offered(page.get('/m/service-objects/new').get_data(as_text=True))
    later = org_cache.time.monotonic() + app.config.get('ORG_CACHE_SECONDS', 60) + 1
    monkeypatch.setattr(org_cache.time, 'monotonic', lambda: later)
    assert _offered(page.get('/m/service-objects/new').get_data(as_text=True))


def _approved_object(api) -> int:
    """An approved service object of 西村街 (in vol_li's area as well)."""
    from tests.web.test_v_order_lifecycle import approved_object
    return approved_object(api)
