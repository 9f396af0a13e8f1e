"""running totals per credit group of the documents that add to exposure, kept by triggers; decision
versions per credit group

A credit check used to sum every invoice and order of the group; these tables hold the sums, kept by the
database itself on every write to ``invoices`` and ``orders`` (whatever code path writes them), so that a
check reads a handful of rows per group.  SQLite: row triggers.  PostgreSQL: statement triggers over the
transition tables (a page of thousands of records, or a COPY, updates the totals once, set-wise); SQLite
inserts are added by the record writer, set-wise (connector/store/balances.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 22:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

NO_DAY = "0001-01-01"

# what a document adds, per table: its key columns (as expressions over a row alias {r}), its values, and
# when it counts at all
INVOICES = {
    "table": "invoices",
    "balances": "invoice_balances",
    "keys": {
        "source": "{r}.source",
        "credit_group_id": "{r}.credit_group_id",
        "kind": "{r}.kind",
        "state": "{r}.state",
        "currency": "{r}.currency",
        "company_id": "{r}.company_id",
        "company_currency": "{r}.company_currency",
        "invoice_day": "coalesce({r}.invoice_date, {no_day})",
        "due_day": "coalesce({r}.due_date, {no_day})",
    },
    "values": {
        "documents": "1",
        "open_documents": "(CASE WHEN {r}.amount_open_minor <> 0 THEN 1 ELSE 0 END)",
        "open_minor": "{r}.amount_open_minor",
        "open_company_minor": "{r}.amount_open_company_minor",
        "total_minor": "{r}.amount_total_minor",
        "total_company_minor": "{r}.amount_total_company_minor",
    },
    "counts": "{r}.deleted_at IS NULL AND ({r}.state = 'draft' OR ({r}.state = 'posted' AND {r}.amount_open_minor <> 0))",
    "watched": ("source", "credit_group_id", "kind", "state", "currency", "company_id", "company_currency",
                "invoice_date", "due_date", "amount_open_minor", "amount_open_company_minor", "amount_total_minor",
                "amount_total_company_minor", "deleted_at"),
}

ORDERS = {
    "table": "orders",
    "balances": "order_balances",
    "keys": {
        "source": "{r}.source",
        "customer_id": "{r}.customer_id",
        "state": "{r}.state",
        "currency": "{r}.currency",
        "company_id": "{r}.company_id",
        "order_day": "coalesce({day}, {no_day})",
    },
    "values": {
        "documents": "1",
        "uninvoiced_minor": "{r}.amount_uninvoiced_minor",
        "total_minor": "{r}.amount_total_minor",
    },
    "counts": ("{r}.deleted_at IS NULL AND ({r}.state IN ('draft', 'sent') OR "
               "({r}.state IN ('confirmed', 'done') AND {r}.amount_uninvoiced_minor <> 0))"),
    "watched": ("source", "customer_id", "state", "currency", "company_id", "order_date", "amount_uninvoiced_minor",
                "amount_total_minor", "deleted_at"),
}


def _fill(text: str, row: str, dialect: str) -> str:
    no_day = f"'{NO_DAY}'" if dialect == "sqlite" else f"DATE '{NO_DAY}'"
    day = f"date({row}.order_date)" if dialect == "sqlite" else f"CAST({row}.order_date AS date)"
    return text.format(r=row, no_day=no_day, day=day)


def _upsert_tail(spec: dict) -> str:
    keys = ", ".join(spec["keys"])
    sets = ", ".join(f"{v} = {spec['balances']}.{v} + excluded.{v}" for v in spec["values"])
    return f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"


def _sqlite_triggers(spec: dict) -> list[str]:
    table, balances = spec["table"], spec["balances"]
    columns = ", ".join([*spec["keys"], *spec["values"]])

    def add(row: str) -> str:
        values = ", ".join(_fill(e, row, "sqlite") for e in [*spec["keys"].values(), *spec["values"].values()])
        return f"INSERT INTO {balances} ({columns}) VALUES ({values}){_upsert_tail(spec)};"

    def subtract(row: str) -> str:
        where = " AND ".join(f"{k} = {_fill(e, row, 'sqlite')}" for k, e in spec["keys"].items())
        sets = ", ".join(f"{v} = {v} - {_fill(e, row, 'sqlite')}" for v, e in spec["values"].items())
        return (f"UPDATE {balances} SET {sets} WHERE {where}; "
                f"DELETE FROM {balances} WHERE {where} AND documents = 0;")

    counts_new, counts_old = _fill(spec["counts"], "NEW", "sqlite"), _fill(spec["counts"], "OLD", "sqlite")
    watched = ", ".join(spec["watched"])
    # inserts: the record writer adds what it inserts, set-wise (connector/store/balances.py)
    return [
        f"CREATE TRIGGER {balances}_update_old AFTER UPDATE OF {watched} ON {table} WHEN {counts_old} "
        f"BEGIN {subtract('OLD')} END",
        f"CREATE TRIGGER {balances}_update_new AFTER UPDATE OF {watched} ON {table} WHEN {counts_new} "
        f"BEGIN {add('NEW')} END",
        f"CREATE TRIGGER {balances}_delete AFTER DELETE ON {table} WHEN {counts_old} BEGIN {subtract('OLD')} END",
    ]


def _postgres_triggers(spec: dict) -> list[str]:
    table, balances = spec["table"], spec["balances"]
    keys = list(spec["keys"])
    values = list(spec["values"])

    def rows(alias: str, sign: str) -> str:
        exprs = [f"{_fill(e, alias, 'postgresql')} AS {k}" for k, e in spec["keys"].items()]
        exprs += [f"{sign}{_fill(e, alias, 'postgresql')} AS {v}" for v, e in spec["values"].items()]
        return f"SELECT {', '.join(exprs)} FROM {alias} WHERE {_fill(spec['counts'], alias, 'postgresql')}"

    def apply(parts: list[str]) -> str:
        sums = ", ".join(f"sum({v}) AS {v}" for v in values)
        changed = " OR ".join(f"sum({v}) <> 0" for v in values)
        delta = (f"SELECT {', '.join(keys)}, {sums} FROM ({' UNION ALL '.join(parts)}) AS d "
                 f"GROUP BY {', '.join(keys)} HAVING {changed}")
        return (f"INSERT INTO {balances} ({', '.join(keys + values)}) {delta}{_upsert_tail(spec)}; "
                f"DELETE FROM {balances} WHERE documents = 0 AND ({', '.join(keys)}) IN "
                f"(SELECT {', '.join(keys)} FROM ({' UNION ALL '.join(parts)}) AS gone);")

    bodies = {
        "insert": (apply([rows("new_rows", "")]), "NEW TABLE AS new_rows", "INSERT"),
        "update": (apply([rows("new_rows", ""), rows("old_rows", "-")]),
                   "OLD TABLE AS old_rows NEW TABLE AS new_rows", "UPDATE"),
        "delete": (apply([rows("old_rows", "-")]), "OLD TABLE AS old_rows", "DELETE"),
    }
    statements = []
    for name, (body, referencing, event) in bodies.items():
        function = f"cg_{balances}_{name}"
        statements.append(f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                          f"BEGIN {body} RETURN NULL; END $$")
        statements.append(f"CREATE TRIGGER {balances}_{name} AFTER {event} ON {table} REFERENCING {referencing} "
                          f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    return statements


def _backfill(spec: dict, dialect: str) -> str:
    keys = ", ".join(spec["keys"])
    exprs = [f"{_fill(e, spec['table'], dialect)} AS {k}" for k, e in spec["keys"].items()]
    sums = [f"sum({_fill(e, spec['table'], dialect)})" for e in spec["values"].values()]
    return (f"INSERT INTO {spec['balances']} ({keys}, {', '.join(spec['values'])}) "
            f"SELECT {', '.join(exprs + sums)} FROM {spec['table']} "
            f"WHERE {_fill(spec['counts'], spec['table'], dialect)} GROUP BY {keys}")


def upgrade() -> None:
    op.create_table('invoice_balances',
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('credit_group_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('company_currency', sa.String(length=3), nullable=False),
    sa.Column('invoice_day', sa.Date(), nullable=False),
    sa.Column('due_day', sa.Date(), nullable=False),
    sa.Column('documents', sa.BigInteger(), nullable=False),
    sa.Column('open_documents', sa.BigInteger(), nullable=False),
    sa.Column('open_minor', sa.BigInteger(), nullable=False),
    sa.Column('open_company_minor', sa.BigInteger(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('total_company_minor', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('source', 'credit_group_id', 'kind', 'state', 'currency', 'company_id',
                            'company_currency', 'invoice_day', 'due_day', name=op.f('pk_invoice_balances')),
    sqlite_with_rowid=False,  # rows stored in key order: a group's rows are read together
    )
    op.create_table('order_balances',
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('order_day', sa.Date(), nullable=False),
    sa.Column('documents', sa.BigInteger(), nullable=False),
    sa.Column('uninvoiced_minor', sa.BigInteger(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('source', 'customer_id', 'state', 'currency', 'company_id', 'order_day',
                            name=op.f('pk_order_balances')),
    sqlite_with_rowid=False,
    )
    op.create_table('decision_versions',
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('credit_group_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('source', 'credit_group_id', name=op.f('pk_decision_versions')),
    sqlite_with_rowid=False,
    )
    dialect = op.get_bind().dialect.name
    for spec in (INVOICES, ORDERS):
        op.execute(_backfill(spec, dialect))
        for statement in (_sqlite_triggers(spec) if dialect == "sqlite" else _postgres_triggers(spec)):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for spec in (INVOICES, ORDERS):
        balances = spec["balances"]
        if dialect == "sqlite":
            for name in ("insert", "update_old", "update_new", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {balances}_{name}")
        else:
            for name in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {balances}_{name} ON {spec['table']}")
                op.execute(f"DROP FUNCTION IF EXISTS cg_{balances}_{name}()")
    op.drop_table('decision_versions')
    op.drop_table('order_balances')
    op.drop_table('invoice_balances')
