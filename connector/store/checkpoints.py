"""SQLite: the write-ahead log copied back into the database file by a thread of its own.

By default SQLite checkpoints in the commit that takes the log past 1,000 pages: that commit copies the log's
pages into the database file and syncs it, a few milliseconds spent in whatever request made it (at 1,000,000
invoices about one credit check in a hundred, each time). A process that answers credit checks hands that work
to a background thread instead: its connections do not checkpoint on commit, and the thread runs a passive
checkpoint (it waits for no reader or writer) every ``interval`` seconds. SQLite runs it without the
interpreter's lock, so the requests go on meanwhile.
"""

from __future__ import annotations

import threading

import structlog
from sqlalchemy import Engine, event

log = structlog.get_logger("creditguard.store")

INTERVAL_SECONDS = 1.0


def _no_checkpoint_on_commit(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


class BackgroundCheckpoints:
    """Checkpoints of one SQLite engine's database, every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, engine: Engine, interval: float | None = None) -> None:
        self.engine = engine
        self.interval = INTERVAL_SECONDS if interval is None else interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="creditguard-checkpoints", daemon=True)

    def start(self) -> "BackgroundCheckpoints":
        event.listen(self.engine, "connect", _no_checkpoint_on_commit)
        self.engine.dispose()  # connections opened before this checkpoint on commit: replaced as they come back
        self._thread.start()
        return self

    def stop(self) -> None:
        """The thread ends after a last checkpoint; connections opened from now on checkpoint on commit again."""
        if event.contains(self.engine, "connect", _no_checkpoint_on_commit):
            event.remove(self.engine, "connect", _no_checkpoint_on_commit)
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def checkpoint(self) -> tuple[int, int, int]:
        """One passive checkpoint: (busy, pages in the log, pages copied), as SQLite reports it."""
        with self.engine.connect() as conn:
            row = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        return int(row[0]), int(row[1]), int(row[2])

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._checkpoint_logged()
        self._checkpoint_logged()

    def _checkpoint_logged(self) -> None:
        try:
            self.checkpoint()
        except Exception as exc:  # noqa: BLE001 - a failed checkpoint is tried again at the next tick
            log.warning("store.checkpoint_failed", error=exc.__class__.__name__, detail=str(exc)[:200])
