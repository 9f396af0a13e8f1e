"""PostgreSQL: psycopg pipelines that begin their transaction without a round trip of its own.

Asked for a statement when no transaction is open, a psycopg connection that is not in autocommit sends ``BEGIN``
first; in a pipeline it then waits for the answer to that ``BEGIN`` alone (a sync: a round trip to the server and
back) before it sends the statement, so as to know that the transaction began.  A credit check's reads, and the
statements of the store's other pipelines, would pay two round trips instead of one.  :func:`pipeline` sends the
``BEGIN`` itself, first in the pipeline: for as long as the pipeline is sent, psycopg is told the connection is in
autocommit (so that it leaves the beginning to us), and once it has synced, the connection is a plain one in the
transaction just begun, as if psycopg had begun it (the public setter refuses to change autocommit inside a
transaction, hence its private attribute: ``psycopg`` is pinned, and the store's tests check the behaviour).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection

KEPT_CURSORS = "creditguard.kept_cursors"  # the key of a driver connection's KeptCursors in its pool record's info


class KeptCursors:
    """Cursors kept with a psycopg connection ``raw``, for the statements of a pipeline whose answers are all read
    before the next such pipeline begins (see :func:`kept_cursors`): :meth:`execute` hands them out in turn, from the
    first one after :meth:`again`; :meth:`execute_unread` runs a statement whose answer nobody reads (``BEGIN``,
    ``COMMIT``) on a cursor of its own."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._cursors: list[Any] = []
        self._next = 0
        self._unread: Any = None

    def again(self) -> "KeptCursors":
        self._next = 0
        return self

    def execute(self, sql: str, params: Any = None) -> Any:
        """Run ``sql`` on the next kept cursor; the cursor (its answer is to be read before the cursors are handed
        out again)."""
        if self._next == len(self._cursors):
            self._cursors.append(self.raw.cursor())
        cursor = self._cursors[self._next]
        self._next += 1
        return cursor.execute(sql, params)

    def execute_unread(self, sql: str) -> None:
        if self._unread is None:
            self._unread = self.raw.cursor()
        self._unread.execute(sql)


def kept_cursors(conn: Connection) -> KeptCursors:
    """The cursors kept with the psycopg connection of ``conn`` (a SQLAlchemy connection), handed out from the first
    one again: the caller reads every answer of the statements it runs on them before it returns."""
    record, raw = conn.connection, conn.connection.driver_connection
    kept = record.info.get(KEPT_CURSORS)
    if kept is None or kept.raw is not raw:  # first use, or the pool connected anew
        kept = record.info[KEPT_CURSORS] = KeptCursors(raw)
    return kept.again()


@contextmanager
def pipeline(raw: Any, cursors: KeptCursors | None = None) -> Iterator[None]:
    """A pipeline on the psycopg connection ``raw`` whose statements run in its transaction, begun by the pipeline
    when none is open (see the module's docstring; its ``BEGIN`` on one of ``cursors``, if given).  A connection in
    autocommit, or in a transaction already, gets a plain pipeline."""
    from psycopg.pq import TransactionStatus  # (only PostgreSQL stores import the driver)

    if raw.autocommit or raw.info.transaction_status != TransactionStatus.IDLE:
        with raw.pipeline():
            yield
        return
    raw.autocommit = True  # idle and outside a pipeline: no round trip
    try:
        with raw.pipeline():
            (cursors.execute_unread if cursors is not None else raw.execute)("BEGIN")
            yield
    finally:
        raw._autocommit = False  # in the transaction now (or failed: rolled back by whoever began it)
