"""book generations: a counter per source and document table, moved by every write to the table

A credit check reads a group's invoice sums (``invoice_balances``) or open receivable items; both change only
when a sync writes ``invoices`` or ``receivable_items``.  The counter moves in the same transaction as every
such write (SQLite: row triggers on updates and deletions, the record writer on inserts, as for the running
totals of migration 0010; PostgreSQL: statement triggers over the transition tables), so that a process may
keep a group's sums between checks for as long as the counter it read them with has not moved.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 12:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# the table, the name its counter goes by, the columns whose change moves it (SQLite's UPDATE OF)
TABLES = {
    "invoices": ("invoices", ("source", "credit_group_id", "kind", "state", "currency", "company_id",
                              "company_currency", "invoice_date", "due_date", "amount_open_minor",
                              "amount_open_company_minor", "amount_total_minor", "amount_total_company_minor",
                              "deleted_at")),
    "receivable_items": ("receivables", ("source", "credit_group_id", "kind", "state", "currency", "company_id",
                                         "company_currency", "document_id", "document_date", "due_date",
                                         "amount_open_minor", "amount_open_company_minor", "deleted_at")),
}


def _bump(stream: str, sources: str) -> str:
    return (f"INSERT INTO book_generations (source, stream, generation) SELECT source, '{stream}', 1 FROM ({sources}) "
            "AS moved WHERE true ON CONFLICT (source, stream) DO UPDATE SET generation = book_generations.generation + 1;")


def _sqlite_triggers(table: str, stream: str, watched: tuple[str, ...]) -> list[str]:
    # inserts: the record writer moves the counter once per page (connector/store/record_writes.py)
    both = "SELECT NEW.source AS source UNION SELECT OLD.source"
    return [
        f"CREATE TRIGGER book_generation_{table}_update AFTER UPDATE OF {', '.join(watched)} ON {table} "
        f"BEGIN {_bump(stream, both)} END",
        f"CREATE TRIGGER book_generation_{table}_delete AFTER DELETE ON {table} "
        f"BEGIN {_bump(stream, 'SELECT OLD.source AS source')} END",
    ]


def _postgres_triggers(table: str, stream: str, watched: tuple[str, ...]) -> list[str]:
    # updates: only rows whose watched columns moved (the read of a record unchanged sets seen_run, synced_at)
    mine, theirs = ", ".join(f"n.{c}" for c in watched), ", ".join(f"o.{c}" for c in watched)
    moved = (f"SELECT n.source FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id "
             f"WHERE ({mine}) IS DISTINCT FROM ({theirs}) UNION SELECT o.source FROM new_rows AS n "
             f"JOIN old_rows AS o ON o.id = n.id WHERE ({mine}) IS DISTINCT FROM ({theirs})")
    bodies = {
        "insert": ("SELECT DISTINCT source FROM new_rows", "NEW TABLE AS new_rows", "INSERT"),
        "update": (moved, "OLD TABLE AS old_rows NEW TABLE AS new_rows", "UPDATE"),
        "delete": ("SELECT DISTINCT source FROM old_rows", "OLD TABLE AS old_rows", "DELETE"),
    }
    statements = []
    for name, (sources, referencing, event) in bodies.items():
        function = f"cg_book_generation_{table}_{name}"
        statements.append(f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                          f"BEGIN {_bump(stream, sources)} RETURN NULL; END $$")
        statements.append(f"CREATE TRIGGER book_generation_{table}_{name} AFTER {event} ON {table} "
                          f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    return statements


def upgrade() -> None:
    op.create_table('book_generations',
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('stream', sa.String(length=32), nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('source', 'stream', name=op.f('pk_book_generations')),
    sqlite_with_rowid=False,
    )
    dialect = op.get_bind().dialect.name
    for table, (stream, watched) in TABLES.items():
        for statement in (_sqlite_triggers(table, stream, watched) if dialect == "sqlite"
                          else _postgres_triggers(table, stream, watched)):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            for name in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS book_generation_{table}_{name}")
        else:
            for name in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS book_generation_{table}_{name} ON {table}")
                op.execute(f"DROP FUNCTION IF EXISTS cg_book_generation_{table}_{name}()")
    op.drop_table('book_generations')
