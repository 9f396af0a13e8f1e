"""Aggregate queries for exposure: sums per credit group, computed by the database.

Nothing here loads documents one by one: each query groups by the few keys that
conversion needs (currency, company, and the document date only when asked).
Exposure reads the running totals that the database keeps per credit group
(``invoice_balances``) and per customer (``order_balances``) on every write
(migration 0010), so a credit check costs a few indexed reads whatever the
length of the group's history; projects sum their documents directly.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, case, func, literal, select

from . import tables as t
from .driver_sql import Dialect
from .pipelines import pipeline
from .reservations import COUNTING_ORDERS_SQL


@dataclass(frozen=True, slots=True)
class InvoiceSum:
    credit_group_id: str
    kind: str
    state: str
    currency: str
    company_id: str
    company_currency: str
    day: date | None  # invoice date, when grouped by date
    overdue: bool  # due before the cutoff
    open_minor: int
    open_company_minor: int
    total_minor: int
    total_company_minor: int
    count: int  # documents still open (amount open ≠ 0)
    oldest_due: date | None  # earliest due date among them


@dataclass(frozen=True, slots=True)
class OldestOpenInvoice:
    """A credit group's open posted invoice with the earliest due date, and the group's head customer."""

    credit_group_id: str
    erp_id: str
    number: str
    due_date: date
    customer_ref: str | None  # the head customer's reference, None without one (or not in the store)
    customer_name: str | None


@dataclass(frozen=True, slots=True)
class OrderSum:
    credit_group_id: str
    state: str
    currency: str
    company_id: str
    day: date | None
    uninvoiced_minor: int
    total_minor: int
    count: int


def _invoice_query(group, where, *, overdue_before: date, by_date: bool, base_currency: str | None):
    """Grouped invoice sums keyed by ``group`` (a column or a literal) and what conversion needs.

    With ``by_date``, sums are split per invoice date, except where the company currency is
    ``base_currency`` (those need no conversion, so no date).
    """
    i = t.invoices
    overdue = case((i.c.due_date < overdue_before, 1), else_=0)
    keys = [group, i.c.kind, i.c.state, i.c.currency, i.c.company_id, i.c.company_currency, overdue]
    if by_date:
        keys.append(case((i.c.company_currency == base_currency, None), else_=i.c.invoice_date))
    still_open = i.c.amount_open_minor != 0  # paid documents neither count nor date the overdue figures
    return (
        select(*keys, func.sum(i.c.amount_open_minor), func.sum(i.c.amount_open_company_minor),
               func.sum(i.c.amount_total_minor), func.sum(i.c.amount_total_company_minor),
               func.count(case((still_open, 1))), func.min(case((still_open, i.c.due_date))))
        .where(i.c.deleted_at.is_(None), i.c.state.in_(("posted", "draft")), *where)
        .group_by(*keys)
    )


def _invoice_rows(conn: Connection, query, by_date: bool) -> list[InvoiceSum]:
    rows = []
    for r in conn.execute(query):
        group, kind, state, currency, company, company_currency, is_overdue, *rest = r
        day = rest.pop(0) if by_date else None
        open_minor, open_company, total, total_company, count, oldest = rest
        rows.append(InvoiceSum(str(group), kind, state, currency, company, company_currency, day, bool(is_overdue),
                               int(open_minor or 0), int(open_company or 0), int(total or 0),
                               int(total_company or 0), int(count), oldest))
    return rows


def _order_query(group, where, *, exclude_erp_ids: Collection[str], by_date: bool, base_currency: str | None):
    o = t.orders
    keys = [group, o.c.state, o.c.currency, o.c.company_id]
    if by_date:
        keys.append(case((o.c.currency == base_currency, None), else_=func.date(o.c.order_date)))
    query = select(*keys, func.sum(o.c.amount_uninvoiced_minor), func.sum(o.c.amount_total_minor), func.count())
    query = query.where(o.c.deleted_at.is_(None), o.c.state.in_(("draft", "sent", "confirmed", "done")), *where)
    if exclude_erp_ids:  # the order under check, and orders whose reservation counts instead
        query = query.where(o.c.erp_id.not_in(sorted(exclude_erp_ids)))
    return query.group_by(*keys)


def _order_rows(conn: Connection, query, by_date: bool) -> list[OrderSum]:
    rows = []
    for r in conn.execute(query):
        group, state, currency, company, *rest = r
        day = rest.pop(0) if by_date else None
        if isinstance(day, str):  # SQLite's date() answers text
            day = date.fromisoformat(day)
        uninvoiced, total, count = rest
        rows.append(OrderSum(str(group), state, currency, company, day, int(uninvoiced or 0), int(total or 0),
                             int(count)))
    return rows


_INVOICE_SUMS = """
SELECT credit_group_id, kind, state, currency, company_id, company_currency,
       CASE WHEN due_day <> :no_day AND due_day < :cut THEN 1 ELSE 0 END AS overdue,{day}
       SUM(open_minor), SUM(open_company_minor), SUM(total_minor), SUM(total_company_minor), SUM(open_documents),
       MIN(CASE WHEN open_documents > 0 AND due_day <> :no_day THEN due_day END)
FROM invoice_balances WHERE source = :source{groups}
GROUP BY credit_group_id, kind, state, currency, company_id, company_currency, overdue{day_key}"""
_INVOICE_DAY = "\n       CASE WHEN company_currency = :base OR invoice_day = :no_day THEN NULL ELSE invoice_day END AS day,"

_ORDER_PARTS = """
SELECT customer_id, state, currency, company_id, CASE WHEN order_day = :no_day THEN NULL ELSE order_day END AS placed,
       uninvoiced_minor AS uninvoiced, total_minor AS total, documents
FROM order_balances WHERE source = :source{members}"""
_ORDER_EXCLUDED = """
UNION ALL
SELECT customer_id, state, currency, company_id, {order_day}, -amount_uninvoiced_minor, -amount_total_minor, -1
FROM orders WHERE source = :source AND {excluded} AND deleted_at IS NULL
  AND (state IN ('draft', 'sent') OR (state IN ('confirmed', 'done') AND amount_uninvoiced_minor <> 0)){members}"""
_ORDER_SUMS = """
SELECT COALESCE(c.credit_group_id, r.customer_id) AS grp, r.state, r.currency, r.company_id,{day}
       SUM(r.uninvoiced), SUM(r.total), SUM(r.documents)
FROM ({parts}) AS r LEFT JOIN customers AS c ON c.source = :source AND c.erp_id = r.customer_id
GROUP BY grp, r.state, r.currency, r.company_id{day_key}"""


def _invoice_sums_query(d: Dialect, source: str, groups: Sequence[str] | None, overdue_before: date,
                        by_date: bool, base_currency: str | None, gate: str = "") -> tuple[str, dict[str, Any]]:
    text = _INVOICE_SUMS.format(day=_INVOICE_DAY if by_date else "", day_key=", day" if by_date else "",
                                groups=("" if groups is None else " AND " + d.among("credit_group_id", "groups", groups))
                                + gate)
    params = {"source": source, "no_day": d.day(t.NO_DAY), "cut": d.day(overdue_before), "base": base_currency}
    if groups is not None:
        params["groups"] = d.values(groups)
    return d.sql(text), params


# the source's invoices counter (connector.store.book_cache) in front of the invoice sums, in one statement (one
# snapshot); the sums only when the counter is not the one the caller keeps sums for
_COUNTED_INVOICE_SUMS = """
SELECT g.generation, s.* FROM (SELECT COALESCE((SELECT generation FROM book_generations
                                                WHERE source = :source AND stream = 'invoices'), 0) AS generation) AS g
LEFT JOIN LATERAL ({sums}) AS s ON true"""


def counted_invoice_sums_query(d: Dialect, source: str, groups: Sequence[str], overdue_before: date, by_date: bool,
                               base_currency: str | None, kept: int) -> tuple[str, dict[str, Any]]:
    """:func:`exposure_sums`' invoice sums with the invoices counter of the source on every row, for a caller that
    keeps the sums it read with counter ``kept``: when the counter still is ``kept`` the sums are not computed
    (one row: the counter and no sums).  See :func:`counted_invoice_sums_rows`."""
    sums, params = _invoice_sums_query(d, source, groups, overdue_before, by_date, base_currency,
                                       gate=" AND g.generation <> :kept")
    return d.sql(_COUNTED_INVOICE_SUMS).format(sums=sums), params | {"kept": kept}


def counted_invoice_sums_rows(d: Dialect, cursor: Any, by_date: bool) -> tuple[int, list[InvoiceSum]]:
    """The counter and the sums of :func:`counted_invoice_sums_query` (none when it was the one kept)."""
    rows = cursor.fetchall()
    return int(rows[0][0]), _invoice_sums_rows(d, [row[1:] for row in rows if row[1] is not None], by_date)


def _invoice_sums_rows(d: Dialect, result: Any, by_date: bool) -> list[InvoiceSum]:
    rows = []
    for r in result:
        group, kind, state, currency, company, company_currency, is_overdue, *rest = r
        day = d.read_day(rest.pop(0)) if by_date else None
        open_minor, open_company, total, total_company, count, oldest = rest
        rows.append(InvoiceSum(str(group), kind, state, currency, company, company_currency, day, bool(is_overdue),
                               int(open_minor or 0), int(open_company or 0), int(total or 0),
                               int(total_company or 0), int(count or 0), d.read_day(oldest)))
    return rows


def _order_sums_query(d: Dialect, source: str, groups: Sequence[str] | None, exclude_erp_ids: Collection[str],
                      by_date: bool, base_currency: str | None, reserved_at: Any = None) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"source": source, "no_day": d.day(t.NO_DAY), "base": base_currency}
    members = ""
    if groups is not None:
        # the groups' members (customers index), and the groups' own ids: orders whose customer is not in the
        # store yet count for the group their customer id names
        params["groups"] = d.values(groups)
        listed = f"SELECT erp_id FROM customers WHERE source = :source AND " \
                 f"{d.among('credit_group_id', 'groups', groups)} UNION {d.listed('groups', groups)}"
        # PostgreSQL: the members as an array, looked up in the balances' and orders' indexes (its generic plan
        # for IN (subquery) expects a dozen members and hash-joins a scan of every order balance of the source)
        members = f" AND customer_id IN ({listed})" if d.sqlite else f" AND customer_id = ANY(ARRAY({listed}))"
    parts = _ORDER_PARTS.format(members=members)
    excluded = ""
    if exclude_erp_ids:
        params["excluded"] = d.values(exclude_erp_ids)
        excluded = d.among("erp_id", "excluded", exclude_erp_ids)
    if reserved_at is not None and groups is not None:  # orders whose reservation in the groups counts instead
        params["expires_at"] = reserved_at
        reserved = f"{COUNTING_ORDERS_SQL} AND {d.among('x.credit_group_id', 'groups', groups)}"
        listed = d.listed("excluded", exclude_erp_ids) + " UNION ALL " if exclude_erp_ids else ""
        excluded = f"erp_id IN ({listed}{reserved})"  # one list of ids: looked up in the orders' index, not an OR
    if excluded:
        parts += _ORDER_EXCLUDED.format(order_day="date(order_date)" if d.sqlite else "CAST(order_date AS date)",
                                        excluded=excluded, members=members)
    text = _ORDER_SUMS.format(parts=parts, day_key=", day" if by_date else "",
                              day="\n       CASE WHEN r.currency = :base THEN NULL ELSE r.placed END AS day,"
                              if by_date else "")
    return d.sql(text), params


def _order_sums_rows(d: Dialect, result: Any, by_date: bool) -> list[OrderSum]:
    rows = []
    for r in result:
        group, state, currency, company, *rest = r
        day = d.read_day(rest.pop(0)) if by_date else None
        uninvoiced, total, count = (int(v or 0) for v in rest)
        if count or uninvoiced or total:
            rows.append(OrderSum(str(group), state, currency, company, day, uninvoiced, total, count))
    return rows


def order_sums_query(d: Dialect, source: str, groups: Sequence[str], *, exclude_erp_ids: Collection[str],
                     by_date: bool, base_currency: str | None, reserved_at: Any) -> tuple[str, dict[str, Any]]:
    """The order sums of :func:`exposure_sums` (SQL and parameters), for a caller that sends them with other reads:
    the orders whose reservation in ``groups`` counts at ``reserved_at`` (as the reservations' column stores it)
    are left out as well, in SQL, without reading the reservations first."""
    return _order_sums_query(d, source, groups, exclude_erp_ids, by_date, base_currency, reserved_at)


def order_sums_rows(d: Dialect, cursor: Any, by_date: bool) -> list[OrderSum]:
    return _order_sums_rows(d, cursor.fetchall(), by_date)


def exposure_sums(
    conn: Connection,
    source: str,
    groups: Sequence[str] | None,
    *,
    overdue_before: date,
    exclude_erp_ids: Collection[str] = (),
    by_date: bool,
    base_currency: str | None = None,
    invoice_sums: Callable[[Callable[[], list[InvoiceSum]]], list[InvoiceSum]] | None = None,
) -> tuple[list[InvoiceSum], list[OrderSum]]:
    """Invoice sums per credit group (all groups when ``groups`` is None) from the running totals the database
    keeps (``invoice_balances``: a few rows per group, whatever the length of its history), and order sums
    per group through each order's customer (``order_balances``), less the orders in ``exclude_erp_ids``
    (the order under check, and orders whose reservation counts instead).  A credit check's hot path, so
    hand-written SQL run on the driver itself (building and compiling an expression costs more than the
    query), and on PostgreSQL both queries sent in one round trip (psycopg's pipeline).  ``invoice_sums``:
    given the read of the invoice sums, returns them (read, or kept from an earlier read: see
    :mod:`connector.store.book_cache`)."""
    d = Dialect.of(conn)
    invoices = _invoice_sums_query(d, source, groups, overdue_before, by_date, base_currency)
    orders = _order_sums_query(d, source, groups, exclude_erp_ids, by_date, base_currency)
    raw = conn.connection.driver_connection
    if d.sqlite or invoice_sums is not None:  # one after the other (the invoice sums perhaps kept)
        def read() -> list[InvoiceSum]:
            return _invoice_sums_rows(d, raw.execute(*invoices).fetchall(), by_date)

        return (invoice_sums(read) if invoice_sums is not None else read(),
                _order_sums_rows(d, raw.execute(*orders).fetchall(), by_date))
    with pipeline(raw):
        invoice_cursor, order_cursor = raw.execute(*invoices), raw.execute(*orders)
    return (_invoice_sums_rows(d, invoice_cursor.fetchall(), by_date),
            _order_sums_rows(d, order_cursor.fetchall(), by_date))


def project_sums(
    conn: Connection,
    source: str,
    project: str,
    *,
    overdue_before: date,
    exclude_erp_ids: Collection[str] = (),
    by_date: bool,
    base_currency: str | None = None,
) -> tuple[list[InvoiceSum], list[OrderSum]]:
    """Sums for one project: its orders, and the invoices that name one of them as their origin.

    Rows carry the project as their ``credit_group_id`` so that exposure folds them like a group.
    """
    i, o = t.invoices, t.orders
    numbers = select(o.c.number).where(o.c.source == source, o.c.project == project, o.c.deleted_at.is_(None))
    label = literal(project)
    invoices = _invoice_rows(conn, _invoice_query(
        label, [i.c.source == source, i.c.origin.in_(numbers)], overdue_before=overdue_before, by_date=by_date,
        base_currency=base_currency), by_date)
    orders = _order_rows(conn, _order_query(
        label, [o.c.source == source, o.c.project == project], exclude_erp_ids=exclude_erp_ids, by_date=by_date,
        base_currency=base_currency), by_date)
    return invoices, orders


def oldest_open_invoices(conn: Connection, source: str, *, due_before: date | None = None,
                         groups: Collection[str] | None = None) -> list[OldestOpenInvoice]:
    """Per credit group (of ``groups``, else all), the open posted invoice due first (ties: by number),
    in one windowed query.

    Paid invoices (nothing left open) and credit notes do not count.  With ``due_before`` only the
    groups whose oldest open invoice is due before that day are returned.
    """
    i, c = t.invoices, t.customers
    first = func.row_number().over(partition_by=i.c.credit_group_id,
                                   order_by=(i.c.due_date, i.c.number, i.c.erp_id)).label("first")
    where = [i.c.source == source, i.c.deleted_at.is_(None), i.c.state == "posted", i.c.kind == "invoice",
             i.c.amount_open_minor != 0, i.c.due_date.is_not(None)]
    if due_before is not None:
        where.append(i.c.due_date < due_before)
    if groups is not None:
        where.append(i.c.credit_group_id.in_(sorted(groups)))
    ranked = select(i.c.credit_group_id, i.c.erp_id, i.c.number, i.c.due_date, first).where(*where).subquery()
    head = (c.c.source == source) & (c.c.erp_id == ranked.c.credit_group_id)
    query = (select(ranked.c.credit_group_id, ranked.c.erp_id, ranked.c.number, ranked.c.due_date, c.c.ref, c.c.name)
             .select_from(ranked.outerjoin(c, head))
             .where(ranked.c.first == 1)
             .order_by(ranked.c.due_date, ranked.c.credit_group_id))
    return [OldestOpenInvoice(str(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in conn.execute(query)]


# ----------------------------------------------------------------------------------- receivable items

@dataclass(frozen=True, slots=True)
class ItemSum:
    """Open receivable items of a credit group summed by what conversion and the overdue cut need."""

    credit_group_id: str
    kind: str  # instalment | credit_note | payment
    currency: str
    company_id: str
    company_currency: str
    day: date | None  # document date, when grouped by date
    overdue: bool  # due before the cutoff
    open_minor: int  # signed, document currency
    open_company_minor: int  # signed, company currency
    documents: int  # distinct documents among the items
    oldest_due: date | None


def _open_items(where: list) -> list:
    r = t.receivable_items
    return [r.c.state == "posted", r.c.deleted_at.is_(None),
            (r.c.amount_open_minor != 0) | (r.c.amount_open_company_minor != 0), *where]


_HAS_RECEIVABLES = """
SELECT 1 FROM sync_cursors WHERE source = :source AND stream = 'receivables' AND resume_after_id IS NULL
UNION ALL
SELECT 1 FROM sync_runs WHERE source = :source AND stream = 'receivables' AND status = 'ok'
LIMIT 1"""


def has_receivables(conn: Connection, source: str) -> bool:
    """Whether ``source`` syncs its receivable items (the stream has a successful run, or a cursor that no first read
    is still filling): then exposure, overdue figures and alerts work from its items, else from its invoices.  A
    first read under way (or interrupted) does not count: its items are not all there yet.  On a credit check's
    hot path: SQL run on the driver."""
    d = Dialect.of(conn)
    raw = conn.connection.driver_connection
    return raw.execute(d.sql(_HAS_RECEIVABLES), {"source": source}).fetchone() is not None


# the open items (the partial index ix_receivable_items_open's condition, tables.OPEN_ITEM) summed per group
_RECEIVABLE_SUMS = """
SELECT credit_group_id, kind, currency, company_id, company_currency,
       CASE WHEN due_date < :cut THEN 1 ELSE 0 END AS overdue,{day}
       SUM(amount_open_minor), SUM(amount_open_company_minor), COUNT(DISTINCT COALESCE(document_id, erp_id)),
       MIN(due_date)
FROM receivable_items
WHERE source = :source AND state = 'posted' AND deleted_at IS NULL
  AND (amount_open_minor <> 0 OR amount_open_company_minor <> 0){groups}
GROUP BY credit_group_id, kind, currency, company_id, company_currency, overdue{day_key}"""
_RECEIVABLE_DAY = "\n       CASE WHEN company_currency = :base THEN NULL ELSE document_date END AS day,"


def receivable_sums(conn: Connection, source: str, groups: Sequence[str] | None, *, overdue_before: date,
                    by_date: bool, base_currency: str | None = None) -> list[ItemSum]:
    """Sums of the open receivable items per credit group (all groups when ``groups`` is None), read through the
    partial index of open items.  ``overdue``: due before ``overdue_before``; ``documents``: how many distinct
    documents (an invoice with two late instalments is one overdue invoice)."""
    d = Dialect.of(conn)
    query = receivable_sums_query(d, source, groups, overdue_before=overdue_before, by_date=by_date,
                                  base_currency=base_currency)
    return receivable_sums_rows(conn.connection.driver_connection.execute(*query), by_date)


def receivable_sums_query(d: Dialect, source: str, groups: Sequence[str] | None, *, overdue_before: date,
                          by_date: bool, base_currency: str | None = None) -> tuple[str, dict[str, Any]]:
    """The statement of :func:`receivable_sums` (SQL and parameters)."""
    text = _RECEIVABLE_SUMS.format(
        day=_RECEIVABLE_DAY if by_date else "", day_key=", day" if by_date else "",
        groups="" if groups is None else " AND " + d.among("credit_group_id", "groups", groups))
    params: dict[str, Any] = {"source": source, "cut": d.day(overdue_before), "base": base_currency}
    if groups is not None:
        params["groups"] = d.values(groups)
    return d.sql(text), params


def receivable_sums_rows(cursor: Any, by_date: bool) -> list[ItemSum]:
    rows = []
    for row in cursor.fetchall():
        group, kind, currency, company, company_currency, is_overdue, *rest = row
        day = rest.pop(0) if by_date else None
        open_minor, open_company, documents, oldest = rest
        rows.append(ItemSum(str(group), kind, currency, company, company_currency, Dialect.read_day(day),
                            bool(is_overdue), int(open_minor or 0), int(open_company or 0), int(documents or 0),
                            Dialect.read_day(oldest)))
    return rows


def oldest_open_instalments(conn: Connection, source: str, *, due_before: date | None = None,
                            groups: Collection[str] | None = None) -> list[OldestOpenInvoice]:
    """:func:`oldest_open_invoices` from the receivable items: per credit group, the invoice of the open instalment
    due first (an invoice whose first instalment is late is the oldest unpaid from that instalment's due date)."""
    r, c = t.receivable_items, t.customers
    first = func.row_number().over(partition_by=r.c.credit_group_id,
                                   order_by=(r.c.due_date, r.c.document_number, r.c.erp_id)).label("first")
    where = [r.c.source == source, r.c.kind == "instalment", r.c.due_date.is_not(None)]
    if due_before is not None:
        where.append(r.c.due_date < due_before)
    if groups is not None:
        where.append(r.c.credit_group_id.in_(sorted(groups)))
    ranked = select(r.c.credit_group_id, func.coalesce(r.c.document_id, r.c.erp_id).label("document"),
                    r.c.document_number, r.c.due_date, first).where(*_open_items(where)).subquery()
    head = (c.c.source == source) & (c.c.erp_id == ranked.c.credit_group_id)
    query = (select(ranked.c.credit_group_id, ranked.c.document, ranked.c.document_number, ranked.c.due_date, c.c.ref,
                    c.c.name)
             .select_from(ranked.outerjoin(c, head))
             .where(ranked.c.first == 1)
             .order_by(ranked.c.due_date, ranked.c.credit_group_id))
    return [OldestOpenInvoice(str(x[0]), x[1], x[2], x[3], x[4], x[5]) for x in conn.execute(query)]
