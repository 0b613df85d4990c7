"""What an operator deploying this meets (operator walk): production refuses settings it cannot run with, each in
one line naming the variable; a health check for the load balancer; a reverse proxy's client address counted by the
login throttle when TRUSTED_PROXIES says so; a plain-HTTP intranet can turn secure cookies off; /logout typed or
bookmarked offers the 退出 button; and the tests never touch the database in DATABASE_URL."""
import os
import subprocess
import sys

import pytest
from sqlalchemy.exc import OperationalError

from app import create_app
from app.config import BASE_DIR, ConfigurationError

KEY = 'k' * 40


def _production(**env):
    clean = {k: v for k, v in os.environ.items() if k not in ('SECRET_KEY', 'DATABASE_URL', 'APP_CONFIG')}
    clean.update({'APP_CONFIG': 'production', **env})
    return subprocess.run([sys.executable, '-c', 'import wsgi'], cwd=BASE_DIR, env=clean, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize('env, says', [
    ({}, 'SECRET_KEY is not set'),
    ({'SECRET_KEY': 'short'}, 'SECRET_KEY is too short'),
    ({'SECRET_KEY': KEY}, 'DATABASE_URL is not set'),
    ({'SECRET_KEY': KEY, 'DATABASE_URL': 'sqlite:///x.db', 'APP_CONFIG': 'prod'}, "APP_CONFIG='prod' is unknown"),
])
def test_production_refuses_what_it_cannot_run_with_in_one_line(env, says):
    done = _production(**env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()], 'one line, no traceback'
    assert done.stderr.startswith('configuration error: ' + says), done.stderr


def test_production_starts_with_a_key_and_a_database(tmp_path):
    done = _production(SECRET_KEY=KEY, DATABASE_URL=f'sqlite:///{tmp_path}/prod.db')
    assert done.returncode == 0, done.stderr
    with pytest.raises(ConfigurationError):
        create_app('production', {'SECRET_KEY': 'short'})


def test_plain_http_intranet_may_turn_secure_cookies_off():
    code = 'from app.config import Production as P; print(P.SESSION_COOKIE_SECURE, P.REMEMBER_COOKIE_SECURE)'
    on = subprocess.run([sys.executable, '-c', code], cwd=BASE_DIR, capture_output=True, text=True,
                        env={**os.environ, 'COOKIE_SECURE': '1'})
    off = subprocess.run([sys.executable, '-c', code], cwd=BASE_DIR, capture_output=True, text=True,
                         env={**os.environ, 'COOKIE_SECURE': '0'})
    assert on.stdout.split() == ['True', 'True'] and off.stdout.split() == ['False', 'False']


def test_health_check_says_whether_the_database_answers(client, app, monkeypatch):
    assert client.get('/healthz').get_json() == {'status': 'ok', 'database': True}

    def broken(*args, **kwargs):
        raise OperationalError('SELECT 1', {}, Exception('connection refused'))
    from app.extensions import db
    monkeypatch.setattr(db.session, 'execute', broken)
    resp = client.get('/healthz')
    assert resp.status_code == 503 and resp.get_json()['database'] is False


def test_behind_a_trusted_proxy_the_throttle_counts_the_users_own_address():
    app = create_app('testing', {'TRUSTED_PROXIES': 1, 'RATELIMIT_ENABLED': True, 'RATELIMIT_LOGIN': '2 per minute',
                                 'SQLALCHEMY_DATABASE_URI': 'sqlite://'})  # its own database, not the suite's
    from app.extensions import db
    from app.services.demo import seed_demo
    with app.app_context():
        db.create_all()
        seed_demo('demo1234')
        client = app.test_client()
        for _ in range(3):  # one person's typos from 10.0.0.1 ...
            client.post('/login', data={'username': 'vol_li', 'password': 'wrong'},
                        headers={'X-Forwarded-For': '10.0.0.1'})
        blocked = client.post('/login', data={'username': 'vol_li', 'password': 'demo1234'},
                              headers={'X-Forwarded-For': '10.0.0.1'})
        other = client.post('/login', data={'username': 'vol_li', 'password': 'demo1234'},
                            headers={'X-Forwarded-For': '10.0.0.2'})
        assert blocked.status_code == 429
        assert other.status_code == 302, '... do not lock out the same account used from another address'
        db.session.remove()
        db.drop_all()


def test_a_typed_logout_address_offers_the_button(login, client):
    page = login('station_xicun').get('/logout')
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'action="/logout"' in html and '确定要退出吗' in html
    assert client.get('/logout').headers['Location'].endswith('/login')


def test_the_tests_ignore_database_url(monkeypatch):
    from tests.conftest import _database_url
    monkeypatch.setenv('DATABASE_URL', 'postgresql://example/production')
    monkeypatch.delenv('TEST_DATABASE_URL', raising=False)
    assert _database_url() == 'sqlite://'
    code = 'from app.config import Testing; print(Testing.SQLALCHEMY_DATABASE_URI)'
    env = {**os.environ, 'DATABASE_URL': 'postgresql://example/production'}
    env.pop('TEST_DATABASE_URL', None)
    done = subprocess.run([sys.executable, '-c', code], cwd=BASE_DIR, env=env, capture_output=True, text=True)
    assert done.stdout.strip() == 'sqlite://', done.stderr
