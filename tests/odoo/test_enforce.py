"""Enforcement end to end against the sandbox: holds, releases, flags, outbox, ERP outages."""

from __future__ import annotations

import xmlrpc.client
from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.odoo.sandbox import OdooSandbox
from adapters.odoo.writer import OdooWriter
from connector.checks import CreditChecker
from connector.enforce import Enforcer
from connector.outbox import Outbox
from connector.sync import SyncEngine
from policy.loader import load_policy

from .conftest import make_source

POLICY = """\
version = 1
name = "enforce test"
base_currency = "USD"

[limits.grades]
6 = {limit}

[customers."{ref}"]
grade = 6

[rules.over_limit]
tolerance_percent = 0
[rules.overdue]
enabled = false
[rules.no_limit]
enabled = false

[[approval_tiers]]
role = "credit_manager"
"""


class Loop:
    """One daemon cycle: sync, enforce, push the outbox."""

    def __init__(self, sb, store, tmp_path, clock):
        self.sb, self.store, self.tmp_path = sb, store, tmp_path
        self.as_of = clock.now.date()
        self.now = clock.now  # the daemon's clock, in step with the ERP's
        self.outbox = Outbox(store, base_delay=30, max_delay=60, clock=lambda: self.now)
        self.policy = None

    def sync(self):
        source = make_source(self.sb, retry_attempts=1)
        try:
            SyncEngine(self.store).sync_source(source)
        finally:
            source.close()

    def set_policy(self, ref, limit):
        path = self.tmp_path / "policy.toml"
        path.write_text(POLICY.format(ref=ref, limit=limit))
        self.policy = load_policy(path)

    def enforce(self):
        report = Enforcer(self.store, self.policy, self.as_of, self.outbox, clock=lambda: self.now).run("odoo")
        writer = OdooWriter(make_source(self.sb, retry_attempts=1).client, controller_user_id=2)
        drained = self.outbox.drain(writer, "odoo")
        writer.client.close()
        return report, drained

    def exposure(self, number):
        return CreditChecker(self.store, self.policy, self.as_of).check(number, "odoo", record=False)


def target(store):
    """A quotation of a customer with a reference and an open invoice."""
    customers = {c.erp_id: c for c in store.iter_customers("odoo")}
    open_groups = {i.credit_group_id for i in store.iter_invoices("odoo", open_only=True) if i.kind.value == "invoice"}
    for order in store.iter_orders("odoo"):
        head = customers.get(customers[order.customer_id].credit_group_id)
        if order.state.value == "draft" and head and head.ref and head.erp_id in open_groups:
            return order, head
    raise AssertionError("no suitable order in the demo data")


@pytest.fixture
def loop_factory(store, tmp_path, clock):
    def make(sb):
        return Loop(sb, store, tmp_path, clock)
    return make


def messages(sb, order_id):
    return sb.search_count("mail.message", [("model", "=", "sale.order"), ("res_id", "=", order_id),
                                            ("body", "ilike", "creditguard")])


def test_advisory_mode_without_addon(sandbox, loop_factory):
    loop = loop_factory(sandbox)
    loop.sync()
    order, head = target(loop.store)
    loop.set_policy(head.ref, 1)
    report, drained = loop.enforce()
    assert any(c.order == order.number and c.action == "place_hold" for c in report.changes)
    assert drained.applied >= 1 and drained.dead == 0
    oid = int(order.erp_id)
    assert messages(sandbox, oid) == 1
    assert sandbox.search_count("mail.activity", [("res_model", "=", "sale.order"), ("res_id", "=", oid)]) == 1
    stop = sandbox.search_read("res.partner.category", [("name", "=", "Credit: stop")], ["id"])
    assert stop and stop[0]["id"] in sandbox.search_read("res.partner", [("id", "=", int(head.erp_id))],
                                                         ["category_id"])[0]["category_id"]
    # a second cycle changes nothing: no duplicate message, activity or tag
    loop.sync()
    report, drained = loop.enforce()
    assert report.changes == [] and drained.applied == 0
    assert messages(sandbox, oid) == 1
    assert sandbox.search_count("mail.activity", [("res_model", "=", "sale.order"), ("res_id", "=", oid)]) == 1


def todos(sb, order_id):
    return sb.search_read("mail.activity", [("res_model", "=", "sale.order"), ("res_id", "=", order_id)], ["note"])


def test_advisory_entry_applied_again_after_a_lost_answer_changes_nothing(sandbox, loop_factory):
    """A crash after the To-Do was scheduled and before the entry was marked applied: the retry finds the
    To-Do and the note by the entry's exact key and adds neither a second time."""
    loop = loop_factory(sandbox)
    loop.sync()
    order, head = target(loop.store)
    loop.set_policy(head.ref, 1)
    loop.enforce()
    oid = int(order.erp_id)
    [entry] = [e for e in loop.store.outbox_entries(source="odoo") if e.kind == "place_hold"
               and e.target_id == order.erp_id]
    writer = OdooWriter(make_source(sandbox, retry_attempts=1).client, controller_user_id=2)
    try:
        assert writer.apply(entry) == "already applied"
    finally:
        writer.client.close()
    assert messages(sandbox, oid) == 1 and len(todos(sandbox, oid)) == 1


def test_hold_note_gives_money_in_the_controllers_language_and_hides_the_key(sandbox, loop_factory):
    loop = loop_factory(sandbox)
    loop.sync()
    order, head = target(loop.store)
    loop.set_policy(head.ref, 1)
    sandbox.call("res.users", "write", [2], {"lang": "en_US"})
    loop.enforce()
    exposure = loop.exposure(order.number).exposure.total
    [note] = sandbox.search_read("mail.message", [("model", "=", "sale.order"), ("res_id", "=", int(order.erp_id)),
                                                  ("body", "ilike", "Credit hold")], ["body"])
    assert f"exposure ${exposure:,.2f}." in note["body"]
    # the idempotency key stays in the note for CreditGuard, out of the users' sight
    assert f'<span class="d-none">[creditguard odoo:hold:{order.erp_id}:r1]</span>' in note["body"]


def test_advisory_release_closes_the_hold_todo_and_a_revision_keeps_one_open(sandbox, loop_factory):
    loop = loop_factory(sandbox)
    loop.sync()
    order, head = target(loop.store)
    loop.set_policy(head.ref, 1)
    loop.enforce()
    oid = int(order.erp_id)
    [first] = todos(sandbox, oid)
    assert f"odoo:hold:{oid}:r1]" in first["note"]
    # new reasons (the customer's grade drops to 9, the grade rule holds too): revision 2, whose To-Do
    # replaces the first one
    loop.policy = load_policy_text(loop, POLICY.format(ref=head.ref, limit=1).replace("6 = 1", "9 = 1")
                                   .replace("grade = 6", "grade = 9"))
    report, drained = loop.enforce()
    assert [c.action for c in report.changes if c.order == order.number] == ["update_hold"]
    [second] = todos(sandbox, oid)
    assert f"odoo:hold:{oid}:r2]" in second["note"]
    # the order is cancelled in the ERP: the hold is released and its To-Do marked done
    sandbox.call("sale.order", "action_cancel", [oid])
    loop.sync()
    report, drained = loop.enforce()
    assert [c.action for c in report.changes if c.order == order.number] == ["release_hold"]
    assert drained.dead == 0 and todos(sandbox, oid) == []
    assert sandbox.search_count("mail.message", [("model", "=", "sale.order"), ("res_id", "=", oid),
                                                 ("body", "ilike", "Credit hold lifted by CreditGuard")]) == 1


def load_policy_text(loop, text):
    path = loop.tmp_path / "policy.toml"
    path.write_text(text)
    return load_policy(path)


@pytest.fixture
def addon_sandbox(clock):
    with OdooSandbox(version="17", data="demo", clock=clock, addons=("credit_guard",)) as sb:
        yield sb


def test_addon_hold_blocks_confirmation_and_release_is_honoured(addon_sandbox, loop_factory):
    sb = addon_sandbox
    loop = loop_factory(sb)
    loop.sync()
    order, head = target(loop.store)
    loop.set_policy(head.ref, 1)
    loop.enforce()
    oid = int(order.erp_id)
    [row] = sb.search_read("sale.order", [("id", "=", oid)], ["credit_hold", "credit_hold_codes", "credit_hold_key"])
    assert row["credit_hold"] is True and row["credit_hold_codes"] == "over_limit"
    odoo = xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/object", allow_none=True)
    with pytest.raises(xmlrpc.client.Fault) as refused:
        odoo.execute_kw("demo", 2, "admin", "sale.order", "action_confirm", [[oid]])
    assert refused.value.faultCode == 2 and f"{order.number} is on credit hold" in refused.value.faultString
    assert "release tier: credit_manager" in refused.value.faultString
    # a credit controller releases it in Odoo; the next cycle honours the release
    odoo.execute_kw("demo", 2, "admin", "sale.order", "action_release_credit_hold", [[oid]])
    loop.sync()
    report, _ = loop.enforce()
    assert [c.action for c in report.changes if c.order == order.number] == ["honour_release"]
    loop.sync()
    report, drained = loop.enforce()
    assert [c for c in report.changes if c.order == order.number] == []
    assert sb.search_read("sale.order", [("id", "=", oid)], ["credit_hold"])[0]["credit_hold"] is False
    odoo.execute_kw("demo", 2, "admin", "sale.order", "action_confirm", [[oid]])  # now it can be confirmed
    assert sb.search_read("sale.order", [("id", "=", oid)], ["state"])[0]["state"] == "sale"


def test_addon_flag_applied_again_changes_nothing(addon_sandbox, loop_factory):
    """A flag entry re-applied after a lost answer finds its own evaluation on the partner and writes nothing
    (a write would also move the partner's write_date and make the next sync read it again)."""
    sb = addon_sandbox
    loop = loop_factory(sb)
    loop.sync()
    order, head = target(loop.store)
    loop.set_policy(head.ref, 1)
    loop.enforce()
    [entry] = [e for e in loop.store.outbox_entries(source="odoo") if e.kind == "set_risk_flag"
               and e.target_id == head.erp_id]
    before = sb.search_read("res.partner", [("id", "=", int(head.erp_id))], ["write_date", "credit_risk_flag",
                                                                            "credit_headroom"])
    writer = OdooWriter(make_source(sb, retry_attempts=1).client, controller_user_id=2)
    try:
        assert writer.apply(entry) == "already applied"
    finally:
        writer.client.close()
    assert sb.search_read("res.partner", [("id", "=", int(head.erp_id))],
                          ["write_date", "credit_risk_flag", "credit_headroom"]) == before
    assert before[0]["credit_risk_flag"] == "stop" and before[0]["credit_headroom"] < 0


def test_partner_figures_are_those_of_creditguard_exposure(addon_sandbox, loop_factory):
    """The flag, exposure, limit and headroom written to the partner are the credit group's own figures — a
    held confirmed order's un-invoiced part counts, as in `creditguard exposure` (it used to be subtracted as
    "the order under check", leaving a Stop flag next to an exposure of 0.00)."""
    from creditguard.credit_commands import exposure_rows

    sb = addon_sandbox
    loop = loop_factory(sb)
    loop.sync()
    customers = {c.erp_id: c for c in loop.store.iter_customers("odoo")}
    states: dict[str, set[str]] = {}
    for o in loop.store.iter_orders("odoo"):
        if o.state.value != "confirmed" or o.amount_uninvoiced > 0:
            states.setdefault(customers[o.customer_id].credit_group_id, set()).add(o.state.value)
    # a group whose open orders are all confirmed: the order under check is always one of them
    head = next(customers[g] for g, s in states.items() if s == {"confirmed"} and customers[g].ref)
    loop.set_policy(head.ref, 1)
    loop.enforce()
    [row] = exposure_rows(loop.store, CreditChecker(loop.store, loop.policy, loop.as_of), head.ref, "odoo")
    assert Decimal(row["exposure"]["components"]["uninvoiced_orders"]) > 0
    [partner] = sb.search_read("res.partner", [("id", "=", int(head.erp_id))],
                               ["credit_risk_flag", "credit_exposure", "credit_effective_limit", "credit_headroom"])
    assert partner["credit_risk_flag"] == "stop"
    assert Decimal(str(partner["credit_exposure"])) == Decimal(row["exposure"]["total"])
    assert Decimal(str(partner["credit_effective_limit"])) == Decimal(row["limit"]["amount"]) == 1
    assert Decimal(str(partner["credit_headroom"])).quantize(Decimal("0.01")) == Decimal(row["headroom"])


def test_payment_under_the_limit_releases_the_hold(addon_sandbox, loop_factory):
    sb = addon_sandbox
    loop = loop_factory(sb)
    loop.sync()
    order, head = target(loop.store)
    loop.set_policy(head.ref, 10**9)
    total = loop.exposure(order.number).exposure.total
    invoice = max((i for i in loop.store.iter_invoices("odoo", open_only=True, customer=head.erp_id)
                   if i.kind.value == "invoice" and i.currency == "USD"), key=lambda i: i.amount_open)
    loop.set_policy(head.ref, total - Decimal("0.01"))
    loop.enforce()
    oid = int(order.erp_id)
    assert sb.search_read("sale.order", [("id", "=", oid)], ["credit_hold"])[0]["credit_hold"] is True
    sb.register_payment(int(invoice.erp_id), float(invoice.amount_open))
    loop.sync()
    report, drained = loop.enforce()
    assert [c.action for c in report.changes if c.order == order.number] == ["release_hold"]
    assert sb.search_read("sale.order", [("id", "=", oid)], ["credit_hold"])[0]["credit_hold"] is False


def test_writes_wait_in_the_outbox_while_the_erp_is_down(addon_sandbox, loop_factory):
    sb = addon_sandbox
    loop = loop_factory(sb)
    loop.sync()
    order, head = target(loop.store)
    loop.set_policy(head.ref, 1)
    sb.stop()
    report, drained = loop.enforce()
    assert drained.applied == 0 and drained.stopped and "connection refused" in drained.stopped
    pending = loop.store.outbox_entries(state="pending")
    assert any(e.kind == "place_hold" and e.target_id == order.erp_id for e in pending)
    [first] = [e for e in loop.store.outbox_entries(state="pending") if e.attempts == 1]
    sb.start()
    _, drained = loop.enforce()  # everything but the entry that met the outage, which backs off
    assert [e.id for e in loop.store.outbox_entries(state="pending")] == [first.id]
    loop.now += timedelta(minutes=2)
    _, drained = loop.enforce()
    assert drained.applied == 1
    assert loop.store.outbox_entries(state="pending") == []
    oid = int(order.erp_id)
    assert sb.search_read("sale.order", [("id", "=", oid)], ["credit_hold"])[0]["credit_hold"] is True
    assert messages(sb, oid) == 1
    _, drained = loop.enforce()
    assert drained.applied == 0 and messages(sb, oid) == 1


ALERTS = """
[[alerts.ageing]]
days = 1
action = "message"
[[alerts.ageing]]
days = 30
action = "both"
deadline_days = 3
"""


def test_ageing_alerts_once_per_threshold_and_closed_when_paid(sandbox, loop_factory):
    from connector.enforce import AgeingAlerts

    loop = loop_factory(sandbox)
    loop.sync()
    order, head = target(loop.store)
    path = loop.tmp_path / "alerts.toml"
    path.write_text(POLICY.format(ref=head.ref, limit=10**9) + ALERTS)
    loop.policy = load_policy(path)

    def cycle():
        changes = AgeingAlerts(loop.store, loop.policy, loop.as_of, loop.outbox, controller_user_id=2).run("odoo")
        writer = OdooWriter(make_source(sandbox, retry_attempts=1).client)
        drained = loop.outbox.drain(writer, "odoo", limit=10_000)
        writer.client.close()
        return changes, drained

    # an invoice is as late as its earliest open instalment (the demo's Contoso invoice on a 30 % / 70 % term: its
    # first instalment is 40 days late while the invoice's own due date, the last instalment's, is ahead)
    first_due = {}
    for item in loop.store.iter_receivables("odoo", open_only=True, kind="instalment"):
        first_due.setdefault(item.document_id, item.due_date)

    def late(invoice):
        return (loop.as_of - first_due.get(invoice.erp_id, invoice.due_date)).days

    overdue = [i for i in loop.store.iter_invoices("odoo", open_only=True)
               if i.kind.value == "invoice" and i.due_date and late(i) >= 1]
    over_30 = [i for i in overdue if late(i) >= 30]
    assert any(late(i) > (loop.as_of - i.due_date).days for i in over_30)
    changes, drained = cycle()
    assert len(changes) == len(overdue) + len(over_30) and drained.dead == 0
    activities = [("res_model", "=", "account.move"), ("note", "ilike", "creditguard")]
    assert sandbox.search_count("mail.activity", activities) == len(over_30)
    notes = [("model", "=", "account.move"), ("body", "ilike", "creditguard")]
    assert sandbox.search_count("mail.message", notes) == len(overdue) + len(over_30)
    # the next cycle and a restart (a new outbox over the same store) create nothing new
    changes, drained = cycle()
    assert changes == [] and drained.applied == 0
    loop.outbox = Outbox(loop.store, clock=lambda: loop.now)
    assert cycle()[0] == []
    assert sandbox.search_count("mail.activity", activities) == len(over_30)
    # paying an alerted invoice closes its activity
    paid = over_30[0]
    sandbox.register_payment(int(paid.erp_id), float(paid.amount_open))
    loop.sync()
    changes, drained = cycle()
    assert [c.action for c in changes] == ["close_alert"] * 2 and drained.applied == 2
    assert sandbox.search_count("mail.activity", activities) == len(over_30) - 1
    assert cycle()[0] == []  # closed once


INSURER = """
[[limits.insurer]]
customer = "{ref}"
insurer = "Atradius"
amount = 1000000
decided = 2020-01-01

[insurers."Atradius"]
overdue_notification_days = {notify}
max_extension_days = {mep}
collection_days = 3650
"""


def test_insurer_deadline_alerts_once_and_closed_when_paid(sandbox, loop_factory):
    from connector.enforce import AgeingAlerts, InsurerDeadlineAlerts

    loop = loop_factory(sandbox)
    loop.sync()
    oldest = next(r for r in loop.store.oldest_open_invoices("odoo", due_before=loop.as_of) if r.customer_ref)
    late = (loop.as_of - oldest.due_date).days
    path = loop.tmp_path / "insured.toml"
    # notify within three days (due soon), the maximum extension period expired yesterday (missed)
    path.write_text(POLICY.format(ref=oldest.customer_ref, limit=10**9)
                    + INSURER.format(ref=oldest.customer_ref, notify=late + 3, mep=late - 1))
    loop.policy = load_policy(path)

    def cycle(dry_run=False):
        changes = InsurerDeadlineAlerts(loop.store, loop.policy, loop.as_of, loop.outbox, controller_user_id=2).run(
            "odoo", dry_run=dry_run)
        changes += AgeingAlerts(loop.store, loop.policy, loop.as_of, loop.outbox).run("odoo", dry_run=dry_run)
        writer = OdooWriter(make_source(sandbox, retry_attempts=1).client)
        drained = loop.outbox.drain(writer, "odoo", limit=10_000)
        writer.client.close()
        return changes, drained

    assert [c.action for c in cycle(dry_run=True)[0]] == ["insurer_alert"] * 2  # listed, not queued
    assert loop.store.outbox_entries(kind="create_alert") == []
    changes, drained = cycle()
    assert [(c.order, c.action) for c in changes] == [(oldest.number, "insurer_alert")] * 2
    assert drained.applied == 2 and drained.dead == 0
    notify_by = (oldest.due_date + timedelta(days=late + 3)).isoformat()
    cover, notify = (c.detail for c in changes)  # in date order: the MEP expired yesterday, notify in 3 days
    assert notify == (f"Notify Atradius of the overdue account of {oldest.customer_name} by {notify_by} "
                      f"(invoice {oldest.number} due {oldest.due_date}) — cover is lost otherwise")
    assert cover.startswith(f"Atradius no longer covers new deliveries to {oldest.customer_name}")
    keys = sorted(e.key for e in loop.store.outbox_entries(kind="create_alert"))
    assert keys == [f"odoo:alert:{oldest.erp_id}:insurer-cover:atradius",
                    f"odoo:alert:{oldest.erp_id}:insurer-notify:atradius"]
    on_invoice = [("res_model", "=", "account.move"), ("res_id", "=", int(oldest.erp_id)),
                  ("note", "ilike", "creditguard")]
    activities = sandbox.search_read("mail.activity", on_invoice, ["summary", "date_deadline", "user_id"])
    assert sorted(str(a["date_deadline"]) for a in activities) == sorted(
        [notify_by, (oldest.due_date + timedelta(days=late - 1)).isoformat()])
    assert any(a["summary"].startswith("Notify Atradius") for a in activities)
    notes = [("model", "=", "account.move"), ("res_id", "=", int(oldest.erp_id)), ("body", "ilike", "Insurer deadline")]
    assert sandbox.search_count("mail.message", notes) == 2
    # the next cycle, a dry run and a restart (a new outbox over the same store) raise nothing again
    assert cycle()[0] == [] and cycle(dry_run=True)[0] == []
    loop.outbox = Outbox(loop.store, clock=lambda: loop.now)
    assert cycle()[0] == []
    assert sandbox.search_count("mail.activity", on_invoice) == 2
    # paying the oldest invoice closes both; the clock starts again from the next oldest unpaid invoice
    sandbox.register_payment(int(oldest.erp_id), float(loop.store.get_invoice("odoo", oldest.erp_id).amount_open))
    loop.sync()
    changes, drained = cycle()
    assert [c.order for c in changes if c.action == "close_alert"] == [oldest.number] * 2
    assert all(c.order != oldest.number for c in changes if c.action == "insurer_alert")
    assert drained.dead == 0 and sandbox.search_count("mail.activity", on_invoice) == 0
    assert [c for c in cycle()[0] if c.action == "close_alert"] == []  # closed once
