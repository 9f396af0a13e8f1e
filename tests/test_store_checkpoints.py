"""A process answering credit checks checkpoints SQLite's write-ahead log from a thread of its own
(Store.checkpoint_in_background): its commits do not, and the log still reaches the database file."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connector.domain import Invoice, InvoiceKind, InvoiceState, PaymentState
from connector.ports import Stream
from connector.store import Store
from connector.store import checkpoints

PAGE = 1000
WAL_PAGES_BEFORE_SQLITE_CHECKPOINTS = 1000


def _write_invoices(store: Store, count: int, start: int = 0) -> None:
    changed = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    for first in range(start, start + count, PAGE):
        page = [Invoice("odoo", str(n), f"INV/{n:06d}", f"C{n % 50}", f"C{n % 50}", InvoiceKind.INVOICE,
                        InvoiceState.POSTED, PaymentState.NOT_PAID, date(2026, 11, 1), date(2026, 12, 1), "USD",
                        Decimal("120.00"), Decimal("120.00"), "1", "USD", Decimal("120.00"), Decimal("120.00"),
                        changed, f"S{n:06d}")
                for n in range(first, min(first + PAGE, start + count))]
        store.save_page("odoo", Stream.INVOICES, "account.move", page, [], None)


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "creditguard-checkpoints"]


def test_commits_leave_the_log_to_the_background_thread(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "INTERVAL_SECONDS", 3600)  # the thread does not get to it in this test
    path = tmp_path / "store.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.checkpoint_in_background()
        _write_invoices(store, 30_000)
        with store.engine.connect() as conn:
            page_size = conn.exec_driver_sql("PRAGMA page_size").scalar()
        # checkpointing on commit, SQLite starts the log over once it passed 1,000 pages (its file stays at about
        # 1,200: 1,000 and the transaction that passed them); here every page written is still in the log
        wal_pages = (tmp_path / "store.db-wal").stat().st_size / page_size
        assert wal_pages > 2 * WAL_PAGES_BEFORE_SQLITE_CHECKPOINTS
        assert path.stat().st_size / page_size < 0.1 * wal_pages
        assert store.open_receivables("odoo") == {"USD": 30_000 * 12_000}  # reads see every commit


def test_the_background_thread_copies_the_log_into_the_database(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "INTERVAL_SECONDS", 0.05)
    path = tmp_path / "store.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.checkpoint_in_background()
        size_before = path.stat().st_size
        _write_invoices(store, 5_000)
        deadline = time.monotonic() + 10
        while path.stat().st_size <= size_before + 500_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size > size_before + 500_000  # the invoices' pages are in the file itself
        assert _checkpoint_threads()
    assert not _checkpoint_threads()  # closing the store ends the thread


def test_postgresql_stores_have_nothing_to_checkpoint(monkeypatch):
    pytest.importorskip("psycopg")
    from sqlalchemy import create_engine

    store = Store(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))  # never connects
    store.checkpoint_in_background()
    assert not _checkpoint_threads()
    store.close()
