"""One daemon works each source at a time: PostgreSQL session advisory locks.

Each daemon keeps one dedicated connection; the daemon that holds a source's lock
(``pg_try_advisory_lock``) is its leader until it exits or dies — PostgreSQL
releases session locks when the connection ends — and the others try again at
every job run, so one of them takes over within one interval.  On SQLite (one
daemon per store, see ``connector.instance``) this daemon leads every source.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from .logs import get_logger

log = get_logger("creditguard.leader")


def lock_key(source: str) -> int:
    """A stable signed 64-bit key for the source's name."""
    return int.from_bytes(hashlib.sha256(f"creditguard:source:{source}".encode()).digest()[:8], "big", signed=True)


class Leadership:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.shared = engine.dialect.name == "postgresql"
        self._conn = None
        self._held: set[str] = set()

    def try_lead(self, source: str) -> bool:
        if not self.shared:
            return True
        try:
            if self._conn is None:
                self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if source in self._held:
                self._conn.execute(select(1))  # still connected, so still holding it
                return True
            if self._conn.execute(select(func.pg_try_advisory_lock(lock_key(source)))).scalar():
                self._held.add(source)
                log.info("leader.acquired", source=source)
                return True
            return False
        except DBAPIError as exc:  # the connection is gone, and with it every lock we held
            log.warning("leader.connection_lost", error=str(exc).splitlines()[0])
            self._held.clear()
            self._close()
            return False

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except DBAPIError:
                pass
            self._conn = None

    def release_all(self) -> None:
        self._held.clear()
        self._close()
