"""team volunteer import: first-login password change, membership join time, lookup indexes

Revision ID: f1c3a9d2b7e4
Revises: c3d8f1a2b4e6
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'f1c3a9d2b7e4'
down_revision = 'c3d8f1a2b4e6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_app_user_id_number', ['id_number'], unique=False)
        batch_op.create_index('ix_app_user_phone', ['phone'], unique=False)
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_membership_unit_role', ['org_unit_id', 'role'], unique=False)


def downgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index('ix_membership_unit_role')
        batch_op.drop_column('created_at')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_index('ix_app_user_phone')
        batch_op.drop_index('ix_app_user_id_number')
        batch_op.drop_column('must_change_password')
