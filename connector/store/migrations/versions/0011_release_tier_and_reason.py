"""the approval tier and the reason of a release in the ERP, on orders and honoured holds

Orders: what the ERP recorded with a release (Odoo's credit_guard addon, from its tiered release on).  Holds:
the tier and the reason of the release in the ERP that was honoured.  Every column may be NULL: existing rows
have no tier or reason recorded, as an ERP that records none.

The tables are altered in place (``recreate="never"``: ALTER TABLE ... ADD / DROP COLUMN, SQLite 3.35 and
later), never copied and rebuilt, so that the triggers of migration 0010 on ``orders`` stay.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('erp_released_tier', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('erp_release_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('holds', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('released_tier', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('release_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('holds', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('release_reason')
        batch_op.drop_column('released_tier')
    with op.batch_alter_table('orders', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('erp_release_reason')
        batch_op.drop_column('erp_released_tier')
