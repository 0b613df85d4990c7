"""activity sign-ups

Revision ID: 9c4e2f7a1b35
Revises: d5f8a3c1e9b2
Create Date: 2026-12-05 03:00:00

A volunteer holds at most one pending or approved sign-up per activity: a partial unique index.
"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = '9c4e2f7a1b35'
down_revision = 'd5f8a3c1e9b2'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('pending', 'approved')")


def upgrade():
    op.create_table(
        'activity_signup',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('cancel_reason', sa.String(length=200), nullable=True),
        sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('decided_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['activity_id'], ['activity.id']),
        sa.ForeignKeyConstraint(['instance_id'], ['workflow_instance.id']),
        sa.ForeignKeyConstraint(['volunteer_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('uq_activity_signup_active', 'activity_signup', ['activity_id', 'volunteer_id'], unique=True,
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)
    op.create_index('ix_activity_signup_activity', 'activity_signup', ['activity_id', 'status'])
    op.create_index('ix_activity_signup_volunteer', 'activity_signup', ['volunteer_id', 'id'])
    op.create_index('ix_activity_signup_instance', 'activity_signup', ['instance_id'])


def downgrade():
    op.drop_index('ix_activity_signup_instance', table_name='activity_signup')
    op.drop_index('ix_activity_signup_volunteer', table_name='activity_signup')
    op.drop_index('ix_activity_signup_activity', table_name='activity_signup')
    op.drop_index('uq_activity_signup_active', table_name='activity_signup')
    op.drop_table('activity_signup')
