"""Login rate limiting and token expiry, as an attacker or a forgetful user would meet them."""
from datetime import timedelta

import pytest

from app import create_app
from app.extensions import db, limiter
from app.models import ApiToken
from app.models.base import utcnow
from app.services.demo import seed_demo


@pytest.fixture
def other_app(app):
    """A second app on the same database URL with its own settings; the shared limiter is restored after."""
    made = []

    def make(**overrides):
        new = create_app('testing', {'SQLALCHEMY_DATABASE_URI': app.config['SQLALCHEMY_DATABASE_URI'], **overrides})
        with new.app_context():
            db.create_all()
            seed_demo('demo1234')
        made.append(new)
        return new
    yield make
    limiter.enabled = False


def test_repeated_failed_logins_are_throttled(other_app):
    limited = other_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN='3 per minute')
    client = limited.test_client()
    codes = [client.post('/api/v1/auth/token', json={'username': 'gzva', 'password': 'wrong'}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    page = limited.test_client()
    codes = [page.post('/login', data={'username': 'gzva', 'password': 'wrong'}).status_code for _ in range(4)]
    assert codes[-1] == 429


def test_successful_logins_from_one_address_are_not_throttled(other_app):
    """Volunteers signing in one after another at a station share its address: only failures count."""
    limited = other_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN='3 per minute')
    codes = [limited.test_client().post('/login', data={'username': name, 'password': 'demo1234'}).status_code
             for name in ('vol_zhang', 'vol_li', 'vol_wang', 'station_xicun', 'gzva', 'vol_zhang')]
    assert codes == [302] * 6
    tokens = [limited.test_client().post('/api/v1/auth/token', json={'username': 'gzva', 'password': 'demo1234'})
              .status_code for _ in range(5)]
    assert tokens == [200] * 5


def test_unknown_user_and_wrong_password_get_the_same_answer(client):
    a = client.post('/api/v1/auth/token', json={'username': 'nobody', 'password': 'x'})
    b = client.post('/api/v1/auth/token', json={'username': 'gzva', 'password': 'x'})
    assert a.status_code == b.status_code == 401
    assert a.get_json() == b.get_json()


def test_expired_token_is_refused(api):
    gzva = api('gzva')
    assert gzva.get('/me').status_code == 200
    for token in db.session.scalars(db.select(ApiToken)):
        token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    resp = gzva.get('/me')
    assert resp.status_code == 401 and resp.get_json()['error'] == 'token_expired'  # get a new token, not a garbage one


def test_pages_need_login_and_csrf_protects_forms(other_app, client):
    assert client.get('/inbox').status_code == 302
    protected = other_app(WTF_CSRF_ENABLED=True)
    resp = protected.test_client().post('/login', data={'username': 'gzva', 'password': 'demo1234'})
    assert resp.status_code == 400


def test_sign_in_works_and_failures_are_throttled_while_redis_is_down(other_app):
    """The throttle's Redis unreachable (nothing listens on the port): sign-in still works, failed attempts are
    counted in memory instead."""
    down = other_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN='3 per minute',
                     RATELIMIT_STORAGE_URI='redis://127.0.0.1:6390/0')
    page = down.test_client()
    assert page.post('/login', data={'username': 'gzva', 'password': 'demo1234'}).status_code == 302
    assert down.test_client().post('/api/v1/auth/token',
                                   json={'username': 'gzva', 'password': 'demo1234'}).status_code == 200
    codes = [page.post('/login', data={'username': 'station_xicun', 'password': 'wrong'}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert '秒后再试' in page.post('/login', data={'username': 'station_xicun', 'password': 'wrong'}).get_data(as_text=True)
    api = down.test_client()
    codes = [api.post('/api/v1/auth/token', json={'username': 'gzva', 'password': 'wrong'}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]
