"""An account still on its initial password (an imported volunteer: the last 6 characters of the ID number, which
others may know) gets no API token until its owner has set a password on the web page."""
from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.conftest import PASSWORD


def test_no_token_before_the_initial_password_is_changed(app):
    user = db.session.scalar(select(User).where(User.username == 'vol_li'))
    user.must_change_password = True
    db.session.commit()
    client = app.test_client()
    resp = client.post('/api/v1/auth/token', json={'username': 'vol_li', 'password': PASSWORD})
    body = resp.get_json()
    assert resp.status_code == 403 and body['error'] == 'password_change_required' and '修改密码' in body['message'], body
    user.must_change_password = False
    db.session.commit()
    assert client.post('/api/v1/auth/token', json={'username': 'vol_li', 'password': PASSWORD}).status_code == 200
