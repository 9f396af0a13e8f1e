"""Incremental SAP cycles: the credit master's totals tell which customers to read again.

An unchanged cycle reads the customer list, one credit master per customer and
credit control area and the current rates, and nothing else; a changed
customer (a posting, a cleared item, a new order) is read again in full; a
customer with a delivery-blocked order is read every cycle; everything is read
again after ``reconcile_hours`` and on ``sync --full``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connector.store import Store
from connector.sync import SyncEngine

from .conftest import make_source
from .test_source import expected_sums

BATCH = 10


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'sap.db'}")
    yield s
    s.close()


def cycle(store, client, clock, *, full=False, batch_size=BATCH, **kw):
    source = make_source(client, clock=clock, **kw)
    report = SyncEngine(store, batch_size=batch_size, clock=clock).sync_source(source, full=full)
    return {s.stream: s for s in report.streams}


def operations(sb, since: int) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for call in sb.calls[since:]:
        counts[call.operation] += 1
    return dict(counts)


def stored_sums(store, customer):
    sums = defaultdict(Decimal)
    for inv in store.iter_invoices("sap"):
        if inv.customer_id == customer:
            sums[inv.currency] += inv.sign * inv.amount_open
    return dict(sums)


def test_an_unchanged_cycle_reads_no_item_and_costs_a_bounded_number_of_calls(sb, client, store):
    clock = Clock()
    first = cycle(store, client, clock)
    customers = len(sb.data.customers)
    assert first["customers"].written == customers and first["invoices"].written > 0
    assert first["invoices"].kept == 0

    mark = len(sb.calls)
    again = cycle(store, client, clock)
    ops = operations(sb, mark)
    assert all(s.written == 0 and s.deleted == 0 for s in again.values())
    assert again["invoices"].read == 0 and again["invoices"].kept == customers
    assert ops.get("ArAccGetopenitems", 0) == 0 and ops.get("CustomerGetdetail2", 0) == 0
    blocked = {o.sold_to for o in sb.data.orders.values() if o.dlv_block}
    # only customers with a delivery-blocked order have their orders read again (2 sales organisations)
    assert ops.get("SalesorderGetlist", 0) == 2 * len(blocked)
    pages = math.ceil((customers + 1) / BATCH)
    assert ops["CustomerGetlist"] == 1 + pages  # logon check + the list, read once for the three streams
    assert ops["ZfiCreditDetail"] == 2 * customers  # one per customer and company code's credit area
    assert ops["ExchrateGetcurrentrates"] == 1
    assert sum(ops.values()) == 1 + pages + 2 * customers + 2 * len(blocked) + 1


def test_a_cleared_item_and_a_new_posting_are_read_for_that_customer_only(sb, client, store):
    clock = Clock()
    cycle(store, client, clock)
    paid = next(i for i in sb.open_items("0000100001", "1000") if i["DbCrInd"] == "S" and i["Currency"] == "EUR")
    sb.clear_item(paid["DocNo"], company_code="1000")
    sb.set_open_item("0000100002", "250.00", company_code="1000", days_ago=1)

    mark = len(sb.calls)
    stats = cycle(store, client, clock)
    ops = operations(sb, mark)
    assert ops["ArAccGetopenitems"] == 2 * 2  # two customers, two company codes each
    assert (stats["invoices"].written, stats["invoices"].deleted) == (1, 1)
    assert stats["invoices"].kept == len(sb.data.customers) - 2
    for customer in ("0000100001", "0000100002"):
        assert stored_sums(store, customer) == expected_sums(sb, customer, "1000")


def test_a_release_in_sap_is_seen_at_the_next_cycle(sb, client, store):
    clock = Clock()
    cycle(store, client, clock)
    held = next(o for o in sb.data.orders.values() if o.dlv_block)
    assert next(o for o in store.iter_orders("sap") if o.erp_id == held.vbeln).erp_hold
    sb.set_delivery_block(held.vbeln, "")  # released in VA02: the credit totals do not move
    stats = cycle(store, client, clock)
    assert stats["orders"].written == 1
    assert not next(o for o in store.iter_orders("sap") if o.erp_id == held.vbeln).erp_hold


def test_changes_the_totals_cannot_see_are_read_after_the_reconcile_period_or_on_full(sb, client, store):
    clock = Clock()
    cycle(store, client, clock, reconcile_hours=6)
    # an invoice paid and another of exactly the same amount posted: receivables unchanged
    old = next(i for i in sb.open_items("0000100002", "1000") if i["DbCrInd"] == "S" and not i["SpGlInd"])
    sb.clear_item(old["DocNo"], company_code="1000")
    new = sb.set_open_item("0000100002", old["LcAmount"], company_code="1000", days_ago=0)
    assert cycle(store, client, clock, reconcile_hours=6)["invoices"].written == 0  # not visible yet

    clock.now += timedelta(hours=6, seconds=1)
    stats = cycle(store, client, clock, reconcile_hours=6)
    assert (stats["invoices"].written, stats["invoices"].deleted) == (1, 1)
    assert stats["invoices"].kept == 0  # every customer is due for its reconciliation
    numbers = {i.number for i in store.iter_invoices("sap") if i.customer_id == "0000100002"}
    assert (new.get("RefDocNo") or new["DocNo"]) in numbers

    # sync --full never skips
    full = cycle(store, client, clock, full=True, reconcile_hours=6)
    assert all(s.kept == 0 for s in full.values())


def test_a_customer_without_credit_master_is_read_every_cycle(sb, client, store):
    clock = Clock()
    victim = "0000100002"
    for key in [k for k in sb.data.credit if k[0] == victim]:
        del sb.data.credit[key]
    cycle(store, client, clock)
    mark = len(sb.calls)
    stats = cycle(store, client, clock)
    asked = {c.params.get("Customer") for c in sb.calls[mark:] if c.operation == "ArAccGetopenitems"}
    assert asked == {victim}
    assert stats["invoices"].kept == len(sb.data.customers) - 1
