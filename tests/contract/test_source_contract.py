"""The contract every ERP adapter meets, run against the Odoo and the SAP adapter alike.

Each adapter runs against its own sandbox over real sockets.  The assertions are
the core's expectations: typed records, exact money, paging that neither loses
nor repeats, a counted read, one way of detecting change (cursors or snapshot),
and the error taxonomy for bad credentials and unreachable servers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Callable

import pytest

from adapters.odoo.client import OdooClient
from adapters.odoo.sandbox import OdooSandbox
from adapters.odoo.source import OdooSource
from adapters.sap_soap.client import SapClient
from adapters.sap_soap.sandbox import SapSandbox
from adapters.sap_soap.source import SapSoapSource
from connector.domain import Customer, CurrencyRate, Invoice, ReceivableItem, SalesOrder
from connector.errors import AuthenticationFailed, RetryableError
from connector.money import currency_precision
from connector.ports import Cursor, Rejected, Stream
from ..support.net import free_port

TYPES = {Stream.CUSTOMERS: Customer, Stream.INVOICES: Invoice, Stream.ORDERS: SalesOrder,
         Stream.CURRENCY_RATES: CurrencyRate, Stream.RECEIVABLES: ReceivableItem}


@dataclass
class Adapter:
    make: Callable[..., object]  # (url, password, retry_attempts) -> source
    url: str
    snapshot: bool


def odoo_source(url, password="admin"):
    client = OdooClient(source="erp", url=url, database="demo", username="admin", secret=lambda: password,
                        protocol="jsonrpc", timeout=10, retry_attempts=1)
    return OdooSource("erp", client)


def sap_source(url, password="admin"):
    client = SapClient(source="erp", base_url=url, client="100", username="admin", secret=lambda: password,
                       timeout=10, retry_attempts=1, retry_wait_max=0.1)
    return SapSoapSource("erp", client, ["1000", "3000"], {"1000": "1000", "3000": "3000"}, None, "Europe/Berlin",
                         company_currencies={"1000": "EUR", "3000": "JPY"})


@pytest.fixture(scope="module", params=["odoo", "sap"])
def adapter(request):
    if request.param == "odoo":
        with OdooSandbox(version="17", data="demo") as sb:
            yield Adapter(odoo_source, sb.url, snapshot=False)
    else:
        with SapSandbox() as sb:
            yield Adapter(sap_source, sb.url, snapshot=True)


def scans(source, stream) -> bool:
    """The engine's reading (connector.sync._scans): the source reads the stream by change scans."""
    check = getattr(source, "scans", None)
    return bool(check(stream)) if callable(check) else False


def read_all(source, stream, batch):
    entries = []
    pages = 0
    whole = source.read_all(stream, 0, batch) if scans(source, stream) else source.read(stream, None, batch)
    for page in whole:
        pages += 1
        entries.extend(page.entries)
    return entries, pages


def exact(amount: Decimal, currency: str) -> bool:
    return isinstance(amount, Decimal) and -amount.as_tuple().exponent <= currency_precision(currency)


def test_open_describes_the_source(adapter):
    source = adapter.make(adapter.url)
    info = source.open()
    assert info.name == "erp" and info.server_version and info.companies
    for company in info.companies:
        currency_precision(company.currency)  # an ISO 4217 code
    assert set(source.streams()) <= set(Stream) and Stream.INVOICES in source.streams()
    assert all(source.model_of(s) for s in source.streams())
    source.close()


def test_records_are_typed_and_money_is_exact(adapter):
    source = adapter.make(adapter.url)
    source.open()
    for stream in source.streams():
        entries, _ = read_all(source, stream, 1000)
        assert entries, stream
        for entry in entries:
            item = entry.item
            if isinstance(item, Rejected):
                continue
            assert isinstance(item, TYPES[stream]) and isinstance(item.erp_id, str) and item.source == "erp"
            assert item.changed_at.tzinfo is not None and item.changed_at.utcoffset() == UTC.utcoffset(None)
            if isinstance(item, Invoice):
                assert exact(item.amount_open, item.currency) and exact(item.amount_total, item.currency)
                assert exact(item.amount_open_company, item.company_currency)
                assert item.amount_open >= 0 and (item.due_date is None or isinstance(item.due_date, date))
            if isinstance(item, ReceivableItem):  # signed: credit notes and payments negative
                assert exact(item.amount_open, item.currency) and exact(item.amount_open_company, item.company_currency)
                assert item.due_date is None or isinstance(item.due_date, date)
            if isinstance(item, SalesOrder):
                assert exact(item.amount_total, item.currency) and exact(item.amount_uninvoiced, item.currency)
            if isinstance(item, Customer) and item.credit_limit is not None:
                assert exact(item.credit_limit, item.credit_limit_currency)
    source.close()


def test_paging_neither_loses_nor_repeats(adapter):
    source = adapter.make(adapter.url)
    source.open()
    for stream in (Stream.CUSTOMERS, Stream.INVOICES):
        big, _ = read_all(source, stream, 1000)
        small, pages = read_all(source, stream, 7)
        keys = [(e.item.model if isinstance(e.item, Rejected) else "", e.item.erp_id) for e in small]
        assert len(keys) == len(set(keys)), f"{stream}: a record came twice"
        assert sorted(keys) == sorted((e.item.model if isinstance(e.item, Rejected) else "", e.item.erp_id)
                                      for e in big)
        assert pages > 1
        assert source.count(stream) == len(big)
    source.close()


def test_change_detection(adapter):
    source = adapter.make(adapter.url)
    source.open()
    entries, _ = read_all(source, Stream.INVOICES, 50)
    positions = [e.position for e in entries]
    if adapter.snapshot:
        # no change times: every read is whole, unchanged records are recognised by their content
        assert all(p is None for p in positions) and source.is_snapshot(Stream.INVOICES)
    else:
        # change times shared by many records: scans list (id, change time), fetch brings the records
        assert scans(source, Stream.INVOICES)
        assert all(isinstance(p, Cursor) for p in positions)
        newest = source.newest_change(Stream.INVOICES)
        assert newest == max(p.changed_at for p in positions)
        listed = [s for stamps in source.scan(Stream.INVOICES, newest, None, 50) for s in stamps]
        assert listed and {s.changed_at for s in listed} == {newest}
        assert {s.erp_id for s in listed} == {e.item.erp_id for e in entries if e.position.changed_at == newest}
        assert [s for stamps in source.scan(Stream.INVOICES, newest + timedelta(seconds=1), None, 50)
                for s in stamps] == []
        fetched = source.fetch(Stream.INVOICES, [s.erp_id for s in listed])
        assert sorted(e.item.erp_id for e in fetched.entries) == sorted(s.erp_id for s in listed)
    source.close()


def test_change_scans_list_what_whole_reads_bring(adapter):
    """A scan over all time lists every record a whole read brings, once, in pages of any size; a whole read
    resumes after the last id of a page without repeating it."""
    source = adapter.make(adapter.url)
    source.open()
    for stream in [s for s in source.streams() if scans(source, s)]:
        entries, _ = read_all(source, stream, 1000)
        listed = [s for stamps in source.scan(stream, datetime(1970, 1, 1, tzinfo=UTC), None, 7) for s in stamps]
        assert sorted(s.erp_id for s in listed) == sorted(e.item.erp_id for e in entries), stream
        assert len({s.erp_id for s in listed}) == len(listed), stream
        first = next(iter(source.read_all(stream, 0, 7)))
        rest = [e.item.erp_id for page in source.read_all(stream, first.last_id, 1000) for e in page.entries]
        assert sorted([e.item.erp_id for e in first.entries] + rest) == sorted(e.item.erp_id for e in entries)
    source.close()


def is_snapshot(source, stream) -> bool:
    """The engine's reading (connector.sync._is_snapshot): per stream, else per source."""
    check = getattr(source, "is_snapshot", None)
    return bool(check(stream)) if callable(check) else bool(getattr(source, "snapshot_streams", False))


def test_cursor_streams_resume_after_their_position(adapter):
    """Every stream that is not a snapshot has positions, in order, and a read from the last one brings
    nothing beyond it (SAP's rates bring back the rows still valid at that position: not new)."""
    source = adapter.make(adapter.url)
    source.open()
    cursor_streams = [s for s in source.streams() if not is_snapshot(source, s) and not scans(source, s)]
    if not adapter.snapshot:
        assert not cursor_streams, "Odoo reads every stream by change scans"
        return
    assert cursor_streams, "SAP has one cursor stream: currency rates"
    for stream in cursor_streams:
        entries, _ = read_all(source, stream, 50)
        positions = [e.position for e in entries]
        assert entries and all(isinstance(p, Cursor) for p in positions), stream
        assert positions == sorted(positions), stream
        last = positions[-1]
        again = [e for page in source.read(stream, last, 50) for e in page.entries]
        assert all(e.position is not None and e.position <= last for e in again), stream
        assert {e.item.erp_id for e in again} <= {e.item.erp_id for e in entries}, stream
    source.close()


def test_error_taxonomy(adapter):
    with pytest.raises(AuthenticationFailed):
        adapter.make(adapter.url, password="wrong").open()
    port = free_port()
    with pytest.raises(RetryableError):
        adapter.make(f"http://127.0.0.1:{port}").open()

