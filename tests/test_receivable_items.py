"""Receivable items in the store (migration 0012) and exposure from them, on SQLite and PostgreSQL."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from connector.domain import InvoiceState, ReceivableItem, ReceivableKind
from connector.exposure import ExposureCalculator
from connector.ports import Cursor, Stream
from connector.store import Store
from connector.store.engine import SCHEMA_HEAD, create_store_engine
from policy.model import ExposureSettings

from .test_store import _migrate, _triggers, invoice

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
AS_OF = date(2026, 12, 10)


def item(erp_id: str, **changes) -> ReceivableItem:
    base = ReceivableItem(
        source="odoo", erp_id=erp_id, kind=ReceivableKind.INSTALMENT, document_id="1", document_number="INV/2026/00001",
        customer_id="10", credit_group_id="10", state=InvoiceState.POSTED, document_date=date(2026, 10, 1),
        due_date=date(2026, 10, 1), currency="USD", amount_open=Decimal("300.00"), company_id="1",
        company_currency="USD", amount_open_company=Decimal("300.00"), changed_at=T0 + timedelta(seconds=int(erp_id)),
    )
    return replace(base, **changes)


def page(store: Store, records, stream=Stream.RECEIVABLES, model="account.move.line"):
    position = Cursor(max(r.changed_at for r in records), max(int(r.erp_id) for r in records))
    return store.save_page("odoo", stream, model, records, [], position)


def figures(store: Store, days: int = 30):
    calculator = ExposureCalculator(store, ExposureSettings(), "USD", AS_OF)
    return calculator.compute("odoo", ["10"], overdue_days=days)["10"]


def test_items_round_trip_and_an_unchanged_item_is_not_written(store):
    items = [item("1"), item("2", due_date=date(2026, 12, 30), amount_open=Decimal("700.00"),
                           amount_open_company=Decimal("700.00")),
             item("3", kind=ReceivableKind.PAYMENT, document_id="9", document_number="PBNK1/2026/00001",
                  amount_open=Decimal("-1000.00"), amount_open_company=Decimal("-1000.00"))]
    assert page(store, items).written_ids == {"1", "2", "3"}
    assert page(store, items).written_ids == set()
    assert list(store.iter_receivables("odoo")) == sorted(items, key=lambda i: i.due_date)
    assert store.has_receivables("odoo") and not store.has_receivables("sap")
    paid = replace(items[0], amount_open=Decimal("0.00"), amount_open_company=Decimal("0.00"),
                   changed_at=T0 + timedelta(minutes=5))
    assert page(store, [paid]).written_ids == {"1"}
    assert [i.erp_id for i in store.iter_receivables("odoo", open_only=True)] == ["3", "2"]


def test_exposure_counts_items_once_the_source_syncs_them(store):
    # the invoice as a document: 1,000.00 open, due on its last instalment's date (not overdue on 10 December)
    store.save_page("odoo", Stream.INVOICES, "account.move", [invoice(
        "1", currency="USD", company_currency="USD", amount_total=Decimal("1000.00"), amount_open=Decimal("1000.00"),
        amount_total_company=Decimal("1000.00"), amount_open_company=Decimal("1000.00"), due_date=date(2026, 12, 30),
        invoice_date=date(2026, 10, 1))], [], None)
    exposure, overdue = figures(store)
    assert exposure.components["open_invoices"] == Decimal("1000.00") and overdue.amount == 0  # invoice level

    page(store, [item("1"), item("2", due_date=date(2026, 12, 30), amount_open=Decimal("700.00"),
                                  amount_open_company=Decimal("700.00")),
                 item("3", kind=ReceivableKind.PAYMENT, document_id="9", document_number="PBNK1/2026/00001",
                      amount_open=Decimal("-250.00"), amount_open_company=Decimal("-250.00"))])
    exposure, overdue = figures(store)
    assert exposure.components["open_invoices"] == Decimal("1000.00")
    assert exposure.components["credit_notes"] == Decimal("-250.00") and exposure.total == Decimal("750.00")
    assert (overdue.amount, overdue.count, overdue.oldest_due, overdue.days(AS_OF)) == (
        Decimal("300.00"), 1, date(2026, 10, 1), 70)
    assert overdue.oldest_open_due == date(2026, 10, 1)
    [oldest] = store.oldest_open_invoices("odoo", due_before=AS_OF)
    assert (oldest.erp_id, oldest.number, oldest.due_date) == ("1", "INV/2026/00001", date(2026, 10, 1))
    # a draft or deleted item does not count
    page(store, [item("3", kind=ReceivableKind.PAYMENT, document_id="9", document_number="PBNK1/2026/00001",
                      state=InvoiceState.DRAFT, amount_open=Decimal("-250.00"), amount_open_company=Decimal("-250.00"),
                      changed_at=T0 + timedelta(hours=1))])
    assert figures(store)[0].total == Decimal("1000.00")


def test_migration_0012_adds_the_table_and_keeps_the_running_totals(store_url):
    engine = create_store_engine(store_url)
    _migrate(engine, "0011")
    triggers = _triggers(engine)
    assert triggers
    engine.dispose()
    with Store.open(store_url) as store:
        assert store.schema_status() == (SCHEMA_HEAD, SCHEMA_HEAD)
        assert _triggers(store.engine) == triggers
        store.save_page("odoo", Stream.INVOICES, "account.move", [invoice("1")], [], None)
        page(store, [item("1")])
        store.engine.dispose()  # PostgreSQL: the session's staging table (cg_page_…) holds the table's sequence
        _migrate(store.engine, "0011", down=True)
        assert _triggers(store.engine) == triggers
        _migrate(store.engine, "head")
        assert _triggers(store.engine) == triggers
        assert store.count(Stream.INVOICES, "odoo") == 1 and store.count(Stream.RECEIVABLES, "odoo") == 0


def test_a_source_that_starts_syncing_items_is_seen_by_another_process_within_a_second(tmp_path, monkeypatch):
    """A check asks whether the source syncs receivable items; a "no" is believed for a second (the answer changes
    once in a source's life), a "yes" for good; the process that writes the items knows at once."""
    import connector.store.store as store_module

    now = [1000.0]
    monkeypatch.setattr(store_module, "_monotonic", lambda: now[0])
    url = f"sqlite:///{tmp_path}/shared.db"
    with Store.open(url) as checks, Store.open(url) as sync:
        sync.save_page("odoo", Stream.INVOICES, "account.move", [invoice(
            "1", currency="USD", company_currency="USD", amount_total=Decimal("1000.00"),
            amount_open=Decimal("1000.00"), amount_total_company=Decimal("1000.00"),
            amount_open_company=Decimal("1000.00"), due_date=date(2026, 12, 30))], [], None)
        assert not checks.has_receivables("odoo") and figures(checks)[1].amount == 0
        page(sync, [item("1")])  # 300.00 due 1 October: overdue, seen only from the items
        assert sync.has_receivables("odoo")  # the writing process knows at once
        now[0] += 0.5
        assert not checks.has_receivables("odoo")  # another process: within the second, still "no"
        now[0] += 0.6
        assert checks.has_receivables("odoo")
        assert figures(checks)[1].amount == Decimal("300.00")
