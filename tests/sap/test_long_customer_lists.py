"""A customer list longer than any page: every customer and item read once, pages of bounded size, and no
cache that grows with the list (past ``share_limit`` each stream reads the list again, a page at a time)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from adapters.sap_soap.sandbox import SapSandbox
from connector.ports import Rejected, Stream
from connector.store import Store
from connector.sync import SyncEngine

from .conftest import make_client, make_source

TODAY = dt.date(2024, 6, 30)
ITEMS = 1200  # and 60 more customers


@pytest.fixture(scope="module")
def large():
    with SapSandbox(clock=lambda: TODAY, data=f"large:{ITEMS}") as sandbox:
        yield sandbox


def read(source, stream, batch):
    pages = list(source.read(stream, None, batch))
    ids = [e.item.erp_id for p in pages for e in p.entries if not isinstance(e.item, Rejected)]
    return pages, ids


@pytest.mark.parametrize("share_limit", [5000, 40])
def test_every_customer_and_item_once_in_bounded_pages(large, share_limit):
    client = make_client(large)
    source = make_source(client, credit_list=True)
    source.share_limit = share_limit
    source.open()
    customers_pages, customers = read(source, Stream.CUSTOMERS, 25)
    assert len(customers) == len(set(customers)) == 90  # 30 demo customers, 60 more
    assert {s.key for p in customers_pages for s in p.scopes} == set(customers)
    pages, items = read(source, Stream.INVOICES, 25)
    counts = Counter(items)
    assert len(counts) == len(items) > ITEMS - 200  # items once each (special G/L items stay out)
    assert all(len(p.entries) + len(p.scopes) < 25 + 60 for p in pages)  # a page ends at the customer crossing 25
    listed = sum(1 for call in large.calls if call.operation == "CustomerGetlist")
    source.read(Stream.ORDERS, None, 25).__next__()
    more = sum(1 for call in large.calls if call.operation == "CustomerGetlist") - listed
    assert (more == 0) if share_limit > 90 else (more >= 1)  # a long list is read again by the next stream
    client.close()


def test_unchanged_cycle_over_a_long_list_keeps_everything(large, tmp_path):
    client = make_client(large)
    with Store.open(f"sqlite:///{tmp_path / 'sap.db'}") as store:
        engine = SyncEngine(store, batch_size=25)
        first = make_source(client, credit_list=True)
        first.share_limit = 40
        engine.sync_source(first)
        stored = store.count(Stream.INVOICES, "sap")
        again = make_source(client, credit_list=True)
        again.share_limit = 40
        stats = {s.stream: s for s in engine.sync_source(again).streams}
        assert stats["invoices"].written == 0 and stats["invoices"].deleted == 0
        assert stats["invoices"].kept >= 80  # customers whose credit totals did not move: not read again
        assert store.count(Stream.INVOICES, "sap") == stored
    client.close()
