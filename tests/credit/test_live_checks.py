"""Checks on an order as the ERP has it now: synced or not, reservations counted until the sync brings the order
in, one decision at a time per credit group (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from structlog.testing import capture_logs

from connector.checks import BadFacts, CreditChecker
from connector.decisions import Result
from connector.domain import Company, Customer, OrderState, SalesOrder
from connector.enforce import Enforcer
from connector.logs import configure_logging
from connector.live_checks import LiveCustomer, LiveOrder
from connector.outbox import Outbox
from connector.ports import Stream
from connector.store.reservations import Reservation
from policy.loader import load_policy

D = Decimal
AS_OF = date(2026, 12, 2)
T = datetime(2026, 12, 1, tzinfo=UTC)
POLICY = """\
version = 1
name = "Live checks"
base_currency = "USD"
[exposure]
quotations = true
[limits]
precedence = ["erp"]
[rules.over_limit]
tolerance_percent = 0
tolerance_amount = 0
[rules.overdue]
enabled = false
"""


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def policy(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(POLICY)
    return load_policy(path)


@pytest.fixture
def clock():
    return Clock()


def customer(erp_id, group=None, limit=None, ref=None):
    return Customer("odoo", erp_id, ref, f"Customer {erp_id}", group or erp_id, None, "US", None, True, None,
                    D(limit) if limit else None, "USD" if limit else None, True, T)


@pytest.fixture
def synced(store):
    store.save_companies("odoo", [Company("odoo", "1", "YourCompany", "USD")])
    store.save_page("odoo", Stream.CUSTOMERS, "res.partner",
                    [customer("10", limit="10000", ref="C00010"), customer("11", group="10")], [], None)
    return store


def checker(store, policy, clock):
    return CreditChecker(store, policy, AS_OF, clock)


def live(erp_id, amount, state=OrderState.DRAFT, currency="USD", uninvoiced=None):
    return LiveOrder("odoo", erp_id, f"S{erp_id}", state, currency, D(amount), D(uninvoiced or amount), "1",
                     AS_OF, None)


def buyer(erp_id="11", group="10", limit=None):
    return LiveCustomer(erp_id, f"Customer {erp_id}", group, f"Customer {group}", None,
                        D(limit) if limit else None, "USD" if limit else None)


def confirm(store, policy, clock, order, who):
    return checker(store, policy, clock).check_live(order, who, confirm=True, outbox=Outbox(store, clock=clock))


def exposure(store, policy, clock, group="10"):
    return checker(store, policy, clock).exposures.compute("odoo", [group])[group][0]


def test_a_new_buyer_never_synced_is_decided_by_the_policy(synced, policy, clock):
    outcome = confirm(synced, policy, clock, live("900", "9000000"), buyer("57", "57"))
    assert outcome.decision.result is Result.HOLD and [r.code for r in outcome.decision.reasons] == ["no_limit"]
    assert outcome.hold_key == "odoo:hold:900:r1"
    assert synced.hold("odoo", "900").state == "held"
    [entry] = synced.outbox_entries(source="odoo", state="pending")
    assert entry.key == outcome.hold_key and entry.payload["held"] is True
    assert synced.decisions(order="S900")[0]["trigger"] == "confirm"


def test_orders_a_then_b_against_the_erp_limit(synced, policy, clock):
    a = confirm(synced, policy, clock, live("901", "6000"), buyer())
    assert a.decision.result is Result.APPROVE and a.reservation == D("6000.00")
    assert exposure(synced, policy, clock).components["reservations"] == D("6000.00")
    clock.now += timedelta(minutes=1)
    b = confirm(synced, policy, clock, live("902", "6000"), buyer())
    assert b.decision.result is Result.HOLD and [r.code for r in b.decision.reasons] == ["over_limit"]
    assert b.exposure.components["reservations"] == D("6000.00") and b.exposure.total == D("12000.00")
    assert [r.order_number for r in synced.reservations(clock.now)] == ["S901"]


def test_a_new_buyer_with_the_limit_the_erp_sends(synced, policy, clock):
    who = buyer("70", "70", limit="10000")
    assert confirm(synced, policy, clock, live("903", "6000"), who).decision.result is Result.APPROVE
    assert confirm(synced, policy, clock, live("904", "6000"), who).decision.result is Result.HOLD


def test_the_same_order_checked_again_is_not_counted_twice(synced, policy, clock):
    confirm(synced, policy, clock, live("905", "6000"), buyer())
    again = confirm(synced, policy, clock, live("905", "7000"), buyer())  # its total grew before confirmation
    assert again.decision.result is Result.APPROVE and again.exposure.total == D("7000.00")
    assert exposure(synced, policy, clock).components["reservations"] == D("7000.00")


def test_the_request_figures_win_over_a_stale_store(synced, policy, clock):
    synced.save_page("odoo", Stream.ORDERS, "sale.order",
                     [SalesOrder("odoo", "906", "S906", "11", OrderState.DRAFT, False, T, "USD", D("500"), D("500"),
                                 "1", T)], [], None)
    outcome = checker(synced, policy, clock).check_live(live("906", "12000"), buyer(), record=False)
    assert outcome.exposure.components["current_order"] == D("12000.00")
    assert outcome.exposure.components["quotations"] == D("0.00")  # the stored, stale copy does not count
    assert outcome.decision.result is Result.HOLD


def test_the_synced_order_replaces_its_reservation(synced, policy, clock):
    confirm(synced, policy, clock, live("907", "6000"), buyer())
    # synced before it was confirmed (a quotation): the reservation still counts, the quotation does not
    synced.save_page("odoo", Stream.ORDERS, "sale.order",
                     [SalesOrder("odoo", "907", "S907", "11", OrderState.DRAFT, False, T, "USD", D("6000"), D("6000"),
                                 "1", T)], [], None)
    components = exposure(synced, policy, clock).components
    assert (components["reservations"], components["quotations"]) == (D("6000.00"), D("0.00"))
    # synced confirmed: the order counts, the reservation does not
    synced.save_page("odoo", Stream.ORDERS, "sale.order",
                     [SalesOrder("odoo", "907", "S907", "11", OrderState.CONFIRMED, False, T, "USD", D("6000"),
                                 D("6000"), "1", T)], [], None)
    components = exposure(synced, policy, clock).components
    assert (components["reservations"], components["uninvoiced_orders"]) == (D("0.00"), D("6000.00"))
    assert [r.status for r in synced.reservations(clock.now)] == ["replaced"]


def test_a_check_counts_a_reserved_quotation_once_whatever_the_store_reads_first(synced, policy, clock):
    """On PostgreSQL a check sends its reads together (the order sums cannot wait for the reservations): the
    quotation synced for a reserved order is still left out, and the check decides as exposure figures it."""
    confirm(synced, policy, clock, live("920", "6000"), buyer())
    synced.save_page("odoo", Stream.ORDERS, "sale.order",
                     [SalesOrder("odoo", "920", "S920", "11", OrderState.DRAFT, False, T, "USD", D("6000"), D("6000"),
                                 "1", T),
                      SalesOrder("odoo", "921", "S921", "10", OrderState.DRAFT, False, T, "USD", D("500"), D("500"),
                                 "1", T)], [], None)
    fits = checker(synced, policy, clock).check_live(live("922", "3500"), buyer())
    components = fits.exposure.components
    assert (components["reservations"], components["quotations"]) == (D("6000.00"), D("500.00"))
    assert fits.decision.result is Result.APPROVE  # 6,000 + 500 + 3,500 of 10,000
    assert components == exposure(synced, policy, clock).components | {"current_order": D("3500.00")}
    over = checker(synced, policy, clock).check_live(live("923", "3500.01"), buyer("10"))
    assert over.decision.result is Result.HOLD
    # the stored quotation checked again: its own figures count once, as the order under check
    again = checker(synced, policy, clock).check_live(live("921", "800"), buyer("10"))
    assert again.exposure.components["quotations"] == D("0.00")
    assert again.decision.result is Result.APPROVE  # 6,000 + 800 of 10,000


def test_a_reservation_expires_and_is_reported_once(synced, policy, clock):
    confirm(synced, policy, clock, live("908", "6000"), buyer())
    clock.now += timedelta(hours=25)
    assert exposure(synced, policy, clock).components["reservations"] == D("0.00")
    [expired] = synced.report_expired_reservations(clock.now)
    assert expired.order_number == "S908" and expired.amount == D("6000.00")
    assert synced.report_expired_reservations(clock.now) == []
    assert [r.status for r in synced.reservations(clock.now)] == ["expired"]


def test_a_hold_at_confirmation_is_the_hold_enforce_places(synced, policy, clock):
    confirm(synced, policy, clock, live("909", "6000"), buyer())
    held = confirm(synced, policy, clock, live("910", "6000"), buyer())
    synced.save_page("odoo", Stream.ORDERS, "sale.order",
                     [SalesOrder("odoo", "910", "S910", "11", OrderState.DRAFT, False, T, "USD", D("6000"), D("6000"),
                                 "1", T)], [], None)
    outbox = Outbox(synced, clock=clock)
    report = Enforcer(synced, policy, AS_OF, outbox, clock).run("odoo")
    assert [c.action for c in report.changes if c.order == "S910"] == []  # already held for the same reasons
    assert [e.key for e in synced.outbox_entries(source="odoo") if e.kind == "place_hold"] == [held.hold_key]


def test_contradictory_facts_are_refused(synced, policy, clock):
    with pytest.raises(BadFacts) as cancelled:
        checker(synced, policy, clock).check_live(live("911", "10", state=OrderState.CANCELLED), buyer())
    assert cancelled.value.field == "order.state"
    with pytest.raises(BadFacts) as contact:
        checker(synced, policy, clock).check_live(live("912", "10"), buyer("99", "11"))
    assert contact.value.field == "customer.commercial_erp_id"


def test_concurrent_confirmations_approve_only_what_fits(synced, policy, clock):
    """50 confirmations of 10 % of the headroom each, at once: at most 10 fit, each decided after the others."""
    results: list[Result] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        outcome = confirm(synced, policy, clock, live(str(1000 + n), "1000"), buyer())
        with lock:
            results.append(outcome.decision.result)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 50
    assert results.count(Result.APPROVE) == 10
    assert exposure(synced, policy, clock).components["reservations"] == D("10000.00")


def test_an_approval_reserves_under_the_decision_it_was_given_by(synced, policy, clock):
    outcome = confirm(synced, policy, clock, live("920", "4000"), buyer())
    [decision] = synced.decisions(order="S920")
    [reservation] = synced.reservations(clock.now)
    assert outcome.decision.result is Result.APPROVE and reservation.decision_id == decision["id"]


def test_an_order_held_at_confirmation_and_confirmed_again_keeps_its_one_hold(synced, policy, clock):
    configure_logging("info", "json")  # (back to warnings by the next test's fixture)
    with capture_logs() as logs:
        first = confirm(synced, policy, clock, live("921", "12000"), buyer())
        held_at = clock.now
        clock.now += timedelta(minutes=1)
        again = confirm(synced, policy, clock, live("921", "12000"), buyer())
    assert first.decision.result is again.decision.result is Result.HOLD
    assert again.hold_key == first.hold_key
    assert [e.key for e in synced.outbox_entries(source="odoo")] == [first.hold_key]
    assert [e["key"] for e in logs if e["event"] == "outbox.queued"] == [first.hold_key]  # once it is committed
    hold = synced.hold("odoo", "921")
    assert (hold.revision, hold.since) == (1, held_at) and len(synced.decisions(order="S921")) == 2


def test_a_failure_among_the_writes_of_a_decision_at_confirmation_leaves_nothing(synced, policy, clock,
                                                                                  monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(synced, "save_hold", broken)
    with pytest.raises(RuntimeError):
        confirm(synced, policy, clock, live("922", "12000"), buyer())
    monkeypatch.undo()
    assert synced.decisions(order="S922") == [] and synced.hold("odoo", "922") is None
    assert synced.outbox_entries(source="odoo") == [] and synced.decision_version("odoo", "10") == 0
    later = confirm(synced, policy, clock, live("922", "12000"), buyer())  # the store is usable, the lock free
    assert later.decision.result is Result.HOLD and synced.decision_version("odoo", "10") == 1


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)  # SQLite's checks read under its write lock
def test_a_decision_committed_among_the_reads_of_a_confirmation_is_seen_by_it(synced, policy, clock):
    """PostgreSQL reads a check's figures as separate statements, each seeing what was committed before it: a
    confirmation of the same group committed among them (here: while the check's statement on the group's
    decision count waits for a table lock) must be in the figures it decides on, not missing from reservations
    read before it."""
    other = synced.engine.connect()
    other.exec_driver_sql("LOCK TABLE decision_versions IN ACCESS EXCLUSIVE MODE")
    results: list = []
    checking = threading.Thread(target=lambda: results.append(
        confirm(synced, policy, clock, live("931", "1000"), buyer())))
    checking.start()
    with synced.engine.connect() as watch:
        for _ in range(500):  # until the check's read of the count waits for the lock
            waiting = watch.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'decision_versions'::regclass"
            ).scalar()
            if waiting:
                break
            threading.Event().wait(0.01)
        assert waiting, "the check never waited for the count"
    # another confirmation of the same group commits meanwhile: it reserves 9,500 of the 10,000 limit
    other.exec_driver_sql("INSERT INTO decision_versions (source, credit_group_id, version) VALUES ('odoo', '10', 1)")
    synced.put_reservation(Reservation("odoo", "930", "S930", "10", "1", "USD", D("9500"), "USD", D("9500"),
                                       clock.now, clock.now + timedelta(hours=24)), other)
    other.commit()
    other.close()
    checking.join(timeout=60)
    [outcome] = results
    assert outcome.decision.result is Result.HOLD and outcome.exposure.total == D("10500.00")


def advisory_locks(store) -> int:
    if store.engine.dialect.name != "postgresql":
        return 0
    with store.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").scalar()


def test_refused_facts_at_confirmation_leave_no_lock_and_no_count(synced, policy, clock):
    """The request names a contact (11, of group 10) as its commercial entity: refused once the reads show it.  On
    PostgreSQL those reads took the named group's lock and moved its count on: both are undone with them."""
    with pytest.raises(BadFacts):
        confirm(synced, policy, clock, live("942", "10"), buyer("99", "11"))
    assert advisory_locks(synced) == 0 and synced.decision_version("odoo", "11") == 0
    done = threading.Event()

    def lock_the_group() -> None:
        with synced.credit_group_lock("odoo", "11"):
            done.set()

    threading.Thread(target=lock_the_group, daemon=True).start()
    assert done.wait(30), "the group's lock was left behind"
    assert confirm(synced, policy, clock, live("943", "10"), buyer()).decision.result is Result.APPROVE
