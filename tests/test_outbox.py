"""The outbox's retry, backoff and dead-letter rules (the ERP side is a scripted writer here;
the Odoo writer is exercised against the sandbox in tests/odoo)."""

import random
from datetime import UTC, datetime, timedelta

from connector.errors import AuthenticationFailed, FatalError, RetryableError
from connector.outbox import Outbox


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

    def __call__(self):
        return self.now


class ScriptedWriter:
    """Answers each apply with the next scripted outcome (an exception or None = success)."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.applied = []

    def apply(self, entry):
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.applied.append(entry.key)
        return "done"


def outbox(store, clock, **kw):
    return Outbox(store, clock=clock, rng=random.Random(1), base_delay=30, max_delay=600, **kw)


def queue(box, key, kind="place_hold"):
    return box.enqueue(source="odoo", kind=kind, target_model="sale.order", target_id="7", key=key,
                       payload={"held": True})


def test_a_key_is_queued_once_and_applied_once(store):
    clock = Clock()
    box = outbox(store, clock)
    assert queue(box, "odoo:hold:7:r1") is True
    assert queue(box, "odoo:hold:7:r1") is False
    writer = ScriptedWriter()
    assert box.drain(writer, "odoo").applied == 1
    assert box.drain(writer, "odoo").applied == 0
    assert writer.applied == ["odoo:hold:7:r1"]
    [entry] = store.outbox_entries()
    assert entry.state == "applied" and entry.result == "done" and entry.attempts == 1


def test_erp_down_backs_off_with_jitter_then_applies(store):
    clock = Clock()
    box = outbox(store, clock)
    queue(box, "k1")
    queue(box, "k2")
    writer = ScriptedWriter(RetryableError("odoo", "connection refused"))
    report = box.drain(writer, "odoo")
    assert report.retried == 1 and report.applied == 0 and "connection refused" in report.stopped
    [k2, k1] = store.outbox_entries()
    assert k1.state == "pending" and k1.attempts == 1 and k1.last_error == "odoo: connection refused"
    assert clock.now + timedelta(seconds=15) <= k1.next_attempt_at <= clock.now + timedelta(seconds=30)
    assert k2.attempts == 0  # draining stopped: the ERP is down
    assert box.drain(writer, "odoo").applied == 1  # k2 is due, k1 waits for its backoff
    clock.now += timedelta(seconds=31)
    assert box.drain(writer, "odoo").applied == 1
    assert writer.applied == ["k2", "k1"]


def test_dead_letter_after_max_attempts_and_manual_retry(store):
    clock = Clock()
    box = outbox(store, clock, max_attempts=3)
    queue(box, "k")
    writer = ScriptedWriter(*[RetryableError("odoo", "timed out")] * 3)
    delays = []
    for _ in range(3):
        box.drain(writer, "odoo")
        [entry] = store.outbox_entries()
        delays.append(entry.next_attempt_at - clock.now)
        clock.now = entry.next_attempt_at
    assert entry.state == "dead" and entry.attempts == 3
    assert delays[1] > delays[0]  # exponential
    assert store.outbox_entries(state="dead") == [entry]
    assert store.outbox_retry_dead(entry.id, clock.now)
    assert box.drain(writer, "odoo").applied == 1


def test_refused_write_is_a_dead_letter_at_once(store):
    clock = Clock()
    box = outbox(store, clock)
    queue(box, "k")
    report = box.drain(ScriptedWriter(FatalError("odoo", "Odoo refused the call: Invalid field")), "odoo")
    assert report.dead == 1 and store.outbox_entries()[0].state == "dead"


def test_refused_credentials_stop_without_using_up_tries(store):
    clock = Clock()
    box = outbox(store, clock)
    queue(box, "k")
    report = box.drain(ScriptedWriter(AuthenticationFailed("odoo", "access denied")), "odoo")
    assert report.stopped and report.dead == 0
    [entry] = store.outbox_entries()
    assert entry.state == "pending" and entry.attempts == 0


def test_alerts_to_close_are_found_in_one_query_and_closed_once(store):
    from decimal import Decimal

    from connector.ports import Stream
    from tests.test_store import invoice

    clock = Clock()
    box = outbox(store, clock)
    store.save_page("odoo", Stream.INVOICES, "account.move",
                    [invoice("1"), invoice("2", amount_open=Decimal(0), amount_open_company=Decimal(0))], [], None)
    for target in ("1", "2", "3"):  # 3: not (or no longer) in the store
        box.enqueue(source="odoo", kind="create_alert", target_model="account.move", target_id=target,
                    key=f"odoo:alert:{target}:30", payload={"invoice": target, "customer": "C"})
    assert store.alerts_to_close("odoo") == []  # nothing applied yet
    box.drain(ScriptedWriter(), "odoo")
    assert [e.target_id for e in store.alerts_to_close("odoo")] == ["2", "3"]
    box.enqueue(source="odoo", kind="close_alert", target_model="account.move", target_id="2",
                key="odoo:alert-close:2:30", payload={"alert_key": "odoo:alert:2:30", "invoice": "2"})
    assert [e.target_id for e in store.alerts_to_close("odoo")] == ["3"]
    assert store.alerts_to_close("other") == []
