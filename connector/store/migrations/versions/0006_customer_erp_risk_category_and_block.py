"""customer risk category and credit block from the ERP's credit master

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 15:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('risk_category', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('credit_blocked', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('credit_blocked')
        batch_op.drop_column('risk_category')
