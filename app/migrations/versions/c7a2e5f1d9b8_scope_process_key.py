"""human_task_scope.process_key: the inbox counts its 类型 choice from the open-task index alone

Revision ID: c7a2e5f1d9b8
Revises: b3f6d1e8a2c4
Create Date: 2026-12-07 09:00:00

The process of each scope row's task is copied next to its lane, and ix_scope_open carries it as its last column,
so the counts per process of a reviewer's open tasks are read from the index range scan that finds them, without
fetching every one of those tasks by primary key (a city-wide reviewer has thousands). Existing rows take their
task's process.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a2e5f1d9b8'
down_revision = 'b3f6d1e8a2c4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('human_task_scope', schema=None) as batch_op:
        batch_op.add_column(sa.Column('process_key', sa.String(length=64), nullable=True))
    op.execute('UPDATE human_task_scope SET process_key = (SELECT human_task.process_key FROM human_task '
               'WHERE human_task.id = human_task_scope.human_task_id)')
    with op.batch_alter_table('human_task_scope', schema=None) as batch_op:
        batch_op.alter_column('process_key', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_index('ix_scope_open')
        batch_op.create_index('ix_scope_open', ['lane', 'path', 'created_at', 'human_task_id', 'process_key'],
                              unique=False, postgresql_where=sa.text('is_open'), sqlite_where=sa.text('is_open'))


def downgrade():
    with op.batch_alter_table('human_task_scope', schema=None) as batch_op:
        batch_op.drop_index('ix_scope_open')
        batch_op.create_index('ix_scope_open', ['lane', 'path', 'created_at', 'human_task_id'], unique=False,
                              postgresql_where=sa.text('is_open'), sqlite_where=sa.text('is_open'))
        batch_op.drop_column('process_key')
