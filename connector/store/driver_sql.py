"""Statements of a credit check's hot path, written as SQL and run on the database driver itself.

Building a SQLAlchemy expression, compiling it (even from its cache) and wrapping the result cost more than
running these small indexed statements.  A :class:`DriverStatement` keeps what SQLAlchemy would do with the
values — the bind and result conversions of the table's column types (UTC date-times, days, booleans) — and
drops the rest: parameters are named ``:name`` (SQLite's own style, turned into psycopg's ``%(name)s``) and
a parameter named like a column of ``table`` is converted as that column's type converts it.  It runs in the
transaction of the SQLAlchemy connection it is given.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table

_PARAMETER = re.compile(r"(?<!:):(\w+)")


class DriverStatement:
    """One statement over ``table`` for one dialect: rows come back as named tuples of ``columns``."""

    def __init__(self, sql: str, table: Table, dialect: Any, columns: Sequence[str] = ()) -> None:
        self.sql = sql if dialect.name == "sqlite" else _PARAMETER.sub(r"%(\1)s", sql)
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

    def _row(self, raw: Sequence[Any]) -> Any:
        values = list(raw)
        for position, process in self.results:
            if values[position] is not None:
                values[position] = process(values[position])
        return self.row._make(values) if self.row is not None else tuple(values)

    def _cursor(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        if not conn.in_transaction():  # as SQLAlchemy's own execute would: its commit then commits this too
            conn.begin()
        return conn.connection.driver_connection.execute(self.sql, self._params(params))

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        return [self._row(raw) for raw in self._cursor(conn, params).fetchall()]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        raw = self._cursor(conn, params).fetchone()
        return self._row(raw) if raw is not None else None


def column_list(table: Table, alias: str = "") -> tuple[tuple[str, ...], str]:
    """Every column of ``table`` in order, and their SQL list (qualified by ``alias``)."""
    names = tuple(c.name for c in table.c)
    prefix = f"{alias}." if alias else ""
    return names, ", ".join(f'{prefix}"{name}"' for name in names)


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
