"""Ageing: the bucket arithmetic (properties and every boundary), the two conversions, open items read from
the store (SQLite and PostgreSQL), and the policy's [ageing] section."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.ageing import (
    ItemKind,
    OpenItem,
    age,
    column_index,
    columns,
    days_past_due,
    open_items,
    store_converter,
)
from connector.domain import Company, Customer, CurrencyRate, Invoice, InvoiceKind, InvoiceState, PaymentState
from connector.ports import Stream
from policy.loader import PolicyError, load_policy
from policy.model import DEFAULT_AGEING_BUCKETS, Conversion

D = Decimal
AS_OF = date(2026, 11, 28)
T = datetime(2026, 11, 1, tzinfo=UTC)
KEYS = [c.key for c in columns()]


def item(days: int | None = 10, amount="100.00", kind=ItemKind.INSTALMENT, company="1", currency="USD",
         company_currency="USD", group="10", company_amount=None, invoice_date=None, source="odoo") -> OpenItem:
    amount = D(amount)
    return OpenItem(source, kind, "1", "INV/1", group, group, company, currency, company_currency,
                    AS_OF - timedelta(days=days) if days is not None else None, amount,
                    D(company_amount) if company_amount is not None else amount, invoice_date)


def same_currency(source, amount, currency, to, company, day):
    assert currency == to
    return amount


def run(items, buckets=DEFAULT_AGEING_BUCKETS, as_of=AS_OF, by="company", convert=same_currency, **kwargs):
    return age(items, buckets, as_of, by=by, base_currency="USD", convert=convert, **kwargs)


# ------------------------------------------------------------------------------------------ columns


def test_default_columns():
    assert [(c.key, c.label, c.first, c.last) for c in columns()] == [
        ("not_due", "Not due", None, 0), ("1_30", "1–30", 1, 30), ("31_60", "31–60", 31, 60),
        ("61_90", "61–90", 61, 90), ("91_120", "91–120", 91, 120), ("over_120", "Over 120", 121, None)]
    assert [c.label for c in columns((0, 1, 7))] == ["Not due", "1", "2–7", "Over 7"]
    assert [c.key for c in columns((0,))] == ["not_due", "over_0"]


@pytest.mark.parametrize("days, key", [
    (-400, "not_due"), (-1, "not_due"), (0, "not_due"),  # due today: not due
    (1, "1_30"), (30, "1_30"), (31, "31_60"), (60, "31_60"), (61, "61_90"), (90, "61_90"),
    (91, "91_120"), (120, "91_120"), (121, "over_120"), (100_000, "over_120"),
])
def test_every_boundary(days, key):
    assert KEYS[column_index(days, DEFAULT_AGEING_BUCKETS)] == key
    report = run([item(days)])
    [line] = report.companies[0].lines
    assert dict(zip(KEYS, line.buckets)) == {k: D("100.00") if k == key else D("0.00") for k in KEYS}
    assert line.credits == 0 and line.total == D("100.00") and line.items == 1


def test_days_past_due_are_calendar_days():
    assert days_past_due(date(2026, 3, 28), date(2026, 3, 30)) == 2  # across the spring DST change in Europe
    assert days_past_due(date(2026, 10, 24), date(2026, 10, 26)) == 2  # and the autumn one
    assert days_past_due(AS_OF, AS_OF) == 0 and days_past_due(None, AS_OF) == 0


def test_an_item_without_due_date_ages_from_its_document_date_else_is_not_due():
    from_invoice_date = item(None, invoice_date=AS_OF - timedelta(days=45))
    report = run([from_invoice_date, item(None, amount="7.00")])
    line = report.companies[0].lines[0]
    assert line.buckets[KEYS.index("31_60")] == D("100.00") and line.buckets[0] == D("7.00")


def test_credit_notes_and_unapplied_payments_have_their_own_column_whatever_their_age():
    items = [item(200), item(400, "-30.00", ItemKind.CREDIT_NOTE), item(-5, "-20.00", ItemKind.UNAPPLIED_PAYMENT),
             item(None, "-1.50", ItemKind.CREDIT_NOTE)]
    line = run(items).companies[0].total
    assert line.buckets == (0, 0, 0, 0, 0, D("100.00")) and line.credits == D("-51.50")
    assert line.total == D("48.50") and line.past_due == D("100.00") and line.items == 4


# ------------------------------------------------------------------------------------------ properties

DAYS = st.integers(-400, 5000)
EDGES = st.lists(st.integers(1, 3000), unique=True, max_size=11).map(lambda e: (0, *sorted(e)))
AMOUNTS = st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2)
COMPANIES = {"1": "USD", "2": "EUR", "3": "JPY"}


@st.composite
def items(draw, min_size=0):
    result = []
    for _ in range(draw(st.integers(min_size, 25))):
        kind = draw(st.sampled_from(list(ItemKind)))
        sign = -1 if kind is not ItemKind.INSTALMENT else 1
        company = draw(st.sampled_from(sorted(COMPANIES)))
        company_currency = COMPANIES[company]
        currency = draw(st.sampled_from(["USD", "EUR", "GBP", company_currency]))
        amount = sign * draw(AMOUNTS)
        company_amount = sign * draw(AMOUNTS)
        if company_currency == "JPY":
            company_amount = company_amount.quantize(D(1))
        if currency == "JPY":
            amount = amount.quantize(D(1))
        result.append(OpenItem(draw(st.sampled_from(["odoo", "sap"])), kind, str(len(result)), f"D{len(result)}",
                               "c", draw(st.sampled_from(["10", "20", "30"])), company, currency, company_currency,
                               draw(st.none() | DAYS.map(lambda d: AS_OF - timedelta(days=d))), amount,
                               company_amount, draw(st.none() | st.dates(date(2024, 1, 1), date(2026, 12, 31)))))
    return result


def oracle(item: OpenItem, edges: tuple[int, ...], as_of: date) -> int | None:
    """The column an item belongs in, written out plainly: None for credits."""
    if item.kind is not ItemKind.INSTALMENT:
        return None
    due = item.due_date or item.invoice_date
    days = (as_of - due).days if due else 0
    if days <= 0:
        return 0
    for index in range(1, len(edges)):
        if days <= edges[index]:
            return index
    return len(edges)


RATES = {"USD": D("1"), "EUR": D("1.1"), "GBP": D("1.27"), "JPY": D("0.0067")}


def to_usd(source, amount, currency, to, company, day):
    assert to == "USD"
    return (amount * RATES[currency]).quantize(D("0.01"))


@settings(max_examples=150, deadline=None)
@given(st.data(), EDGES, items())
def test_every_item_lands_in_exactly_one_column_and_totals_are_the_sums(data, edges, drawn):
    by = data.draw(st.sampled_from(["company", "currency", "group"]))
    conversion = data.draw(st.sampled_from(list(Conversion)))
    report = run(drawn, edges, by=by, convert=to_usd, conversion=conversion)
    width = len(edges) + 1
    assert len(report.columns) == width
    expected: dict[tuple[str, str], list[Decimal]] = {}
    base = [D(0)] * (width + 1)  # the last: credits
    for it in drawn:
        column = oracle(it, edges, AS_OF)
        sums = expected.setdefault((it.source, it.company_id), [D(0)] * (width + 1))
        sums[width if column is None else column] += it.amount_open_company
        amount, currency = ((it.amount_open_company, it.company_currency) if conversion is Conversion.DOCUMENT_DATE
                            else (it.amount_open, it.currency))
        base[width if column is None else column] += to_usd(None, amount, currency, "USD", None, None)
    assert {(s.source, s.company_id): [*s.total.buckets, s.total.credits] for s in report.companies} == expected
    for section in report.companies:
        assert section.total.total == sum(it.amount_open_company for it in drawn
                                          if (it.source, it.company_id) == (section.source, section.company_id))
        assert section.total.items == sum(line.items for line in section.lines)
        if by != "currency":  # lines by currency are in their document currency
            for index in range(width):
                assert section.total.buckets[index] == sum(line.buckets[index] for line in section.lines)
            assert section.total.credits == sum(line.credits for line in section.lines)
    assert [*report.total.buckets, report.total.credits] == base
    assert report.total.total == sum(base) == sum(line.total for line in report.lines)
    assert report.total.items == len(drawn) == sum(line.items for line in report.lines)


@settings(max_examples=100, deadline=None)
@given(EDGES, items(min_size=1), st.integers(0, 400))
def test_an_earlier_day_moves_items_to_younger_columns_never_older(edges, drawn, earlier):
    for it in drawn:
        now = oracle(it, edges, AS_OF)
        before = oracle(it, edges, AS_OF - timedelta(days=earlier))
        single = run([it], edges, as_of=AS_OF - timedelta(days=earlier), convert=to_usd).companies[0].total
        if now is None:
            assert single.credits == it.amount_open_company
        else:
            assert before <= now
            assert [i for i, a in enumerate(single.buckets) if a] == ([before] if it.amount_open_company else [])


def test_lines_by_currency_are_in_the_document_currency_and_consolidate_across_companies():
    items = [item(10, "100.00", currency="EUR", company_amount="110.00"),
             item(40, "50.00", currency="EUR", company="2", company_currency="EUR"),
             item(5, "20.00")]
    report = run(items, by="currency", convert=to_usd, conversion=Conversion.TODAY)
    usd_company = report.companies[0]
    assert [(line.key, line.currency, line.total) for line in usd_company.lines] == [
        ("EUR", "EUR", D("100.00")), ("USD", "USD", D("20.00"))]
    assert usd_company.total.total == D("130.00") and usd_company.total.currency == "USD"
    assert [(line.source, line.key, line.total) for line in report.lines] == [
        (None, "EUR", D("165.00")), (None, "USD", D("20.00"))]  # 150 EUR at 1.1, today's rate


def test_the_two_conversions_use_the_company_amount_on_the_document_date_or_the_document_amount_today():
    seen = []

    def convert(source, amount, currency, to, company, day):
        seen.append((amount, currency, company, day))
        return amount

    eur = item(10, "100.00", currency="EUR", company_amount="110.00", invoice_date=date(2026, 10, 1))
    run([eur], convert=convert)
    run([eur], convert=convert, conversion=Conversion.TODAY)
    run([item(10, invoice_date=None)], convert=convert)
    assert seen == [(D("110.00"), "USD", "1", date(2026, 10, 1)), (D("100.00"), "EUR", "1", AS_OF),
                    (D("100.00"), "USD", "1", AS_OF)]


def test_no_items_no_sections_and_zero_totals():
    report = run([])
    assert report.companies == () and report.lines == ()
    assert report.total.total == D("0.00") and report.total.items == 0


# ------------------------------------------------------------------------------------------ the store


def cust(erp_id, ref, group=None):
    return Customer("odoo", erp_id, ref, f"Customer {erp_id}", group or erp_id, None, "DE", None, True, None, None,
                    None, True, T)


def inv(erp_id, group, due, open_="100.00", kind=InvoiceKind.INVOICE, state=InvoiceState.POSTED, company="1",
        currency="USD", company_currency="USD", open_company=None):
    return Invoice("odoo", erp_id, f"INV/{erp_id}", group, group, kind, state,
                   PaymentState.NOT_PAID if D(open_) else PaymentState.PAID, date(2026, 8, 1), due, currency,
                   D("500.00"), D(open_), company, company_currency, D("500.00"),
                   D(open_company if open_company is not None else open_), T)


INVOICES = [
    inv("1", "10", AS_OF - timedelta(days=45)),
    inv("2", "10", AS_OF + timedelta(days=3), open_="0"),  # paid: not open
    inv("3", "10", AS_OF - timedelta(days=5), state=InvoiceState.DRAFT),  # a draft is not a receivable
    inv("4", "10", AS_OF - timedelta(days=200), kind=InvoiceKind.CREDIT_NOTE, open_="30.00"),
    inv("5", "20", AS_OF, open_="80.00", currency="EUR", open_company="88.00"),
    inv("6", "20", AS_OF - timedelta(days=100), open_="40.00", company="2", currency="EUR", company_currency="EUR"),
]


def load(store):
    store.save_companies("odoo", [Company("odoo", "1", "US Co", "USD"), Company("odoo", "2", "EU Co", "EUR")])
    store.save_page("odoo", Stream.CUSTOMERS, "res.partner", [cust("10", "C00010"), cust("20", "C00020")], [], None)
    store.save_page("odoo", Stream.INVOICES, "account.move", INVOICES, [], None)
    store.save_page("odoo", Stream.CURRENCY_RATES, "res.currency.rate",
                    [CurrencyRate("odoo", "1", "EUR", "1", date(2026, 1, 1), D("0.8"), T),
                     CurrencyRate("odoo", "2", "USD", "2", date(2026, 1, 1), D("1.25"), T)], [], None)


def test_open_items_are_the_store_s_open_documents_signed(store):
    load(store)
    found = sorted(open_items(store), key=lambda i: int(i.erp_id))
    assert [(i.erp_id, i.kind, i.amount_open, i.amount_open_company, i.company_id) for i in found] == [
        ("1", ItemKind.INSTALMENT, D("100.00"), D("100.00"), "1"),
        ("4", ItemKind.CREDIT_NOTE, D("-30.00"), D("-30.00"), "1"),
        ("5", ItemKind.INSTALMENT, D("80.00"), D("88.00"), "1"),
        ("6", ItemKind.INSTALMENT, D("40.00"), D("40.00"), "2")]
    assert {i.erp_id for i in open_items(store, company="2")} == {"6"}
    assert {i.erp_id for i in open_items(store, customer="10")} == {"1", "4"}
    assert {i.erp_id for i in open_items(store, source="sap")} == set()


def test_the_ageing_ties_to_the_store_s_open_receivables(store):
    load(store)
    report = age(open_items(store), DEFAULT_AGEING_BUCKETS, AS_OF, by="currency", base_currency="USD",
                 convert=store_converter(store))
    by_currency: dict[str, Decimal] = {}
    for section in report.companies:
        for line in section.lines:
            by_currency[line.currency] = by_currency.get(line.currency, D(0)) + line.total
    assert {c: D(minor).scaleb(-2) for c, minor in store.open_receivables().items()} == by_currency
    us, eu = report.companies
    assert us.total.buckets == (D("88.00"), 0, D("100.00"), 0, 0, 0) and us.total.credits == D("-30.00")
    assert eu.total.buckets == (0, 0, 0, 0, D("40.00"), 0) and eu.total.currency == "EUR"
    # US Co's 158 USD as they are; EU Co's 40 EUR in USD at its own rate on the invoice date: 1.25 USD per EUR
    assert report.total.total == D("158.00") + D("50.00")


# ------------------------------------------------------------------------------------------ the policy


def write(tmp_path: Path, ageing: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text('version = 1\nname = "p"\nbase_currency = "USD"\n\n' + textwrap.dedent(ageing))
    return path


def test_buckets_default_when_absent_and_load_when_given(tmp_path):
    assert load_policy(write(tmp_path, "")).ageing.buckets == (0, 30, 60, 90, 120)
    assert load_policy(write(tmp_path, "[ageing]\n")).ageing.buckets == (0, 30, 60, 90, 120)
    assert load_policy(write(tmp_path, "[ageing]\nbuckets = [0, 15, 45]\n")).ageing.buckets == (0, 15, 45)
    assert load_policy(write(tmp_path, "[ageing]\nbuckets = [0]\n")).ageing.buckets == (0,)


@pytest.mark.parametrize("text, errors", [
    ("buckets = []", ["6:1: ageing.buckets: list at least the 0 of the not-due column"]),
    ("buckets = [5, 30]", ["6:12: ageing.buckets.0: the first bucket must be 0, the not-due column (got 5)"]),
    ("buckets = [0, 30, 30, 20]", ["6:19: ageing.buckets.2: buckets must be strictly increasing: 30 is not above 30",
                                   "6:23: ageing.buckets.3: buckets must be strictly increasing: 20 is not above 30"]),
    ("buckets = [0, -1, \"60\", 1.5, true]", ["6:15: ageing.buckets.1: must be at least 0 (got -1)",
                                              "6:19: ageing.buckets.2: expected an integer, got a string",
                                              "6:25: ageing.buckets.3: expected an integer, got a float",
                                              "6:30: ageing.buckets.4: expected an integer, got a boolean"]),
    ("buckets = [0, 200000]", ["6:15: ageing.buckets.1: must be at most 100000 (got 200000)"]),
    ("buckets = " + str(list(range(0, 130, 10))), ["6:1: ageing.buckets: at most 12 buckets (got 13)"]),
    ("buckets = 30", ["6:1: ageing.buckets: expected an array, got an integer"]),
    ("bucket = [0, 30]", ["6:1: ageing.bucket: unknown key 'bucket'; did you mean 'buckets'?"]),
])
def test_bad_buckets_are_reported_at_their_place(tmp_path, text, errors):
    path = write(tmp_path, f"[ageing]\n{text}\n")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert len(info.value.errors) == len(errors), info.value.errors
    for line, expected in zip(info.value.errors, errors):
        assert line.startswith(f"{path}:{expected}"), line


def test_a_malformed_ageing_section_never_replaces_a_good_policy(tmp_path):
    from creditguard.daemon_runner import Daemon

    policy = write(tmp_path, "[ageing]\nbuckets = [0, 45]\n")
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "cg.db"}"\n\n[policy]\npath = "{policy}"\n\n'
                      '[[source]]\nname = "odoo"\nkind = "odoo"\nurl = "http://127.0.0.1:9"\ndatabase = "demo"\n'
                      'username = "admin"\npassword_env = "CG_TEST_PASSWORD"\nprotocol = "xmlrpc"\n')
    daemon = Daemon(str(config))
    daemon.config, daemon.policy = daemon._load()
    policy.write_text(policy.read_text().replace("[0, 45]", "[0, 45, 40]"))
    assert daemon.reload() is False
    assert daemon.policy.ageing.buckets == (0, 45)


def test_a_source_with_receivable_items_is_aged_item_by_item(store):
    """A 30 % / 70 % invoice whose first instalment is 40 days late, an unapplied payment: each item on its own
    (the invoice itself is then not counted a second time)."""
    from connector.domain import ReceivableItem, ReceivableKind
    from connector.ports import Cursor

    load(store)

    def rec(erp_id, kind, due, amount, document="1"):
        return ReceivableItem("odoo", erp_id, kind, document, f"DOC/{document}", "10", "10", InvoiceState.POSTED,
                              date(2026, 8, 1), due, "USD", D(amount), "1", "USD", D(amount), T)

    store.save_page("odoo", Stream.RECEIVABLES, "account.move.line", [
        rec("101", ReceivableKind.INSTALMENT, AS_OF - timedelta(days=40), "30.00"),
        rec("102", ReceivableKind.INSTALMENT, AS_OF + timedelta(days=20), "70.00"),
        rec("103", ReceivableKind.PAYMENT, AS_OF - timedelta(days=3), "-1000.00", document="P1"),
    ], [], Cursor(T, 103))  # a cursor: the source syncs its receivable items
    found = sorted(open_items(store, company="1", customer="10"), key=lambda i: i.amount_open)
    assert [(i.kind, i.amount_open) for i in found] == [
        (ItemKind.UNAPPLIED_PAYMENT, D("-1000.00")), (ItemKind.INSTALMENT, D("30.00")),
        (ItemKind.INSTALMENT, D("70.00"))]
    report = age(found, DEFAULT_AGEING_BUCKETS, AS_OF, base_currency="USD", convert=store_converter(store))
    [company] = report.companies
    assert company.total.buckets == (D("70.00"), 0, D("30.00"), 0, 0, 0) and company.total.credits == D("-1000.00")
