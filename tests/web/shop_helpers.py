"""Builders shared by the shop and relative-gift tests."""
from datetime import date, timedelta

from lxml import html as lxml_html
from sqlalchemy import select

from app.extensions import db
from app.models import Message, ShopItem, User
from app.services import ledger, shop, transaction
from app.services.demo import make_id
from app.services.instances import load_run, lock_instance, save_run
from tests.helpers import upload_png

PARENT_ID = make_id('440104', date(1940, 4, 2), 71)          # 86 on the test day: a parent of vol_zhang (1958) too
SPOUSE_ID = make_id('440104', date(1962, 1, 20), 72, female=True)
YOUNG_ID = make_id('440104', date(1980, 6, 1), 73)          # under 60


def elder_id(n: int) -> str:
    """A distinct checksum-valid ID number of someone over 60, for request number n."""
    return make_id('440105', date(1928 + n % 15, 1 + n % 12, 1 + n % 28), 200 + n)  # 15+ years older than vol_zhang


def born_on(day):
    """An ID number of someone born on `day` (the 29th of February falls back to the 28th)."""
    try:
        return make_id('440104', day, 91)
    except ValueError:
        return make_id('440104', day - timedelta(days=1), 91)


def years_ago(years, plus_days=0):
    today = shop.today()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # today is the 29th of February
        day = today.replace(year=today.year - years, day=28)
    return day + timedelta(days=plus_days)


def user(username) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def item(name) -> ShopItem:
    return db.session.scalar(select(ShopItem).where(ShopItem.name == name))


BATH = '上门助浴服务（1 次）'          # elderly care, 30 elderly time points, liwan, stock 20
CLEAN = '居家助洁服务（2 小时）'        # elderly care, 15 points, stock 30
RICE = '长者爱心米油礼包'              # goods, 20 service points


def award(username, amount, point_type='elderly_time', key=None):
    """Give a volunteer points through the ledger (the tests start from empty accounts)."""
    with transaction():
        ledger.award(user(username), amount, key=key or f'test:{username}:{point_type}:{amount}',
                     point_type=point_type, reason='测试积分')
    db.session.remove()


def set_stock(name, stock):
    with transaction():
        row = item(name)
        row.stock = stock
    db.session.remove()


def gift_data(file_ids, item_name=BATH, **overrides) -> dict:
    data = {'item_id': item(item_name).id, 'relative_name': '李大爷', 'relation': 'parent',
            'relative_phone': '13800138071', 'relative_id_number': PARENT_ID, 'kinship_files': list(file_ids)}
    data.update(overrides)
    return data


def start_gift(api_client, item_name=BATH, **overrides):
    if 'kinship_files' not in overrides:
        overrides['kinship_files'] = [upload_png(api_client, 'hukou.png')]
    return api_client.post('/processes/relative_gift/instances', json={'data': gift_data([], item_name, **overrides)})


def started_gift(api_client, item_name=BATH, **overrides) -> dict:
    resp = start_gift(api_client, item_name, **overrides)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()['instance']


def points(api_client, point_type='elderly_time') -> tuple[int, int, int]:
    s = api_client.get(f'/me/points?point_type={point_type}').get_json()
    return s['balance'], s['held'], s['available']


def shop_item(api_client, name) -> dict:
    return next(i for i in api_client.get('/shop/items').get_json() if i['name'] == name)


def review_task(api_client, instance_id):
    items = api_client.get('/tasks?state=open&process=relative_gift').get_json()['items']
    return next((t for t in items if t['instance_id'] == instance_id), None)


def move_clock(instance_id, delta: timedelta) -> None:
    """Bring every waiting timer of the instance `delta` closer, as if that much time had passed."""
    with transaction():
        instance = lock_instance(instance_id)
        run = load_run(instance)
        run.advance_clock(delta)
        save_run(instance, run)
    db.session.remove()


def district_bureau(username, district):
    """Another district's civil affairs bureau (the demo data has only 荔湾区's)."""
    from app.models import Membership, OrgUnit
    from app.services.auth import hash_password
    from tests.conftest import PASSWORD
    with transaction():
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == district))
        db.session.add(User(username=username, display_name=f'{unit.name}民政局', password_hash=hash_password(PASSWORD),
                            memberships=[Membership(role='district_admin', org_unit=unit)]))
    db.session.remove()


def doc(resp):
    """A page of the test client as an lxml tree."""
    return lxml_html.fromstring(resp.get_data(as_text=True))


def text_of(node) -> str:
    return ' '.join(node.text_content().split())


def messages_of(username, kind=None) -> list[Message]:
    """The user's messages (of one kind), oldest first, read afresh."""
    db.session.expire_all()
    where = [Message.user_id == user(username).id] + ([Message.kind == kind] if kind else [])
    return list(db.session.scalars(select(Message).where(*where).order_by(Message.id)))


def available(username='vol_zhang') -> int:
    """The user's available elderly time points, read afresh."""
    db.session.expire_all()
    return ledger.statement(user(username), point_type='elderly_time')['available']
