"""The SAP sandbox's state file: its data kept across restarts.

One SQLite file holds a snapshot of the data (JSON) and a journal of the changes committed since
(one row per commit, in order).  A commit is on disk (``synchronous = FULL``) before its call is
answered; a start loads the snapshot, replays the journal and folds it into a new snapshot (in one
transaction).  A new file is written whole to a temporary file, synced and renamed into place, so
that ``kill -9`` at any moment leaves either no state file or a complete one.

Values are JSON with one tag per object (``$dec`` Decimal, ``$date``, ``$tuple``, ``$dict``, ``$map``
for keys that are not plain strings, ``$obj`` for the data classes of :mod:`.data`), so that amounts
keep their exact digits and dates stay dates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sqlite3
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.durable_files import fsync_directory, fsync_file

from . import data as demo

FORMAT = 1
_CLASSES = {cls.__name__: cls for cls in (demo.Data, demo.Customer, demo.CreditMaster, demo.SalesOrder, demo.Rate)}
_SCHEMA = (
    'CREATE TABLE IF NOT EXISTS "meta" ("key" TEXT PRIMARY KEY, "value" TEXT NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "snapshot" ("id" INTEGER PRIMARY KEY CHECK ("id" = 1), "data" TEXT NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "journal" ("seq" INTEGER PRIMARY KEY AUTOINCREMENT, "change" TEXT NOT NULL)',
)


# ---------------------------------------------------------------------- values

def encode(value: Any) -> Any:
    """A JSON-able form of ``value`` that :func:`loads` turns back into an equal value."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is Decimal:
        return {"$dec": str(value)}
    if kind is dict:
        if all(type(k) is str and not k.startswith("$") for k in value):
            return {"$dict": {k: encode(v) for k, v in value.items()}}
        return {"$map": [[encode(k), encode(v)] for k, v in value.items()]}
    if kind is dt.date:
        return {"$date": value.isoformat()}
    if kind is tuple:
        return {"$tuple": [encode(v) for v in value]}
    if kind is list:
        return [encode(v) for v in value]
    if kind is dt.datetime:
        return {"$datetime": value.isoformat()}
    if kind.__name__ in _CLASSES and _CLASSES[kind.__name__] is kind:
        return {"$obj": kind.__name__, "fields": {f.name: encode(getattr(value, f.name))
                                                   for f in dataclasses.fields(value)}}
    raise TypeError(f"cannot keep a {kind.__name__} in the state file")


def _tagged(obj: dict[str, Any]) -> Any:
    """``json.loads``' object hook: one tagged object (its members already decoded)."""
    if len(obj) == 1:
        [(tag, value)] = obj.items()
        if tag == "$dec":
            return Decimal(value)
        if tag == "$dict":
            return value
        if tag == "$date":
            return dt.date.fromisoformat(value)
        if tag == "$tuple":
            return tuple(value)
        if tag == "$map":
            return {tuple(k) if type(k) is list else k: v for k, v in value}
        if tag == "$datetime":
            return dt.datetime.fromisoformat(value)
    elif len(obj) == 2 and obj.get("$obj") in _CLASSES and type(obj.get("fields")) is dict:
        return _CLASSES[obj["$obj"]](**obj["fields"])
    if any(key.startswith("$") for key in obj):
        raise ValueError(f"unexpected value in the state file: {obj!r:.80}")
    return obj  # the members of a ``$dict`` or of an ``$obj``


def dumps(value: Any) -> str:
    return json.dumps(encode(value), ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_tagged)


# ---------------------------------------------------------------------- changes

def apply(data: demo.Data, change: dict[str, Any]) -> None:
    """One committed change, as the journal keeps it (the same code applies it live and on replay)."""
    op = change["op"]
    if op == "blocks":  # BAPI_SALESORDER_CHANGE + BAPI_TRANSACTION_COMMIT, or the one-call wrapper
        for vbeln, block in change["orders"].items():
            data.orders[vbeln].dlv_block = block
    elif op == "item":  # a posted open item
        data.items[change["key"]] = change["item"]
    elif op == "clear":  # an open item cleared (paid)
        data.items.pop(change["key"], None)
        data.cleared[change["key"]] = change["item"]
    elif op == "rate":
        data.add_rate(change["rate"])
    else:
        raise ValueError(f"unknown change {op!r} in the state file")
    if "counters" in change:  # document numbers drawn by the change
        data._doc_counter.update(change["counters"])


# ---------------------------------------------------------------------- the file

class StateFile:
    """An open state file: :meth:`record` appends one committed change, durably."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self.conn = _connect(self.path)

    @classmethod
    def create(cls, path: str | os.PathLike[str], data: demo.Data) -> StateFile:
        """Write a new state file holding ``data`` (atomically), then open it."""
        target = Path(path)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temporary.unlink(missing_ok=True)
        try:
            conn = sqlite3.connect(os.fspath(temporary), isolation_level=None)
            try:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute("BEGIN")
                conn.execute('INSERT INTO "meta" VALUES (?, ?)', ["format", json.dumps(FORMAT)])
                conn.execute('INSERT INTO "snapshot" VALUES (1, ?)', [dumps(data)])
                conn.execute("COMMIT")
            finally:
                conn.close()
            fsync_file(temporary)
            os.replace(temporary, target)
            fsync_directory(target.parent)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return cls(target)

    def load(self) -> demo.Data:
        """The snapshot with every journalled change applied; the journal is then folded into the snapshot."""
        try:
            rows = dict(self.conn.execute('SELECT "key", "value" FROM "meta"').fetchall())
            if json.loads(rows.get("format", "null")) != FORMAT:
                raise ValueError(f"state file {self.path}: unknown format {rows.get('format')!r}")
            [(snapshot,)] = self.conn.execute('SELECT "data" FROM "snapshot" WHERE "id" = 1').fetchall()
            changes = [row[0] for row in self.conn.execute('SELECT "change" FROM "journal" ORDER BY "seq"')]
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise ValueError(f"state file {self.path} is not a SAP sandbox state file ({exc})") from None
        data = loads(snapshot)
        if not isinstance(data, demo.Data):
            raise ValueError(f"state file {self.path} is not a SAP sandbox state file")
        for change in changes:
            apply(data, loads(change))
        if changes:
            with self._lock:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    self.conn.execute('UPDATE "snapshot" SET "data" = ? WHERE "id" = 1', [dumps(data)])
                    self.conn.execute('DELETE FROM "journal"')
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
                self.conn.execute("COMMIT")
        return data

    def record(self, change: dict[str, Any]) -> None:
        """Append one committed change; on disk when this returns."""
        with self._lock:
            self.conn.execute('INSERT INTO "journal" ("change") VALUES (?)', [dumps(change)])

    def close(self) -> None:
        with self._lock:
            try:
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self.conn.close()


def open_or_create(path: str | os.PathLike[str], build: Any) -> tuple[StateFile, demo.Data]:
    """Load the data from the state file at ``path``, or ``build()`` it and write a new state file."""
    if os.path.exists(path):
        state = StateFile(path)
        try:
            return state, state.load()
        except BaseException:
            state.close()
            raise
    data = build()
    return StateFile.create(path, data), data


def _connect(path: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    except sqlite3.Error as exc:
        raise ValueError(f"cannot open state file {path}: {exc}") from None
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ValueError(f"state file {path} is not a SAP sandbox state file ({exc})") from None
    return conn
