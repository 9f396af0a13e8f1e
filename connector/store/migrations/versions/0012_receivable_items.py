"""receivable items: instalments of invoices, open credit notes and unapplied payments, each with its own due date

A new table only: ``invoices`` and ``orders`` are not touched, so the running totals of migration 0010 (the
triggers on those tables, and ``invoice_balances`` / ``order_balances``) stay as they are.  Exposure reads the
open items of a credit group through the partial index ``ix_receivable_items_open`` (what is open today, not
the history), so the table needs no running totals of its own.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 05:00:00
"""

from alembic import op
import sqlalchemy as sa
import connector.store.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OPEN_ITEM = ("state = 'posted' AND deleted_at IS NULL AND "
             "(amount_open_minor <> 0 OR amount_open_company_minor <> 0)")


def upgrade() -> None:
    op.create_table('receivable_items',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('erp_model', sa.String(length=64), nullable=False),
    sa.Column('erp_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('document_id', sa.String(length=64), nullable=True),
    sa.Column('document_number', sa.Text(), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('credit_group_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('document_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_open_minor', sa.BigInteger(), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('company_currency', sa.String(length=3), nullable=False),
    sa.Column('amount_open_company_minor', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', connector.store.types.UTCDateTime(), nullable=False),
    sa.Column('synced_at', connector.store.types.UTCDateTime(), nullable=False),
    sa.Column('seen_run', sa.Integer(), nullable=True),
    sa.Column('deleted_at', connector.store.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receivable_items')),
    sa.UniqueConstraint('source', 'erp_model', 'erp_id', name=op.f('uq_receivable_items_source_erp_model_erp_id'))
    )
    op.create_index('ix_receivable_items_open', 'receivable_items', ['source', 'credit_group_id', 'due_date'],
                    unique=False, sqlite_where=sa.text(OPEN_ITEM), postgresql_where=sa.text(OPEN_ITEM))
    op.create_index(op.f('ix_receivable_items_source_document_id'), 'receivable_items', ['source', 'document_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_receivable_items_source_document_id'), table_name='receivable_items')
    op.drop_index('ix_receivable_items_open', table_name='receivable_items')
    op.drop_table('receivable_items')
