"""Exposure computed by the store's grouped queries, on SQLite and PostgreSQL."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
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
from connector.checks import CreditChecker, outcome_json
from connector.exposure import ExposureCalculator, OrderUnderCheck
from connector.ports import Stream
from connector.store import Store
from policy.model import Conversion, CustomerFile, ExposureSettings, LimitSettings, Policy

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
        "reservations": D("0.00"),            # no approval waiting for its order to be synced
        "quotations": D("0.00"),
        "current_order": D("0.00"),
    }
    assert exposure.total == sum(exposure.components.values()) == D("2170.00")
    assert exposure.by_currency == {"USD": D("1170"), "EUR": D("800")}
    assert overdue.amount == D("300.00") and overdue.count == 1 and overdue.oldest_due == date(2026, 9, 1)
    assert overdue.days(AS_OF) == 88


def test_paid_invoices_neither_count_nor_date_the_overdue_figures(store):
    """A fully paid invoice due long ago is not 'the oldest overdue invoice' of the customer."""
    paid = inv("8", due=date(2025, 1, 15), total="900", open_="0")
    data = dict(DATA, **{Stream.INVOICES: ("account.move", [*DATA[Stream.INVOICES][1], paid])})
    load(store, data)
    _, overdue = calc(store).compute("odoo", ["10"], overdue_days=30)["10"]
    assert overdue.amount == D("300.00") and overdue.count == 1 and overdue.oldest_due == date(2026, 9, 1)


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


POLICY = Policy(1, "golden", "USD", limits=LimitSettings(grades={5: D(2000)}),
                customers={"C00010": CustomerFile(grade=5)}, content_hash="h")


def _expected_check():
    with Store.open("sqlite://") as store:
        load(store)
        return outcome_json(CreditChecker(store, POLICY, AS_OF).check("S3", record=False))


EXPECTED_CHECK = _expected_check()


def test_golden_check_through_the_store():
    assert EXPECTED_CHECK["decision"] == "hold"
    assert [r["code"] for r in EXPECTED_CHECK["reasons"]] == ["over_limit", "overdue"]  # 300 overdue > 0
    assert EXPECTED_CHECK["exposure"]["total"] == "2230.00"  # 2,170 + the quotation S3 being checked (60)
    assert EXPECTED_CHECK["limit"] == {"amount": "2000.00", "source": "grade", "detail": "policy limit for grade 5"}
    assert EXPECTED_CHECK["customer"] == "C00010" and EXPECTED_CHECK["credit_group"] == "10"


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_exposure_and_decision_do_not_depend_on_the_order_records_were_synced(data):
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
        outcome = CreditChecker(store, POLICY, AS_OF).check("S3", record=False)
    assert exposure.total == D("2170.00") and overdue.amount == D("300.00")
    assert outcome_json(outcome) == EXPECTED_CHECK


invoice_strategy = st.builds(
    lambda i, group, kind, state, currency, total, paid, due: inv(
        str(i), group=group, kind=kind, state=state, currency=currency, total=str(total),
        open_=str(total - min(paid, total)), due=AS_OF + timedelta(days=due)),
    i=st.integers(1, 10**6), group=st.sampled_from(["10", "20", "30"]),
    kind=st.sampled_from(list(InvoiceKind)), state=st.sampled_from(list(InvoiceState)),
    currency=st.sampled_from(["USD", "EUR"]),
    total=st.decimals(0, 10**6, places=2, allow_nan=False, allow_infinity=False),
    paid=st.decimals(0, 10**6, places=2, allow_nan=False, allow_infinity=False),
    due=st.integers(-200, 60),
)


@settings(max_examples=30, deadline=None)
@given(st.lists(invoice_strategy, max_size=30, unique_by=lambda i: i.erp_id))
def test_exposure_is_the_sum_of_its_components_and_matches_a_naive_sum(invoices):
    with Store.open("sqlite://") as store:
        load(store, {Stream.CUSTOMERS: DATA[Stream.CUSTOMERS], Stream.INVOICES: ("account.move", invoices),
                     Stream.CURRENCY_RATES: DATA[Stream.CURRENCY_RATES]})
        result = calc(store, draft_invoices=True, conversion=Conversion.TODAY).compute("odoo", ["10", "20", "30"],
                                                                                     overdue_days=30)
    rate = {"USD": D(1), "EUR": D("0.9")}
    for group in ("10", "20", "30"):
        exposure, overdue = result[group]
        assert exposure.total == sum(exposure.components.values())
        mine = [i for i in invoices if i.credit_group_id == group]
        # summed exactly per currency, converted once per (currency, overdue) partition: at most
        # four half-cent roundings apart from converting each currency's sum once
        per_currency = {c: sum((i.amount_open for i in mine if i.currency == c and i.state is InvoiceState.POSTED
                                and i.kind is InvoiceKind.INVOICE), D(0)) for c in rate}
        expected_open = sum(((v / rate[c]).quantize(D("0.01")) for c, v in per_currency.items()), D(0))
        assert abs(exposure.components["open_invoices"] - expected_open) <= D("0.02")
        expected_overdue = sum((i.amount_open for i in mine if i.state is InvoiceState.POSTED
                                and i.kind is InvoiceKind.INVOICE and i.due_date < AS_OF - timedelta(days=30)
                                and i.currency == "USD"), D(0))
        assert overdue.amount >= expected_overdue


def test_project_exposure_counts_its_orders_and_the_invoices_raised_from_them(store):
    data = {
        Stream.CUSTOMERS: DATA[Stream.CUSTOMERS],
        Stream.ORDERS: ("sale.order", [
            replace(order("1", total="9000", uninvoiced="4000"), project="Tower"),
            replace(order("2", total="700", uninvoiced="700"), project="Tower"),
            replace(order("3", total="500", uninvoiced="500"), project="Depot"),
        ]),
        Stream.INVOICES: ("account.move", [
            replace(inv("1", total="5000", open_="3000"), origin="S1"),
            replace(inv("2", total="100", open_="100"), origin="S3"),
            inv("3", total="50", open_="50"),
        ]),
        Stream.CURRENCY_RATES: DATA[Stream.CURRENCY_RATES],
    }
    load(store, data)
    tower, _ = calc(store).project("odoo", "Tower", order=OrderUnderCheck("2", D(700), "USD", "1", AS_OF))
    assert tower.components["open_invoices"] == D("3000.00")      # raised from S1
    assert tower.components["uninvoiced_orders"] == D("4000.00")  # S1 (S2 is the order being checked)
    assert tower.components["current_order"] == D("700.00")
    assert tower.total == D("7700.00")
