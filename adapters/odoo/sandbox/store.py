"""The sandbox's database: one in-memory SQLite connection, a lock, the registry and the users."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

from . import statefile
from .orm import Env
from .registry import Registry


class Database:
    """Tables for every model of one Odoo version; calls run one at a time under ``lock``.

    In memory, or, with ``state``, in an existing state file (see :mod:`.statefile`): then
    :attr:`loaded` is true and the tables already hold the data."""

    def __init__(self, version: str, name: str, clock: Callable[[], datetime], addons: tuple[str, ...] = (),
                 state: str | os.PathLike[str] | None = None, credit_guard_tiers: bool = True) -> None:
        self.version = version
        self.name = name
        self.clock = clock
        self.addons = tuple(addons)
        self.registry = Registry(version, addons, credit_guard_tiers)
        self.lock = threading.RLock()
        self.tx_started_at: datetime | None = None  # the open transaction's start (``cr.now()``)
        self._own_cursor: list[Callable[[], None]] = []  # writes committed on a cursor of their own
        self._last_start: datetime | None = None
        self.passwords: dict[str, tuple[int, str]] = {}
        self.api_keys: dict[str, int] = {}
        self.state = os.fspath(state) if state is not None else None
        self._closed = False
        self.loaded = self.state is not None and os.path.exists(self.state)
        if self.loaded:
            self.conn = statefile.connect(self.state)
            try:
                statefile.check(self.conn, self.state, version, self.addons)
                self._last_start = statefile.last_change(self.conn)
            except BaseException:
                self.conn.close()
                raise
            return
        self.conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        statefile.configure(self.conn)
        self.conn.execute("PRAGMA journal_mode = MEMORY")
        self.conn.execute("PRAGMA synchronous = OFF")
        self._create_schema()

    def save_state(self) -> None:
        """Write the generated data to the new state file and go on working on that file."""
        if self.state is None or self.loaded:
            return
        with self.lock:
            statefile.write_new(self.conn, self.state, self.version, self.addons)
            memory, self.conn = self.conn, statefile.connect(self.state)
            memory.close()
            self.loaded = True

    def close(self) -> None:
        """Close a state file cleanly (an in-memory database stays usable)."""
        with self.lock:
            if self.state is None or not self.loaded or self._closed:
                return
            self._closed = True
            statefile.close(self.conn)

    # -- schema ------------------------------------------------------------
    def _create_schema(self) -> None:
        cur = self.conn
        cur.execute("CREATE TABLE x_sb_rel (model TEXT NOT NULL, field TEXT NOT NULL, "
                    "id1 INTEGER NOT NULL, id2 INTEGER NOT NULL)")
        cur.execute("CREATE INDEX x_sb_rel_id1 ON x_sb_rel (model, field, id1)")
        cur.execute("CREATE INDEX x_sb_rel_id2 ON x_sb_rel (model, field, id2)")
        for model, fields in self.registry.fields.items():
            cls = self.registry.model_class(model)
            table = model.replace(".", "_")
            columns = ['"id" INTEGER PRIMARY KEY AUTOINCREMENT']
            columns += [f'"{f.name}" {f.sql_type}' for f in fields.values() if f.has_column]
            columns += [f'"{name}" {sql_type}' for name, sql_type in cls._extra_columns.items()]
            cur.execute(f'CREATE TABLE "{table}" ({", ".join(columns)})')
            if "write_date" in fields:
                cur.execute(f'CREATE INDEX "{table}__write_date_id" ON "{table}" ("write_date", "id")')
            for index in cls._indexes:
                cols = index if isinstance(index, tuple) else (index,)
                if all(c in fields and fields[c].has_column for c in cols):
                    name = f'{table}__{"_".join(cols)}'
                    cur.execute(f'CREATE INDEX "{name}" ON "{table}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)})')
            for statement in cls._extra_sql:
                cur.execute(statement)

    # -- time and users ------------------------------------------------------
    def now(self) -> datetime:
        value = self.clock()
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def user(self, uid: int) -> dict[str, Any]:
        with self.lock:
            return self._user(uid)

    def _user(self, uid: int) -> dict[str, Any]:
        row = self.conn.execute(
            'SELECT u."id", p."name", u."login", u."partner_id", u."company_id", u."share", u."active" '
            'FROM "res_users" u LEFT JOIN "res_partner" p ON p."id" = u."partner_id" WHERE u."id" = ?',
            [uid]).fetchone()
        if row is None:
            return {"id": uid, "name": "", "login": "", "partner_id": None, "company_id": 1,
                    "company_ids": [1], "share": False, "active": False, "exists": False}
        companies = [r[0] for r in self.conn.execute(
            "SELECT id2 FROM x_sb_rel WHERE model = 'res.users' AND field = 'company_ids' AND id1 = ? "
            "ORDER BY id2", [uid])] or [row[4]]
        return {"id": row[0], "name": row[1] or "", "login": row[2], "partner_id": row[3], "company_id": row[4],
                "company_ids": companies, "share": bool(row[5]), "active": bool(row[6]), "exists": True}

    def env(self, uid: int = 2, context: dict[str, Any] | None = None) -> Env:
        return Env(self, uid, context)

    def start_time(self) -> datetime:
        """PostgreSQL's ``now()`` for a new transaction: the clock, never equal to an earlier start."""
        start = self.now()
        if self._last_start is not None and start <= self._last_start:
            start = self._last_start + timedelta(microseconds=1)
        self._last_start = start
        return start

    @contextmanager
    def transaction(self, started_at: datetime | None = None) -> Iterator[None]:
        """One RPC call: everything or nothing, one call at a time.

        Every record it writes gets the transaction's start time as ``write_date`` (microseconds,
        like ``cr.now()``); ``started_at`` backdates it (a transaction that commits late)."""
        with self.lock:
            if self.tx_started_at is not None:  # a call inside an open transaction (a late commit's calls)
                yield
                return
            self.tx_started_at = started_at.astimezone(timezone.utc) if started_at else self.start_time()
            self.conn.execute("BEGIN")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._commit_own_cursor_writes()
                self.tx_started_at = None

    def own_cursor(self, write: Callable[[], None]) -> None:
        """``with env.registry.cursor() as cr: ...``: ``write`` is committed on its own, whether the call's
        transaction commits or rolls back (after it here: one connection)."""
        self._own_cursor.append(write)

    def _commit_own_cursor_writes(self) -> None:
        writes, self._own_cursor = self._own_cursor, []
        for write in writes:
            self.conn.execute("BEGIN")
            try:
                write()
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
