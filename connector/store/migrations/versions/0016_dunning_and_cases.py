"""dunning steps and collection cases, with their append-only history

New tables only: ``collection_cases`` (one per credit group and overdue episode, at most one not closed),
``case_events`` (every step, change of state and note, with the figures at that moment) and ``dunning_steps``
(one per case and dunning level, with the outbox key fixed before the first attempt).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 07:30:00
"""

from alembic import op
import sqlalchemy as sa
import connector.store.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('collection_cases',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('credit_group_id', sa.String(length=64), nullable=False),
    sa.Column('customer', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('opened_at', connector.store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', connector.store.types.UTCDateTime(), nullable=False),
    sa.Column('closed_at', connector.store.types.UTCDateTime(), nullable=True),
    sa.Column('promise_date', sa.Date(), nullable=True),
    sa.Column('promise_amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('promise_overdue_minor', sa.BigInteger(), nullable=True),
    sa.Column('dispute_amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('dispute_reason', sa.Text(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_cases')),
    )
    with op.batch_alter_table('collection_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_cases_source_credit_group_id'),
                              ['source', 'credit_group_id'], unique=False)
        batch_op.create_index('ux_collection_cases_active', ['source', 'credit_group_id'], unique=True,
                              sqlite_where=sa.text("state <> 'closed'"),
                              postgresql_where=sa.text("state <> 'closed'"))
    op.create_table('case_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('credit_group_id', sa.String(length=64), nullable=False),
    sa.Column('at', connector.store.types.UTCDateTime(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('overdue_minor', sa.BigInteger(), nullable=True),
    sa.Column('disputed_minor', sa.BigInteger(), nullable=True),
    sa.Column('exposure_minor', sa.BigInteger(), nullable=True),
    sa.Column('outbox_key', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events')),
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_events_source_credit_group_id_id'),
                              ['source', 'credit_group_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_events_case_id_id'), ['case_id', 'id'], unique=False)
    op.create_table('dunning_steps',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('credit_group_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('created_at', connector.store.types.UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.Text(), nullable=True),
    sa.Column('decided_at', connector.store.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('case_id', 'level', name=op.f('pk_dunning_steps')),
    sa.UniqueConstraint('key', name=op.f('uq_dunning_steps_key')),
    )
    with op.batch_alter_table('dunning_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dunning_steps_source_state'), ['source', 'state'], unique=False)


def downgrade() -> None:
    op.drop_table('dunning_steps')
    op.drop_table('case_events')
    op.drop_table('collection_cases')
