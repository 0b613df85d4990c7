"""ledger entry and gift English text

Revision ID: d5f8a3c1e9b2
Revises: b7d2e9f4a1c8
Create Date: 2026-12-01 03:00:00

Rows written before keep NULL and read in Chinese on English pages too.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5f8a3c1e9b2'
down_revision = 'b7d2e9f4a1c8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_en', sa.String(length=500), nullable=True))
    with op.batch_alter_table('gift_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_en', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('logistics_en', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('gift_request', schema=None) as batch_op:
        batch_op.drop_column('logistics_en')
        batch_op.drop_column('reason_en')
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_column('reason_en')
