"""The sandbox's state file: its database kept in an SQLite file, so that a restart keeps every change.

A new state file is written whole (to a temporary file, synced, then renamed into place), so that a
crash while the data is generated leaves no state file behind.  From then on the sandbox works on the
file itself: write-ahead log, ``synchronous = FULL``, so that every transaction is on disk when its
``COMMIT`` returns, before the call is answered.  ``kill -9`` at any moment leaves a file SQLite opens
with every committed transaction (the log next to it, ``FILE-wal``, belongs to it while the sandbox runs).
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from adapters.durable_files import fsync_directory, fsync_file

#: The sandbox's own table of facts about the file (never an Odoo model).
META_TABLE = "x_sb_state"
FORMAT = 1


def _lower(value: Any) -> Any:
    return None if value is None else str(value).lower()


def configure(conn: sqlite3.Connection) -> None:
    """What every connection of the sandbox needs (functions and pragmas are per connection)."""
    conn.create_function("sb_lower", 1, _lower, deterministic=True)
    conn.execute("PRAGMA case_sensitive_like = ON")


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """The state file, opened for the sandbox: durable commits, reads mostly from memory."""
    where = os.fspath(path)
    try:
        conn = sqlite3.connect(where, check_same_thread=False, isolation_level=None)
    except sqlite3.Error as exc:
        raise ValueError(f"cannot open state file {where}: {exc}") from None
    try:
        configure(conn)
        if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise ValueError(f"state file {where}: cannot use a write-ahead log here")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -262144")  # KiB: the whole data set of large:N stays cached
        conn.execute("PRAGMA wal_autocheckpoint = 4000")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ValueError(f"state file {where} is not an Odoo sandbox state file ({exc})") from None
    except BaseException:
        conn.close()
        raise
    return conn


def meta(version: str, addons: tuple[str, ...]) -> dict[str, Any]:
    return {"format": FORMAT, "odoo_version": version, "addons": list(addons)}


def check(conn: sqlite3.Connection, path: str | os.PathLike[str], version: str, addons: tuple[str, ...]) -> None:
    """Refuse a file that is not a sandbox state file, or one of another Odoo version or addons."""
    where = os.fspath(path)
    try:
        rows = dict(conn.execute(f'SELECT "key", "value" FROM "{META_TABLE}"').fetchall())
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"state file {where} is not an Odoo sandbox state file ({exc})") from None
    stored = {key: json.loads(value) for key, value in rows.items()}
    if stored.get("format") != FORMAT:
        raise ValueError(f"state file {where}: unknown format {stored.get('format')!r}")
    wanted = meta(version, addons)
    if stored.get("odoo_version") != version or sorted(stored.get("addons") or []) != sorted(addons):
        have = ", ".join(stored.get("addons") or []) or "no addons"
        raise ValueError(f"state file {where} holds an Odoo {stored.get('odoo_version')} database with {have}; "
                         f"start the sandbox with the same version and addons, not Odoo {wanted['odoo_version']} "
                         f"with {', '.join(addons) or 'no addons'}")


def write_new(source: sqlite3.Connection, path: str | os.PathLike[str], version: str,
              addons: tuple[str, ...]) -> None:
    """Copy the freshly generated database ``source`` into a new state file at ``path``, atomically."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    copy = sqlite3.connect(os.fspath(temporary), isolation_level=None)
    try:
        source.backup(copy)
        copy.execute(f'CREATE TABLE "{META_TABLE}" ("key" TEXT PRIMARY KEY, "value" TEXT NOT NULL)')
        copy.executemany(f'INSERT INTO "{META_TABLE}" VALUES (?, ?)',
                         [(key, json.dumps(value)) for key, value in meta(version, addons).items()])
        copy.execute("PRAGMA journal_mode = DELETE")
    finally:
        copy.close()
    try:
        fsync_file(temporary)
        os.replace(temporary, target)
        fsync_directory(target.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def last_change(conn: sqlite3.Connection) -> datetime | None:
    """The latest ``write_date`` in the file: transactions after a restart start later than it."""
    latest: str | None = None
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
        if "write_date" in columns:
            value = conn.execute(f'SELECT MAX("write_date") FROM "{table}"').fetchone()[0]
            if value and (latest is None or value > latest):
                latest = value
    if latest is None:
        return None
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in latest else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(latest, fmt).replace(tzinfo=timezone.utc)


def close(conn: sqlite3.Connection) -> None:
    """Fold the write-ahead log into the file and close it (a clean stop leaves one file)."""
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
