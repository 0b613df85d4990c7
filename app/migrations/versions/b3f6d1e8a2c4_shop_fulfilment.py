"""shop fulfilment: what an item's holder hands over for a redemption or an approved gift

Revision ID: b3f6d1e8a2c4
Revises: 9c4e2f7a1b35
Create Date: 2026-12-06 03:00:00

One row per 个人兑换 or approved 赠予直系亲属: the holder unit sees who, what and whom to contact, and marks it
已安排 / 已发放 with a note the volunteer reads. Older redemptions have no row (they were made before holders were
told); the volunteer's list shows them without a status.
"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'b3f6d1e8a2c4'
down_revision = '9c4e2f7a1b35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'shop_fulfilment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('holder_unit_id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('redemption_id', sa.Integer(), nullable=True),
        sa.Column('gift_id', sa.Integer(), nullable=True),
        sa.Column('recipient_name', sa.String(length=40), nullable=False),
        sa.Column('recipient_phone', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['gift_id'], ['gift_request.id']),
        sa.ForeignKeyConstraint(['holder_unit_id'], ['org_unit.id']),
        sa.ForeignKeyConstraint(['item_id'], ['shop_item.id']),
        sa.ForeignKeyConstraint(['redemption_id'], ['shop_redemption.id']),
        sa.ForeignKeyConstraint(['updated_by_id'], ['app_user.id']),
        sa.ForeignKeyConstraint(['volunteer_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('gift_id', name='uq_fulfilment_gift'),
        sa.UniqueConstraint('redemption_id', name='uq_fulfilment_redemption'),
    )
    op.create_index('ix_shop_fulfilment_holder', 'shop_fulfilment', ['holder_unit_id', 'status', 'id'])
    op.create_index('ix_shop_fulfilment_volunteer', 'shop_fulfilment', ['volunteer_id', 'id'])


def downgrade():
    op.drop_index('ix_shop_fulfilment_volunteer', table_name='shop_fulfilment')
    op.drop_index('ix_shop_fulfilment_holder', table_name='shop_fulfilment')
    op.drop_table('shop_fulfilment')
