"""`flask demo-cases`: a newcomer's inboxes and lists have something in them, made through the real services, once;
never in production."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import ServiceObject


def _open(api, username):
    return api(username).get('/tasks?state=open').get_json()['total']


def test_demo_cases_fill_the_inboxes_once(app, api):
    runner = app.test_cli_runner()
    result = runner.invoke(args=['demo-cases'])
    assert result.exit_code == 0 and 'added 6 service-object entries and 2 V-orders' in result.output, result.output
    assert _open(api, 'station_xicun') == 3      # two entries and an order's publish review
    assert _open(api, 'street_xicun') == 1       # an entry the station approved
    assert _open(api, 'street_shipai') == 0
    assert api('station_xicun').get('/service-objects?view=approved').get_json()['total'] == 2
    mine = api('vol_zhang').get('/instances?mine=1').get_json()
    assert mine['total'] == 6
    again = runner.invoke(args=['demo-cases'])
    assert again.exit_code == 0 and 'nothing added' in again.output
    assert db.session.scalar(select(func.count()).select_from(ServiceObject)) == 6, 'the second run made nothing'


def test_demo_cases_are_refused_in_production(app, monkeypatch):
    monkeypatch.setitem(app.config, 'IS_PRODUCTION', True)
    result = app.test_cli_runner().invoke(args=['demo-cases'])
    assert result.exit_code == 1 and 'refused in production' in result.output
