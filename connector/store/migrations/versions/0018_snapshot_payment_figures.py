"""daily snapshots: each group's payment figures (days late, share paid late), and a read by group

Five nullable integer columns on ``daily_snapshots`` (rows taken before stay NULL: no figures that day) and an
index by source, credit group, company and day, so that a credit check reads a group's latest snapshot row
with one index seek (``[[payment_behaviour]]`` of the policy, docs/policy.md).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 08:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('daily_snapshots') as batch:
        batch.add_column(sa.Column('payment_months', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('paid_items', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('paid_minor', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('days_late_tenths', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('share_late_bp', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_daily_snapshots_source_credit_group_id_company_id_day'), 'daily_snapshots',
                    ['source', 'credit_group_id', 'company_id', 'day'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_daily_snapshots_source_credit_group_id_company_id_day'), table_name='daily_snapshots')
    with op.batch_alter_table('daily_snapshots') as batch:
        batch.drop_column('share_late_bp')
        batch.drop_column('days_late_tenths')
        batch.drop_column('paid_minor')
        batch.drop_column('paid_items')
        batch.drop_column('payment_months')
