"""A credit check's reads sent together to PostgreSQL: one round trip instead of one per read.

A check reads the credit group's head and the order's customer, the reservations that count, the invoice,
order and receivable sums and the amount disputed, each a
small indexed statement (and at confirmation, first, the group's lock for the decision: see
:mod:`connector.store.decision_locks`), and on a database server each a round trip (with the server's and the driver's work
around it, more than the statement itself).  Before deciding, the checker says what it is going to read
(:class:`CheckReads`, from the order's facts and the policy's defaults); the store sends it all in one psycopg
pipeline, in the check's transaction (one round trip after its BEGIN, which psycopg waits for on its own), and
keeps each answer under the exact arguments of the store method that reads it (:func:`connector.store.ahead.key`)
until the check's reads end.  Asked with those arguments, the method takes the answer
kept, once; asked with others (a customer file's own overdue days, a custom grouping, reads after a write), it
reads as it always did.  So reading ahead saves round trips and never changes an answer.

The invoice sums come with the source's invoices counter and are computed only when it moved since the sums
this process keeps were read (:mod:`connector.store.book_cache`), as SQLite's checks keep them.  The order sums
leave out the orders whose reservation counts (exposure counts the reservation instead) in
SQL, so that they need not wait for the reservations to be read.  The check's transaction uses the generic
plans of the statements (``plan_cache_mode``, PostgreSQL 12 or later): with its values, the server would plan
each sums statement anew at every check, which costs more than running it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from . import tables as t
from .ahead import key
from .aggregates import counted_invoice_sums_query, counted_invoice_sums_rows, order_sums_query, order_sums_rows, \
    receivable_sums_query, receivable_sums_rows
from .book_cache import BookCache, sums_key
from .cases import DISPUTED_SQL
from .driver_sql import Dialect, DriverStatement
from .decision_locks import PendingLock
from .pipelines import kept_cursors, pipeline
from .reservations import counting_in, reservation_of_row


@dataclass(frozen=True, slots=True)
class CheckReads:
    """What a check of an order for one credit group reads (see :mod:`connector.exposure`)."""

    source: str
    customers: tuple[str, ...]  # ERP ids: the group's head, the order's customer
    group: str
    now: datetime  # reservations count at this time
    order_erp_id: str | None  # the order under check: left out of the order sums
    overdue_before: date
    by_date: bool
    base_currency: str
    reservations: bool  # the policy counts uninvoiced orders, and so reservations
    disputed: bool  # the policy leaves the amount disputed out of overdue
    lock: bool = False  # a decision at confirmation: the group's lock is taken first (see .decision_locks)


LOCK_TAKEN = ("lock_taken",)  # the answers' key of the lock taken (a LockedForDecision)


def exposure_key(source: str, groups: Sequence[str], overdue_before: date, by_date: bool,
                 exclude_orders: Collection[str], base_currency: str | None) -> tuple:
    return key("exposure_sums", source, groups, overdue_before, by_date, frozenset(exclude_orders), base_currency)


def receivable_key(source: str, groups: Sequence[str], overdue_before: date, by_date: bool,
                   base_currency: str | None) -> tuple:
    return key("receivable_sums", source, groups, overdue_before, by_date, base_currency)


def read_ahead(conn: Connection, reads: CheckReads, customer: DriverStatement, receivables: bool,
               books: BookCache) -> dict[tuple, Any]:
    """Every read of ``reads`` in one round trip on ``conn`` (a PostgreSQL connection in the check's transaction);
    the answers by :func:`key`.  ``customer``: the statement that reads a customer; ``receivables``: the source
    syncs receivable items (then their sums are read too); ``books``: the invoice sums kept between checks (see
    :mod:`connector.store.book_cache`): the invoice sums are read with the source's counter, and computed only
    when it moved since the sums kept were read."""
    d = Dialect.of(conn)
    raw = conn.connection.driver_connection
    groups = [reads.group]
    excluded = {reads.order_erp_id} if reads.order_erp_id else set()
    reserved_at = None
    if reads.reservations:
        reserved_at = t.reservations.c.expires_at.type._cached_bind_processor(conn.dialect)(reads.now)
    order_sql = order_sums_query(d, reads.source, groups, exclude_erp_ids=excluded, by_date=reads.by_date,
                                 base_currency=reads.base_currency, reserved_at=reserved_at)
    book = sums_key("invoices", reads.source, groups, reads.overdue_before, reads.by_date, reads.base_currency)
    kept = books.generation(book)
    invoice_sql = counted_invoice_sums_query(d, reads.source, groups, reads.overdue_before, reads.by_date,
                                             reads.base_currency, -1 if kept is None else kept)
    if not conn.in_transaction():
        conn.begin()
    cursors = kept_cursors(conn)  # every answer is read before this function returns
    with pipeline(raw, cursors):
        # the statements are prepared (psycopg prepares what runs often): the server plans them once, for any
        # group, instead of planning each execution anew for its values, which costs more than running them (at
        # confirmation the lock's statement sets it); at confirmation the group's lock first: each statement sees
        # what was committed before it, so every read after the lock sees every decision of the group taken before
        # this one, and none is taken meanwhile
        lock = PendingLock(conn, reads.source, reads.group, reads.order_erp_id, cursors) if reads.lock else None
        if lock is None:
            cursors.execute_unread("SET LOCAL plan_cache_mode = force_generic_plan")
        customers = {erp_id: customer.send(conn, {"source": reads.source, "erp_id": erp_id}, cursors)
                     for erp_id in dict.fromkeys(reads.customers)}
        counting = counting_in(groups)(conn).send(conn, {"source": reads.source, "expires_at": reads.now,
                                                        "groups": d.values(groups)}, cursors) if reads.reservations else None
        invoice_cursor, order_cursor = cursors.execute(*invoice_sql), cursors.execute(*order_sql)
        items = cursors.execute(*receivable_sums_query(
            d, reads.source, groups, overdue_before=reads.overdue_before, by_date=reads.by_date,
            base_currency=reads.base_currency)) if receivables else None
        disputed = cursors.execute(d.sql(DISPUTED_SQL), {"source": reads.source, "group": reads.group}) \
            if reads.disputed else None
    answers: dict[tuple, Any] = {}
    for erp_id, cursor in customers.items():
        answers[key("customer", reads.source, erp_id)] = customer.first_of(cursor)
    if counting is not None:
        reserved = [reservation_of_row(row, "active") for row in counting_in(groups)(conn).rows_of(counting)]
        answers[key("reservations", reads.source, groups, reads.now)] = reserved
        excluded |= {r.order_erp_id for r in reserved}
    generation, invoices = counted_invoice_sums_rows(d, invoice_cursor, reads.by_date)
    if (still := books.get(book, generation)) is not None:  # the book has not moved: the sums kept
        invoices = still
    elif generation != kept:  # read now
        books.put(book, generation, invoices)
    else:  # kept when the statement was sent, dropped from the cache since: exposure_sums reads them itself
        invoices = None
    if invoices is not None:
        answers[exposure_key(reads.source, groups, reads.overdue_before, reads.by_date, excluded,
                             reads.base_currency)] = (invoices, order_sums_rows(d, order_cursor, reads.by_date))
    if items is not None:
        answers[receivable_key(reads.source, groups, reads.overdue_before, reads.by_date, reads.base_currency)] = \
            receivable_sums_rows(items, reads.by_date)
    if disputed is not None:
        row = disputed.fetchone()
        answers[key("disputed", reads.source, reads.group)] = (int(row[0]), str(row[1])) if row else None
    if lock is not None:
        locked = answers[LOCK_TAKEN] = lock.result()
        answers[key("decision_version", reads.source, reads.group)] = locked.before  # none came in meanwhile
    return answers
