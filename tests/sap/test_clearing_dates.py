"""Cleared SAP items get their clearing date: an instalment gone from the open list is looked up once at a past key
date (``BAPI_AR_ACC_GETOPENITEMS`` returns it with ``ClearDate``) and stored as settled, so that SAP groups get the
payment figures (days late, share paid late); one whose clearing cannot be found that way is swept as before.
Real sockets: the SAP sandbox and a store (SQLite, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.sap_soap import mapping
from adapters.sap_soap.source import store_items
from connector.domain import ReceivableKind
from connector.figures import figures
from connector.sync import SyncEngine
from policy.model import Conversion

from .conftest import TODAY, make_source

CUSTOMER = "0000100003"


def clock() -> datetime:
    return datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC)


def cycle(store, client, *, full=False):
    source = make_source(client, clock=clock, stored_items=store_items(store, "sap"))
    report = SyncEngine(store, batch_size=10, clock=clock).sync_source(source, full=full)
    assert not report.errors
    return source, {s.stream: s for s in report.streams}


def clearing_calls(sb, since: int) -> list[dict]:
    """The open-item calls at a key date before today (the clearing look-ups)."""
    return [c.params for c in sb.calls[since:] if c.operation == "ArAccGetopenitems"
            and c.params.get("Keydate") not in (None, "", TODAY.isoformat())]


def items(store, customer=CUSTOMER):
    return {i.erp_id: i for i in store.iter_receivables("sap", customer=customer)}


def erp_id(raw: dict) -> str:
    return mapping.item_erp_id({k: str(v) for k, v in raw.items()})


def payment_figures(store):
    same = lambda source, amount, frm, to, company, day: amount  # noqa: E731 — EUR company, EUR base
    groups, _ = figures(store, ["sap"], TODAY, months=3, base_currency="EUR", conversion=Conversion.TODAY,
                        convert=same, group=CUSTOMER)
    return groups[("sap", CUSTOMER)].total.payments


def test_a_cleared_instalment_is_stored_settled_on_its_clearing_date(sb, client, store):
    posted = TODAY - dt.timedelta(days=60)  # 1 May, due 15 May
    late = sb.set_open_item(CUSTOMER, "300.00", posted=posted, netterms=14)
    on_time = sb.set_open_item(CUSTOMER, "700.00", posted=posted, netterms=14)
    cycle(store, client)
    assert items(store)[erp_id(late)].amount_company == Decimal("300.00")  # an open item's own amount
    assert payment_figures(store).average_days_late() is None

    sb.clear_item(late["DocNo"], company_code="1000", clear_date=dt.date(2024, 6, 4))  # 20 days late
    sb.clear_item(on_time["DocNo"], company_code="1000", clear_date=dt.date(2024, 5, 15))
    mark = len(sb.calls)
    source, stats = cycle(store, client)
    asked = clearing_calls(sb, mark)
    # one call for the customer, at the day the vanished items were entered (both open then, cleared since)
    assert [(p["Customer"], p["Companycode"], p["Keydate"]) for p in asked] == [(CUSTOMER, "1000", "2024-05-01")]
    assert source.clearing_calls == 1
    assert stats["receivables"].calls == 1 and stats["receivables"].deleted == 0
    assert stats["receivables"].written == 2
    stored = items(store)
    for raw, paid_on in ((late, dt.date(2024, 6, 4)), (on_time, dt.date(2024, 5, 15))):
        item = stored[erp_id(raw)]
        assert item.kind is ReceivableKind.INSTALMENT and item.paid_on == paid_on
        assert item.amount_open == 0 and item.amount_open_company == 0 and not item.is_open
        assert item.amount_company == Decimal(raw["LcAmount"]) and item.due_date == dt.date(2024, 5, 15)
    open_ids = {i.erp_id for i in store.iter_receivables("sap", open_only=True, customer=CUSTOMER)}
    assert not open_ids & {erp_id(late), erp_id(on_time)}
    # the invoices stream keeps open invoices only: the cleared ones are swept there, as before
    assert stats["invoices"].deleted == 2

    payments = payment_figures(store)
    assert (payments.paid, payments.items) == (Decimal("1000.00"), 2)
    assert payments.average_days_late() == Decimal("6.0")  # (300 × 20 + 700 × 0) ÷ 1000
    assert payments.share_paid_late() == Decimal("0.3000")


@pytest.fixture
def settled(sb, client, store):
    """A customer with an instalment settled by the last cycle."""
    raw = sb.set_open_item(CUSTOMER, "450.00", posted=TODAY - dt.timedelta(days=40), netterms=30)
    cycle(store, client)
    sb.clear_item(raw["DocNo"], company_code="1000", clear_date=TODAY - dt.timedelta(days=3))
    cycle(store, client)
    assert items(store)[erp_id(raw)].paid_on == TODAY - dt.timedelta(days=3)
    return raw


def test_an_unchanged_cycle_makes_no_extra_call(sb, client, store, settled):
    mark = len(sb.calls)
    _, stats = cycle(store, client)
    assert not [c for c in sb.calls[mark:] if c.operation == "ArAccGetopenitems"]
    assert stats["receivables"].calls == 0 and stats["receivables"].written == 0
    assert stats["receivables"].deleted == 0
    assert items(store)[erp_id(settled)].paid_on == TODAY - dt.timedelta(days=3)


def test_settled_items_stay_when_the_customer_is_read_again_or_on_full(sb, client, store, settled):
    sb.set_open_item(CUSTOMER, "80.00", days_ago=1)  # the totals move: the customer is read again
    mark = len(sb.calls)
    _, stats = cycle(store, client)
    assert not clearing_calls(sb, mark)  # nothing vanished: no past key date asked
    assert (stats["receivables"].written, stats["receivables"].deleted) == (1, 0)  # the new item only
    _, full = cycle(store, client, full=True)
    assert (full["receivables"].written, full["receivables"].deleted) == (0, 0)
    item = items(store)[erp_id(settled)]
    assert item.paid_on == TODAY - dt.timedelta(days=3) and item.amount_company == Decimal("450.00")


@pytest.mark.parametrize("how", ["cleared on its posting day", "reversed"])
def test_a_cleared_item_whose_clearing_cannot_be_found_is_swept(sb, client, store, how):
    posted = TODAY - dt.timedelta(days=5)
    fields = {"ReversalDoc": "0100009999"} if how == "reversed" else None
    raw = sb.set_open_item(CUSTOMER, "125.00", posted=posted, fields=fields)
    cycle(store, client)
    assert items(store)[erp_id(raw)].is_open
    sb.clear_item(raw["DocNo"], company_code="1000", clear_date=posted if how != "reversed" else TODAY)
    mark = len(sb.calls)
    source, stats = cycle(store, client)
    assert len(clearing_calls(sb, mark)) == source.clearing_calls == 1
    assert stats["receivables"].deleted == 1
    assert erp_id(raw) not in items(store)
    assert payment_figures(store).average_days_late() is None


def test_items_cleared_on_different_days_are_asked_at_their_own_days(sb, client, store):
    """The newest vanished item was entered on the day an older one was cleared: a second past key date finds
    the older one."""
    old = sb.set_open_item(CUSTOMER, "200.00", posted=TODAY - dt.timedelta(days=30))
    new = sb.set_open_item(CUSTOMER, "90.00", posted=TODAY - dt.timedelta(days=10))
    cycle(store, client)
    sb.clear_item(old["DocNo"], company_code="1000", clear_date=TODAY - dt.timedelta(days=10))
    sb.clear_item(new["DocNo"], company_code="1000", clear_date=TODAY - dt.timedelta(days=2))
    mark = len(sb.calls)
    source, stats = cycle(store, client)
    assert [p["Keydate"] for p in clearing_calls(sb, mark)] == [str(TODAY - dt.timedelta(days=d)) for d in (10, 30)]
    assert source.clearing_calls == 2 and stats["receivables"].deleted == 0
    stored = items(store)
    assert stored[erp_id(old)].paid_on == TODAY - dt.timedelta(days=10)
    assert stored[erp_id(new)].paid_on == TODAY - dt.timedelta(days=2)


def test_without_the_store_reader_cleared_items_are_swept(sb, client, store):
    raw = sb.set_open_item(CUSTOMER, "60.00", days_ago=20)
    engine = SyncEngine(store, batch_size=10, clock=clock)
    engine.sync_source(make_source(client, clock=clock))
    sb.clear_item(raw["DocNo"], company_code="1000", clear_date=TODAY - dt.timedelta(days=1))
    mark = len(sb.calls)
    stats = {s.stream: s for s in engine.sync_source(make_source(client, clock=clock)).streams}
    assert not clearing_calls(sb, mark) and stats["receivables"].deleted == 1


def test_a_cleared_credit_keeps_its_kind():
    ctx = mapping.MappingContext("sap", "Europe/Berlin")
    raw = {"CompCode": "1000", "Customer": "0000100003", "FiscYear": "2024", "DocNo": "1600000001", "ItemNum": "001",
           "DbCrInd": "H", "DocType": "DG", "Currency": "EUR", "LocCurrcy": "EUR", "AmtDoccur": "40.00",
           "LcAmount": "40.00", "PstngDate": "2024-05-02", "DocDate": "2024-05-02", "EntryDate": "2024-05-02",
           "BlineDate": "2024-05-02", "ClearDate": "2024-06-01", "ClrDocNo": "1500000001", "SpGlInd": ""}
    item = mapping.map_cleared_receivable(ctx, raw)
    assert item is not None and item.kind is ReceivableKind.CREDIT_NOTE
    assert (item.amount_open, item.amount_company, item.paid_on) == (0, Decimal("-40.00"), dt.date(2024, 6, 1))
    assert mapping.map_cleared_receivable(ctx, dict(raw, ClearDate="0000-00-00")) is None
    assert mapping.map_open_receivable(ctx, dict(raw, ClearDate=None)).amount_company == Decimal("-40.00")


def test_the_settled_items_count_per_group_in_the_figures_by_month(sb, client, store, settled):
    by_month: dict[str, int] = defaultdict(int)
    groups, _ = figures(store, ["sap"], TODAY, months=3, base_currency="EUR", conversion=Conversion.TODAY,
                        convert=lambda *a: a[1], group=CUSTOMER)
    for month, payments in groups[("sap", CUSTOMER)].total.payments_by_month.items():
        by_month[month] += payments.items
    assert dict(by_month) == {"2024-06": 1}


def test_settled_items_are_reported_for_37_months_then_left_to_the_sweep():
    """No call for settled items: they come from the store, and stop coming back once no figure reaches them."""
    from dataclasses import replace

    from adapters.sap_soap.source import SETTLED_DAYS, SapSoapSource
    from connector.domain import InvoiceState, ReceivableItem

    class NoCalls:
        calls = 0

        def open_items(self, *args):
            raise AssertionError("no SAP call expected")

    base = ReceivableItem("sap", "1000/2021/0090000001/001", ReceivableKind.INSTALMENT, "1000/2021/0090000001",
                          "90000001", CUSTOMER, CUSTOMER, InvoiceState.POSTED, dt.date(2021, 1, 4),
                          dt.date(2021, 2, 3), "EUR", Decimal(0), "1000", "EUR", Decimal(0), clock(),
                          amount_company=Decimal("10.00"))
    recent = replace(base, erp_id="1000/2024/0090000002/001", paid_on=TODAY - dt.timedelta(days=SETTLED_DAYS))
    old = replace(base, paid_on=TODAY - dt.timedelta(days=SETTLED_DAYS + 1))
    source = SapSoapSource("sap", NoCalls(), ["1000"], "1000", None, "Europe/Berlin",
                           company_currencies={"1000": "EUR"}, stored_items=lambda customer: [recent, old],
                           clock=clock)
    assert source._settled_items(CUSTOMER, set(), TODAY.isoformat()) == [recent]
