"""insurer decisions: the insurers' limit decisions imported from their portal exports

A new table only, append-only.  Rows are written by ``creditguard insurer import``
(``connector.insurer_feed``), all of one import in one transaction; the decision in force for a
buyer is derived from them by ``connector.insurer_limits``.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 07:30:00
"""

from alembic import op
import sqlalchemy as sa
import connector.store.types


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('insurer_decisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('insurer', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('customer_erp_id', sa.String(length=64), nullable=False),
    sa.Column('customer', sa.Text(), nullable=False),
    sa.Column('customer_name', sa.Text(), nullable=False),
    sa.Column('buyer_name', sa.Text(), nullable=True),
    sa.Column('buyer_id', sa.Text(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('decided', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('expires', sa.Date(), nullable=True),
    sa.Column('grade', sa.Integer(), nullable=True),
    sa.Column('insurer_grade', sa.Text(), nullable=True),
    sa.Column('file', sa.Text(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.String(length=32), nullable=False),
    sa.Column('imported_at', connector.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurer_decisions')),
    )
    op.create_index(op.f('ix_insurer_decisions_source_customer_erp_id_decided'), 'insurer_decisions',
                    ['source', 'customer_erp_id', 'decided'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_insurer_decisions_source_customer_erp_id_decided'), table_name='insurer_decisions')
    op.drop_table('insurer_decisions')
