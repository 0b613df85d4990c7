"""Two administrators publish at the same moment (PostgreSQL, threads): one version per draft, consecutive
version numbers, the loser gets a clear 409 and nothing half-published."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, WorkflowDraft, WorkflowVersion
from tests.helpers import post_together
from tests.web.test_process_admin import BASE, KEY, draft, street_to_association

ROUNDS = 10


@pytest.fixture(autouse=True)
def _postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip('row locks and concurrent transactions need PostgreSQL')


def renamed(i: int) -> bytes:
    return BASE.replace('name="社工站初审"'.encode(), f'name="社工站初审 {i}"'.encode())


def _publish_together(app, headers, urls):
    return post_together(app, [(headers, url, None) for url in urls])


def _versions():
    db.session.expire_all()
    return db.session.scalars(select(WorkflowVersion.version).where(WorkflowVersion.process_key == KEY)
                              .order_by(WorkflowVersion.version)).all()


def test_same_draft_published_twice_at_once_gives_one_version(app, api):
    admin = api('admin')
    for i in range(ROUNDS):
        # each round a change (publishing the same diagram again is refused as unchanged)
        draft_id = draft(admin, street_to_association(renamed(i))).get_json()['draft_id']
        db.session.commit()
        url = f'/api/v1/processes/{KEY}/drafts/{draft_id}/publish'
        results = _publish_together(app, admin.headers, [url, url])
        codes = sorted(code for code, _ in results)
        assert codes == [201, 409], results
        loser = next(body for code, body in results if code == 409)
        assert loser['error'] == 'already_published' and '已发布' in loser['message'], loser
    assert _versions() == list(range(1, ROUNDS + 2))  # v1 shipped + one per draft, no gaps, no doubles
    assert db.session.scalar(select(db.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == 'process.publish')) == ROUNDS


def test_two_drafts_published_at_once_get_consecutive_versions_or_a_clear_conflict(app, api):
    admin = api('admin')
    for i in range(ROUNDS):
        ids = [draft(admin, x).get_json()['draft_id'] for x in (street_to_association(renamed(i)), renamed(i + ROUNDS))]
        db.session.commit()
        results = _publish_together(app, admin.headers,
                                    [f'/api/v1/processes/{KEY}/drafts/{i}/publish' for i in ids])
        for code, body in results:
            assert code in (201, 409), results  # never a 500
            if code == 409:  # lost the race, or started after the winner's commit made its draft stale
                assert (body['error'] == 'version_taken' and '请刷新后重试' in body['message']
                        or body['error'] == 'stale_draft' and '请打开最新版本重新修改' in body['message']), body
        db.session.expire_all()
        published = db.session.scalars(select(WorkflowDraft.published_version_id).where(WorkflowDraft.id.in_(ids))).all()
        assert sum(1 for v in published if v) == sum(1 for code, _ in results if code == 201)
    versions = _versions()
    assert versions == list(range(1, len(versions) + 1))
