"""Sync from the Odoo sandbox over real sockets, into SQLite and PostgreSQL."""

from __future__ import annotations

import xmlrpc.client
from collections import defaultdict
from decimal import Decimal

import pytest

from connector.domain import InvoiceKind, InvoiceState, OrderState, PaymentState
from connector.ports import Stream
from connector.sync import SyncEngine

from .conftest import make_source

POSTED = [("move_type", "in", ["out_invoice", "out_refund"]), ("state", "=", "posted")]


def rpc(sb):
    return xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/object", allow_none=True)


def call(sb, model, method, *args, **kwargs):
    return rpc(sb).execute_kw("demo", 2, "admin", model, method, list(args), kwargs)


def sync(store, source, **kwargs):
    engine = SyncEngine(store, batch_size=kwargs.pop("batch_size", 50), overlap_seconds=5)
    report = engine.sync_source(source, **kwargs)
    return {s.stream: s for s in report.streams}


def erp_open_sums(sb) -> dict[tuple[str, str], Decimal]:
    """Σ amount_residual per (currency, move_type) of posted documents, as the ERP reports it."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for raw in call(sb, "account.move", "search_read", POSTED, fields=["amount_residual", "currency_id", "move_type"]):
        sums[(raw["currency_id"][1], raw["move_type"])] += Decimal(repr(raw["amount_residual"]))
    return {k: v.quantize(Decimal("0.01")) if k[0] != "JPY" else v.quantize(Decimal(1)) for k, v in sums.items()}


def store_open_sums(store) -> dict[tuple[str, str], Decimal]:
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for inv in store.iter_invoices("odoo"):
        if inv.state is InvoiceState.POSTED:
            move_type = "out_refund" if inv.kind is InvoiceKind.CREDIT_NOTE else "out_invoice"
            sums[(inv.currency, move_type)] += inv.amount_open
    return dict(sums)


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc"])
def test_first_sync_matches_what_the_erp_reports(sandbox, store, protocol):
    source = make_source(sandbox, protocol)
    stats = sync(store, source)
    ctx = {"context": {"active_test": False}}
    assert store.count(Stream.CUSTOMERS, "odoo") == call(sandbox, "res.partner", "search_count", [], **ctx)
    assert store.count(Stream.ORDERS, "odoo") == call(sandbox, "sale.order", "search_count", [])
    assert store.count(Stream.CURRENCY_RATES, "odoo") == call(sandbox, "res.currency.rate", "search_count", [])
    posted = [i for i in store.iter_invoices("odoo") if i.state is InvoiceState.POSTED]
    assert len(posted) == call(sandbox, "account.move", "search_count", POSTED)
    assert store_open_sums(store) == erp_open_sums(sandbox)
    assert len({k[0] for k in store_open_sums(store)}) >= 3
    for s in stats.values():
        assert s.quarantined == 0 and s.read == s.written > 0


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc"])
def test_second_sync_without_changes_reads_nothing(sandbox, store, protocol):
    source = make_source(sandbox, protocol)
    sync(store, source)
    again = sync(store, source)
    for stream, s in again.items():
        assert s.read == 0 and s.written == 0, stream
        assert s.calls <= 2, (stream, s.calls)


def test_incremental_sync_picks_up_changes(sandbox, store, clock):
    source = make_source(sandbox)
    sync(store, source)
    clock.tick(60)
    invoices = call(sandbox, "account.move", "search_read",
                    POSTED + [("payment_state", "=", "not_paid"), ("move_type", "=", "out_invoice")],
                    fields=["id", "amount_residual", "invoice_date_due"], limit=2, order="id")
    changed, paid = invoices
    call(sandbox, "account.move", "write", [changed["id"]], {"invoice_date_due": "2027-01-31"})
    sandbox.register_payment(paid["id"], 10)
    order = call(sandbox, "sale.order", "search_read", [("state", "=", "draft")], fields=["id"], limit=1)[0]
    call(sandbox, "sale.order", "action_cancel", [order["id"]])
    customer = call(sandbox, "res.partner", "search_read", [("is_company", "=", True), ("customer_rank", ">", 0)],
                    fields=["id"], limit=1)[0]
    call(sandbox, "res.partner", "write", [customer["id"]], {"active": False})

    stats = sync(store, source)

    assert stats["invoices"].read == 2 and stats["invoices"].written == 2
    assert stats["orders"].read == 1 and stats["customers"].read == 1
    by_id = {i.erp_id: i for i in store.iter_invoices("odoo")}
    assert str(by_id[str(changed["id"])].due_date) == "2027-01-31"
    after_payment = by_id[str(paid["id"])]
    assert after_payment.amount_open == Decimal(repr(paid["amount_residual"])) - 10
    assert after_payment.payment_state is PaymentState.PARTIAL
    cancelled = next(o for o in store.iter_orders("odoo") if o.erp_id == str(order["id"]))
    assert cancelled.state is OrderState.CANCELLED
    archived = next(c for c in store.iter_customers("odoo") if c.erp_id == str(customer["id"]))
    assert archived.active is False
    assert str(customer["id"]) not in {c.erp_id for c in store.iter_customers("odoo", include_inactive=False)}
    assert store_open_sums(store) == erp_open_sums(sandbox)


def test_record_written_in_the_cursor_second_is_not_missed(sandbox, store, clock):
    """Odoo stamps write_date with the transaction start: a record committed after our read can carry
    the same second as the cursor and a lower id.  The overlap window re-reads it."""
    source = make_source(sandbox)
    clock.tick(60)
    ids = call(sandbox, "account.move", "search", POSTED, order="id", limit=2)
    call(sandbox, "account.move", "write", [ids[1]], {"ref": "late-1"})
    sync(store, source)
    assert store.get_scan_state("odoo", Stream.INVOICES).changed_at == clock.now  # the newest change read
    # same second, lower id, committed after the read
    call(sandbox, "account.move", "write", [ids[0]], {"invoice_date_due": "2027-02-28"})
    stats = sync(store, source)
    assert stats["invoices"].read == 1
    assert {i.erp_id: i for i in store.iter_invoices("odoo")}[str(ids[0])].due_date.isoformat() == "2027-02-28"


def test_malformed_record_is_quarantined_and_the_rest_syncs(sandbox, store):
    bad_id = call(sandbox, "account.move", "search", POSTED, order="id", limit=1)[0]
    # a currency created in the ERP whose code is not ISO 4217
    odd = call(sandbox, "res.currency", "create", {"name": "ZZZ", "symbol": "Z", "rounding": 0.01})
    sandbox.set_raw("account.move", bad_id, currency_id=odd)
    source = make_source(sandbox)
    stats = sync(store, source)
    assert stats["invoices"].quarantined == 1
    [entry] = store.quarantine("odoo")
    assert entry.erp_id == str(bad_id) and entry.reason == "field 'currency_id': unknown currency 'ZZZ'"
    assert entry.payload["currency_id"] == [odd, "ZZZ"]
    posted = call(sandbox, "account.move", "search_count", POSTED)
    assert len([i for i in store.iter_invoices("odoo") if i.state is InvoiceState.POSTED]) == posted - 1
    # a quiet second sync does not count it again
    assert sync(store, source)["invoices"].quarantined == 0


def test_full_sync_reconciles_deleted_records(sandbox, store):
    source = make_source(sandbox)
    sync(store, source)
    victim = call(sandbox, "account.move", "search", POSTED + [("amount_residual", ">", 0)], limit=1)[0]
    sandbox.delete("account.move", victim)
    assert sync(store, source)["invoices"].deleted == 0  # incremental reads cannot see deletions
    stats = sync(store, source, full=True)
    assert stats["invoices"].deleted == 1
    assert str(victim) not in {i.erp_id for i in store.iter_invoices("odoo")}
    assert store_open_sums(store) == erp_open_sums(sandbox)


def test_json2_on_odoo_19(sandbox19, store):
    source = make_source(sandbox19, "json2", password=sandbox19.api_key)
    stats = sync(store, source)
    assert source.version.major == 19
    assert store_open_sums(store) == erp_open_sums(sandbox19)
    assert stats["orders"].written == call(sandbox19, "sale.order", "search_count", [])
    again = sync(store, source)
    assert all(s.read == 0 and s.calls <= 2 for s in again.values())


def test_a_customer_s_language_and_registration_number_are_synced(sandbox, store, clock):
    """The dunning letters are written in the partner's language; the insurer feed matches buyers by their
    company registration number (Odoo's Company ID) as well as by VAT."""
    source = make_source(sandbox)
    partner = call(sandbox, "res.partner", "create", {"name": "Registry SA", "is_company": True, "lang": "en_US",
                                                      "company_registry": "0477.472.701"})
    sync(store, source)
    [customer] = [c for c in store.iter_customers("odoo") if c.erp_id == str(partner)]
    assert (customer.lang, customer.registry) == ("en_US", "0477.472.701")
    clock.tick(60)
    call(sandbox, "res.partner", "write", [partner], {"company_registry": False})
    assert sync(store, source)["customers"].written == 1
    assert store.get_customer("odoo", str(partner)).registry is None
