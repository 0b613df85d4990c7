"""`flask demo-cases`: a few cases in every state on top of the demo data, made through the real services (the same
checks, history, messages and audit as a user's clicks), so that a newcomer's inboxes, lists and 统计 are not empty.
Not part of `flask demo-seed` (whose data other checks rely on) and refused in production."""
import struct
import zlib
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ServiceObject, User
from app.models.base import utcnow
from app.services import activity_signups, files, tasks
from app.services.activities import latest
from app.services.demo import make_id

MARK = '（示例）'  # every demo case's elder carries it, so a second run can tell they are there

# name, born, female, household street, residence street, what happens to the entry
ELDERS = [('陈伯', date(1944, 5, 2), False, 'xicun', 'xicun', 'station'),
          ('李阿婆', date(1939, 9, 18), True, 'xicun', 'xinshi', 'station'),
          ('王奶奶', date(1950, 1, 27), True, 'xicun', 'xicun', 'street'),
          ('黄伯', date(1947, 11, 3), False, 'xicun', 'xicun', 'rejected'),
          ('周奶奶', date(1942, 6, 30), True, 'xicun', 'xicun', 'approved'),
          ('吴伯', date(1945, 3, 14), False, 'xicun', 'fengyuan', 'approved')]


def png(width=2, height=2) -> bytes:
    """A real (tiny) PNG image: the proof photo of a demo case."""
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
    raw = b''.join(b'\x00' + b'\xff\x00\x00' * width for _ in range(height))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))


def _user(username) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise RuntimeError('run `flask demo-seed` first: the demo users are missing')
    return user


def _open_task(instance_id) -> HumanTask:
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == 'open')
                             .order_by(HumanTask.id))


def _demo_ids() -> list[str]:
    """The demo elders' ID numbers: a second run finds them (a name takes no “（示例）”: names are letters only)."""
    return [make_id('440103', born, 400 + i, female) for i, (_n, born, female, *_rest) in enumerate(ELDERS)]


def _entry(volunteer, i, name, born, female, household, residence) -> int:
    proof = files.upload(volunteer, '证明材料.png', png())
    id_number = make_id('440103', born, 400 + i, female)
    data = {'name': name, 'notes': '示例数据', 'phone': f'1380013{8000 + i:04d}', 'category': 'elderly', 'id_number': id_number,
            'political_status': 'masses',
            'living_status': 'alone', 'household_street': household, 'household_address': '荔湾区西村街环市西路 1 号',
            'community': '西村社区', 'residence_street': residence, 'residence_address': '西村街西湾路 8 号',
            'proof_files': [proof.id], 'filler_name': volunteer.display_name, 'filler_phone': '13700000000'}
    return tasks.start_instance(volunteer, 'service_object_entry', data).id


def _decide(username, instance_id, decision='approve', reason=None, data=None) -> None:
    tasks.complete_task(_user(username), _open_task(instance_id).id, decision=decision, reason=reason, data=data)


def _order(station, objects, title, start: datetime, review: bool) -> int:
    data = {'title': title, 'demand_type': 'others', 'service_object_ids': objects, 'category': 'general',
            'service_item': 'escort', 'street': 'xicun', 'location': {'lat': 23.13, 'lng': 113.25},
            'address': '荔湾区西村街环市西路 1 号', 'start_at': start.isoformat(),
            'end_at': (start + timedelta(hours=3)).isoformat(), 'volunteers_needed': 1,
            'needs': '陪同到医院复诊，协助挂号取药'}
    instance_id = tasks.start_instance(station, 'v_order', data).id
    if review:
        _decide('station_xicun', instance_id, data={'dispatch_mode': 'open'})
    return instance_id


def _activity_with_signup(start: datetime) -> None:
    """A team_a activity 广志协 approved and published, with one sign-up by vol_li waiting in team_a's inbox."""
    local = start + timedelta(hours=8)  # Beijing wall-clock time for the form
    data = {'title': '重阳节敬老探访' + MARK, 'service_field': 'elderly_care', 'tags': ['elderly'], 'street': 'xicun',
            'place': '西村街长者饭堂', 'start_at': local.strftime('%Y-%m-%dT%H:%M'),
            'end_at': (local + timedelta(hours=3)).strftime('%Y-%m-%dT%H:%M'), 'recruit_count': 10,
            'description': '陪伴社区长者聊天、量血压。'}
    instance_id = tasks.start_instance(_user('team_a'), 'activity_publish', data).id
    _decide('gzva', instance_id)
    activity_signups.sign_up(_user('vol_li'), latest(instance_id).id, {'phone': _user('vol_li').phone,
                                                                     'note': '有照顾长者的经验'})


def make_demo_cases() -> dict[str, int]:
    """Entries waiting for the station and for the street, one returned with a reason, two in the library; a
    V-order waiting for its publish review and one open to volunteers; a published activity with a sign-up waiting
    for team_a. Returns what was made ({} when the demo
    cases are there already)."""
    if current_app.config.get('IS_PRODUCTION'):
        raise RuntimeError('demo cases are refused in production')
    if db.session.scalar(select(ServiceObject.id).where(ServiceObject.id_number.in_(_demo_ids())).limit(1)) is not None:
        return {}
    volunteer = _user('vol_zhang')
    made = {'entries': 0, 'orders': 0}
    library = []
    for i, (name, born, female, household, residence, fate) in enumerate(ELDERS):
        instance_id = _entry(volunteer, i, name, born, female, household, residence)
        made['entries'] += 1
        if fate == 'rejected':
            _decide('station_xicun', instance_id, 'reject', '证明材料照片不清晰，请重新拍摄上传')
        elif fate in ('street', 'approved'):
            _decide('station_xicun', instance_id)
            if fate == 'approved':
                _decide('street_xicun', instance_id)
                library.append(db.session.scalar(select(ServiceObject.id).where(
                    ServiceObject.instance_id == instance_id, ServiceObject.status == 'approved')))
    station = _user('station_xicun')
    tomorrow = (utcnow() + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)  # 09:00 Beijing
    _order(station, library[:1], '陪周奶奶复诊' + MARK, tomorrow, review=False)
    _order(station, library[1:], '陪吴伯散步' + MARK, tomorrow + timedelta(days=1), review=True)
    made['orders'] = 2
    _activity_with_signup(tomorrow + timedelta(days=6))
    made['signups'] = 1
    return made
