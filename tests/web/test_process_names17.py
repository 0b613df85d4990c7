"""A shipped diagram not yet published on a site (a new process after an upgrade) is listed under the name its file
gives the process, not under its key."""
from sqlalchemy import delete, select

from app.extensions import db
from app.models import User, WorkflowVersion
from app.services import case_list, process_admin


def unpublish(key):
    db.session.execute(delete(WorkflowVersion).where(WorkflowVersion.process_key == key))
    db.session.commit()


def test_an_unpublished_shipped_process_is_listed_by_its_name(login):
    unpublish('activity_signup')
    admin = db.session.scalar(select(User).where(User.username == 'admin'))
    row = next(r for r in process_admin.overview(admin) if r['key'] == 'activity_signup')
    assert row['name'] == '志愿活动报名' and row['version'] is None
    assert case_list.options(admin)['processes']['activity_signup'] == '志愿活动报名'
    html = login('admin').get('/admin/processes').get_data(as_text=True)
    assert '志愿活动报名' in html  # beside its key, as every process is
