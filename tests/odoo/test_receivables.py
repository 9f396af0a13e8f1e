"""Receivables at instalment level (issue 14), over real sockets on the Odoo sandbox, into SQLite and PostgreSQL.

Each open receivable item is synced (``account.move.line``: an instalment of an invoice, an open credit note, a
payment on account): an invoice is overdue when any of its instalments is, by that instalment's days; unapplied
payments are netted by ``credit_notes``; a credit group's open items add up to Odoo's partner ``credit``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.odoo.sandbox import OdooSandbox
from adapters.odoo.sandbox.demo import INSTALMENT_LATE_DAYS, UNAPPLIED_PAYMENT
from connector.domain import ReceivableKind
from connector.enforce import AgeingAlerts
from connector.exposure import ExposureCalculator
from connector.outbox import Outbox
from connector.ports import Stream
from connector.sync import SyncEngine
from policy.loader import load_policy

from .conftest import make_source

POLICY = """\
version = 1
name = "instalments"
base_currency = "USD"

[rules.overdue]
days = 30
amount = 0

[[alerts.ageing]]
days = 30
action = "activity"
"""

INSTALMENT_TERM = 8  # "30% Now, Balance 60 Days"


@pytest.fixture
def policy(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(POLICY)
    return load_policy(path)


def sync(sb: OdooSandbox, store, clock, *, full: bool = False):
    source = make_source(sb)
    try:
        report = SyncEngine(store, clock=clock).sync_source(source, full=full)
    finally:
        source.close()
    assert not report.errors, report.errors
    return {s.stream: s for s in report.streams}


def new_customer(sb: OdooSandbox, name: str) -> int:
    return sb.call("res.partner", "create", {"name": name, "is_company": True})


def post_invoice(sb: OdooSandbox, partner: int, day, untaxed: float, term: int | None = INSTALMENT_TERM) -> int:
    values = {"move_type": "out_invoice", "partner_id": partner, "invoice_date": day.isoformat(),
              "currency_id": 1, "company_id": 1,
              "invoice_line_ids": [(0, 0, {"name": "Goods", "quantity": 1, "price_unit": untaxed})]}
    if term:
        values["invoice_payment_term_id"] = term
    move = sb.call("account.move", "create", values)
    sb.call("account.move", "action_post", [move])
    return move


def figures(store, policy, as_of, group: str, days: int = 30):
    calculator = ExposureCalculator(store, policy.exposure, "USD", as_of)
    return calculator.compute("odoo", [group], overdue_days=days)[group]


def odoo_credit(sb: OdooSandbox, partner: int, company: int = 1) -> Decimal:
    [row] = sb.search_read("res.partner", [("id", "=", partner)], ["credit"],
                           context={"allowed_company_ids": [company]})
    return Decimal(str(row["credit"])).quantize(Decimal("0.01"))


def open_items(store, group: str, company: str | None = None):
    return [i for i in store.iter_receivables("odoo", open_only=True, customer=group)
            if company is None or i.company_id == company]


def test_late_first_instalment_makes_the_invoice_overdue_by_its_days(sandbox, store, clock, policy):
    as_of = sandbox.today
    partner = new_customer(sandbox, "Instalment Buyer")
    move = post_invoice(sandbox, partner, as_of - timedelta(days=40), 1000.0)  # 300.00 now, 700.00 in 60 days
    sync(sandbox, store, clock)
    group = str(partner)

    invoice = store.get_invoice("odoo", str(move))
    assert invoice.due_date == as_of + timedelta(days=20)  # the invoice's own due date: the last instalment's
    items = open_items(store, group)
    assert [(i.kind, i.due_date, i.amount_open) for i in items] == [
        (ReceivableKind.INSTALMENT, as_of - timedelta(days=40), Decimal("300.00")),
        (ReceivableKind.INSTALMENT, as_of + timedelta(days=20), Decimal("700.00")),
    ]
    assert {i.document_id for i in items} == {str(move)} and items[0].document_number == invoice.number

    exposure, overdue = figures(store, policy, as_of, group)
    assert exposure.components["open_invoices"] == Decimal("1000.00")
    assert (overdue.amount, overdue.count, overdue.oldest_due) == (Decimal("300.00"), 1, as_of - timedelta(days=40))
    assert overdue.days(as_of) == 40 and overdue.oldest_open_due == as_of - timedelta(days=40)

    # the ageing alerts see the late instalment: 40 days overdue, the invoice's whole open amount
    outbox = Outbox(store, clock=lambda: clock.now)
    changes = AgeingAlerts(store, policy, as_of, outbox).run("odoo")
    mine = [c for c in changes if c.order == invoice.number]
    assert len(mine) == 1 and mine[0].action == "create_alert"
    assert store.outbox_has(f"odoo:alert:{move}:30")
    latest, _count = store.outbox_latest("odoo", "create_alert", str(move))
    assert latest.payload["overdue"] == 40 and latest.payload["amount"] == "1000.00"
    assert latest.payload["due_date"] == (as_of - timedelta(days=40)).isoformat()


def test_demo_instalment_invoice_is_overdue(sandbox, store, clock, policy):
    """The demo's Contoso Ltd invoice on the 30 % / 70 % term: its first instalment is 40 days late."""
    sync(sandbox, store, clock)
    [contoso] = store.find_customers("C00013", "odoo")
    late = [i for i in open_items(store, contoso.credit_group_id)
            if i.due_date == sandbox.today - timedelta(days=INSTALMENT_LATE_DAYS)]
    assert len(late) == 1 and late[0].kind is ReceivableKind.INSTALMENT
    _exposure, overdue = figures(store, policy, sandbox.today, contoso.credit_group_id, days=INSTALMENT_LATE_DAYS - 1)
    assert overdue.amount >= late[0].amount_open and overdue.days(sandbox.today) >= INSTALMENT_LATE_DAYS


def test_unapplied_payment_is_netted_and_the_receivable_equals_odoo_credit(sandbox, store, clock, policy):
    as_of = sandbox.today
    partner = new_customer(sandbox, "Payer On Account")
    post_invoice(sandbox, partner, as_of - timedelta(days=5), 2208.0, term=4)  # due in 30 days
    sandbox.register_payment_on_account(partner, 1000.0)  # Odoo: credit 1,208.00
    sync(sandbox, store, clock)
    group = str(partner)

    assert odoo_credit(sandbox, partner) == Decimal("1208.00")
    [payment] = [i for i in open_items(store, group) if i.kind is ReceivableKind.PAYMENT]
    assert payment.amount_open == Decimal("-1000.00") and payment.amount_open_company == Decimal("-1000.00")
    exposure, overdue = figures(store, policy, as_of, group)
    assert exposure.components["open_invoices"] == Decimal("2208.00")
    assert exposure.components["credit_notes"] == Decimal("-1000.00")
    assert exposure.total == Decimal("1208.00") == sum(i.amount_open_company for i in open_items(store, group))
    assert overdue.amount == 0

    # with the component switched off, the payment is not netted (the documented switch)
    off = ExposureCalculator(store, replace(policy.exposure, credit_notes=False), "USD", as_of)
    assert off.compute("odoo", [group])[group][0].total == Decimal("2208.00")


@pytest.mark.parametrize("version", ["17", "19"])
def test_every_group_receivable_equals_odoo_partner_credit(version, clock, store):
    """Over the whole demo book (instalments, partial payments, credit notes, the payment on account), per company:
    the open items of each credit group, in company currency, add up to Odoo's partner ``credit``."""
    with OdooSandbox(version=version, data="demo", clock=clock) as sb:
        sync(sb, store, clock)
        for company in (1, 2):
            ours: dict[str, Decimal] = defaultdict(Decimal)
            for item in store.iter_receivables("odoo", open_only=True):
                if item.company_id == str(company):
                    ours[item.credit_group_id] += item.amount_open_company
            theirs = {str(r["id"]): Decimal(str(r["credit"])).quantize(Decimal("0.01"))
                      for r in sb.search_read("res.partner", [], ["credit"],
                                              context={"allowed_company_ids": [company], "active_test": False})}
            assert {g: v for g, v in ours.items() if v} == {g: v for g, v in theirs.items() if v}
        [globex] = store.find_customers("C00015", "odoo")
        payments = [i for i in open_items(store, globex.credit_group_id) if i.kind is ReceivableKind.PAYMENT]
        assert [p.amount_open for p in payments] == [Decimal(-UNAPPLIED_PAYMENT).quantize(Decimal("0.01"))]


def test_partial_payment_of_an_instalment(sandbox, store, clock, policy):
    as_of = sandbox.today
    partner = new_customer(sandbox, "Partial Payer")
    move = post_invoice(sandbox, partner, as_of - timedelta(days=40), 1000.0)
    sync(sandbox, store, clock)
    group = str(partner)

    clock.tick(60)
    sandbox.register_payment(move, 200.0)  # settles the first instalment first: 100.00 of it left
    streams = sync(sandbox, store, clock)
    assert streams["receivables"].read == 2  # the first instalment's item, and the payment's (matched in full)
    assert [i.amount_open for i in open_items(store, group)] == [Decimal("100.00"), Decimal("700.00")]
    _exposure, overdue = figures(store, policy, as_of, group)
    assert (overdue.amount, overdue.count, overdue.days(as_of)) == (Decimal("100.00"), 1, 40)
    assert odoo_credit(sandbox, partner) == Decimal("800.00") == sum(i.amount_open for i in open_items(store, group))
    assert store.get_invoice("odoo", str(move)).amount_open == Decimal("800.00")

    clock.tick(60)
    sandbox.register_payment(move, 150.0)  # the first instalment paid, 50.00 of the second
    sync(sandbox, store, clock)
    assert [(i.due_date, i.amount_open) for i in open_items(store, group)] == [
        (as_of + timedelta(days=20), Decimal("650.00"))]
    exposure, overdue = figures(store, policy, as_of, group)
    assert overdue.amount == 0 and overdue.oldest_due is None
    assert overdue.oldest_open_due == as_of + timedelta(days=20)
    assert exposure.components["open_invoices"] == Decimal("650.00") == odoo_credit(sandbox, partner)


def test_unchanged_cycle_reads_no_receivable_item(sandbox, store, clock):
    first = sync(sandbox, store, clock)
    assert first["receivables"].read == store.count(Stream.RECEIVABLES) > 400
    clock.tick(1000)
    again = sync(sandbox, store, clock)
    assert again["receivables"].read == 0 and again["receivables"].written == 0
    assert again["receivables"].calls <= 2
    # a full read finds every item again and deletes none
    clock.tick(10)
    full = sync(sandbox, store, clock, full=True)
    assert full["receivables"].deleted == 0 and full["receivables"].read == 0


def test_invoice_reset_to_draft_leaves_the_open_items(sandbox, store, clock, policy):
    """An item whose entry goes back to draft is read again (the stream does not filter on the state)."""
    as_of = sandbox.today
    partner = new_customer(sandbox, "Reset Buyer")
    move = post_invoice(sandbox, partner, as_of - timedelta(days=40), 1000.0)
    sync(sandbox, store, clock)
    assert len(open_items(store, str(partner))) == 2
    clock.tick(60)
    sandbox.call("account.move", "button_draft", [move])
    sync(sandbox, store, clock)
    assert open_items(store, str(partner)) == []
    exposure, overdue = figures(store, policy, as_of, str(partner))
    assert exposure.components["open_invoices"] == 0 and overdue.amount == 0


def test_ageing_items_are_instalments_and_tie_to_odoo_credit(sandbox, store, clock):
    """The ageing report's open items come from the receivable items: the late first instalment is aged by its own
    due date, the payment on account is a credit, and each company's total ties to the sum of Odoo's credits."""
    from connector.ageing import ItemKind, age, open_items as ageing_items, store_converter

    as_of = sandbox.today
    sync(sandbox, store, clock)
    items = list(ageing_items(store, "odoo"))
    [contoso] = store.find_customers("C00013", "odoo")
    late = [i for i in items if i.credit_group_id == contoso.credit_group_id
            and i.due_date == as_of - timedelta(days=INSTALMENT_LATE_DAYS)]
    assert len(late) == 1 and late[0].kind is ItemKind.INSTALMENT
    [globex] = store.find_customers("C00015", "odoo")
    assert [i.amount_open for i in items if i.credit_group_id == globex.credit_group_id
            and i.kind is ItemKind.UNAPPLIED_PAYMENT] == [Decimal("-1000.00")]
    report = age(items, (0, 30, 60, 90, 120), as_of, base_currency="USD", convert=store_converter(store))
    for section in report.companies:
        credits = sum((Decimal(str(r["credit"])).quantize(Decimal("0.01")) for r in sandbox.search_read(
            "res.partner", [], ["credit"], context={"allowed_company_ids": [int(section.company_id)],
                                                     "active_test": False})), Decimal(0))
        assert section.total.total == credits


def test_order_of_a_customer_with_a_late_first_instalment_is_held_as_overdue(sandbox, store, clock, tmp_path):
    """The overdue rule sees the late instalment: a quotation of that customer is held, with the instalment's days."""
    from connector.checks import CreditChecker

    as_of = sandbox.today
    partner = new_customer(sandbox, "Held Instalment Buyer")
    post_invoice(sandbox, partner, as_of - timedelta(days=40), 1000.0)
    order = sandbox.call("sale.order", "create", {"partner_id": partner, "order_line": [
        (0, 0, {"name": "Goods", "product_uom_qty": 1, "price_unit": 100.0})]})
    [number] = [r["name"] for r in sandbox.search_read("sale.order", [("id", "=", order)], ["name"])]
    sync(sandbox, store, clock)
    path = tmp_path / "overdue.toml"
    path.write_text(POLICY + "[rules.no_limit]\nenabled = false\n")
    outcome = CreditChecker(store, load_policy(path), as_of).check(number, "odoo", record=False)
    assert outcome.decision.result.value == "hold"
    [reason] = [r for r in outcome.decision.reasons if r.code == "overdue"]
    assert "300.00" in reason.message and "40 days" in reason.message and "1 invoice(s)" in reason.message


@pytest.mark.parametrize("protocol", ["jsonrpc", "json2"])
def test_receivables_over_json_protocols_on_odoo_19(sandbox19, store, clock, protocol):
    """Odoo 19 over JSON-RPC and JSON-2: the same items, and an unchanged cycle reads none of them."""
    password = sandbox19.api_key if protocol == "json2" else "admin"

    def run():
        source = make_source(sandbox19, protocol, password=password)
        try:
            return {s.stream: s for s in SyncEngine(store, clock=clock).sync_source(source).streams}
        finally:
            source.close()

    first = run()
    assert first["receivables"].status == "ok" and first["receivables"].read == store.count(Stream.RECEIVABLES)
    [globex] = store.find_customers("C00015", "odoo")
    assert [i.amount_open for i in open_items(store, globex.credit_group_id) if i.kind is ReceivableKind.PAYMENT] == [
        Decimal("-1000.00")]
    clock.tick(1000)
    again = run()
    assert again["receivables"].read == 0 and again["receivables"].calls <= 2


def test_settled_instalments_give_days_late_and_share_paid_late(sandbox, store, clock, policy):
    """Each instalment settled in full carries the day Odoo reconciled it (its partial reconciliations'
    ``max_date``); the payment figures weigh days late by the instalment's amount."""
    from connector.ageing import store_converter
    from connector.figures import figures as payment_figures

    as_of = sandbox.today
    partner = new_customer(sandbox, "Late Payer")
    late = post_invoice(sandbox, partner, as_of - timedelta(days=100), 1000.0)  # 300 due at once, 700 in 60 days
    on_time = post_invoice(sandbox, partner, as_of - timedelta(days=20), 500.0, term=None)
    sync(sandbox, store, clock)
    group = str(partner)
    assert all(i.paid_on is None for i in store.iter_receivables("odoo", customer=group))

    clock.tick(60)
    sandbox.register_payment(late, 1000.0, day=(as_of - timedelta(days=30)).isoformat())  # 70 and 10 days late
    sandbox.register_payment(on_time, 500.0, day=(as_of - timedelta(days=20)).isoformat())
    sync(sandbox, store, clock)
    settled = {(i.due_date, i.amount_company): i.paid_on
               for i in store.iter_settled_instalments("odoo", paid_from=as_of - timedelta(days=365), customer=group)}
    assert settled == {(as_of - timedelta(days=100), Decimal("300.00")): as_of - timedelta(days=30),
                       (as_of - timedelta(days=40), Decimal("700.00")): as_of - timedelta(days=30),
                       (as_of - timedelta(days=20), Decimal("500.00")): as_of - timedelta(days=20)}
    assert not list(open_items(store, group))

    per_group, total = payment_figures(store, ["odoo"], as_of, months=3, base_currency="USD",
                                       conversion=policy.exposure.conversion, convert=store_converter(store),
                                       group=group)
    payments = per_group[("odoo", group)].as_json()["payments"]
    # (300 × 70 + 700 × 10 + 500 × 0) / 1,500 = 18.7 days; 1,000 of 1,500 settled late
    assert (payments["paid"], payments["items"], payments["average_days_late"], payments["share_paid_late"]) == (
        "1500.00", 3, "18.7", "0.6667")
    months = {m["month"]: (m["average_days_late"], m["share_paid_late"]) for m in payments["by_month"]}
    assert months[(as_of - timedelta(days=30)).strftime("%Y-%m")][0] is not None
    assert total.payments.paid == Decimal("1500.00")

    # a window that ends before the settlements sees none of them
    _, before = payment_figures(store, ["odoo"], as_of - timedelta(days=31), months=3, base_currency="USD",
                                conversion=policy.exposure.conversion, convert=store_converter(store), group=group)
    assert before.payments.items == 0 and before.payments.average_days_late() is None
