"""state of streams read by change scans; change time of quarantined records; no content hashes
(an unchanged record is recognised by its column values)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 18:00:00
"""

from alembic import op
import sqlalchemy as sa
import connector.store.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

SYNCED = ('customers', 'invoices', 'orders', 'currency_rates')


def upgrade() -> None:
    with op.batch_alter_table('sync_cursors') as batch:
        batch.add_column(sa.Column('settled_at', connector.store.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('resume_after_id', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('quarantine') as batch:
        batch.add_column(sa.Column('changed_at', connector.store.types.UTCDateTime(), nullable=True))
    for table in SYNCED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('content_hash')


def downgrade() -> None:
    for table in SYNCED:  # every record reads as changed once: the next full read rewrites it
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('content_hash', sa.String(length=64), nullable=False, server_default=''))
    with op.batch_alter_table('quarantine') as batch:
        batch.drop_column('changed_at')
    with op.batch_alter_table('sync_cursors') as batch:
        batch.drop_column('resume_after_id')
        batch.drop_column('settled_at')
