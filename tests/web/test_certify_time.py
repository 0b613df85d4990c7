"""Points are never awarded for time not yet served: a certification may not claim more hours than have passed
since the service started."""
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import VOrder
from app.models.base import utcnow
from tests.web.test_v_order_lifecycle import complete, open_task
from tests.web.test_v_order_rules import RATINGS, certification, staffed_order


def test_a_certification_cannot_claim_hours_not_yet_served(api, row_counts):
    inst = staffed_order(api)
    publisher, station = api('vol_zhang'), api('station_xicun')
    order = db.session.scalar(select(VOrder).where(VOrder.instance_id == inst['id']))
    order.start_at, order.end_at = utcnow() - timedelta(minutes=150), utcnow() - timedelta(minutes=1)
    db.session.commit()
    complete(publisher, open_task(publisher, inst['id']), data=RATINGS)  # the service has ended: may be rated
    # the station then certifies for a service that (by its recorded times) began 90 minutes ago
    order.start_at, order.end_at = utcnow() - timedelta(minutes=90), utcnow() + timedelta(minutes=30)
    db.session.commit()
    task = open_task(station, inst['id'])
    before = row_counts()
    early = station.post(f'/tasks/{task["id"]}/complete', json={'data': certification(station, service_hours=2.5)})
    assert early.status_code == 422
    assert early.get_json()['errors']['service_hours'] == ['服务开始至今只有 1.5 小时，不能认证尚未服务的时长']
    assert row_counts() == before, 'nothing stored'
    ok = station.post(f'/tasks/{task["id"]}/complete', json={'data': certification(station, service_hours=1.5)})
    assert ok.status_code == 200, ok.get_json()
    submitted = select(func.count()).select_from(VOrder).where(VOrder.status == 'certifying')
    assert db.session.scalar(submitted) == 1, 'submitted: waiting for the association'
