"""Fixtures: one app per session on DATABASE_URL (PostgreSQL in CI) or in-memory SQLite; a clean,
freshly seeded database for every test; helpers to log in through the pages and the API."""
import os

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.services.demo import seed_demo

PASSWORD = 'demo1234'


def _database_url():
    """TEST_DATABASE_URL only, never DATABASE_URL: every table of this database is dropped."""
    return os.environ.get('TEST_DATABASE_URL') or 'sqlite://'


class FreshUserClient(FlaskClient):
    """fresh_db keeps one app context pushed for the whole test, so every request would share `g`, where
    Flask-Login caches current_user, Flask-Babel the locale and the API its bearer user: the last request would
    act for the next one. Start every request with an empty `g`, as a real server (one app context per request) does."""

    def open(self, *args, **kwargs):
        vars(g).clear()
        return super().open(*args, **kwargs)


@pytest.fixture(scope='session')
def app():
    url = _database_url()
    if url.startswith('postgresql://'):
        url = 'postgresql+psycopg://' + url[len('postgresql://'):]
    application = create_app('testing', {'SQLALCHEMY_DATABASE_URI': url})
    application.test_client_class = FreshUserClient
    with application.app_context():
        db.drop_all()
        db.create_all()
    yield application


def _reset():
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == 'postgresql':
        db.session.execute(text('TRUNCATE ' + ', '.join(tables) + ' RESTART IDENTITY CASCADE'))
    else:
        for t in tables:
            db.session.execute(text(f'DELETE FROM {t}'))
    db.session.commit()


@pytest.fixture(autouse=True)
def fresh_db(app, request):
    if 'workflows' in request.node.nodeid.split('/')[1:2]:
        yield
        return
    with app.app_context():
        _reset()
        seed_demo(PASSWORD)
        db.session.remove()
    ctx = app.app_context()
    ctx.push()
    yield
    db.session.remove()
    ctx.pop()


@pytest.fixture
def is_postgres(app):
    return db.engine.dialect.name == 'postgresql'


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(app):
    """login('station_xicun') -> a test client with a browser session for that user."""
    def _login(username):
        c = app.test_client()
        resp = c.post('/login', data={'username': username, 'password': PASSWORD})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
        return c
    return _login


@pytest.fixture
def api(app):
    """api('vol_zhang') -> an ApiClient that sends that user's bearer token."""
    def _api(username, lang=None):
        return ApiClient(app.test_client(), username, lang)
    return _api


class ApiClient:
    def __init__(self, client, username, lang=None):
        self.client = client
        headers = {'Accept-Language': lang} if lang else {}
        resp = client.post('/api/v1/auth/token', json={'username': username, 'password': PASSWORD}, headers=headers)
        assert resp.status_code == 200, resp.get_json()
        self.headers = {'Authorization': f'Bearer {resp.get_json()["token"]}', **headers}

    def get(self, url, **kw):
        return self.client.get('/api/v1' + url, headers=self.headers, **kw)

    def post(self, url, **kw):
        return self.client.post('/api/v1' + url, headers=self.headers, **kw)
