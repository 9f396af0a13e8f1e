"""receivable items: their own amount and the day they were settled in full

Two nullable columns on ``receivable_items`` (existing rows get NULL: the next full read fills them) and a
partial index on the settled ones, which the payment figures read by settlement day.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 07:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

PAID = "paid_on IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table('receivable_items') as batch:
        batch.add_column(sa.Column('amount_company_minor', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('paid_on', sa.Date(), nullable=True))
    op.create_index('ix_receivable_items_paid', 'receivable_items', ['source', 'paid_on'], unique=False,
                    sqlite_where=sa.text(PAID), postgresql_where=sa.text(PAID))
    op.create_index(op.f('ix_receivable_items_source_customer_id'), 'receivable_items', ['source', 'customer_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_receivable_items_source_customer_id'), table_name='receivable_items')
    op.drop_index('ix_receivable_items_paid', table_name='receivable_items')
    with op.batch_alter_table('receivable_items') as batch:
        batch.drop_column('paid_on')
        batch.drop_column('amount_company_minor')
