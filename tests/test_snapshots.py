"""Daily snapshots in the store (SQLite and PostgreSQL): a day replaced whole, old days pruned, the totals the
dashboard's trend reads, and migration 0013."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from connector.store import Store
from connector.store.engine import SCHEMA_HEAD, create_store_engine
from connector.store.snapshots import GROUP_ROW, SnapshotRow
from connector.store.tables import metadata

from .test_store import _migrate, _triggers

T0 = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
DAY = date(2026, 12, 3)


def row(day: date, group: str, company: str = GROUP_ROW, *, exposure: int | None = 100_00, past_due: int = 40_00,
        source: str = "odoo") -> SnapshotRow:
    own = company == GROUP_ROW
    return SnapshotRow(day, source, group, company, f"C{group}", "USD" if own else "EUR", "USD",
                       exposure if own else None, 500_00 if own else None, 10_00 if own else None,
                       past_due, past_due, 150_00, 150_00, '{"buckets":[0,30]}', T0)


def test_a_day_is_replaced_whole_and_old_days_are_pruned(store):
    assert store.replace_snapshot_day(DAY, ["odoo"], [row(DAY, "10"), row(DAY, "10", "1"), row(DAY, "11")]) == (3, 0)
    assert store.has_snapshot(DAY, "odoo") and not store.has_snapshot(DAY, "sap")
    # taken again the same day: the day's rows of the source are replaced, not added to (a group gone is gone)
    assert store.replace_snapshot_day(DAY, ["odoo"], [row(DAY, "10", exposure=120_00)]) == (1, 0)
    [again] = store.snapshot_rows(DAY)
    assert (again.credit_group_id, again.exposure_minor, again.limit_minor) == ("10", 120_00, 500_00)
    # another source's rows of the same day stay
    store.replace_snapshot_day(DAY, ["sap"], [row(DAY, "0000100001", source="sap")])
    assert {r.source for r in store.snapshot_rows(DAY)} == {"odoo", "sap"}
    # earlier days, then a day that prunes those older than keep_days
    for back in (1, 2, 5):
        day = DAY - timedelta(days=back)
        store.replace_snapshot_day(day, ["odoo"], [row(day, "10", exposure=back * 100)])
    later = DAY + timedelta(days=2)
    written, pruned = store.replace_snapshot_day(later, ["odoo"], [row(later, "10")], keep_days=5)
    assert (written, pruned) == (1, 1)  # five days kept, ``later`` the newest: DAY - 5 is gone
    assert store.snapshot_days() == [DAY - timedelta(days=2), DAY - timedelta(days=1), DAY, later]


def test_totals_sum_the_groups_own_rows(store):
    day = DAY - timedelta(days=1)
    store.replace_snapshot_day(day, ["odoo"], [row(day, "10"), row(day, "10", "1", past_due=999_00)])
    store.replace_snapshot_day(DAY, ["odoo"], [row(DAY, "10"), row(DAY, "11", exposure=None, past_due=5_00),
                                               row(DAY, "10", "1")])
    totals = store.snapshot_totals(DAY - timedelta(days=30), DAY)
    assert [(d.day, d.groups, d.exposure_minor, d.overdue_minor, d.past_due_base_minor) for d in totals] == [
        (day, 1, 100_00, 10_00, 40_00), (DAY, 2, 100_00, 20_00, 45_00)]
    assert store.snapshot_totals(DAY + timedelta(days=1), DAY + timedelta(days=9)) == []


def test_daily_history_reads_the_snapshots(store):
    from creditguard.ui.queries import daily_history

    assert daily_history(store, DAY) is None  # no snapshot: no history, never a made-up one
    for back in (0, 1, 95):
        day = DAY - timedelta(days=back)
        store.replace_snapshot_day(day, ["odoo"], [row(day, "10", exposure=(back + 1) * 100_00)])
    assert daily_history(store, DAY) == [(DAY - timedelta(days=1), Decimal("200.00"), Decimal("40.00")),
                                         (DAY, Decimal("100.00"), Decimal("40.00"))]
    assert daily_history(store, DAY, currency="EUR") is None


def test_migration_0013_adds_the_table(store_url):
    engine = create_store_engine(store_url)
    _migrate(engine, "0012")
    triggers = _triggers(engine)
    engine.dispose()
    with Store.open(store_url) as store:
        assert store.schema_status() == (SCHEMA_HEAD, SCHEMA_HEAD)
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert _triggers(store.engine) == triggers
        store.replace_snapshot_day(DAY, ["odoo"], [row(DAY, "10")])
        assert store.snapshot_rows(DAY) == [row(DAY, "10")]
        store.engine.dispose()
        _migrate(store.engine, "0012", down=True)
        with store.engine.connect() as conn:
            assert not conn.dialect.has_table(conn, "daily_snapshots")
        _migrate(store.engine, "head")
        assert store.snapshot_days() == []
