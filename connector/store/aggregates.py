"""Aggregate queries for exposure: sums per credit group, computed by the database.

Nothing here loads documents one by one: each query groups by the few keys that
conversion needs (currency, company, and the document date only when asked),
so the work is done by indexed SQL whatever the number of invoices.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, case, func, literal, select

from . import tables as t


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


def _order_query(group, where, *, exclude_erp_ids: Collection[str], by_date: bool, base_currency: str | None,
                 join_customers: bool):
    o, c = t.orders, t.customers
    keys = [group, o.c.state, o.c.currency, o.c.company_id]
    if by_date:
        keys.append(case((o.c.currency == base_currency, None), else_=func.date(o.c.order_date)))
    query = select(*keys, func.sum(o.c.amount_uninvoiced_minor), func.sum(o.c.amount_total_minor), func.count())
    if join_customers:
        query = query.select_from(o.outerjoin(c, (c.c.source == o.c.source) & (c.c.erp_id == o.c.customer_id)))
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


def invoice_sums(
    conn: Connection,
    source: str,
    groups: Sequence[str] | None,
    *,
    overdue_before: date,
    by_date: bool,
    base_currency: str | None = None,
) -> list[InvoiceSum]:
    """Sums per credit group (all groups when ``groups`` is None)."""
    i = t.invoices
    where = [i.c.source == source]
    if groups is not None:
        where.append(i.c.credit_group_id.in_(list(groups)))
    query = _invoice_query(i.c.credit_group_id, where, overdue_before=overdue_before, by_date=by_date,
                           base_currency=base_currency)
    return _invoice_rows(conn, query, by_date)


def order_sums(
    conn: Connection,
    source: str,
    groups: Sequence[str] | None,
    *,
    exclude_erp_ids: Collection[str] = (),
    by_date: bool,
    base_currency: str | None = None,
) -> list[OrderSum]:
    """Sums per credit group, through each order's customer (all groups when ``groups`` is None)."""
    o, c = t.orders, t.customers
    where = [o.c.source == source]
    if groups is not None:
        # the groups' members first (customers index), then their orders (orders index); an order whose
        # customer is not in the store yet counts for the group its customer id names
        members = set(conn.execute(
            select(c.c.erp_id).where(c.c.source == source, c.c.credit_group_id.in_(list(groups)))
        ).scalars())
        where.append(o.c.customer_id.in_(sorted(members | set(groups))))
    query = _order_query(func.coalesce(c.c.credit_group_id, o.c.customer_id), where, exclude_erp_ids=exclude_erp_ids,
                         by_date=by_date, base_currency=base_currency, join_customers=True)
    return _order_rows(conn, query, by_date)


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
        base_currency=base_currency, join_customers=False), by_date)
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
