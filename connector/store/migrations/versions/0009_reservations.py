"""reservations of exposure by approvals given at confirmation

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 20:00:00
"""

from alembic import op
import sqlalchemy as sa
import connector.store.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_source_erp_id'), ['source', 'erp_id'], unique=False)
    op.create_table('reservations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('order_erp_id', sa.String(length=64), nullable=False),
    sa.Column('order_number', sa.Text(), nullable=False),
    sa.Column('credit_group_id', sa.String(length=64), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('base_currency', sa.String(length=3), nullable=False),
    sa.Column('base_amount', sa.String(length=40), nullable=False),
    sa.Column('created_at', connector.store.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', connector.store.types.UTCDateTime(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('expiry_reported_at', connector.store.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations')),
    sa.UniqueConstraint('source', 'order_erp_id', name=op.f('uq_reservations_source_order_erp_id'))
    )
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reservations_source_credit_group_id'), ['source', 'credit_group_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reservations_source_credit_group_id'))
    op.drop_table('reservations')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_source_erp_id'))
