"""The pure parts of the claim file: which deadlines were met, what became of each promise and dispute."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from policy.model import InsurerTerms, Policy

from connector.claims import Line, claim_deadlines, disputes_of, promises_of
from connector.store.cases import CaseEvent, CaseRecord

DUE = date(2026, 1, 1)
TERMS = InsurerTerms(overdue_notification_days=30, max_extension_days=60, collection_days=30)


def event(day: date, kind: str, detail: str = "", amount: int | None = None, due_on: date | None = None) -> CaseEvent:
    return CaseEvent(1, "odoo", "7", datetime(day.year, day.month, day.day, tzinfo=UTC), day, kind, "open", detail,
                     "cli:carla", amount_minor=amount, due_on=due_on)


def line(number: str, day: date) -> Line:
    return Line(number, "1", "1", day, DUE, 0, "USD", Decimal("10.00"), "1", Decimal("10.00"), None)


def outcomes(events: list[CaseEvent], lines: list[Line], as_of: date) -> dict[str, tuple[str, str]]:
    policy = Policy(version=1, name="t", base_currency="USD", insurers={"Atradius": TERMS})
    return {d.kind: (d.outcome, d.evidence)
            for d in claim_deadlines(policy, "Atradius", DUE, lines, events, as_of)}


def test_deadlines_met_missed_or_open():
    lines = [line("INV/1", date(2025, 12, 1))]
    # notify by 01-31, cover stops 03-02, collection by 04-01
    early = outcomes([event(date(2026, 1, 20), "note", "insurer notified: ref 9"),
                      event(date(2026, 3, 20), "handover", "handed over to collection")], lines, date(2026, 5, 1))
    assert early["notify_by"][0] == "met" and "ref 9" in early["notify_by"][1]
    assert early["cover_stops"][0] == "met" and early["collection_by"][0] == "met"
    late = outcomes([event(date(2026, 4, 10), "handover")], lines, date(2026, 5, 1))
    assert late["notify_by"][0] == "missed" and late["collection_by"] == ("missed", "handover only on 2026-04-10")
    pending = outcomes([], lines, date(2026, 1, 10))
    assert {k: v[0] for k, v in pending.items()} == {"notify_by": "open", "cover_stops": "open",
                                                     "collection_by": "open"}
    assert "insurer notified" in pending["notify_by"][1]
    delivered_late = outcomes([], lines + [line("INV/2", date(2026, 3, 5))], date(2026, 5, 1))
    assert delivered_late["cover_stops"] == ("missed", "invoiced after cover stopped: INV/2")


def test_a_note_not_about_the_insurer_meets_nothing():
    found = outcomes([event(date(2026, 1, 5), "note", "called the buyer")], [line("INV/1", DUE)], date(2026, 5, 1))
    assert found["notify_by"][0] == "missed"


def test_promises_and_disputes_from_the_history():
    case = CaseRecord(1, "odoo", "7", "Buyer", "promise_to_pay", "USD", DUE, datetime(2026, 1, 1, tzinfo=UTC),
                      datetime(2026, 1, 1, tzinfo=UTC))
    events = [event(date(2026, 1, 2), "promise", "p1", 10000, date(2026, 1, 10)),
              event(date(2026, 1, 11), "promise_broken"),
              event(date(2026, 1, 12), "promise", "p2", 5000, date(2026, 1, 20)),
              event(date(2026, 1, 21), "promise_kept"),
              event(date(2026, 1, 22), "promise", "p3", 100, date(2026, 2, 1)),
              event(date(2026, 1, 23), "promise", "p4", 200, date(2026, 2, 5)),
              event(date(2026, 1, 24), "dispute", "50.00 USD disputed: damaged", 5000),
              event(date(2026, 1, 25), "resolve"),
              event(date(2026, 1, 26), "dispute", "20.00 USD disputed: short", 2000)]
    promises = promises_of(events, "USD", case)
    assert [(p.outcome, p.amount, p.promised_by) for p in promises] == [
        ("broken", Decimal("100.00"), date(2026, 1, 10)), ("kept", Decimal("50.00"), date(2026, 1, 20)),
        ("superseded", Decimal("1.00"), date(2026, 2, 1)), ("pending", Decimal("2.00"), date(2026, 2, 5))]
    disputes = disputes_of(events, "USD")
    assert [(d.amount, d.resolved_on) for d in disputes] == [(Decimal("50.00"), date(2026, 1, 25)),
                                                             (Decimal("20.00"), None)]


def test_a_source_without_receivable_items_claims_its_open_invoices(store):
    """A source that syncs no receivable items (SAP without open items): the open invoices are the lines, the
    open credit notes are shown apart, the paid ones are left out."""
    from policy.model import InsurerLimit, LimitSettings

    from connector.claims import assemble
    from connector.domain import Company, Customer, InvoiceKind, PaymentState
    from connector.ports import Stream
    from tests.test_store import T0, invoice

    store.save_companies("odoo", [Company("odoo", "1", "EU Co", "EUR")])
    store.save_page("odoo", Stream.CUSTOMERS, "res.partner", [Customer(
        "odoo", "10", "C10", "Buyer SA", "10", None, "FR", "FR123", True, None, None, None, True, T0)], [], None)
    store.save_page("odoo", Stream.INVOICES, "account.move", [
        invoice("1", invoice_date=date(2026, 6, 1), due_date=date(2026, 7, 1)),  # 125000 JPY, 771.60 EUR
        invoice("2", currency="EUR", invoice_date=date(2026, 10, 1), due_date=date(2026, 10, 31),
                amount_total=Decimal("300.00"), amount_open=Decimal("300.00"), amount_total_company=Decimal("300.00"),
                amount_open_company=Decimal("300.00")),
        invoice("3", kind=InvoiceKind.CREDIT_NOTE, currency="EUR", amount_open=Decimal("50.00"),
                amount_total=Decimal("50.00"), amount_open_company=Decimal("50.00"),
                amount_total_company=Decimal("50.00")),
        invoice("4", amount_open=Decimal(0), amount_open_company=Decimal(0), payment_state=PaymentState.PAID),
    ], [], None)
    policy = Policy(version=1, name="t", base_currency="EUR", insurers={"Atradius": TERMS}, limits=LimitSettings(
        insurer=(InsurerLimit("C10", "Atradius", Decimal(10000), "EUR", date(2026, 1, 1), date(2026, 8, 31)),
                 InsurerLimit("C10", "Atradius", Decimal(4000), "EUR", date(2026, 9, 1)))))
    claim = assemble(store, policy, "odoo", "10", "Buyer SA", date(2026, 12, 1))
    assert [(ln.number, ln.amount_open, ln.amount_base, ln.limit.amount if ln.limit else None)
            for ln in claim.lines] == [("INV/2026/00001", Decimal("125000"), Decimal("771.60"), Decimal(10000)),
                                       ("INV/2026/00002", Decimal("300.00"), Decimal("300.00"), Decimal(4000))]
    assert claim.totals == {"EUR": Decimal("300.00"), "JPY": Decimal("125000")}
    assert claim.total_base == Decimal("1071.60") and claim.credits_base == Decimal("-50.00")
    assert claim.net_base == Decimal("1021.60") and claim.buyer.vat == "FR123"
    assert claim.oldest_due == date(2026, 7, 1) and claim.insurer.amount == Decimal(4000)
