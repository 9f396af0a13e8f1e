"""customers: the language they are written to in, and their company registration number

Two nullable text columns on ``customers`` (existing rows get NULL: the next full read fills them).  The
dunning letters use the language; the insurer feed matches buyers by registration number as well as by VAT.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 08:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers') as batch:
        batch.add_column(sa.Column('lang', sa.Text(), nullable=True))
        batch.add_column(sa.Column('registry', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('registry')
        batch.drop_column('lang')
