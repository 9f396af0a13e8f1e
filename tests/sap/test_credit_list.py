"""The credit-master list service (``credit_list=True``, ``ZCG_CREDIT_LIST``): one call per page of customers
and credit control area instead of one ``ZFI_CREDIT_DETAIL`` call per customer and area — with the same
records, the same fingerprints and the same change detection."""

from __future__ import annotations

import dataclasses
import math

import pytest

from adapters.sap_soap.errors import ReturnError
from connector.ports import Stream
from connector.store import Store

from .conftest import make_client, make_source
from .test_change_detection import BATCH, Clock, cycle, operations

AREAS = 2  # no credit_control_area configured: the area of each of the two company codes


@pytest.fixture
def stores(tmp_path):
    opened = [Store.open(f"sqlite:///{tmp_path / name}.db") for name in ("detail", "list")]
    yield opened
    for store in opened:
        store.close()


def content(store) -> dict:
    """Everything a sync stores for the source: records and the customers' fingerprints."""
    return {"customers": sorted(store.iter_customers("sap"), key=lambda c: c.erp_id),
            "invoices": sorted(store.iter_invoices("sap"), key=lambda i: i.erp_id),
            "orders": sorted(store.iter_orders("sap"), key=lambda o: o.erp_id),
            **{f"scopes {s.value}": store.load_scopes("sap", s)
               for s in (Stream.CUSTOMERS, Stream.INVOICES, Stream.ORDERS)}}


def test_a_first_sync_stores_exactly_what_the_per_customer_reads_store(sb, client, stores):
    by_detail, by_list = stores
    clock = Clock()
    cycle(by_detail, client, clock)
    mark = len(sb.calls)
    cycle(by_list, client, clock, credit_list=True)
    ops = operations(sb, mark)
    assert ops["ZcgCreditList"] == math.ceil(len(sb.data.customers) / BATCH) * AREAS
    assert "ZfiCreditDetail" not in ops
    expected, got = content(by_detail), content(by_list)
    assert len(expected["customers"]) == len(sb.data.customers) and expected["invoices"] and expected["orders"]
    assert all(expected[f"scopes {s}"] for s in ("customers", "invoices", "orders"))
    assert got == expected


@pytest.mark.parametrize("batch", [BATCH, 7])
def test_an_unchanged_cycle_costs_one_credit_list_call_per_page_and_area(sb, client, stores, batch):
    store = stores[1]
    clock = Clock()
    cycle(store, client, clock, batch_size=batch, credit_list=True)
    mark = len(sb.calls)
    again = cycle(store, client, clock, batch_size=batch, credit_list=True)
    ops = operations(sb, mark)
    customers = len(sb.data.customers)
    assert all(s.written == 0 and s.deleted == 0 for s in again.values())
    assert again["invoices"].read == 0 and again["invoices"].kept == customers
    blocked = {o.sold_to for o in sb.data.orders.values() if o.dlv_block}
    # keyset paging: the last list call is the one that comes back short (empty when N is a multiple of
    # the batch); only the pages with customers need their credit masters, in the first stream only
    list_pages, credit_pages = math.ceil((customers + 1) / batch), math.ceil(customers / batch)
    assert ops == {"CustomerGetlist": 1 + list_pages, "ZcgCreditList": credit_pages * AREAS,
                   "SalesorderGetlist": 2 * len(blocked), "ExchrateGetcurrentrates": 1}
    assert sum(ops.values()) == 1 + list_pages + credit_pages * AREAS + 2 * len(blocked) + 1


def test_a_cleared_item_is_read_again_for_that_customer_only(sb, client, stores):
    store = stores[1]
    clock = Clock()
    cycle(store, client, clock, credit_list=True)
    paid = next(i for i in sb.open_items("0000100002", "1000") if i["DbCrInd"] == "S" and not i["SpGlInd"])
    sb.clear_item(paid["DocNo"], company_code="1000")

    mark = len(sb.calls)
    stats = cycle(store, client, clock, credit_list=True)
    asked = {c.params.get("Customer") for c in sb.calls[mark:] if c.operation == "ArAccGetopenitems"}
    assert asked == {"0000100002"}
    assert (stats["invoices"].written, stats["invoices"].deleted) == (0, 1)
    assert stats["invoices"].kept == len(sb.data.customers) - 1
    assert "ZfiCreditDetail" not in operations(sb, mark)


def test_an_answer_cut_at_max_rows_leaves_the_rest_to_zfi_credit_detail(sb, client):
    """A customer created between the page's list and its credit list takes a place in the answer: the page's
    last customer is cut off and must not count as one without credit master."""
    real = client.credit_list
    intruder = "000010001A"  # sorts between 0000100019 and 0000100020: inside the second page's range

    def after_a_new_customer(company_code, area, first, last, max_rows=0):
        if first == "0000100011" and intruder not in sb.data.customers:
            sb.data.customers[intruder] = dataclasses.replace(sb.data.customers["0000100019"], kunnr=intruder)
            sb.data.credit[(intruder, "1000")] = dataclasses.replace(sb.data.credit[("0000100019", "1000")],
                                                                      kunnr=intruder)
        return real(company_code, area, first, last, max_rows)

    client.credit_list = after_a_new_customer
    source = make_source(client, credit_list=True)
    mark = len(sb.calls)
    customers = {c.erp_id: c for page in source.read(Stream.CUSTOMERS, None, BATCH) for c in page.records}
    detail = [c.params["Kunnr"] for c in sb.calls[mark:] if c.operation == "ZfiCreditDetail"]
    assert detail == ["0000100020"] * AREAS  # its credit masters read one by one; nobody else's
    assert customers["0000100020"].credit_limit == sb.data.credit[("0000100020", "1000")].limit
    assert intruder not in customers  # not in the page listed before it existed


def test_client_credit_list_errors_and_retries(sb):
    client = make_client(sb, retry_attempts=2)
    sb.fail_next(503, service="ZCG_CREDIT_LIST")
    assert len(client.credit_list("1000", "", "0000100001", "0000100005", 5)) == 5
    assert client.calls == 2
    sb.return_next("ZcgCreditList", "E", "ZCG", "001", "No credit control area")
    with pytest.raises(ReturnError) as err:
        client.credit_list("9999", "", "0000100001", "0000100005", 5)
    assert "ZCG" in str(err.value) and "001" in str(err.value)
    client.close()
