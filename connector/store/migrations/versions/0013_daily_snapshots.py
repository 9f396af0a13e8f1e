"""daily snapshots: exposure, limit, overdue and ageing per source, credit group, company and day

A new table only.  Rows are written by ``connector.snapshots`` (the daemon once a day after a sync,
``creditguard snapshot``), a day at a time, and pruned after ``[snapshots] keep_days``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 05:10:00
"""

from alembic import op
import sqlalchemy as sa
import connector.store.types


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('daily_snapshots',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('credit_group_id', sa.String(length=64), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('customer', sa.Text(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('base_currency', sa.String(length=3), nullable=False),
    sa.Column('exposure_minor', sa.BigInteger(), nullable=True),
    sa.Column('limit_minor', sa.BigInteger(), nullable=True),
    sa.Column('overdue_minor', sa.BigInteger(), nullable=True),
    sa.Column('past_due_minor', sa.BigInteger(), nullable=False),
    sa.Column('past_due_base_minor', sa.BigInteger(), nullable=False),
    sa.Column('receivable_minor', sa.BigInteger(), nullable=False),
    sa.Column('receivable_base_minor', sa.BigInteger(), nullable=False),
    sa.Column('ageing', sa.Text(), nullable=False),
    sa.Column('taken_at', connector.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'source', 'credit_group_id', 'company_id', name=op.f('pk_daily_snapshots')),
    sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table('daily_snapshots')
