"""审计日志's 来源: every source an audit row can have (用户管理 in the browser, the API, the command line, the system,
and the writers that record none) is offered by the filter, shown on each row, and kept by paging and the other
filters; GET /api/v1/audit takes the same `source`."""
import html
import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, User
from app.models.base import utcnow
from tests.web.test_audit_page import cli_create_user, publish_diagram, rows_of


def _uid(username) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


def _events(app, api, login, web_changes=1):
    """Rows from each source, written the real way where the app writes them: 用户管理 in the browser (deactivate
    and activate gzva, `web_changes` times each), over the API (deactivate/activate vol_li, a diagram saved and
    published), on the command line (create-user), an activity withdrawn by the system, and a row by a person from
    before sources were recorded."""
    publish_diagram(api)  # process.draft + process.publish: by admin, over the API
    web = login('admin')
    for _ in range(web_changes):
        assert web.post(f'/admin/users/{_uid("gzva")}/deactivate', data={'reason': '网页停用'}).status_code == 302
        assert web.post(f'/admin/users/{_uid("gzva")}/activate', data={'reason': '网页启用'}).status_code == 302
    admin = api('admin')
    assert admin.post(f'/admin/users/{_uid("vol_li")}/deactivate', json={'reason': '接口停用'}).status_code == 200
    assert admin.post(f'/admin/users/{_uid("vol_li")}/activate', json={'reason': '接口启用'}).status_code == 200
    cli_create_user(app)
    # a row written before every request recorded its source: by a person, nothing says where from
    db.session.add(AuditLog(actor_id=_uid('admin'), action='pool.allocate', target='user:vol_wang',
                            detail_json='{"amount": 5}', at=utcnow()))
    db.session.flush()
    # what activity_signups writes when an activity is withdrawn: nobody did it, nothing says where from
    db.session.add(AuditLog(actor_id=None, action='activity_signup.withdrawn', target='activity_signup:1',
                            detail_json='{"reason": "活动撤销"}', at=utcnow()))
    db.session.commit()
    db.session.remove()


def _text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def test_the_source_filter_offers_every_source_and_each_row_shows_its_own(app, api, login):
    _events(app, api, login)
    web = login('admin')
    page = web.get('/admin/audit')
    text = _text(page)
    select_html = text.split('name="source"', 1)[1].split('</select>', 1)[0]
    assert re.findall(r'<option value="([a-z]*)"[^>]*>([^<]*)</option>', select_html) == [
        ('', '全部来源'), ('web', '网页'), ('api', '接口'), ('cli', '命令行'), ('system', '系统'), ('unrecorded', '未记录')]
    assert '<th>来源</th>' in text
    rows = rows_of(text)
    assert len(rows) == 9
    assert '公益池分配' in rows[1] and '未记录' in rows[1] and '新建账号' in rows[2] and '命令行' in rows[2]
    assert '发布流程图' in rows[-2] and '接口' in rows[-2] and '活动撤销，关闭报名' in rows[0] and '系统' in rows[0]

    def listed(source):
        resp = web.get(f'/admin/audit?source={source}')
        assert resp.status_code == 200
        return rows_of(_text(resp))

    by_web = listed('web')
    assert len(by_web) == 2 and all('网页' in r and '流程管理员（admin）' in r for r in by_web)
    assert '启用账号' in by_web[0] and '停用账号' in by_web[1] and '账号 广州市志愿者协会（gzva）' in by_web[0]
    by_api = listed('api')
    assert len(by_api) == 4 and all('接口' in r for r in by_api)
    assert all('账号 李晓敏（vol_li）' in r for r in by_api[:2]) and '发布流程图' in by_api[-2]
    by_cli = listed('cli')
    assert len(by_cli) == 1 and '账号 新社工站（station_new）' in by_cli[0]
    by_system = listed('system')
    assert len(by_system) == 1 and '活动撤销，关闭报名' in by_system[0] and '系统' in by_system[0]
    unrecorded = listed('unrecorded')
    assert len(unrecorded) == 1 and '公益池分配' in unrecorded[0] and '未记录' in unrecorded[0]
    assert '<option value="api" selected>接口</option>' in _text(web.get('/admin/audit?source=api'))

    en = _text(web.get('/admin/audit?source=web&lang=en'))
    assert len(rows_of(en)) == 2


def test_the_source_keeps_paging_and_the_other_filters(app, api, login):
    _events(app, api, login, web_changes=11)  # 22 rows from the browser: two pages
    web = login('admin')
    first = _text(web.get('/admin/audit?source=web'))
    assert len(rows_of(first)) == 20 and all('网页' in r for r in rows_of(first))
    assert '共 22 条' in first
    next_link = re.search(r'href="([^"]*page=2[^"]*)"', first).group(1)
    assert 'source=web' in next_link
    second = rows_of(_text(web.get(next_link)))
    assert len(second) == 2 and all('网页' in r for r in second)

    assert len(rows_of(_text(web.get('/admin/audit?source=api&q=vol_li')))) == 2
    assert len(rows_of(_text(web.get('/admin/audit?source=api&group=process')))) == 2
    assert '没有符合条件的记录' in _text(web.get('/admin/audit?source=unrecorded&group=process'))
    assert len(rows_of(_text(web.get('/admin/audit?source=unrecorded&group=pool&actor=admin')))) == 1


def test_the_api_takes_the_same_source_and_names_each_rows_source(app, api, login):
    _events(app, api, login)
    admin = api('admin')
    everything = admin.get('/audit').get_json()
    assert everything['total'] == 9
    assert {i['source'] for i in everything['items']} == {'web', 'api', 'cli', 'system', 'unrecorded'}
    for source, n in (('web', 2), ('api', 4), ('cli', 1), ('system', 1), ('unrecorded', 1)):
        body = admin.get(f'/audit?source={source}').get_json()
        assert body['total'] == n and {i['source'] for i in body['items']} == {source}, (source, body)
    api_rows = admin.get('/audit?source=api').get_json()['items']
    assert [i['action'] for i in api_rows] == ['user.activate', 'user.deactivate', 'process.publish', 'process.draft']
    bad = admin.get('/audit?source=browser')
    assert bad.status_code == 422 and bad.get_json()['errors']['source'] == ['来源无效']
