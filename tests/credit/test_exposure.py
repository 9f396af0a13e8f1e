"""Exposure computed by the store's grouped queries, on SQLite and PostgreSQL."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.domain import (
    Company,
    CurrencyRate,
    Customer,
    Invoice,
    InvoiceKind,
    InvoiceState,
    OrderState,
    PaymentState,
    SalesOrder,
)
from connector.exposure import ExposureCalculator, OrderUnderCheck
from connector.ports import Stream
from connector.store import Store
from policy.model import Conversion, ExposureSettings

D = Decimal
T = datetime(2026, 11, 1, tzinfo=UTC)
AS_OF = date(2026, 11, 28)


def cust(erp_id, group=None, ref=None):
    return Customer("odoo", erp_id, ref, f"Customer {erp_id}", group or erp_id, None, "US", None, True, None,
                    None, None, True, T)


def inv(erp_id, group="10", kind=InvoiceKind.INVOICE, state=InvoiceState.POSTED, currency="USD", total="1000",
        open_="1000", company_total=None, company_open=None, due=date(2026, 12, 1), day=date(2026, 11, 1)):
    return Invoice("odoo", erp_id, f"INV/{erp_id}", group, group, kind, state, PaymentState.NOT_PAID, day, due,
                   currency, D(total), D(open_), "1", "USD", D(company_total or total), D(company_open or open_), T)


def order(erp_id, customer="11", state=OrderState.CONFIRMED, total="500", uninvoiced="500", currency="USD"):
    return SalesOrder("odoo", erp_id, f"S{erp_id}", customer, state, False, T, currency, D(total), D(uninvoiced),
                      "1", T)


RATES = [CurrencyRate("odoo", "1", "EUR", "1", date(2026, 1, 1), D("0.8"), T),
         CurrencyRate("odoo", "2", "EUR", "1", date(2026, 11, 15), D("0.9"), T)]
DATA = {
    Stream.CUSTOMERS: ("res.partner", [cust("10", ref="C00010"), cust("11", group="10"), cust("20")]),
    Stream.INVOICES: ("account.move", [
        inv("1", open_="400"),                                              # partly paid
        inv("2", kind=InvoiceKind.CREDIT_NOTE, total="150", open_="150"),
        inv("3", state=InvoiceState.DRAFT, total="70", open_="70"),
        inv("4", currency="EUR", total="800", open_="800", company_total="1000", company_open="1000"),
        inv("5", state=InvoiceState.CANCELLED, total="999", open_="999"),
        inv("6", due=date(2026, 9, 1), total="300", open_="300"),           # 88 days overdue
        inv("7", group="20", total="5", open_="5"),
    ]),
    Stream.ORDERS: ("sale.order", [
        order("1"),
        order("2", uninvoiced="120", total="500"),
        order("3", state=OrderState.DRAFT, total="60", uninvoiced="60"),
        order("4", state=OrderState.CANCELLED),
        order("5", customer="20", total="9", uninvoiced="9"),
    ]),
    Stream.CURRENCY_RATES: ("res.currency.rate", RATES),
}


def load(store, data=DATA, order_of=lambda records: records):
    store.save_companies("odoo", [Company("odoo", "1", "YourCompany", "USD")])
    for stream, (model, records) in data.items():
        store.save_page("odoo", stream, model, order_of(list(records)), [], None)


def calc(store, **settings):
    return ExposureCalculator(store, ExposureSettings(**settings), "USD", AS_OF)


def test_components_by_document_date(store):
    load(store)
    exposure, overdue = calc(store).compute("odoo", ["10"], overdue_days=30)["10"]
    assert exposure.components == {
        "open_invoices": D("1700.00"),        # 400 + 1000 (EUR invoice at the ERP's document rate) + 300
        "credit_notes": D("-150.00"),
        "draft_invoices": D("0.00"),          # off by default
        "uninvoiced_orders": D("620.00"),     # 500 + 120, through the contact 11 of group 10
        "quotations": D("0.00"),
        "current_order": D("0.00"),
    }
    assert exposure.total == sum(exposure.components.values()) == D("2170.00")
    assert exposure.by_currency == {"USD": D("1170"), "EUR": D("800")}
    assert overdue.amount == D("300.00") and overdue.count == 1 and overdue.oldest_due == date(2026, 9, 1)
    assert overdue.days(AS_OF) == 88


def test_components_switched_on_and_today_conversion(store):
    load(store)
    exposure, _ = calc(store, draft_invoices=True, quotations=True, conversion=Conversion.TODAY).compute(
        "odoo", ["10"], order=OrderUnderCheck("1", D("500"), "USD", "1", AS_OF))["10"]
    assert exposure.components["draft_invoices"] == D("70.00")
    assert exposure.components["quotations"] == D("60.00")
    assert exposure.components["open_invoices"] == D("1588.89")  # 800 EUR at today's 0.9: 888.89
    # the order being checked counts once, as current_order, not again as an uninvoiced order
    assert exposure.components["uninvoiced_orders"] == D("120.00")
    assert exposure.components["current_order"] == D("500.00")


def test_all_groups_at_once(store):
    load(store)
    result = calc(store).compute("odoo", None)
    assert set(result) == {"10", "20"}
    assert result["20"][0].total == D("14.00")


records = st.permutations


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_exposure_does_not_depend_on_the_order_records_were_synced(data):
    shuffled = {s: (m, data.draw(st.permutations(r))) for s, (m, r) in DATA.items()}
    pages = {s: data.draw(st.integers(1, 4)) for s in DATA}
    with Store.open("sqlite://") as store:
        store.save_companies("odoo", [Company("odoo", "1", "YourCompany", "USD")])
        for stream, (model, recs) in shuffled.items():
            size = pages[stream]
            for start in range(0, len(recs), size):
                store.save_page("odoo", stream, model, recs[start:start + size], [], None)
        # re-reading an old version after the new one must not matter either: same content, same row
        store.save_page("odoo", Stream.INVOICES, "account.move", [replace(DATA[Stream.INVOICES][1][0])], [], None)
        exposure, overdue = calc(store).compute("odoo", ["10"], overdue_days=30)["10"]
    assert exposure.total == D("2170.00") and overdue.amount == D("300.00")
