"""decision.via: where each decision (a case's history row) was made, for 审计日志's 来源; indexes on `at`

Revision ID: d4b8e1a6c2f9
Revises: c7a2e5f1d9b8
Create Date: 2026-12-08 09:00:00

A decision's data is what was decided, kept as it was; its source ('web', 'api' or 'cli', as audit rows carry in
their details) is a column of its own, stamped when a decision is made in a request or a command (audit_source): no
statement more per decision. Decisions already stored have none (审计日志 reads them as 未记录, or 系统 without a
person).

审计日志 lists audit rows and decisions newest first, a page at a time: each table's newest rows are read from an
index on (at, id) instead of sorting the whole table (a city's decisions run to hundreds of thousands).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4b8e1a6c2f9'
down_revision = 'c7a2e5f1d9b8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via', sa.String(length=8), nullable=True))
        batch_op.create_index('ix_decision_at', ['at', 'id'], unique=False)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_at')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index('ix_decision_at')
        batch_op.drop_column('via')
