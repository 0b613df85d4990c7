"""Security walk-through fixes: production refuses the public development key, logout and a password change end
every other session (remember cookies included, which also really expire), oversized images are refused, and
`next` cannot lead to another site."""
import os
import struct
import subprocess
import sys
import zlib
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import select

from app import create_app
from app.config import BASE_DIR, DEV_SECRET_KEY
from app.extensions import db
from app.models import User
from app.models.base import utcnow
from app.services import files
from tests.conftest import PASSWORD

NEW_PASSWORD = 'NewSecret#2026'


# --- 1. production and SECRET_KEY -------------------------------------------------------------------------------

def test_production_without_secret_key_refuses_to_start():
    env = {k: v for k, v in os.environ.items() if k != 'SECRET_KEY'}
    env.update(APP_CONFIG='production', DATABASE_URL='sqlite://')
    done = subprocess.run([sys.executable, '-c', 'from app import create_app; create_app()'], cwd=BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert 'SECRET_KEY' in done.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize('key', [DEV_SECRET_KEY, '', None])
def test_production_refuses_the_development_key(key):
    with pytest.raises(RuntimeError, match='SECRET_KEY'):
        create_app('production', {'SECRET_KEY': key, 'SQLALCHEMY_DATABASE_URI': 'sqlite://'})


def test_production_starts_with_its_own_key_and_testing_without_one():
    own = create_app('production', {'SECRET_KEY': 'a-long-random-production-key-0123456789',
                                    'SQLALCHEMY_DATABASE_URI': 'sqlite://'})
    assert own.config['SESSION_COOKIE_SECURE']
    assert create_app('testing', {'SQLALCHEMY_DATABASE_URI': 'sqlite://'}).config['SECRET_KEY'] == DEV_SECRET_KEY


# --- 2. revocable sessions ---------------------------------------------------------------------------------------

def _sign_in(app, username='vol_li', password=PASSWORD, remember=True):
    client = app.test_client()
    resp = client.post('/login', data={'username': username, 'password': password, **({'remember': '1'} if remember else {})})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client


def _replay(app, client, *names):
    """A new browser holding copies of these cookies of `client` (what an attacker copied)."""
    other = app.test_client()
    for name in names:
        other.set_cookie(name, client.get_cookie(name).value)
    return other


def _signed_in(client):
    resp = client.get('/m/')
    assert resp.status_code in (200, 302)
    return resp.status_code == 200


def test_logout_ends_copied_session_and_remember_cookie(app):
    owner = _sign_in(app)
    assert _signed_in(owner)
    copied_session = _replay(app, owner, 'session')
    copied_remember = _replay(app, owner, 'remember_token')
    elsewhere = _sign_in(app, remember=False)  # the same person on another computer
    assert _signed_in(copied_session) and _signed_in(copied_remember) and _signed_in(elsewhere)

    assert owner.post('/logout').status_code == 302
    assert not _signed_in(owner)
    assert not _signed_in(copied_session)
    assert not _signed_in(copied_remember)
    assert _signed_in(elsewhere), 'a colleague signed in to the shared account elsewhere stays signed in'
    assert _signed_in(_sign_in(app))  # signing in again works


def _imported(username='vol_li'):
    user = db.session.scalar(select(User).where(User.username == username))
    user.must_change_password = True
    db.session.commit()


def test_first_password_change_ends_every_other_session_and_api_token(app):
    token = app.test_client().post('/api/v1/auth/token', json={'username': 'vol_li', 'password': PASSWORD}).get_json()
    _imported()
    attacker = _sign_in(app)
    attacker_remember = _replay(app, attacker, 'remember_token')
    owner = _sign_in(app)
    resp = owner.post('/password', data={'password': NEW_PASSWORD, 'confirm': NEW_PASSWORD}, follow_redirects=True)
    assert resp.status_code == 200 and '密码已修改' in resp.get_data(as_text=True)

    assert _signed_in(owner)  # the browser that changed it stays signed in, remembered too
    assert _signed_in(_replay(app, owner, 'remember_token'))
    assert not _signed_in(attacker)
    assert not _signed_in(attacker_remember)
    api = app.test_client().get('/api/v1/me', headers={'Authorization': f'Bearer {token["token"]}'})
    assert api.status_code == 401
    assert _signed_in(_sign_in(app, password=NEW_PASSWORD))


def test_remember_cookie_expires_after_its_duration(app, monkeypatch):
    remembered = _replay(app, _sign_in(app), 'remember_token')
    assert _signed_in(remembered)
    days = app.config['REMEMBER_COOKIE_DURATION'].days
    soon = utcnow() + timedelta(days=days - 1)
    monkeypatch.setattr('app.services.auth._now', lambda: soon)
    assert _signed_in(_replay(app, remembered, 'remember_token'))  # still inside the stated days
    later = utcnow() + timedelta(days=days + 1)
    monkeypatch.setattr('app.services.auth._now', lambda: later)
    assert not _signed_in(_replay(app, remembered, 'remember_token'))


def test_old_style_session_id_is_not_accepted(app):
    from app.services.auth import end_sign_in, start_sign_in, user_for_session
    vol = db.session.scalar(select(User).where(User.username == 'vol_li'))
    other = db.session.scalar(select(User).where(User.username == 'vol_zhang'))
    assert user_for_session(str(vol.id), lambda i: vol) is None
    start_sign_in(vol)
    assert user_for_session(vol.get_id(), lambda i: vol) is vol
    assert user_for_session(f'{other.id}:{vol.login_session_id}', lambda i: other) is None, 'not another user\'s'
    end_sign_in(vol)
    assert user_for_session(vol.get_id(), lambda i: vol) is None


# --- 4. image dimensions -----------------------------------------------------------------------------------------

def _png(width, height):
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(b'\x00' * 1000)) + chunk(b'IEND', b''))


def _jpeg(width, height):
    app0 = b'\xff\xe0' + struct.pack('>H', 16) + b'JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00'
    sof = b'\xff\xc2' + struct.pack('>HBHHB', 17, 8, height, width, 3) + b'\x01\x22\x00\x02\x11\x01\x03\x11\x01'
    return b'\xff\xd8' + app0 + b'\x00\x00' + sof + b'\xff\xda' + b'\x00' * 20 + b'\xff\xd9'


def _gif(width, height, frame=(0, 0, 1, 1)):
    frame_block = b'\x2c' + struct.pack('<HHHHB', *frame, 0) + b'\x02\x02\x4c\x01\x00'
    extension = b'\x21\xf9\x04\x00\x00\x00\x00\x00'
    return b'GIF89a' + struct.pack('<HHBBB', width, height, 0x80, 0, 0) + b'\x00' * 6 + extension + frame_block + b';'


def _bmp(width, height):
    header = struct.pack('<IiiHHIIiiII', 40, width, height, 1, 24, 0, 0, 0, 0, 0, 0)
    return b'BM' + struct.pack('<IHHI', 14 + len(header) + 4, 0, 0, 54) + header + b'\x00' * 4


@pytest.mark.parametrize('build, kind', [(_png, 'png'), (_jpeg, 'jpeg'), (_gif, 'gif'), (_bmp, 'bmp')])
def test_dimensions_read_from_headers(build, kind):
    content = build(321, 123)
    assert files.sniff(content) == kind
    assert files.dimensions(kind, content) == (321, 123)


def test_gif_frame_beyond_the_screen_counts():
    assert files.dimensions('gif', _gif(10, 10, frame=(5, 5, 30000, 40))) == (30005, 45)


def test_bmp_top_down_height_and_unreadable_headers():
    assert files.dimensions('bmp', _bmp(50, -40)) == (50, 40)
    assert files.dimensions('png', b'\x89PNG\r\n\x1a\n') is None
    assert files.dimensions('jpeg', b'\xff\xd8\xff\xe0\x00') is None


def _upload(api_client, content, name):
    return api_client.post('/files', data={'file': (BytesIO(content), name)}, content_type='multipart/form-data')


@pytest.mark.parametrize('content, name', [(_png(20000, 20000), 'bomb.png'), (_jpeg(9000, 9000), 'bomb.jpg'),
                                           (_gif(30000, 2), 'strip.gif'), (_bmp(8000, 8000), 'bomb.bmp')])
def test_oversized_image_upload_is_refused_with_its_size(api, content, name):
    resp = _upload(api('vol_li'), content, name)
    assert resp.status_code == 422, resp.get_json()
    message = resp.get_json()['errors']['file'][0]
    assert message.startswith('图片尺寸过大') and name in message and '5000 万像素' in message


def test_phone_camera_sized_image_is_accepted(api):
    resp = _upload(api('vol_li'), _png(8160, 6120), 'camera.png')
    assert resp.status_code == 201, resp.get_json()


# --- 5. `next` after login ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('target', ['/%09/evil.com', '/%0d%0a/evil.com', '/%5Cevil.com', '/%5C%5Cevil.com',
                                    '/%09%09//evil.com', 'https:evil.com', '//evil.com'])
def test_login_next_cannot_leave_the_site(client, target):
    resp = client.post(f'/login?next={target}', data={'username': 'vol_li', 'password': PASSWORD})
    assert resp.status_code == 302
    location = resp.headers['Location']
    assert 'evil' not in location and not location.startswith('//'), location


def test_login_next_on_this_site_is_kept(client):
    resp = client.post('/login?next=/m/cases%3Fpage%3D2', data={'username': 'vol_li', 'password': PASSWORD})
    assert resp.headers['Location'] == '/m/cases?page=2'
