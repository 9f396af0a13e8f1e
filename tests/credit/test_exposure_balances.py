"""The running totals a credit check reads (invoice_balances, order_balances) stay equal to what the documents
themselves add, through any sequence of writes the sync makes: new documents, changed amounts, states, groups,
companies and dates, paid, cancelled, deleted by a full read and seen again; on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import itertools
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from connector.domain import Invoice, InvoiceKind, InvoiceState, OrderState, PaymentState, SalesOrder
from connector.exposure import ExposureCalculator, OrderUnderCheck
from connector.ports import Stream
from connector.store import tables as t
from connector.store.store import FullRun
from policy.model import Conversion, ExposureSettings

T = datetime(2026, 11, 1, tzinfo=UTC)
AS_OF = date(2026, 12, 2)
GROUPS = ("g1", "g2", "g3")
DAYS = (None, date(2026, 9, 1), date(2026, 10, 15), date(2026, 12, 1), date(2027, 1, 10))
_sources = itertools.count()

_migration = importlib.util.spec_from_file_location(
    "exposure_balances_migration",
    Path(__file__).parents[2] / "connector/store/migrations/versions/0010_exposure_balances.py")
MIGRATION = importlib.util.module_from_spec(_migration)
_migration.loader.exec_module(MIGRATION)  # type: ignore[union-attr]

amounts = st.sampled_from([Decimal(0), Decimal("0.01"), Decimal("12.50"), Decimal("999.99"), Decimal(5000)])

invoices = st.builds(
    lambda erp_id, group, kind, state, invoice_day, due_day, company, total, open_: (erp_id, Invoice(
        "", erp_id, f"INV/{erp_id}", group, group, kind, state, PaymentState.NOT_PAID, invoice_day, due_day, "USD",
        total, min(open_, total), company, "USD", total, min(open_, total), T)),
    st.sampled_from(["1", "2", "3", "4", "5", "6"]), st.sampled_from(GROUPS), st.sampled_from(list(InvoiceKind)),
    st.sampled_from(list(InvoiceState)), st.sampled_from(DAYS), st.sampled_from(DAYS), st.sampled_from(["1", "2"]),
    amounts, amounts)

orders = st.builds(
    lambda erp_id, customer, state, day, company, total, uninvoiced: (erp_id, SalesOrder(
        "", erp_id, f"S{erp_id}", customer, state, False,
        datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=23) if day else None, "USD", total,
        min(uninvoiced, total), company, T)),
    st.sampled_from(["1", "2", "3", "4", "5"]), st.sampled_from(GROUPS), st.sampled_from(list(OrderState)),
    st.sampled_from(DAYS), st.sampled_from(["1", "2"]), amounts, amounts)

# one step: write a page of invoices or orders (as a first read inserts them, or the usual way), or run a full
# read of a stream that sees only some of them
steps = st.one_of(
    st.tuples(st.just("invoices"), st.lists(invoices, min_size=1, max_size=4)),
    st.tuples(st.just("orders"), st.lists(orders, min_size=1, max_size=4)),
    st.tuples(st.just("full_invoices"), st.lists(invoices, max_size=3)),
    st.tuples(st.just("full_orders"), st.lists(orders, max_size=3)),
    st.tuples(st.just("fresh_invoices"), st.lists(invoices, min_size=1, max_size=4)),  # a first read's inserts
    st.tuples(st.just("fresh_orders"), st.lists(orders, min_size=1, max_size=4)),
)


def _apply(store, source: str, step) -> None:
    kind, items = step
    stream = Stream.INVOICES if kind.endswith("invoices") else Stream.ORDERS
    model = "account.move" if stream is Stream.INVOICES else "sale.order"
    records = [replace(record, source=source) for _, record in items]
    if not kind.startswith("full"):
        store.save_page(source, stream, model, records, [], None, fresh=kind.startswith("fresh"))
        return
    run = FullRun(store.start_run(source, stream, True), source, stream)
    if records:
        store.save_page(source, stream, model, records, [], None, run=run)
    store.sweep_unseen(run, model)




def _rows(conn, sql: str) -> set[tuple]:
    return {tuple(str(v) for v in row) for row in conn.exec_driver_sql(sql)}


def _balances_match_documents(store, source: str) -> None:
    dialect = store.engine.dialect.name
    with store.engine.connect() as conn:
        for spec, table in ((MIGRATION.INVOICES, t.invoice_balances), (MIGRATION.ORDERS, t.order_balances)):
            kept = {tuple(str(v) for v in row) for row in conn.execute(select(table).where(table.c.source == source))}
            totals = "SELECT " + MIGRATION._backfill(spec, dialect).split(" SELECT ", 1)[1]  # the backfill's query
            recomputed = _rows(conn, totals.replace(" WHERE ", f" WHERE {spec['table']}.source = '{source}' AND ", 1))
            assert kept == recomputed, spec["balances"]
            assert all(int(row[len(spec["keys"])]) > 0 for row in kept)  # no row left with no document


def _expected(store, source: str, exclude: str | None, overdue_before: date):
    """Exposure components and overdue figures per group, from the documents one by one."""
    parts = defaultdict(lambda: defaultdict(Decimal))
    overdue = defaultdict(lambda: [Decimal(0), 0, None])
    for inv in store.iter_invoices(source):
        group = inv.credit_group_id
        if inv.state is InvoiceState.POSTED and inv.kind is InvoiceKind.INVOICE:
            parts[group]["open_invoices"] += inv.amount_open
            if inv.amount_open and inv.due_date and inv.due_date < overdue_before:
                entry = overdue[group]
                entry[0] += inv.amount_open
                entry[1] += 1
                entry[2] = min(filter(None, [entry[2], inv.due_date]))
        elif inv.state is InvoiceState.POSTED:
            parts[group]["credit_notes"] -= inv.amount_open
        elif inv.state is InvoiceState.DRAFT and inv.kind is InvoiceKind.INVOICE:
            parts[group]["draft_invoices"] += inv.amount_total
    for order in store.iter_orders(source):
        if order.erp_id == exclude:
            continue
        if order.state in (OrderState.CONFIRMED, OrderState.DONE):
            parts[order.customer_id]["uninvoiced_orders"] += order.amount_uninvoiced
        elif order.state in (OrderState.DRAFT, OrderState.SENT):
            parts[order.customer_id]["quotations"] += order.amount_total
    return parts, overdue


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(steps, min_size=1, max_size=8), st.sampled_from([None, "1", "3"]), st.booleans())
def test_running_totals_equal_the_documents(store, history, exclude, by_date):
    """After every step, exposure of each group and of all three (the sums a process keeps between checks
    included: they must be read again after every write) equals a document-by-document sum."""
    source = f"s{next(_sources)}"
    settings_ = ExposureSettings(quotations=True, draft_invoices=True, conversion=Conversion.DOCUMENT_DATE if by_date else Conversion.TODAY)
    order = OrderUnderCheck(exclude, Decimal(0), "USD", None, AS_OF) if exclude else None
    for step in history:
        _apply(store, source, step)
        calculator = ExposureCalculator(store, settings_, "USD", AS_OF, T)
        parts, overdue = _expected(store, source, exclude, AS_OF - timedelta(days=30))
        figures = calculator.compute(source, list(GROUPS), overdue_days=30, order=order)
        for group in GROUPS:
            figures |= calculator.compute(source, [group], overdue_days=30, order=order) if group != "g2" else {}
            exposure, late = figures[group]
            got = {k: v for k, v in exposure.components.items() if v and k != "current_order"}
            assert got == {k: v for k, v in parts[group].items() if v}, group
            assert (late.amount, late.count, late.oldest_due) == tuple(overdue[group]), group
    _balances_match_documents(store, source)
