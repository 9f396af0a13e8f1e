"""fingerprints of the parts of snapshot streams

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 16:30:00
"""

from alembic import op
import sqlalchemy as sa
import connector.store.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('snapshot_scopes',
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('stream', sa.String(length=32), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('recheck_at', connector.store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', connector.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('source', 'stream', 'scope', name=op.f('pk_snapshot_scopes'))
    )


def downgrade() -> None:
    op.drop_table('snapshot_scopes')
