"""inbox search by full ID number: human_task.id_key (a hash of the number), masked numbers out of search_text

Revision ID: e2a7c4d9b3f1
Revises: f1c3a9d2b7e4
Create Date: 2026-12-05 10:00:00

Backfill: every task of a service-object entry (the elder's number, latest version) and of a relative gift (the
relative's number) gets its id_key; a masked number in search_text (4401**********2499) becomes its last 4
characters, as app.services.instances.task_search writes new rows.
"""
import hashlib
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a7c4d9b3f1'
down_revision = 'f1c3a9d2b7e4'
branch_labels = None
depends_on = None

_MASKED_ID = re.compile(r'[0-9]{4}\*{10}([0-9X]{4})', re.IGNORECASE)
_CHUNK = 2000


def _key(number):
    number = str(number or '').strip().upper()
    return hashlib.sha256(f'cn-id:{number}'.encode()).hexdigest() if number else None


def _in_chunks(conn, sql, rows):
    for i in range(0, len(rows), _CHUNK):
        conn.execute(sa.text(sql), rows[i:i + _CHUNK])


def upgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_key', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_human_task_id_key', ['id_key'], unique=False)
    backfill(op.get_bind())


def backfill(conn):
    """id_key and search_text of the tasks written before this revision (tests call it on their own data)."""
    numbers = {}
    # the latest version of each entry last: its number wins
    for instance_id, number in conn.execute(sa.text(
            'SELECT instance_id, id_number FROM service_object ORDER BY instance_id, version')):
        numbers[instance_id] = number
    for instance_id, number in conn.execute(sa.text('SELECT instance_id, relative_id_number FROM gift_request')):
        numbers.setdefault(instance_id, number)
    keys = [{'i': i, 'k': _key(n)} for i, n in numbers.items() if _key(n)]
    _in_chunks(conn, 'UPDATE human_task SET id_key = :k WHERE instance_id = :i', keys)
    texts = [{'id': row_id, 't': _MASKED_ID.sub(r'\1', text)} for row_id, text in conn.execute(sa.text(
        "SELECT id, search_text FROM human_task WHERE search_text LIKE '%**********%'"))]
    _in_chunks(conn, 'UPDATE human_task SET search_text = :t WHERE id = :id', texts)


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_id_key')
        batch_op.drop_column('id_key')
