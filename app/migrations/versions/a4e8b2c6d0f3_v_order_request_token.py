"""v_order.request_token: a repeated publish form (a phone browser's retry, 重新提交) finds the order it made

Revision ID: a4e8b2c6d0f3
Revises: e2a7c4d9b3f1
Create Date: 2026-12-01 01:00:00

Orders published before have no token (NULL, which the unique constraint does not compare).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4e8b2c6d0f3'
down_revision = 'e2a7c4d9b3f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('v_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_v_order_request_token', ['publisher_id', 'request_token'])


def downgrade():
    with op.batch_alter_table('v_order', schema=None) as batch_op:
        batch_op.drop_constraint('uq_v_order_request_token', type_='unique')
        batch_op.drop_column('request_token')
