"""The Alembic migrations build exactly the schema the models declare: `flask db upgrade` on an empty
database (what `make run` does on a fresh machine) leaves nothing for autogenerate to add or change."""
import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from app.extensions import db


def _upgrade_and_diff(url):
    application = create_app('testing', {'SQLALCHEMY_DATABASE_URI': url})
    with application.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            tables = set(inspect(conn).get_table_names())
        db.engine.dispose()
    return diff, tables


def _assert_matches_models(diff, tables):
    assert set(db.metadata.tables) <= tables
    assert diff == [], f'models and migrations disagree; run `flask db migrate`: {diff}'


def test_migrations_match_models_on_sqlite(tmp_path):
    diff, tables = _upgrade_and_diff(f'sqlite:///{tmp_path}/fresh.sqlite')
    _assert_matches_models(diff, tables)


@pytest.mark.postgres
def test_migrations_match_models_on_postgresql():
    base = os.environ.get('TEST_DATABASE_URL') or ''
    if not base.startswith('postgresql'):
        pytest.skip('needs TEST_DATABASE_URL on PostgreSQL')
    base = base.replace('postgresql://', 'postgresql+psycopg://', 1)
    name = f'migcheck_{uuid.uuid4().hex[:8]}'
    admin = create_engine(base, isolation_level='AUTOCOMMIT')
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE {name}'))
    try:
        diff, tables = _upgrade_and_diff(base.rsplit('/', 1)[0] + '/' + name)
        _assert_matches_models(diff, tables)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)'))
        admin.dispose()


def test_scope_rows_take_their_tasks_process_on_upgrade(tmp_path):
    """A database from before human_task_scope.process_key keeps its open tasks in the inbox's 类型 counts: the
    upgrade copies each scope row's task's process onto it."""
    url = f'sqlite:///{tmp_path}/old.sqlite'
    application = create_app('testing', {'SQLALCHEMY_DATABASE_URI': url})
    with application.app_context():
        upgrade(revision='b3f6d1e8a2c4')
        with db.engine.begin() as conn:
            conn.execute(text('PRAGMA foreign_keys=OFF'))
            for task_id, key in ((1, 'v_order'), (2, 'service_object_entry')):
                conn.execute(text("INSERT INTO human_task (id, task_guid, instance_id, process_key, bpmn_id, title, "
                                  "status, search_text, created_at) VALUES (:i, :g, 1, :k, 'review', 'r', 'open', '', "
                                  "'2026-12-01 00:00:00')"), {'i': task_id, 'g': f'g{task_id}', 'k': key})
                conn.execute(text("INSERT INTO human_task_scope (human_task_id, org_unit_id, path, lane, is_open) "
                                  "VALUES (:i, 1, '/gz/', 'station_admin', 1)"), {'i': task_id})
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text('SELECT human_task_id, process_key FROM human_task_scope ORDER BY 1')).all()
        db.engine.dispose()
    assert [tuple(r) for r in rows] == [(1, 'v_order'), (2, 'service_object_entry')]
