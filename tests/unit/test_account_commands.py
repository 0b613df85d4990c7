"""Setting up a production site from the command line: org units, users and password resets, as an operator types
them and as the people they create then sign in."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiToken, AuditLog, Membership, OrgUnit, User


@pytest.fixture
def flask_cmd(app):
    runner = app.test_cli_runner()

    def run(*args, input=None):
        result = runner.invoke(args=list(args), input=input)
        db.session.expire_all()  # the command wrote through its own session
        return result
    return run


def _sign_in(client, username, password):
    return client.post('/login', data={'username': username, 'password': password})


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (OrgUnit, User, Membership, AuditLog))


def _refused(result, *words):
    """Exit status 1 and one line "Error: ..." naming the problem; no traceback."""
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('Error: '), result.output
    assert 'Traceback' not in result.output
    for word in words:
        assert word in lines[0], result.output


def test_a_new_station_and_its_account_can_sign_in_and_have_the_password_reset(flask_cmd, client, app):
    assert flask_cmd('create-unit', 'qiaonan_d', '测试区', '--kind', 'district', '--parent', 'gz').exit_code == 0
    assert flask_cmd('create-unit', 'qiaonan', '桥南街', '--kind', 'street', '--parent', 'qiaonan_d').exit_code == 0
    made = flask_cmd('create-unit', 'qiaonan_station', '桥南街社工站', '--kind', 'station', '--parent', 'qiaonan')
    assert made.exit_code == 0 and '/gz/qiaonan_d/qiaonan/qiaonan_station/' in made.output
    made = flask_cmd('create-user', 'station_qiaonan', '--name', '桥南街社工站', '--role', 'station_admin',
                     '--unit', 'qiaonan_station', input='first-pass-1\nfirst-pass-1\n')
    assert made.exit_code == 0, made.output
    assert 'first-pass-1' not in made.output  # typed hidden

    first = app.test_client()
    assert _sign_in(first, 'station_qiaonan', 'first-pass-1').status_code == 302
    assert first.get('/inbox').status_code == 200
    token = client.post('/api/v1/auth/token', json={'username': 'station_qiaonan', 'password': 'first-pass-1'})
    assert token.status_code == 200

    reset = flask_cmd('set-password', 'station_qiaonan', input='second-pass-2\nsecond-pass-2\n')
    assert reset.exit_code == 0, reset.output
    assert first.get('/inbox').status_code == 302  # the old sign-in ended
    assert client.get('/api/v1/me', headers={'Authorization': f'Bearer {token.get_json()["token"]}'}).status_code == 401
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    assert _sign_in(app.test_client(), 'station_qiaonan', 'first-pass-1').status_code == 200  # form again: refused
    assert _sign_in(app.test_client(), 'station_qiaonan', 'second-pass-2').status_code == 302

    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {'org_unit.create', 'user.create', 'user.set_password'} <= actions


def test_must_change_sends_the_user_to_the_password_page(flask_cmd, app):
    assert flask_cmd('set-password', 'station_xicun', '--password', 'temporary-9', '--must-change').exit_code == 0
    resp = _sign_in(app.test_client(), 'station_xicun', 'temporary-9')
    assert resp.status_code == 302 and '/password' in resp.headers['Location']


def test_an_existing_user_gets_the_extra_membership(flask_cmd):
    result = flask_cmd('create-user', 'station_xicun', '--role', 'street_admin', '--unit', 'xicun')
    assert result.exit_code == 0 and '已存在' in result.output, result.output
    user = db.session.scalar(select(User).where(User.username == 'station_xicun'))
    assert {(m.role, m.org_unit.code) for m in user.memberships} == {('station_admin', 'xicun_station'),
                                                                     ('street_admin', 'xicun')}
    again = flask_cmd('create-user', 'station_xicun', '--role', 'street_admin', '--unit', 'xicun')
    assert again.exit_code == 0 and '没有改动' in again.output


def test_bad_input_gets_one_line_and_changes_nothing(flask_cmd, app):
    before = _counts()
    _refused(flask_cmd('create-unit', 'x1', '某街', '--kind', 'street', '--parent', 'nowhere'), 'nowhere')
    _refused(flask_cmd('create-unit', 'x1', '某街', '--kind', 'street', '--parent', 'xicun'), 'district')
    _refused(flask_cmd('create-unit', 'x1', '某街', '--kind', 'street'), '--parent')
    _refused(flask_cmd('create-unit', 'xicun', '西村街', '--kind', 'street', '--parent', 'liwan'), 'xicun')
    _refused(flask_cmd('create-unit', 'a/b', '某街', '--kind', 'street', '--parent', 'liwan'))
    _refused(flask_cmd('create-unit', 'gz2', '某市', '--kind', 'city'))
    _refused(flask_cmd('create-unit', 'station2', '某站', '--kind', 'station', '--parent', 'fengyuan'),
             'fengyuan_station')
    _refused(flask_cmd('create-user', 'newbie', '--name', '某人', '--role', 'station_admin', '--unit', 'xicun',
                       '--password', 'long-enough-1'), 'station')
    _refused(flask_cmd('create-user', 'newbie', '--name', '某人', '--role', 'association_admin', '--unit', 'liwan',
                       '--password', 'long-enough-1'), 'city')
    _refused(flask_cmd('create-user', 'newbie', '--name', '某人', '--role', 'street_admin', '--unit', 'nowhere',
                       '--password', 'long-enough-1'), 'nowhere')
    _refused(flask_cmd('create-user', 'newbie', '--name', '某人', '--role', 'street_admin', '--unit', 'xicun',
                       '--password', 'short'), '8')
    _refused(flask_cmd('create-user', 'newbie', '--role', 'street_admin', '--unit', 'xicun',
                       '--password', 'long-enough-1'), '--name')
    _refused(flask_cmd('set-password', 'nobody', '--password', 'long-enough-1'), 'nobody')
    _refused(flask_cmd('set-password', 'gzva', '--password', 'short'), '8')
    assert _counts() == before
    assert _sign_in(app.test_client(), 'gzva', 'demo1234').status_code == 302  # password unchanged
    assert db.session.scalar(select(User).where(User.username == 'newbie')) is None


def test_commands_explain_themselves(flask_cmd):
    for name in ('create-unit', 'create-user', 'set-password'):
        result = flask_cmd(name, '--help')
        assert result.exit_code == 0 and 'Usage:' in result.output


def test_a_unit_created_by_another_process_reaches_a_running_server(app, monkeypatch):
    """`flask create-unit` runs in its own process: a web worker's copy of the tree is read again once it is
    ORG_CACHE_SECONDS old, so the new street can be chosen without restarting the server."""
    from app.services import org_cache
    assert org_cache.unit('xicun') is not None  # the server's copy is loaded
    liwan = db.session.scalar(select(OrgUnit).where(OrgUnit.code == 'liwan'))
    db.session.execute(OrgUnit.__table__.insert().values(code='other_proc', name='别处新建的街', kind='street',
                                                         parent_id=liwan.id, path=liwan.path + 'other_proc/'))
    db.session.commit()  # a plain insert: no ORM event here, as when another process wrote it
    assert org_cache.unit('other_proc') is None
    later = org_cache.time.monotonic() + app.config.get('ORG_CACHE_SECONDS', 60) + 1
    monkeypatch.setattr(org_cache.time, 'monotonic', lambda: later)
    assert org_cache.unit('other_proc').name == '别处新建的街'
