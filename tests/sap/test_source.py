"""The SAP source and client against the SAP sandbox over real HTTP."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from adapters.sap_soap.errors import CustomerError
from connector.domain import Customer, Invoice, InvoiceKind, OrderState, SalesOrder
from connector.errors import AuthenticationFailed, FatalError, RetryableError
from connector.ports import Stream
from connector.store import Store
from connector.sync import SyncEngine

from .conftest import make_client, make_source


def expected_sums(sb, customer, company_code):
    sums = defaultdict(Decimal)
    for i in sb.open_items(customer, company_code):
        if i["SpGlInd"]:
            continue
        sums[i["Currency"]] += i["AmtDoccur"] if i["DbCrInd"] == "S" else -i["AmtDoccur"]
    return dict(sums)


def records(source, stream, batch_size=7):
    pages = list(source.read(stream, None, batch_size))
    assert all(e.position is None for p in pages for e in p.entries)
    return [r for p in pages for r in p.records], [r for p in pages for r in p.rejected]


def open_sums(invoices, customer):
    sums = defaultdict(Decimal)
    for inv in invoices:
        if inv.customer_id == customer:
            sums[inv.currency] += inv.sign * inv.amount_open
    return dict(sums)


def test_open_and_streams(sb, source):
    info = source.open()
    assert {(c.erp_id, c.currency) for c in info.companies} == {("1000", "EUR"), ("3000", "JPY")}
    assert source.streams() == (Stream.CUSTOMERS, Stream.INVOICES, Stream.ORDERS, Stream.CURRENCY_RATES,
                                Stream.RECEIVABLES)
    assert [source.model_of(s) for s in source.streams()] == ["KNA1", "BSID", "VBAK", "TCURR", "BSID"]
    assert [source.is_snapshot(s) for s in source.streams()] == [True, True, True, False, True]


def test_open_probes_company_currencies(sb, client):
    source = make_source(client, company_currencies={})
    assert {c.erp_id: c.currency for c in source.open().companies} == {"1000": "EUR", "3000": "JPY"}


def test_invoices_match_sandbox_open_items(sb, source):
    invoices, rejected = records(source, Stream.INVOICES)
    assert rejected == []
    assert all(isinstance(i, Invoice) for i in invoices)
    for customer, cc in (("0000100001", "1000"), ("0000100026", "3000")):
        assert open_sums(invoices, customer) == expected_sums(sb, customer, cc)
    assert open_sums(invoices, "0000100026") == {"JPY": Decimal("1250000") + 3300000 + 880000 - 110000}
    c1 = [i for i in invoices if i.customer_id == "0000100001"]
    assert len(c1) == 7  # 8 open items, the down payment (SpGlInd A) left out
    assert sum(1 for i in c1 if i.kind is InvoiceKind.CREDIT_NOTE) == 2
    assert source.special_gl_skipped == 2  # 0000100001 and 0000100026 have one down payment each
    usd = next(i for i in c1 if i.currency == "USD")
    assert (usd.amount_open, usd.amount_open_company, usd.company_currency) == \
        (Decimal("2500.00"), Decimal("2312.50"), "EUR")
    jpy = [i for i in invoices if i.currency == "JPY"]
    assert jpy and all(i.amount_open == i.amount_open.to_integral() for i in jpy)
    # the payment without baseline date falls back to the document date
    pay5 = next(i for i in invoices if i.customer_id == "0000100005" and i.kind is InvoiceKind.CREDIT_NOTE)
    assert pay5.due_date == pay5.invoice_date


def test_customers_with_credit_master(sb, source):
    customers, rejected = records(source, Stream.CUSTOMERS)
    assert rejected == [] and all(isinstance(c, Customer) for c in customers)
    by_id = {c.erp_id: c for c in customers}
    assert len(by_id) == 30
    c3 = by_id["0000100003"]
    assert (c3.credit_limit, c3.credit_limit_currency) == (Decimal("20000.00"), "EUR")
    assert c3.credit_blocked and c3.risk_category == "C03"
    assert not by_id["0000100001"].credit_blocked
    assert by_id["0000100026"].credit_limit_currency == "JPY"


def test_orders_with_net_values(sb, source):
    orders, rejected = records(source, Stream.ORDERS)
    assert rejected == [] and all(isinstance(o, SalesOrder) for o in orders)
    by_id = {o.erp_id: o for o in orders}
    o1 = by_id["0000012001"]
    assert (o1.amount_total, o1.currency, o1.customer_id, o1.state) == \
        (Decimal("5710.00"), "EUR", "0000100001", OrderState.CONFIRMED)
    assert by_id["0000012002"].erp_hold is True
    jpy = sorted(o.amount_total for o in orders if o.customer_id == "0000100026")
    assert jpy == [Decimal("690000"), Decimal("800000")]
    assert {o.company_id for o in orders if o.currency == "JPY"} == {"3000"}
    assert len(orders) == len(sb.data.orders)


def test_orders_in_internal_currency_format():
    from adapters.sap_soap.sandbox import SapSandbox

    with SapSandbox(curr_internal=True) as sb:
        source = make_source(make_client(sb), curr_internal=True)
        orders, _ = records(source, Stream.ORDERS, batch_size=50)
    assert sorted(o.amount_total for o in orders if o.customer_id == "0000100026") == \
        [Decimal("690000"), Decimal("800000")]


def test_wrong_password(sb):
    client = make_client(sb, password="Wr0ng-S3cret")
    with pytest.raises(AuthenticationFailed) as info:
        make_source(client).open()
    assert "logon refused" in str(info.value) and "Wr0ng-S3cret" not in str(info.value)
    assert client.calls == 1


def test_503_is_retryable_after_retries(sb):
    client = make_client(sb, retry_attempts=2)
    sb.fail_next(status=503, count=2)
    with pytest.raises(RetryableError, match="503"):
        client.customer_list(max_rows=1)
    assert client.calls == 2
    sb.fail_next(status=503, count=1)
    assert len(client.customer_list(max_rows=1)) == 1  # retried once, then fine
    assert client.calls == 4


def test_timeout_is_retryable(sb):
    client = make_client(sb, timeout=0.3)
    sb.delay_next(1.5)
    with pytest.raises(RetryableError, match="timed out"):
        client.customer_list(max_rows=1)


def test_rfc_exception_is_fatal_naming_it(sb, client):
    sb.raise_next("ForeignLock", "Order locked by JSMITH", "V1", "042")
    with pytest.raises(FatalError, match="ForeignLock") as info:
        client.call("ZCG_SALESORDER_SET_DLV_BLOCK", "ZcgSalesorderSetDlvBlock", Salesdocument="0000012001",
                    DlvBlock="01", Testrun="", Return={})
    assert not isinstance(info.value, RetryableError)
    assert "V1 042" in str(info.value)


def test_missing_service_authorization_is_fatal(sb, client):
    sb.deny_service("Z_BAPI_CUSTOMER_GETLIST")
    with pytest.raises(FatalError) as info:
        client.customer_list(max_rows=1)
    assert not isinstance(info.value, (RetryableError, AuthenticationFailed))


def test_unknown_customer(sb, client, source):
    with pytest.raises(CustomerError) as info:
        client.open_items("0000199999", "1000", "2024-06-30")
    assert (info.value.msg_id, info.value.number, info.value.erp_id) == ("FN", "502", "0000199999")
    with pytest.raises(CustomerError):  # no ALPHA conversion on the server
        client.open_items("100001", "1000", "2024-06-30")
    # the source skips the unknown customer and goes on
    assert source._invoice_entries({"Customer": "199999"}, "2024-06-30") == []
    assert source._customer_entries({"Customer": "0000199999", "Name": "x"}, "2024-06-30") == []


def test_unknown_company_code_is_fatal(sb, client):
    with pytest.raises(FatalError, match="F5 165"):
        client.open_items("0000100001", "9999", "2024-06-30")


def test_sync_into_store_mark_and_sweep(sb, source, tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'sap.db'}")
    try:
        engine = SyncEngine(store, batch_size=10)
        report = engine.sync_source(source, full=True)
        stats = {s.stream: s for s in report.streams}
        total_items = sum(1 for i in sb.data.items.values() if not i["SpGlInd"])
        assert stats["customers"].written == 30
        assert stats["invoices"].written == total_items
        assert stats["orders"].written == len(sb.data.orders)
        assert all(s.quarantined == 0 for s in report.streams)

        def stored_sum(customer):
            sums = defaultdict(Decimal)
            for inv in store.iter_invoices("sap"):
                if inv.customer_id == customer:
                    sums[inv.currency] += inv.sign * inv.amount_open
            return dict(sums)

        before = stored_sum("0000100001")
        assert before == expected_sums(sb, "0000100001", "1000")

        # unchanged second full sync writes nothing
        again = engine.sync_source(source, full=True)
        assert sum(s.written for s in again.streams) == 0
        assert sum(s.deleted for s in again.streams) == 0

        # an invoice gets paid: it leaves the open list → marked deleted, open sum drops
        paid = next(i for i in sb.open_items("0000100001", "1000") if i["DbCrInd"] == "S" and i["Currency"] == "EUR")
        sb.clear_item(paid["DocNo"], company_code="1000")
        third = engine.sync_source(source, full=True)
        inv_stats = next(s for s in third.streams if s.stream == "invoices")
        assert (inv_stats.written, inv_stats.deleted) == (0, 1)
        after = stored_sum("0000100001")
        assert after["EUR"] == before["EUR"] - paid["AmtDoccur"]
        assert after == expected_sums(sb, "0000100001", "1000")
    finally:
        store.close()


def test_receivable_items_are_the_open_items_signed(sb, source):
    """Each open item (one per due date) is a receivable item: debits instalments, the credits of payment documents
    payments on account, other credits credit notes; the same amounts as the invoices stream, signed."""
    from connector.domain import ReceivableItem, ReceivableKind

    source.open()
    invoices, _ = records(source, Stream.INVOICES)
    items, rejected = records(source, Stream.RECEIVABLES)
    assert rejected == [] and all(isinstance(i, ReceivableItem) for i in items)
    assert sorted(i.erp_id for i in items) == sorted(i.erp_id for i in invoices)
    by_id = {i.erp_id: i for i in invoices}
    for item in items:
        invoice = by_id[item.erp_id]
        assert item.amount_open == invoice.sign * invoice.amount_open and item.due_date == invoice.due_date
        assert (item.kind is ReceivableKind.INSTALMENT) == (invoice.sign > 0)
        assert item.document_id == item.erp_id.rsplit("/", 1)[0]
    assert {i.kind for i in items} == set(ReceivableKind)
