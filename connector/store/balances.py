"""The running totals a credit check reads (``invoice_balances``, ``order_balances``; see tables.py).

Every write to ``invoices`` and ``orders`` keeps them: on PostgreSQL statement triggers over the
transition tables do it all; on SQLite row triggers handle changes and deletions, and the record writer
adds the documents it inserts itself, set-wise, in the same transaction (a row trigger per insert
doubled the write time of a first sync).  Migration 0010 creates the triggers; it keeps its own copy of
these definitions, as migrations do.
"""

from __future__ import annotations

from .tables import NO_DAY as _NO_DAY

NO_DAY = _NO_DAY.isoformat()  # how SQLite holds it

INVOICES = {
    "keys": {
        "source": "source", "credit_group_id": "credit_group_id", "kind": "kind", "state": "state",
        "currency": "currency", "company_id": "company_id", "company_currency": "company_currency",
        "invoice_day": f"coalesce(invoice_date, '{NO_DAY}')", "due_day": f"coalesce(due_date, '{NO_DAY}')",
    },
    "values": {
        "documents": "count(*)", "open_documents": "sum(CASE WHEN amount_open_minor <> 0 THEN 1 ELSE 0 END)",
        "open_minor": "sum(amount_open_minor)", "open_company_minor": "sum(amount_open_company_minor)",
        "total_minor": "sum(amount_total_minor)", "total_company_minor": "sum(amount_total_company_minor)",
    },
    "counts": "deleted_at IS NULL AND (state = 'draft' OR (state = 'posted' AND amount_open_minor <> 0))",
}

ORDERS = {
    "keys": {
        "source": "source", "customer_id": "customer_id", "state": "state", "currency": "currency",
        "company_id": "company_id", "order_day": f"coalesce(date(order_date), '{NO_DAY}')",
    },
    "values": {
        "documents": "count(*)", "uninvoiced_minor": "sum(amount_uninvoiced_minor)",
        "total_minor": "sum(amount_total_minor)",
    },
    "counts": ("deleted_at IS NULL AND (state IN ('draft', 'sent') OR "
               "(state IN ('confirmed', 'done') AND amount_uninvoiced_minor <> 0))"),
}

SPECS = {"invoices": ("invoice_balances", INVOICES), "orders": ("order_balances", ORDERS)}


def sqlite_add_inserted(table: str) -> str | None:
    """SQLite: the statement that adds to the totals the records of ``table`` just inserted: those whose row id
    is above the parameter ``after`` (the table's highest id before the insert, read under the write lock that
    the page's transaction takes first: they are the insert's own), read in row-id order; None for a table without totals."""
    if table not in SPECS:
        return None
    balances, spec = SPECS[table]
    keys, values = spec["keys"], spec["values"]
    sets = ", ".join(f"{v} = {balances}.{v} + excluded.{v}" for v in values)
    return (f"INSERT INTO {balances} ({', '.join([*keys, *values])}) "
            f"SELECT {', '.join(f'{e} AS {k}' for k, e in keys.items())}, {', '.join(values.values())} "
            f"FROM {table} WHERE id > :after AND {spec['counts']} GROUP BY {', '.join(keys)} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}")
