"""draft base version

Revision ID: c3d8f1a2b4e6
Revises: 5b1c0e7d9a21
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d8f1a2b4e6'
down_revision = '5b1c0e7d9a21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workflow_draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_version', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('workflow_draft', schema=None) as batch_op:
        batch_op.drop_column('base_version')
