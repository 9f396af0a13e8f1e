"""One daemon per SQLite store: an exclusive lock on a file next to the database.

SQLite has no way for two daemons to share the work on one file; a second
daemon started on the same store stops at once and says which process holds it.
(PostgreSQL stores can be shared by several daemons; that is the leader-per-source
mechanism's job.)
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from .errors import CreditGuardError


class AlreadyRunning(CreditGuardError):
    pass


class InstanceLock:
    def __init__(self, store_url: object) -> None:
        url = make_url(store_url)
        database = url.database if url.get_backend_name() == "sqlite" else None
        self.path = Path(database).with_name(Path(database).name + ".lock") if database and database != ":memory:" \
            else None
        self._file = None

    def acquire(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise AlreadyRunning(
                f"another creditguard daemon (pid {holder}) already runs on the SQLite store "
                f"{self.path.with_suffix('')}: SQLite stores are single-instance; use a PostgreSQL store "
                "to run several daemons") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
