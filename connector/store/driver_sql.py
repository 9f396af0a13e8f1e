"""Statements of a credit check's hot path, written as SQL and run on the database driver itself.

Building a SQLAlchemy expression, compiling it (even from its cache) and wrapping the result cost more than
running these small indexed statements.  A :class:`DriverStatement` keeps what SQLAlchemy would do with the
values — the bind and result conversions of the table's column types (UTC date-times, days, booleans) — and
drops the rest: parameters are named ``:name`` (SQLite's own style, turned into psycopg's ``%(name)s``) and
a parameter named like a column of ``table`` is converted as that column's type converts it.  It runs in the
transaction of the SQLAlchemy connection it is given.  :class:`Dialect` holds what else differs between SQLite and
PostgreSQL in such SQL (lists of values, days), for the store's other hand-written queries too.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection, Table

from .write_batches import BATCH, is_write

_PARAMETER = re.compile(r"(?<!:):(\w+)")


@lru_cache(maxsize=512)
def _pyformat(text: str) -> str:
    """``text`` with psycopg's ``%(name)s`` parameters.  Kept: a check builds its statements anew each time, from a
    few shapes (one group or several, by day or not), and the substitution costs more than looking them up."""
    return _PARAMETER.sub(r"%(\1)s", text)


class Dialect:
    """What differs between SQLite and PostgreSQL in hand-written SQL: the parameter style, lists of values, and
    how dates travel."""

    def __init__(self, name: str) -> None:
        self.sqlite = name == "sqlite"

    @classmethod
    def of(cls, conn: Connection) -> "Dialect":
        return cls(conn.dialect.name)

    def sql(self, text: str) -> str:
        """``text`` with its ``:name`` parameters in the driver's style."""
        return text if self.sqlite else _pyformat(text)

    def among(self, column: str, name: str, items: Collection[str]) -> str:
        """``column`` is one of ``items``, given as parameter ``name`` (see :meth:`values`).  One item is compared
        as itself: a statement planned once for any values (PostgreSQL's generic plans) would expect a list to
        hold about ten and could prefer a scan of the table to its index."""
        return f"{column} = :{name}" if len(items) == 1 else self.among_list(column, name)

    def among_list(self, column: str, name: str) -> str:
        """:meth:`among` for a list of more than one item (or of any length, in a statement built once)."""
        return f"{column} IN (SELECT value FROM json_each(:{name}))" if self.sqlite else f"{column} = ANY(:{name})"

    def listed(self, name: str, items: Collection[str]) -> str:
        """A ``SELECT`` of ``items``, given as parameter ``name`` (see :meth:`values`)."""
        if len(items) == 1:
            return f"SELECT :{name}" if self.sqlite else f"SELECT CAST(:{name} AS text)"
        return f"SELECT value FROM json_each(:{name})" if self.sqlite else f"SELECT unnest(CAST(:{name} AS text[]))"

    def values(self, items: Collection[str]) -> Any:
        """``items`` as the parameter of :meth:`among` and :meth:`listed` takes them."""
        if len(items) == 1:
            return next(iter(items))
        return orjson.dumps(sorted(items)).decode() if self.sqlite else sorted(items)

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    @staticmethod
    def read_day(value: Any) -> date | None:
        return date.fromisoformat(value) if isinstance(value, str) else value


class DriverStatement:
    """One statement over ``table`` for one dialect: rows come back as named tuples of ``columns``."""

    def __init__(self, sql: str, table: Table, dialect: Any, columns: Sequence[str] = ()) -> None:
        self.sql = Dialect(dialect.name).sql(sql)
        self.writes = is_write(self.sql)  # a write a batch can take
        self.batchable = dialect.name != "sqlite"  # (write batches are PostgreSQL's: see Store.commit_together)
        self.binds: dict[str, Callable[[Any], Any]] = {}
        for name in _PARAMETER.findall(sql):
            if name in table.c and (process := table.c[name].type._cached_bind_processor(dialect)) is not None:
                self.binds[name] = process
        self.row = namedtuple(f"{table.name}_row", columns) if columns else None  # type: ignore[misc]
        self.results = [(position, process) for position, name in enumerate(columns)
                        if (process := table.c[name].type._cached_result_processor(dialect, None)) is not None]

    def _params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        values = dict(params)
        for name, process in self.binds.items():
            value = values.get(name)
            if value is not None:
                values[name] = process(value)
        return values

    def row_of(self, raw: Sequence[Any]) -> Any:
        """A row the driver gave (this statement's columns, in order) as this statement's rows come."""
        return self._row(raw)

    def _row(self, raw: Sequence[Any]) -> Any:
        values = list(raw)
        for position, process in self.results:
            if values[position] is not None:
                values[position] = process(values[position])
        return self.row._make(values) if self.row is not None else tuple(values)

    def send(self, conn: Connection, params: Mapping[str, Any], cursors: Any = None) -> Any:
        """Run the statement; the driver's cursor (inside psycopg's pipeline: its answer comes with the others), one
        of ``cursors`` if given (a :class:`~connector.store.pipelines.KeptCursors`).  In a write batch (see
        :mod:`connector.store.write_batches`) a write is gathered, and its answer comes when the batch runs; anything
        else runs the batch first."""
        if not conn.in_transaction():  # as SQLAlchemy's own execute would: its commit then commits this too
            conn.begin()
        batch = conn.info.get(BATCH) if self.batchable else None
        if batch is not None:
            if self.writes:
                return batch.add(self.sql, self._params(params))
            batch.run()
        return (cursors or conn.connection.driver_connection).execute(self.sql, self._params(params))

    def rows_of(self, cursor: Any) -> list[Any]:
        return [self._row(raw) for raw in cursor.fetchall()]

    def first_of(self, cursor: Any) -> Any | None:
        raw = cursor.fetchone()
        return self._row(raw) if raw is not None else None

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        return self.rows_of(self.send(conn, params))

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        return self.first_of(self.send(conn, params))


def column_list(table: Table, alias: str = "", *, without: Sequence[str] = ()) -> tuple[tuple[str, ...], str]:
    """The columns of ``table`` in order (but those ``without``), and their SQL list (qualified by ``alias``)."""
    names = tuple(c.name for c in table.c if c.name not in without)
    prefix = f"{alias}." if alias else ""
    return names, ", ".join(f'{prefix}"{name}"' for name in names)


def upsert_sql(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """An insert of ``columns`` (parameters named as they are) that updates the row holding the same ``key``
    instead: the same SQL on SQLite and PostgreSQL."""
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(f":{c}" for c in columns)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in key)
    return f'INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT ({", ".join(key)}) DO UPDATE SET {updates}'


class PerDialect:
    """A statement built once per dialect a store meets (normally one), by ``build(dialect)``."""

    def __init__(self, build: Callable[[Any], DriverStatement]) -> None:
        self._build = build
        self._built: dict[str, DriverStatement] = {}

    def __call__(self, conn: Connection) -> DriverStatement:
        name = conn.dialect.name
        statement = self._built.get(name)
        if statement is None:
            statement = self._built[name] = self._build(conn.dialect)
        return statement
