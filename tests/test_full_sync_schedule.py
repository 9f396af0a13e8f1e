"""The daemon's periodic full reads: due once [sync].full_sync_cron has fired since the last one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from connector.ports import Stream
from creditguard.sync_command import full_sync_due

BERLIN = ZoneInfo("Europe/Berlin")
NIGHTLY = "30 2 * * *"


def run(store, stream, full, at, status="ok"):
    run_id = store.start_run("odoo", stream, full, at)
    store.finish_run(run_id, status=status, read=0, written=0, quarantined=0, deleted=0, calls=0, now=at)


def test_the_first_sync_is_not_forced_full_and_counts_as_reconciled(store):
    """A first read starts from nothing: a daemon killed during it resumes from its cursor."""
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert store.reconciled_since("odoo") is None
    assert not full_sync_due(store, "odoo", NIGHTLY, BERLIN, now)
    run(store, Stream.CUSTOMERS, False, now, status="failed")  # killed or failed: still the first read
    assert store.reconciled_since("odoo") == now
    assert not full_sync_due(store, "odoo", NIGHTLY, BERLIN, now + timedelta(hours=1))
    assert full_sync_due(store, "odoo", NIGHTLY, BERLIN, now + timedelta(days=1))
    assert not full_sync_due(store, "odoo", "off", BERLIN, now + timedelta(days=1))


def test_due_once_the_cron_fired_after_the_last_full_read_of_every_stream(store):
    # full reads on 2026-11-28 at 03:00 Berlin (02:00 UTC), one stream an hour later
    at = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    run(store, Stream.CUSTOMERS, True, at)
    run(store, Stream.INVOICES, True, at + timedelta(hours=1))
    run(store, Stream.INVOICES, True, at + timedelta(hours=5), status="failed")  # failures do not count
    assert store.reconciled_since("odoo") == at
    assert not full_sync_due(store, "odoo", NIGHTLY, BERLIN, datetime(2026, 11, 28, 23, tzinfo=UTC))
    # 02:30 Berlin on the 29th is 01:30 UTC
    assert not full_sync_due(store, "odoo", NIGHTLY, BERLIN, datetime(2026, 11, 29, 1, 29, tzinfo=UTC))
    assert full_sync_due(store, "odoo", NIGHTLY, BERLIN, datetime(2026, 11, 29, 1, 30, tzinfo=UTC))
    # a stream that never had a full read counts from its first read
    run(store, Stream.ORDERS, False, at - timedelta(days=3))
    assert store.reconciled_since("odoo") == at - timedelta(days=3)
    assert full_sync_due(store, "odoo", NIGHTLY, BERLIN, datetime(2026, 11, 28, 23, tzinfo=UTC))


def test_the_configuration_checks_the_crontab(tmp_path):
    import pytest

    from connector.config import ConfigError, load_config

    source = ('[[source]]\nname = "odoo"\nkind = "odoo"\nurl = "http://127.0.0.1:8069"\ndatabase = "demo"\n'
              'username = "admin"\nprotocol = "xmlrpc"\npassword_env = "X"\n\n')
    base = source + '[store]\nurl = "sqlite:///x.db"\n\n[sync]\n'
    path = tmp_path / "c.toml"
    path.write_text(base)
    assert load_config(path).sync.full_sync_cron == NIGHTLY
    path.write_text(base + 'full_sync_cron = "off"\n')
    assert load_config(path).sync.full_sync_cron == "off"
    path.write_text(base + 'full_sync_cron = "nightly"\n')
    with pytest.raises(ConfigError, match=r"c.toml:14:1: sync.full_sync_cron: not a crontab expression"):
        load_config(path)
    path.write_text(base + 'alerts_cron = "off"\n')
    with pytest.raises(ConfigError, match="sync.alerts_cron: not a crontab expression"):
        load_config(path)
