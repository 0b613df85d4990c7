"""审计日志 lists the cases' decisions (审核决定: submissions, reviews …) with who decided as what, in which unit, at
which step and why; a decision and a case reset show where they were made (网页 / 接口 / 命令行) and are filtered by
it; the 对象 search finds a case by its title and a resource by its name."""
import click
from flask.cli import with_appcontext
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditLog, Decision, ShopItem, User, WorkflowInstance
from app.models.base import utcnow
from app.services import process_admin
from tests.web.conftest import case_at_street, open_task  # noqa: F401  (fixture)
from tests.web.test_audit_page import rows_of


def _title(inst_id) -> str:
    return db.session.get(WorkflowInstance, inst_id).title


def test_review_decisions_are_listed_with_role_unit_step_and_reason(case_at_street, api, login):  # noqa: F811
    inst_id, street_task = case_at_street()  # vol_zhang submitted and station_xicun approved, over the API
    web = login('street_xicun')
    assert web.post(f'/inbox/tasks/{street_task}/decide',
                    data={'decision': 'reject', 'reason': '地址<b>不全</b>'}).status_code in (200, 302)
    db.session.remove()
    body = api('admin').get('/audit?group=decision').get_json()
    assert body['total'] == 3
    reject, approve, submit = body['items']
    assert [i['action'] for i in body['items']] == ['decision.reject', 'decision.approve', 'decision.submit']
    assert reject['action_label'] == '审核决定：不通过' and approve['action_label'] == '审核决定：通过'
    assert submit['action_label'] == '审核决定：提交'
    assert reject['actor_username'] == 'street_xicun' and reject['target'] == f'instance:{inst_id}'
    assert reject['instance_id'] == inst_id and reject['source'] == 'web' and approve['source'] == 'api'
    assert ['role', 'street_admin'] in reject['details'] and ['org_unit', 'xicun'] in reject['details']
    assert ['step', 'street_review'] in reject['details'] and ['reason', '地址<b>不全</b>'] in reject['details']
    assert ['org_unit', 'xicun_station'] in approve['details'] and submit['actor_username'] == 'vol_zhang'

    html = login('admin').get('/admin/audit?group=decision').get_data(as_text=True)
    rows = rows_of(html)
    assert len(rows) == 3
    assert '审核决定：不通过' in rows[0] and '网页' in rows[0] and '镇街终审' in rows[0]
    assert '角色： 镇（街）管理员' in rows[0] and '单位： 西村街（xicun）' in rows[0]
    assert f'案件 #{inst_id}「{_title(inst_id)}」' in rows[0] and '地址&lt;b&gt;不全&lt;/b&gt;' in html
    assert '审核决定：通过' in rows[1] and '接口' in rows[1] and '社工站初审' in rows[1]
    assert '单位： 西村街社工站（xicun_station）' in rows[1]
    assert '<option value="decision">审核决定</option>' in login('admin').get('/admin/audit').get_data(as_text=True)
    en = rows_of(login('admin').get('/admin/audit?group=decision&lang=en').get_data(as_text=True))
    assert 'Rejected' in en[0] and 'Approved' in en[1] and 'Role: Town/street' in en[0]  # the history's words

    admin = api('admin')
    assert admin.get('/audit?group=decision&source=web').get_json()['total'] == 1
    assert admin.get('/audit?group=decision&source=api').get_json()['total'] == 2
    assert admin.get('/audit?group=decision&actor=station_xicun').get_json()['items'][0]['action'] == 'decision.approve'
    assert admin.get('/audit?group=reset').get_json()['total'] == 0  # resets keep their own group
    # a decision stored before sources were recorded (no `via`) reads 未记录, and only that filter finds it
    db.session.execute(update(Decision).where(Decision.decision == 'submit').values(via=None))
    db.session.commit()
    assert admin.get('/audit?group=decision&source=unrecorded').get_json()['items'][0]['action'] == 'decision.submit'
    assert admin.get('/audit?group=decision&source=api').get_json()['total'] == 1


def _reset_command():
    """A `flask` command that resets a case, as an operator would from the command line."""
    @click.argument('instance_id', type=int)
    @with_appcontext
    def reset(instance_id):
        admin = db.session.scalar(select(User).where(User.username == 'admin'))
        process_admin.reset_case(admin, instance_id, 'station_review', '命令行回退', True)
    return click.command('reset-case')(reset)


def test_a_reset_shows_where_it_was_done(case_at_street, app, api, login):  # noqa: F811
    inst_id, _task = case_at_street()
    web = login('admin')
    assert web.post(f'/admin/instances/{inst_id}/reset',
                    data={'bpmn_id': 'station_review', 'reason': '网页回退', 'confirm': '1'}).status_code == 302
    station = api('station_xicun')  # the station decides again: the step can be reset to once more
    assert station.post(f'/tasks/{open_task(station, inst_id)["id"]}/complete', json={'decision': 'approve'}).status_code == 200
    result = app.test_cli_runner().invoke(_reset_command(), [str(inst_id)])
    assert result.exit_code == 0, result.output
    db.session.remove()
    admin = api('admin')
    resets = admin.get('/audit?group=reset').get_json()['items']
    assert [(i['source'], dict(i['details'])['reason']) for i in resets] == [('cli', '命令行回退'), ('web', '网页回退')]
    assert admin.get('/audit?group=reset&source=web').get_json()['total'] == 1
    assert admin.get('/audit?group=reset&source=cli').get_json()['items'][0]['actor_username'] == 'admin'
    assert admin.get('/audit?group=reset&source=unrecorded').get_json()['total'] == 0
    rows = rows_of(web.get('/admin/audit?group=reset').get_data(as_text=True))
    assert '命令行' in rows[0] and '网页' in rows[1] and '未记录' not in ' '.join(rows)


def test_the_target_search_finds_case_titles_and_resource_names(case_at_street, api, login):  # noqa: F811
    inst_id, _task = case_at_street()
    course = db.session.scalar(select(ShopItem.id).where(ShopItem.name == '老年智能手机课程'))
    db.session.add(AuditLog(actor_id=None, action='shop_item.approve', target=f'shop_item:{course}',
                            detail_json='{"status": "active"}', at=utcnow()))
    db.session.commit()
    db.session.remove()
    admin = api('admin')
    found = admin.get('/audit?q=老年智能手机课程').get_json()
    assert found['total'] == 1 and found['items'][0]['target'] == f'shop_item:{course}'
    row = rows_of(login('admin').get('/admin/audit?q=智能手机').get_data(as_text=True))
    assert len(row) == 1 and f'兑换资源 #{course}「老年智能手机课程」' in row[0]
    title = _title(inst_id)
    by_title = admin.get(f'/audit?q={title}').get_json()
    assert by_title['total'] == 2 and {i['instance_id'] for i in by_title['items']} == {inst_id}
    assert admin.get('/audit?q=没有这样的标题').get_json()['total'] == 0
