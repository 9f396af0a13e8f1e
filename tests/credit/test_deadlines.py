"""Insurer deadlines: the pure computation around each boundary, and the listing from the store
(SQLite and PostgreSQL), where paid invoices and credit notes never start the clock."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType

import pytest

from connector.checks import CreditChecker, outcome_json
from connector.deadlines import (
    DeadlineKind,
    DeadlineStatus,
    compute,
    deadlines_json,
    list_deadlines,
)
from connector.decisions import Result
from connector.domain import Customer, Invoice, InvoiceKind, InvoiceState, PaymentState
from connector.enforce import risk_flag
from connector.exposure import ExposureCalculator
from connector.ports import Stream
from policy.model import (
    ExposureSettings,
    Grouping,
    GroupingSettings,
    InsurerLimit,
    InsurerStatus,
    InsurerTerms,
    LimitSettings,
    OverdueRule,
    Policy,
    Rules,
)

D = Decimal
T = datetime(2026, 11, 1, tzinfo=UTC)
DUE = date(2026, 9, 1)
# notify 45 days after the due date, the MEP 60 days, collection 30 days after it; warn a week before
TERMS = InsurerTerms(overdue_notification_days=45, max_extension_days=60, collection_days=30, warn_days=7)
NOTIFY, COVER, COLLECT = date(2026, 10, 16), date(2026, 10, 31), date(2026, 11, 30)
P, S, M = DeadlineStatus.PENDING, DeadlineStatus.DUE_SOON, DeadlineStatus.MISSED


def statuses(as_of, terms=TERMS, due=DUE):
    return [(d.kind, d.status, d.days_left) for d in compute(terms, due, as_of)]


# ------------------------------------------------------------------------------ pure computation


def test_the_three_deadlines_count_from_the_due_date():
    [notify, cover, collect] = compute(TERMS, DUE, date(2026, 9, 2))
    assert (notify.kind, notify.day) == (DeadlineKind.NOTIFY, NOTIFY)
    assert (cover.kind, cover.day) == (DeadlineKind.COVER_STOPS, COVER)
    assert (collect.kind, collect.day) == (DeadlineKind.COLLECTION, COLLECT)
    assert TERMS.notify_by(DUE) == NOTIFY and TERMS.cover_stops(DUE) == COVER and TERMS.collection_by(DUE) == COLLECT


@pytest.mark.parametrize("as_of, expected", [
    (DUE, []),                                   # due today: not overdue, the clock has not started
    (date(2026, 9, 2), [P, P, P]),               # the first day overdue
    (date(2026, 10, 8), [P, P, P]),              # 8 days before notify_by: before the warning window
    (date(2026, 10, 9), [S, P, P]),              # 7 days before: inside it
    (date(2026, 10, 15), [S, P, P]),             # the day before
    (NOTIFY, [S, P, P]),                         # on the deadline: still in time
    (date(2026, 10, 17), [M, P, P]),             # the day after: missed
    (date(2026, 10, 24), [M, S, P]),             # 7 days before cover stops
    (COVER, [M, S, P]),                          # the last day of the maximum extension period
    (date(2026, 11, 1), [M, M, P]),              # cover stopped
    (date(2026, 11, 22), [M, M, P]),             # 8 days before collection_by
    (date(2026, 11, 23), [M, M, S]),
    (COLLECT, [M, M, S]),
    (date(2026, 12, 1), [M, M, M]),
])
def test_status_around_each_boundary(as_of, expected):
    assert [status for _, status, _ in statuses(as_of)] == expected


def test_days_left_count_down_through_zero_and_go_negative():
    assert statuses(date(2026, 10, 15)) == [(DeadlineKind.NOTIFY, S, 1), (DeadlineKind.COVER_STOPS, P, 16),
                                            (DeadlineKind.COLLECTION, P, 46)]
    assert statuses(date(2026, 10, 17))[0] == (DeadlineKind.NOTIFY, M, -1)


def test_terms_without_an_mep_have_only_the_notification_deadline():
    assert statuses(date(2026, 10, 10), InsurerTerms(overdue_notification_days=45)) == [
        (DeadlineKind.NOTIFY, S, 6)]  # the default warning window is 7 days
    assert statuses(date(2026, 10, 9), InsurerTerms(overdue_notification_days=45, warn_days=0)) == [
        (DeadlineKind.NOTIFY, P, 7)]


def test_no_warning_window_alerts_only_on_the_day_itself():
    terms = InsurerTerms(overdue_notification_days=45, warn_days=0)
    assert statuses(date(2026, 10, 15), terms) == [(DeadlineKind.NOTIFY, P, 1)]
    assert statuses(NOTIFY, terms) == [(DeadlineKind.NOTIFY, S, 0)]


def test_deadlines_are_in_date_order_whatever_the_periods():
    terms = InsurerTerms(overdue_notification_days=90, max_extension_days=30, collection_days=0)
    assert [d.kind for d in compute(terms, DUE, date(2026, 9, 2))] == [
        DeadlineKind.COVER_STOPS, DeadlineKind.COLLECTION, DeadlineKind.NOTIFY]


# ------------------------------------------------------------------------------ from the store


def cust(erp_id, ref=None, group=None, name=None):
    return Customer("odoo", erp_id, ref, name or f"Customer {erp_id}", group or erp_id, None, "DE", None, True,
                    None, None, None, True, T)


def inv(erp_id, group, due, open_="1000", kind=InvoiceKind.INVOICE, state=InvoiceState.POSTED, customer=None):
    return Invoice("odoo", erp_id, f"INV/2026/{int(erp_id):04d}", customer or group, group, kind, state,
                   PaymentState.NOT_PAID if D(open_) else PaymentState.PAID, date(2026, 8, 1), due, "EUR",
                   D(1000), D(open_), "1", "EUR", D(1000), D(open_), T)


def decision(customer, insurer, status=InsurerStatus.APPROVED, **kwargs):
    return InsurerLimit(customer, insurer, D(100000), "EUR", date(2026, 1, 15), status=status, **kwargs)


POLICY = Policy(
    version=1, name="deadlines", base_currency="EUR",
    limits=LimitSettings(insurer=(
        decision("C00001", "Atradius"),
        decision("C00002", "Atradius", InsurerStatus.WITHDRAWN),
        decision("C00003", "Allianz Trade", InsurerStatus.REDUCED),
        decision("C00005", "Coface"),  # no terms for Coface: no deadlines
        decision("C00006", "Atradius", expires=date(2026, 10, 31)),
    )),
    insurers=MappingProxyType({"Atradius": TERMS, "Allianz Trade": InsurerTerms(overdue_notification_days=60)}),
)

CUSTOMERS = [cust("10", "C00001", name="Acme GmbH"), cust("11", group="10", name="Acme, Berlin site"),
             cust("20", "C00002"), cust("30", "C00003", name="Beta AG"), cust("40", "C00004"),
             cust("50", "C00005"), cust("60", "C00006")]
INVOICES = [
    inv("1", "10", date(2025, 12, 1), open_="0"),                      # paid long ago: starts nothing
    inv("2", "10", date(2026, 8, 1), kind=InvoiceKind.CREDIT_NOTE),   # a credit note is not owed by the buyer
    inv("3", "10", date(2026, 6, 1), state=InvoiceState.DRAFT),       # nor is a draft
    inv("4", "10", DUE, customer="11"),                                # the oldest unpaid: the subsidiary's
    inv("5", "10", date(2026, 10, 1)),
    inv("6", "10", date(2027, 1, 1)),                                  # not due yet
    inv("7", "20", date(2026, 1, 1)),                                  # cover withdrawn: nothing to keep
    inv("8", "30", date(2026, 9, 20)),
    inv("9", "40", date(2026, 1, 1)),                                  # not insured
    inv("10", "50", date(2026, 1, 1)),                                 # insurer without terms
    inv("11", "60", date(2026, 9, 1)),                                 # decision expired on 2026-10-31
]


def load(store, invoices=INVOICES):
    store.save_page("odoo", Stream.CUSTOMERS, "res.partner", CUSTOMERS, [], None)
    store.save_page("odoo", Stream.INVOICES, "account.move", invoices, [], None)


def test_the_oldest_open_invoice_per_credit_group_is_one_query(store):
    load(store)
    rows = {r.credit_group_id: r for r in store.oldest_open_invoices("odoo")}
    assert (rows["10"].erp_id, rows["10"].number, rows["10"].due_date) == ("4", "INV/2026/0004", DUE)
    assert (rows["10"].customer_ref, rows["10"].customer_name) == ("C00001", "Acme GmbH")
    assert set(rows) == {"10", "20", "30", "40", "50", "60"}
    assert {r.credit_group_id for r in store.oldest_open_invoices("odoo", due_before=date(2026, 9, 1))} \
        == {"20", "40", "50"}
    assert store.oldest_open_invoices("other") == []


@pytest.mark.parametrize("as_of, wanted", [
    (date(2026, 10, 8), {}),                                             # everything still pending
    (date(2026, 10, 9), {"C00001": S, "C00006": S}),                     # Acme: notify within a week
    (date(2026, 10, 17), {"C00001": M, "C00006": M}),                    # Acme: notification missed
    (date(2026, 11, 12), {"C00001": M, "C00003": S}),                    # C00006's decision expired on 10-31;
                                                                         # Beta: Allianz, 60 days from 09-20
    (date(2026, 11, 20), {"C00001": M, "C00003": M}),
])
def test_listed_deadlines_as_the_days_go_by(store, as_of, wanted):
    load(store)
    found = list_deadlines(store, POLICY, "odoo", as_of)
    assert {d.customer: d.status for d in found} == wanted
    assert [d.status for d in found] == sorted((d.status for d in found), key=[M, S, P].index)  # most urgent first


def test_a_buyer_s_deadlines_name_the_insurer_and_the_oldest_invoice(store):
    load(store)
    [acme] = [d for d in list_deadlines(store, POLICY, "odoo", date(2026, 10, 24)) if d.customer == "C00001"]
    assert (acme.insurer, acme.customer_name, acme.credit_group) == ("Atradius", "Acme GmbH", "10")
    assert (acme.invoice_erp_id, acme.invoice_number, acme.due) == ("4", "INV/2026/0004", DUE)
    assert deadlines_json(acme) == {
        "source": "odoo", "customer": "C00001", "customer_name": "Acme GmbH", "credit_group": "10",
        "insurer": "Atradius", "invoice": "INV/2026/0004", "invoice_erp_id": "4", "due": "2026-09-01",
        "notify_by": {"date": "2026-10-16", "status": "missed", "days_left": -8},
        "cover_stops": {"date": "2026-10-31", "status": "due_soon", "days_left": 7},
        "collection_by": {"date": "2026-11-30", "status": "pending", "days_left": 37},
        "status": "missed", "days_left": 7,
    }


def test_include_pending_lists_every_insured_overdue_account(store):
    load(store)
    found = list_deadlines(store, POLICY, "odoo", date(2026, 10, 1), include_pending=True)
    assert {d.customer: d.status for d in found} == {"C00001": P, "C00003": P, "C00006": P}
    # the expired decision gives no deadlines once it is no longer in force
    later = list_deadlines(store, POLICY, "odoo", date(2026, 11, 1), include_pending=True)
    assert "C00006" not in {d.customer for d in later}


def test_a_paid_oldest_invoice_moves_the_clock_to_the_next_oldest(store):
    load(store)
    as_of = date(2026, 10, 20)
    [before] = [d for d in list_deadlines(store, POLICY, "odoo", as_of) if d.customer == "C00001"]
    assert before.invoice_erp_id == "4" and before.status is M
    paid = replace(INVOICES[3], amount_open=D(0), amount_open_company=D(0), payment_state=PaymentState.PAID)
    store.save_page("odoo", Stream.INVOICES, "account.move", [paid], [], None)
    after = list_deadlines(store, POLICY, "odoo", as_of, include_pending=True)
    [acme] = [d for d in after if d.customer == "C00001"]
    assert (acme.invoice_erp_id, acme.due) == ("5", date(2026, 10, 1))
    assert acme.get(DeadlineKind.NOTIFY).day == date(2026, 11, 15) and acme.status is P


def test_a_custom_group_takes_the_oldest_invoice_of_its_members(store):
    load(store)
    grouped = replace(
        POLICY,
        grouping=GroupingSettings(Grouping.CUSTOM, MappingProxyType({"Acme group": ("C00001", "C00003")})),
        limits=LimitSettings(insurer=(decision("Acme group", "Atradius"),)),
    )
    [group] = list_deadlines(store, grouped, "odoo", date(2026, 10, 20))
    assert (group.customer, group.insurer, group.invoice_erp_id) == ("Acme group", "Atradius", "4")


def test_exposure_knows_the_due_date_of_the_oldest_open_invoice_overdue_or_not(store):
    load(store)
    calc = ExposureCalculator(store, ExposureSettings(), "EUR", date(2026, 10, 20))
    figures = calc.compute("odoo", None, overdue_days=30)
    assert figures["10"][1].oldest_open_due == DUE  # the paid, draft and credit-note documents do not count
    assert figures["10"][1].oldest_due == DUE
    early = ExposureCalculator(store, ExposureSettings(), "EUR", date(2026, 8, 15)).compute("odoo", ["10"])
    assert early["10"][1].oldest_due is None and early["10"][1].oldest_open_due == DUE  # not overdue yet
    assert figures["30"][1].oldest_open_due == date(2026, 9, 20)


def test_a_credit_check_holds_once_the_insurer_stopped_cover(store):
    """From the store to the decision: the oldest open invoice's due date reaches the insurer_cover rule."""
    load(store)
    policy = replace(POLICY, rules=Rules(overdue=OverdueRule(enabled=False)))  # only the insurer's rule speaks
    on_the_last_day = CreditChecker(store, policy, COVER).check_prospective("C00001", D(100), "EUR", record=False)
    assert on_the_last_day.decision.result is Result.APPROVE
    assert on_the_last_day.overdue.oldest_open_due == DUE
    outcome = CreditChecker(store, policy, COVER + timedelta(days=1)).check_prospective("C00001", D(100), "EUR",
                                                                                     record=False)
    assert [r.code for r in outcome.decision.reasons] == ["insurer_cover_stopped"]
    assert outcome_json(outcome)["overdue"]["oldest_open_due"] == "2026-09-01"
    assert risk_flag(outcome, outcome.exposure.total) == "stop"
