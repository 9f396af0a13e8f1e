"""Writing a page of synced records: new ones inserted, changed ones updated, unchanged ones left alone.

This is the sync's hot path (a first sync writes every record of the ERP through it), so rows are
built once, in column order, encoded for the driver, and handed to it in bulk.  A record read again
is unchanged when its content columns (:data:`connector.store.rows.CONTENT_COLUMNS`) hold the same
values; nothing is hashed.

* SQLite: one query reads what the store holds of the page's records (their content columns, as the
  driver stores them), then one multi-row ``INSERT`` adds the new records (a statement per row costs
  SQLite a virtual-machine run and the driver the interpreter's lock per row) and one ``executemany``
  upserts the changed.  The running totals of the inserted documents are added from their row ids.
* PostgreSQL: the page is ``COPY``-ed into a temporary table, then one ``INSERT … SELECT … ON CONFLICT
  DO UPDATE … WHERE the content columns differ RETURNING`` writes it: the conflict is resolved on the
  unique index, whatever the planner knows of a table a first sync is still filling.

``seen_run`` (full reads) and the read time of records read again unchanged (``settle``) are updated
in the same transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from itertools import chain, repeat
from typing import Any

from sqlalchemy import Connection, Table, select, update

from ..domain import SyncedRecord
from .balances import sqlite_add_inserted
from .book_cache import sqlite_move_generation
from .rows import CONTENT_COLUMNS, content_values

_CHUNK = 400  # ids per IN list
ROWS_PER_STATEMENT = 1000  # at most, and as SQLite's bound on a statement's parameters allows (999 before 3.32)
TAIL = ("synced_at", "seen_run", "deleted_at")


class _Encoder:
    """Python values of one table's columns to what its driver is given (SQLAlchemy's own conversions)."""

    def __init__(self, table: Table, columns: Sequence[str], dialect: Any) -> None:
        self.converters: list[tuple[int, Callable[[Any], Any]]] = []
        for position, name in enumerate(columns):
            process = table.c[name].type._cached_bind_processor(dialect)
            if process is not None:
                self.converters.append((position, process))

    def rows(self, rows: list[list[Any]]) -> list[list[Any]]:
        memo: dict[Any, Any] = {}  # change times, dates and the read time repeat across a page
        for row in rows:
            for position, process in self.converters:
                value = row[position]
                if value is None:
                    continue
                try:
                    row[position] = memo[value]
                except KeyError:
                    row[position] = memo[value] = process(value)
        return rows


class RecordWriter:
    """Writes pages of one record type into its table."""

    def __init__(self, table: Table, record_type: type, dialect: Any) -> None:
        self.table = table
        self.content = CONTENT_COLUMNS[record_type]  # starts with erp_id
        self.columns = ("source", "erp_model") + self.content + TAIL
        self.encoder = _Encoder(table, self.columns, dialect)
        self.names = ", ".join(f'"{c}"' for c in self.columns)
        self.content_update = ", ".join(f'"{c}" = excluded."{c}"' for c in self.columns
                                        if c not in ("source", "erp_model", "erp_id"))

    def write(self, conn: Connection, model: str, records: Sequence[SyncedRecord], now: datetime,
              run_id: int | None, settle: timedelta | None) -> list[str]:
        """The page's records in the table; returns the ids of those new or changed.  ``run_id``: they are
        seen by this full read.  ``settle``: see :meth:`connector.store.Store.save_page`."""
        latest = {r.erp_id: r for r in records}  # a record listed twice: its last version
        source = records[0].source
        rows = self.encoder.rows([[source, model, *content_values(r), now, run_id, None] for r in latest.values()])
        cursor = conn.connection.driver_connection.cursor()  # the transaction's own connection
        try:
            written = self._write(cursor, source, model, rows, settle)
        finally:
            cursor.close()
        unchanged = [erp_id for erp_id in latest if erp_id not in set(written)] if len(written) < len(latest) else []
        if settle is not None and unchanged:
            self._confirm_reads(conn, source, model, unchanged, now, settle)
        if run_id is not None and unchanged:
            self._update(conn, source, model, unchanged, seen_run=run_id)
        return written

    def insert(self, conn: Connection, model: str, records: Sequence[SyncedRecord], now: datetime,
               run_id: int | None) -> list[str]:
        """The page's records, none of which the table holds (a first read), inserted without looking
        first; a unique key already taken raises the driver's IntegrityError."""
        source = records[0].source
        rows = self.encoder.rows([[source, model, *content_values(r), now, run_id, None] for r in records])
        cursor = conn.connection.driver_connection.cursor()
        try:
            self._insert(cursor, rows)
        finally:
            cursor.close()
        return [r.erp_id for r in records]

    def _insert(self, cursor: Any, rows: list[list[Any]]) -> None:
        raise NotImplementedError

    def _write(self, cursor: Any, source: str, model: str, rows: list[list[Any]],
               settle: timedelta | None) -> list[str]:
        raise NotImplementedError

    def _confirm_reads(self, conn: Connection, source: str, model: str, ids: list[str], now: datetime,
                       settle: timedelta) -> None:
        t = self.table
        confirm = []
        for start in range(0, len(ids), _CHUNK):
            confirm += [row.erp_id for row in conn.execute(
                select(t.c.erp_id, t.c.changed_at, t.c.synced_at).where(
                    t.c.source == source, t.c.erp_model == model, t.c.erp_id.in_(ids[start:start + _CHUNK])))
                        if row.synced_at < row.changed_at + settle and row.synced_at < now]
        self._update(conn, source, model, confirm, synced_at=now)

    def _update(self, conn: Connection, source: str, model: str, ids: list[str], **values: Any) -> None:
        t = self.table
        for start in range(0, len(ids), _CHUNK):
            conn.execute(update(t).where(t.c.source == source, t.c.erp_model == model,
                                         t.c.erp_id.in_(ids[start:start + _CHUNK])).values(**values))


class SqliteRecordWriter(RecordWriter):
    def __init__(self, table: Table, record_type: type, dialect: Any) -> None:
        super().__init__(table, record_type, dialect)
        name = table.name
        marks = ", ".join("?" for _ in self.columns)
        held = ", ".join(f'"{c}"' for c in self.content)
        self.held_sql = (f'SELECT {held}, "deleted_at" FROM "{name}" WHERE "source" = ? AND "erp_model" = ? '
                         'AND "erp_id" IN (SELECT value FROM json_each(?))')
        self.insert_sql = f'INSERT INTO "{name}" ({self.names}) VALUES ({marks})'
        self.insert_head = f'INSERT INTO "{name}" ({self.names}) VALUES '
        self.row_marks = f"({marks})"
        self._values_sqls: dict[int, str] = {}
        self.highest_id_sql = f'SELECT coalesce(max("id"), 0) FROM "{name}"'
        self.upsert_sql = (self.insert_sql + ' ON CONFLICT ("source", "erp_model", "erp_id") DO UPDATE SET '
                           + self.content_update)
        self.add_to_totals = sqlite_add_inserted(name)  # see connector.store.balances
        self.move_generation = sqlite_move_generation(name)  # see connector.store.book_cache

    def _insert(self, cursor, rows):
        after = self._highest_id(cursor)
        self._insert_rows(cursor, rows)
        self._add_to_totals(cursor, rows, after)

    def _insert_rows(self, cursor, rows) -> None:
        """Many rows per statement: SQLite then works through them without the interpreter's lock, which a
        statement per row would take back after every row (and wait for, while another thread maps)."""
        parameters = cursor.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # as this library was built
        per = max(1, min(ROWS_PER_STATEMENT, parameters // len(self.columns)))
        for start in range(0, len(rows), per):
            chunk = rows[start:start + per]
            cursor.execute(self._values_sql(len(chunk)), list(chain.from_iterable(chunk)))

    def _values_sql(self, count: int) -> str:
        sql = self._values_sqls.get(count)
        if sql is None:
            sql = self._values_sqls[count] = self.insert_head + ", ".join(repeat(self.row_marks, count))
        return sql

    def _highest_id(self, cursor) -> int:
        """The table's highest row id (the rows inserted next have higher ones); 0 for a table without totals."""
        return cursor.execute(self.highest_id_sql).fetchone()[0] if self.add_to_totals else 0

    def _add_to_totals(self, cursor, rows, after: int) -> None:
        """What triggers do for updates and deletions, done once for the rows inserted (those with an id above
        ``after``): the running totals, the book's generation."""
        if self.add_to_totals and rows:
            cursor.execute(self.add_to_totals, {"after": after})
        if self.move_generation and rows:
            cursor.execute(self.move_generation, {"source": rows[0][0]})

    def _write(self, cursor, source, model, rows, settle):
        end = 2 + len(self.content)
        held = {row[0]: row for row in cursor.execute(self.held_sql, (source, model, json.dumps([r[2] for r in rows])))}
        new, changed = [], []
        for row in rows:
            stored = held.get(row[2])
            if stored is None:
                new.append(row)
            elif stored[-1] is not None or tuple(row[2:end]) != stored[:-1]:  # deleted, or its content moved
                changed.append(row)
        if new:
            after = self._highest_id(cursor)
            self._insert_rows(cursor, new)
            self._add_to_totals(cursor, new, after)
        if changed:
            cursor.executemany(self.upsert_sql, changed)
        return [row[2] for row in new] + [row[2] for row in changed]


class PostgresRecordWriter(RecordWriter):
    def __init__(self, table: Table, record_type: type, dialect: Any) -> None:
        super().__init__(table, record_type, dialect)
        name = table.name
        self.staging = f"cg_page_{name}"
        self.create_staging = (f'CREATE TEMPORARY TABLE IF NOT EXISTS "{self.staging}" '
                               f'(LIKE "{name}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS')
        self.copy_sql = f'COPY "{self.staging}" ({self.names}) FROM STDIN'
        self.copy_into_table = f'COPY "{name}" ({self.names}) FROM STDIN'
        mine = ", ".join(f'"{name}"."{c}"' for c in self.content)
        theirs = ", ".join(f'excluded."{c}"' for c in self.content)
        self.upsert_sql = (f'INSERT INTO "{name}" ({self.names}) SELECT {self.names} FROM "{self.staging}"'
                           ' ON CONFLICT ("source", "erp_model", "erp_id") DO UPDATE SET ' + self.content_update
                           + f' WHERE ({mine}) IS DISTINCT FROM ({theirs}) OR "{name}"."deleted_at" IS NOT NULL'
                           f' RETURNING "{name}"."erp_id"')

    def _insert(self, cursor, rows):
        with cursor.copy(self.copy_into_table) as copy:
            for row in rows:
                copy.write_row(row)

    def _write(self, cursor, source, model, rows, settle):
        cursor.execute(self.create_staging)
        with cursor.copy(self.copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(self.upsert_sql)
        written = [row[0] for row in cursor.fetchall()]
        cursor.execute(f'TRUNCATE "{self.staging}"')
        return written


def record_writer(table: Table, record_type: type, dialect: Any) -> RecordWriter:
    kind = PostgresRecordWriter if dialect.name == "postgresql" else SqliteRecordWriter
    return kind(table, record_type, dialect)
