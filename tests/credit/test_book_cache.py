"""A credit group's sums kept between checks (connector/store/book_cache.py): served again while the group's book has
not moved, read again after any write to it — also one made by another process sharing the SQLite store: an
insert by a first read, an update by the usual page write, a deletion by a full read, for invoices and receivable
items."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connector.checks import CreditChecker
from connector.domain import InvoiceKind, InvoiceState, OrderState, PaymentState
from connector.exposure import ExposureCalculator
from connector.live_checks import LiveCustomer, LiveOrder
from connector.ports import Cursor, Stream
from connector.store import Store
from connector.store.store import FullRun
from policy.loader import load_policy
from policy.model import ExposureSettings

from ..test_receivable_items import item
from ..test_store import invoice

AS_OF = date(2026, 12, 10)
ROOT = Path(__file__).resolve().parents[2]
T1 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def usd(erp_id: str, amount: str, **changes):
    values = dict(currency="USD", company_currency="USD", amount_total=Decimal(amount), amount_open=Decimal(amount),
                  amount_total_company=Decimal(amount), amount_open_company=Decimal(amount))
    return invoice(erp_id, **(values | changes))


def exposure_of(store: Store, group: str = "10") -> tuple[Decimal, Decimal]:
    exposure, overdue = ExposureCalculator(store, ExposureSettings(), "USD", AS_OF).compute(
        "odoo", [group], overdue_days=0)[group]
    return exposure.total, overdue.amount


@pytest.fixture
def two_stores(tmp_path):
    """The checking process's store and the syncing process's, on one SQLite file."""
    url = f"sqlite:///{tmp_path}/shared.db"
    with Store.open(url) as checks, Store.open(url) as sync:
        yield checks, sync


def test_sums_are_kept_while_nothing_is_written_and_read_again_after_each_write(two_stores):
    checks, sync = two_stores
    sync.save_page("odoo", Stream.INVOICES, "account.move", [usd("1", "100.00"), usd("2", "250.00")], [], None,
                   fresh=True)
    assert exposure_of(checks) == (Decimal("350.00"), Decimal("350.00"))
    hits, misses = checks.kept_sums()
    assert exposure_of(checks) == (Decimal("350.00"), Decimal("350.00"))
    assert checks.kept_sums() == (hits + 1, misses)  # nothing written: served again

    # an insert by a first read (the record writer moves the counter), in the other process
    sync.save_page("odoo", Stream.INVOICES, "account.move", [usd("3", "1000.00", due_date=date(2026, 12, 20))], [],
                   None, fresh=True)
    assert exposure_of(checks) == (Decimal("1350.00"), Decimal("350.00"))
    # an update (a payment): the update trigger
    sync.save_page("odoo", Stream.INVOICES, "account.move",
                   [usd("1", "100.00", amount_open=Decimal("0.00"), amount_open_company=Decimal("0.00"),
                        payment_state=PaymentState.PAID, changed_at=T1)], [], None)
    assert exposure_of(checks) == (Decimal("1250.00"), Decimal("250.00"))
    # a deletion seen by a full read
    run = FullRun(sync.start_run("odoo", Stream.INVOICES, True), "odoo", Stream.INVOICES)
    sync.save_page("odoo", Stream.INVOICES, "account.move", [usd("1", "100.00", amount_open=Decimal("0.00"),
                   amount_open_company=Decimal("0.00"), payment_state=PaymentState.PAID, changed_at=T1),
                   usd("3", "1000.00", due_date=date(2026, 12, 20))], [], None, run=run)
    sync.sweep_unseen(run, "account.move")
    assert exposure_of(checks) == (Decimal("1000.00"), Decimal("0.00"))
    # a credit note reaching the group through a change of group
    sync.save_page("odoo", Stream.INVOICES, "account.move",
                   [usd("4", "40.00", kind=InvoiceKind.CREDIT_NOTE, credit_group_id="11", customer_id="11")], [],
                   None, fresh=True)
    assert exposure_of(checks) == (Decimal("1000.00"), Decimal("0.00"))
    sync.save_page("odoo", Stream.INVOICES, "account.move",
                   [usd("4", "40.00", kind=InvoiceKind.CREDIT_NOTE, changed_at=T1)], [], None)
    assert exposure_of(checks) == (Decimal("960.00"), Decimal("0.00"))
    assert exposure_of(checks, "11") == (Decimal("0.00"), Decimal("0.00"))


def test_another_groups_sums_and_the_cut_are_kept_apart(two_stores):
    checks, sync = two_stores
    sync.save_page("odoo", Stream.INVOICES, "account.move",
                   [usd("1", "100.00"), usd("2", "70.00", credit_group_id="11", customer_id="11")], [], None)
    assert exposure_of(checks, "10") == (Decimal("100.00"), Decimal("100.00"))
    assert exposure_of(checks, "11") == (Decimal("70.00"), Decimal("70.00"))
    later = ExposureCalculator(checks, ExposureSettings(), "USD", AS_OF).compute("odoo", ["10"], overdue_days=30)
    assert later["10"][1].amount == Decimal("0.00")  # due 1 December: not 30 days late on 10 December


def test_receivable_items_written_by_another_process_are_seen(two_stores):
    checks, sync = two_stores

    def items_page(records):
        position = Cursor(max(r.changed_at for r in records), max(int(r.erp_id) for r in records))
        sync.save_page("odoo", Stream.RECEIVABLES, "account.move.line", records, [], position)

    sync.save_page("odoo", Stream.INVOICES, "account.move", [usd("1", "1000.00")], [], None)
    items_page([item("1"), item("2", amount_open=Decimal("700.00"), amount_open_company=Decimal("700.00"))])
    assert exposure_of(checks) == (Decimal("1000.00"), Decimal("1000.00"))
    assert exposure_of(checks) == (Decimal("1000.00"), Decimal("1000.00"))
    items_page([item("3", amount_open=Decimal("50.00"), amount_open_company=Decimal("50.00"))])  # insert
    assert exposure_of(checks) == (Decimal("1050.00"), Decimal("1050.00"))
    items_page([item("1", amount_open=Decimal("0.00"), amount_open_company=Decimal("0.00"),
                     changed_at=T1)])  # paid: update
    assert exposure_of(checks) == (Decimal("750.00"), Decimal("750.00"))
    items_page([item("2", state=InvoiceState.DRAFT, amount_open=Decimal("700.00"),
                     amount_open_company=Decimal("700.00"), changed_at=T1 + timedelta(seconds=1))])
    assert exposure_of(checks) == (Decimal("50.00"), Decimal("50.00"))
    with sync.engine.begin() as conn:  # a deletion from outside the sync (a clean-up): the delete trigger
        conn.exec_driver_sql("DELETE FROM receivable_items WHERE erp_id = '3'")
    assert exposure_of(checks) == (Decimal("0.00"), Decimal("0.00"))


def test_every_write_moves_the_counter_on_both_stores(store):
    """SQLite and PostgreSQL alike (PostgreSQL: statement triggers), so that any process may rely on it."""
    from connector.store.book_cache import read_generation

    def generation(book: str = "invoices") -> int:
        with store.engine.connect() as conn:
            return read_generation(conn, "odoo", book)

    moves = [generation()]
    store.save_page("odoo", Stream.INVOICES, "account.move", [usd("1", "100.00")], [], None, fresh=True)
    moves.append(generation())
    store.save_page("odoo", Stream.INVOICES, "account.move", [usd("2", "100.00")], [], None)
    moves.append(generation())
    store.save_page("odoo", Stream.INVOICES, "account.move", [usd("2", "90.00", changed_at=T1)], [], None)
    moves.append(generation())
    run = FullRun(store.start_run("odoo", Stream.INVOICES, True), "odoo", Stream.INVOICES)
    store.save_page("odoo", Stream.INVOICES, "account.move", [usd("2", "90.00", changed_at=T1)], [], None, run=run)
    unchanged = generation()
    store.sweep_unseen(run, "account.move")
    moves.append(generation())
    assert moves == sorted(set(moves)) and len(moves) == 5, moves  # each write moved it
    assert unchanged == moves[3]  # reading a record again unchanged writes nothing
    assert generation("receivables") == 0
    store.save_page("sap", Stream.INVOICES, "account.move", [replace(usd("9", "10.00"), source="sap")], [], None)
    assert generation() == moves[-1]  # another source's writes move its own counter


def test_the_cache_holds_a_bounded_number_of_rows():
    from connector.store.book_cache import BookCache

    cache = BookCache(max_rows=10)
    for n in range(20):
        assert cache.get_or_read(("g", n), 1, lambda: [n] * 3) == [n] * 3
    assert cache.get_or_read(("g", 19), 1, lambda: ["read again"]) == [19] * 3  # the latest are kept
    assert cache.get_or_read(("g", 0), 1, lambda: ["read again"]) == ["read again"]  # the oldest went
    assert cache.get_or_read(("g", 19), 2, lambda: ["moved"]) == ["moved"]  # another counter value: read


def test_migration_0019_down_and_up(store_url):
    from connector.store.engine import create_store_engine

    from ..test_store import _migrate, _triggers

    with Store.open(store_url) as store:
        store.save_page("odoo", Stream.INVOICES, "account.move", [usd("1", "100.00")], [], None)
        assert exposure_of(store) == (Decimal("100.00"), Decimal("100.00"))
    engine = create_store_engine(store_url)
    count = 4 if engine.dialect.name == "sqlite" else 6
    assert len(_triggers(engine, "book_generation_")) == count
    _migrate(engine, "0018", down=True)
    assert _triggers(engine, "book_generation_") == set()
    _migrate(engine, "0019")
    assert len(_triggers(engine, "book_generation_")) == count
    engine.dispose()
    with Store.open(store_url) as store:  # a counter that starts again from nothing is read again, never stale
        assert exposure_of(store) == (Decimal("100.00"), Decimal("100.00"))
        store.save_page("odoo", Stream.INVOICES, "account.move", [usd("2", "50.00")], [], None)
        assert exposure_of(store) == (Decimal("150.00"), Decimal("150.00"))


def test_a_check_sees_every_write_another_process_makes_to_the_book(store_url):
    """The path of POST /v1/check, on both stores (on PostgreSQL the counter is read with the sums, in the check's
    one round trip of reads, and the sums are computed only when it moved): a check after each write by another
    store object sees it; checks with nothing written in between are served the sums kept."""
    policy = load_policy(ROOT / "policy" / "examples" / "default.toml")
    with Store.open(store_url) as checks, Store.open(store_url) as sync:
        def open_invoices() -> Decimal:
            outcome = CreditChecker(checks, policy, AS_OF).check_live(
                LiveOrder("odoo", "900", "S900", OrderState.DRAFT, "USD", Decimal("1.00"), Decimal("1.00"), "1",
                          AS_OF, None), LiveCustomer("10", "Customer 10", "10", "Customer 10", None, None, None),
                record=False)
            return outcome.exposure.components["open_invoices"]

        sync.save_page("odoo", Stream.INVOICES, "account.move", [usd("1", "100.00"), usd("2", "250.00")], [], None,
                       fresh=True)
        assert open_invoices() == Decimal("350.00")
        hits, misses = checks.kept_sums()
        assert open_invoices() == Decimal("350.00")
        assert checks.kept_sums() == (hits + 1, misses)  # nothing written: the sums kept
        sync.save_page("odoo", Stream.INVOICES, "account.move", [usd("3", "1000.00")], [], None, fresh=True)
        assert open_invoices() == Decimal("1350.00")  # an insert
        sync.save_page("odoo", Stream.INVOICES, "account.move",
                       [usd("1", "100.00", amount_open=Decimal("0.00"), amount_open_company=Decimal("0.00"),
                            payment_state=PaymentState.PAID, changed_at=T1)], [], None)
        assert open_invoices() == Decimal("1250.00")  # an update (a payment)
        run = FullRun(sync.start_run("odoo", Stream.INVOICES, True), "odoo", Stream.INVOICES)
        sync.save_page("odoo", Stream.INVOICES, "account.move", [usd("3", "1000.00")], [], None, run=run)
        sync.sweep_unseen(run, "account.move")
        assert open_invoices() == Decimal("1000.00")  # deletions by a full read
        assert checks.kept_sums()[1] == misses + 3
