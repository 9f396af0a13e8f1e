"""Dunning end to end over real sockets on the Odoo sandbox: reminders and demand letters land in the customer's
chatter once each as the days pass; promises, broken promises, disputes and ERP outages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.odoo.writer import OdooWriter
from connector.cases import Cases
from connector.checks import CreditChecker
from connector.dunning import DunningRun
from connector.outbox import Outbox
from connector.sync import SyncEngine
from policy.loader import load_policy

from .conftest import ladder, make_source

POLICY = """\
version = 1
name = "dunning test"
base_currency = "USD"

[rules.over_limit]
enabled = false
[rules.no_limit]
enabled = false
[rules.overdue]
days = 0
amount = 0

{ladder}
[cases]
exclude_disputed = {exclude}
{extra}
"""


class Loop:
    """The daemon's daily dunning run on a test clock: sync, dunning, push the outbox."""

    def __init__(self, sb, store, tmp_path, clock):
        self.sb, self.store, self.tmp_path, self.clock = sb, store, tmp_path, clock
        self.outbox = Outbox(store, base_delay=30, max_delay=60, clock=lambda: self.clock.now)
        self.policy = None
        self.as_of = clock.now.date()

    def set_policy(self, send="auto", approval="false", exclude="true", extra=""):
        path = self.tmp_path / "policy.toml"
        path.write_text(POLICY.format(ladder=ladder(send, approval), exclude=exclude, extra=extra))
        self.policy = load_policy(path)

    def sync(self):
        source = make_source(self.sb, retry_attempts=1)
        try:
            SyncEngine(self.store).sync_source(source)
        finally:
            source.close()

    def run(self, as_of, *, push=True):
        self.as_of = as_of
        self.clock.now = self.clock.now.replace(year=as_of.year, month=as_of.month, day=as_of.day)
        plans = DunningRun(self.store, self.policy, as_of, self.outbox, clock=lambda: self.clock.now).run("odoo")
        drained = self.push() if push else None
        return plans, drained

    def push(self):
        writer = OdooWriter(make_source(self.sb, retry_attempts=1).client)
        try:
            return self.outbox.drain(writer, "odoo")
        finally:
            writer.client.close()

    def cases(self):
        return Cases(self.store, self.policy, self.as_of, clock=lambda: self.clock.now)


@pytest.fixture
def loop(sandbox, store, tmp_path, clock):
    loop = Loop(sandbox, store, tmp_path, clock)
    loop.set_policy()
    loop.sync()
    return loop


def oldest_overdue_group(store):
    """The credit group with the oldest open invoice, and that invoice's due date."""
    invoices = [i for i in store.iter_invoices("odoo", open_only=True)
                if i.kind.value == "invoice" and i.due_date is not None]
    oldest = min(invoices, key=lambda i: i.due_date)
    return oldest.credit_group_id, oldest.due_date


def chatter(sb, partner_id, text="creditguard"):
    return sb.search_read("mail.message", [("model", "=", "res.partner"), ("res_id", "=", int(partner_id)),
                                           ("body", "ilike", text)], ["body", "subject", "message_type"])


def mine(plans, group):
    [p] = [p for p in plans if p.group == group]
    return p


def test_one_reminder_then_one_demand_letter_in_the_chatter(loop, sandbox):
    group, due = oldest_overdue_group(loop.store)
    open_items = [i for i in loop.store.iter_invoices("odoo", open_only=True, customer=group)
                  if i.kind.value == "invoice" and i.due_date is not None]
    # below the first level: nothing
    plans, _ = loop.run(due + timedelta(days=3))
    assert mine(plans, group).action == "wait" and chatter(sandbox, group) == []
    # day 8 past due: the reminder, once
    plans, drained = loop.run(due + timedelta(days=8))
    assert mine(plans, group).action == "send" and drained.dead == 0
    [reminder] = chatter(sandbox, group)
    assert "Payment reminder" in reminder["subject"] and reminder["message_type"] == "comment"
    # the letter is attached to the message, filed with the customer's documents
    [letter] = sandbox.search_read("ir.attachment", [("res_model", "=", "res.partner"), ("res_id", "=", int(group))],
                                   ["name", "mimetype", "file_size"])
    assert letter["name"].endswith(".html") and letter["mimetype"] == "text/html" and letter["file_size"] > 500
    [posted] = sandbox.search_read("mail.message", [("id", "=", reminder["id"])], ["attachment_ids"])
    assert posted["attachment_ids"] == [letter["id"]]
    oldest = [i for i in open_items if i.due_date == due][0]
    assert oldest.number in reminder["body"]
    assert f"{oldest.amount_open:,}" in reminder["body"].replace("$", "")  # the open amount, to the cent
    # running again, and the next days below the second level: nothing more
    for day in (8, 9, 20):
        plans, drained = loop.run(due + timedelta(days=day))
        assert mine(plans, group).action == "done"
        assert not [r for r in drained.results if f"res.partner:{group}:" in r]
    assert len(chatter(sandbox, group)) == 1
    # day 31: the demand letter, once
    plans, _ = loop.run(due + timedelta(days=31))
    assert mine(plans, group).action == "send"
    loop.run(due + timedelta(days=32))
    messages = chatter(sandbox, group)
    assert len(messages) == 2
    assert any("Formal demand for payment" in m["subject"] for m in messages)
    # the case: opened at the first level, each step in its history with the figures
    case = loop.store.active_case("odoo", group)
    assert case is not None and case.state == "open"
    events = [e.event for e in loop.store.case_events(case_id=case.id)]
    assert events == ["opened", "dunning_sent", "dunning_sent"]
    assert all(e.overdue_minor and e.exposure_minor is not None for e in loop.store.case_events(case_id=case.id))


def test_an_erp_that_is_down_keeps_the_step_in_the_outbox_applied_once_later(loop, sandbox):
    group, due = oldest_overdue_group(loop.store)
    sandbox.stop()
    plans, drained = loop.run(due + timedelta(days=8))
    assert mine(plans, group).action == "send" and drained.applied == 0 and drained.stopped
    [entry] = [e for e in loop.store.outbox_entries(source="odoo", kind="send_dunning") if e.target_id == group]
    assert entry.state == "pending"
    # the next day the ERP is back: the step is not queued again, the waiting entry is applied once
    sandbox.start()
    loop.clock.now += timedelta(hours=2)
    plans, drained = loop.run(due + timedelta(days=9))
    assert mine(plans, group).action == "done"
    assert len([e for e in loop.store.outbox_entries(source="odoo", kind="send_dunning")
                if e.target_id == group]) == 1
    assert len(chatter(sandbox, group)) == 1
    # a lost answer: applying the entry again finds the message by its exact key
    [entry] = [e for e in loop.store.outbox_entries(source="odoo", kind="send_dunning") if e.target_id == group]
    writer = OdooWriter(make_source(sandbox, retry_attempts=1).client)
    try:
        assert writer.apply(entry) == "already applied"
    finally:
        writer.client.close()
    assert len(chatter(sandbox, group)) == 1


def test_a_promise_to_pay_stops_the_next_level_and_a_broken_one_reopens(loop, sandbox):
    group, due = oldest_overdue_group(loop.store)
    loop.run(due + timedelta(days=8))
    loop.as_of = due + timedelta(days=10)
    case = loop.cases().act(f"odoo:{group}", "promise", "cli:carla", amount=Decimal("100.00"),
                            day=due + timedelta(days=40))
    assert case.state == "promise_to_pay"
    # day 31: the demand letter is due, but the promise stands
    plans, _ = loop.run(due + timedelta(days=31))
    assert mine(plans, group).action == "stop" and "promise" in mine(plans, group).reason
    assert len(chatter(sandbox, group)) == 1
    # day 41: the promised date passed without payment: broken, the case reopens, the demand letter goes
    plans, _ = loop.run(due + timedelta(days=41))
    assert mine(plans, group).action == "send"
    case = loop.store.active_case("odoo", group)
    assert case.state == "open"
    assert "promise_broken" in [e.event for e in loop.store.case_events(case_id=case.id)]
    assert len(chatter(sandbox, group)) == 2


def test_a_demand_that_needs_approval_waits_as_proposed(loop, sandbox):
    loop.set_policy(approval="true")
    group, due = oldest_overdue_group(loop.store)
    loop.run(due + timedelta(days=8))
    plans, _ = loop.run(due + timedelta(days=31))
    assert mine(plans, group).action == "propose"
    plans, _ = loop.run(due + timedelta(days=32))
    assert mine(plans, group).action == "pending" and len(chatter(sandbox, group)) == 1
    run = DunningRun(loop.store, loop.policy, loop.as_of, loop.outbox, clock=lambda: loop.clock.now)
    [approved] = run.approve("odoo", group, "cli:carla")
    assert approved.level == 30
    plans, _ = loop.run(due + timedelta(days=32))
    assert mine(plans, group).action == "send" and len(chatter(sandbox, group)) == 2


def test_a_disputed_amount_is_left_out_of_the_overdue_rule(loop, sandbox):
    group, due = oldest_overdue_group(loop.store)
    as_of = due + timedelta(days=8)
    checker = CreditChecker(loop.store, loop.policy, as_of)
    head = loop.store.get_customer("odoo", group)
    before = checker.check_prospective(f"odoo:{head.erp_id}", Decimal("1"), "USD", record=False)
    assert "overdue" in [r.code for r in before.decision.reasons]
    loop.as_of = as_of
    loop.cases().act(f"odoo:{group}", "dispute", "cli:carla", amount=before.overdue.amount,
                     text="goods damaged in transit")
    after = CreditChecker(loop.store, loop.policy, as_of).check_prospective(f"odoo:{head.erp_id}", Decimal("1"),
                                                                           "USD", record=False)
    assert "overdue" not in [r.code for r in after.decision.reasons]
    # and no reminder for an overdue that is all disputed
    plans, _ = loop.run(as_of)
    assert mine(plans, group).action == "none" and chatter(sandbox, group) == []
    # with the switch off the dispute counts again
    loop.set_policy(exclude="false")
    again = CreditChecker(loop.store, loop.policy, as_of).check_prospective(f"odoo:{head.erp_id}", Decimal("1"),
                                                                           "USD", record=False)
    assert "overdue" in [r.code for r in again.decision.reasons]


def test_a_paid_group_closes_its_case(loop, sandbox):
    group, due = oldest_overdue_group(loop.store)
    loop.run(due + timedelta(days=8))
    for invoice in loop.store.iter_invoices("odoo", open_only=True, customer=group):
        if invoice.kind.value == "invoice":
            sandbox.register_payment(int(invoice.erp_id), float(invoice.amount_open))
    loop.clock.now += timedelta(seconds=5)
    loop.sync()
    plans, _ = loop.run(due + timedelta(days=31))
    assert mine(plans, group).action == "close"
    assert loop.store.active_case("odoo", group) is None
    [closed] = loop.store.list_cases(source="odoo", group=group)
    assert closed.state == "closed" and len(chatter(sandbox, group)) == 1


def test_odoo_19_takes_the_reminder_the_same_way(sandbox19, store, tmp_path, clock):
    loop = Loop(sandbox19, store, tmp_path, clock)
    loop.set_policy()
    loop.sync()
    group, due = oldest_overdue_group(loop.store)
    plans, drained = loop.run(due + timedelta(days=8))
    assert mine(plans, group).action == "send" and drained.dead == 0
    [reminder] = chatter(sandbox19, group)
    assert "Payment reminder" in reminder["subject"]
    loop.run(due + timedelta(days=9))
    assert len(chatter(sandbox19, group)) == 1


def test_two_runs_at_the_same_moment_take_each_step_once(loop, sandbox):
    """The daemon's daily run and a person's `creditguard dunning` meeting: each step is worked out again under
    the group's lock, so one case is opened, one step queued and one message posted per group and level."""
    import threading

    group, due = oldest_overdue_group(loop.store)
    as_of = due + timedelta(days=8)
    loop.clock.now = loop.clock.now.replace(year=as_of.year, month=as_of.month, day=as_of.day)
    runs = [DunningRun(loop.store, loop.policy, as_of, loop.outbox, clock=lambda: loop.clock.now) for _ in range(2)]
    start, errors = threading.Barrier(2), []

    def run(dunning):
        start.wait()
        try:
            dunning.run("odoo")
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    [case] = loop.store.list_cases(source="odoo", group=group)
    sent = [e for e in loop.store.case_events(case_id=case.id) if e.event == "dunning_sent"]
    assert len(sent) == 1 and len(loop.store.dunning_steps(case_id=case.id)) == 1
    loop.push()
    assert len(chatter(sandbox, group)) == 1
