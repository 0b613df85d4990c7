"""Demo data of API.md: geography, stations, users, memberships, baseline diagrams."""
import json
import os
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Membership, OrgUnit, ShopItem, User, WorkflowVersion
from app.services import ledger, transaction
from app.services.auth import hash_password
from app.services.instances import deploy
from app.services.validators import id_check_digit

DISTRICTS = [('liwan', '荔湾区'), ('yuexiu', '越秀区'), ('haizhu', '海珠区'), ('tianhe', '天河区'),
             ('baiyun', '白云区'), ('huangpu', '黄埔区'), ('panyu', '番禺区'), ('huadu', '花都区'),
             ('nansha', '南沙区'), ('conghua', '从化区'), ('zengcheng', '增城区')]
STREETS = [('xicun', '西村街', 'liwan'), ('fengyuan', '逢源街', 'liwan'), ('beijing', '北京街', 'yuexiu'),
           ('xinshi', '新市街', 'baiyun'), ('shipai', '石牌街', 'tianhe')]


def make_id(region: str, born: date, seq: int, female=False) -> str:
    """A checksum-valid resident ID number for demo people."""
    order = seq * 2 + (0 if female else 1)
    body = f'{region}{born:%Y%m%d}{order:03d}'
    return body + id_check_digit(body)


def _unit(code, name, kind, parent=None, **kw) -> OrgUnit:
    unit = OrgUnit(code=code, name=name, kind=kind, parent=parent,
                   path=(parent.path if parent else '/') + code + '/', **kw)
    db.session.add(unit)
    return unit


def _geography() -> dict[str, OrgUnit]:
    units = {'gz': _unit('gz', '广州市', 'city')}
    for code, name in DISTRICTS:
        units[code] = _unit(code, name, 'district', units['gz'])
    for code, name, district in STREETS:
        units[code] = _unit(code, name, 'street', units[district])
        units[f'{code}_station'] = _unit(f'{code}_station', f'{name}社工站', 'station', units[code])
    units['provider_a'] = _unit('provider_a', '颐康居家养老服务中心', 'provider', units['liwan'])
    units['team_a'] = _unit('team_a', '西村街长者关爱志愿服务队', 'team', units['xicun'])
    units['team_vet'] = _unit('team_vet', '西村街退役军人志愿服务队', 'team', units['xicun'], is_veterans=True)
    return units


USERS = [
    ('admin', '流程管理员', [('process_admin', 'gz')]),
    ('gzva', '广州市志愿者协会', [('association_admin', 'gz')]),
    ('veterans', '广州市退役军人事务局', [('veterans_admin', 'gz')]),
    ('district_liwan', '荔湾区民政局', [('district_admin', 'liwan')]),
    ('station_xicun', '西村街社工站', [('station_admin', 'xicun_station')]),
    ('station_xinshi', '新市街社工站', [('station_admin', 'xinshi_station')]),
    ('station_shipai', '石牌街社工站', [('station_admin', 'shipai_station')]),
    ('street_xicun', '西村街道办', [('street_admin', 'xicun')]),
    ('street_xinshi', '新市街道办', [('street_admin', 'xinshi')]),
    ('street_shipai', '石牌街道办', [('street_admin', 'shipai')]),
    ('provider_a', '颐康居家养老服务中心', [('provider_admin', 'provider_a')]),
    ('team_a', '长者关爱服务队管理员', [('team_admin', 'team_a')]),
    ('team_vet', '退役军人服务队管理员', [('team_admin', 'team_vet')]),
]
VOLUNTEERS = [('vol_zhang', '张建国', date(1958, 3, 12), 'xicun', None),
              ('vol_li', '李晓敏', date(1996, 7, 8), 'xicun', None),  # also serves with provider_a
              ('vol_wang', '王小明', date(2010, 9, 1), 'xicun',
               {'name': '王大伟', 'relation': '父子', 'id_number': make_id('440103', date(1982, 5, 4), 21),
                'phone': '13800138021'})]


# (name, section, price, point type, stock, district, provider, status, description)
SHOP_ITEMS = [
    ('上门助浴服务（1 次）', 'elderly_care', 30, 'elderly_time', 20, 'liwan', '颐康居家养老服务中心', 'approved',
     '专业助浴员上门，含安全评估与助浴用品'),
    ('居家助洁服务（2 小时）', 'elderly_care', 15, 'elderly_time', 30, 'liwan', '颐康居家养老服务中心', 'approved',
     '家居清洁、整理与安全隐患排查'),
    ('长者爱心米油礼包', 'goods', 20, 'service', 50, 'liwan', '西村街社工站', 'approved', '大米 5 kg、花生油 1 瓶'),
    ('长者饭堂餐券（10 张）', 'other', 12, 'elderly_time', 40, 'liwan', '西村街长者饭堂', 'approved', '荔湾区长者饭堂通用'),
    ('关爱独居长者项目', 'charity', 0, 'elderly_time', 0, 'liwan', '广州市志愿者协会', 'approved',
     '为独居长者购买上门探访与紧急呼叫服务'),
    ('康复理疗体验（1 次）', 'elderly_care', 40, 'elderly_time', 10, 'liwan', '颐康居家养老服务中心', 'pending',
     '康复师评估并做一次理疗'),
    ('老年智能手机课程', 'other', 10, 'service', 25, 'liwan', '逢源街社工站', 'pending', '4 节课，教长者使用健康码与视频通话'),
    ('北京街长者助餐（5 次）', 'elderly_care', 10, 'elderly_time', 30, 'yuexiu', '北京街社工站', 'approved', '送餐上门'),
    ('越秀区长者体检套餐', 'elderly_care', 50, 'elderly_time', 5, 'yuexiu', '越秀区社区卫生服务中心', 'pending',
     '血常规、心电图与健康评估'),
]
# demo volunteers' opening points: (username, point type, amount)
DEMO_POINTS = [('vol_zhang', 'elderly_time', 200), ('vol_zhang', 'service', 100), ('vol_li', 'elderly_time', 60),
               ('vol_li', 'service', 80), ('vol_wang', 'service', 10)]


def _shop_items(units) -> None:
    for name, section, price, kind, stock, district, provider, status, desc in SHOP_ITEMS:
        db.session.add(ShopItem(name=name, section=section, price=price, point_type=kind, stock=stock, reserved=0,
                                district=units[district], provider_name=provider, status=status, description=desc))


def seed_points() -> None:
    """Opening points of the demo volunteers, awarded through the ledger once (demo idempotency keys)."""
    with transaction():
        for username, kind, amount in DEMO_POINTS:
            user = db.session.scalar(select(User).where(User.username == username))
            ledger.award(user, amount, key=f'demo:award:{username}:{kind}', point_type=kind,
                         reason=_l('演示数据：期初积分'), business_ref='demo')


def seed_demo(password: str | None = None, points: bool | None = None) -> str:
    """Create the demo data on an empty database; returns the shared password.

    `points` (default: not when testing, so tests start from empty accounts) also awards the demo
    volunteers' opening points."""
    if points is None:
        points = not current_app.testing
    if current_app.config.get('IS_PRODUCTION'):
        raise RuntimeError('demo seeding is refused in production')
    password = password or current_app.config['DEMO_PASSWORD']
    with transaction():
        if db.session.scalar(select(User).limit(1)) is not None:
            return password
        units = _geography()
        hashed = hash_password(password)
        for i, (username, name, roles) in enumerate(USERS):
            user = User(username=username, display_name=name, password_hash=hashed, phone=f'139{i:08d}')
            user.memberships = [Membership(role=r, org_unit=units[u]) for r, u in roles]
            db.session.add(user)
        for i, (username, name, born, street, guardian) in enumerate(VOLUNTEERS):
            db.session.add(User(username=username, display_name=name, password_hash=hashed,
                                id_number=make_id('440103', born, 10 + i), phone=f'1370000{i:04d}',
                                home_unit=units[street],
                                guardian_json=json.dumps(guardian, ensure_ascii=False) if guardian else None,
                                memberships=[Membership(role='volunteer', org_unit=units[street])]
                                + ([Membership(role='volunteer', org_unit=units['provider_a'])] if username == 'vol_li' else [])))
        _shop_items(units)
        deploy_baseline()
        if points:
            seed_points()
    return password


def deploy_baseline() -> list[WorkflowVersion]:
    """Publish every bpmn/<key>.bpmn that has no version yet."""
    created = []
    with transaction():
        bpmn_dir = current_app.config['BPMN_DIR']
        for name in sorted(os.listdir(bpmn_dir)):
            key = name[:-5]
            if not name.endswith('.bpmn') or db.session.scalar(
                    select(WorkflowVersion.id).where(WorkflowVersion.process_key == key).limit(1)):
                continue
            with open(os.path.join(bpmn_dir, name), 'rb') as fh:
                created.append(deploy(key, fh.read()))
    return created
