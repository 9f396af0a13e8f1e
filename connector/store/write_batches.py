"""PostgreSQL: the writes of a decision at confirmation sent as one statement.

Inside :meth:`connector.store.Store.commit_together` a decision's writes (the decision, its reservation, or the
reservation dropped, the hold and the hold's outbox entry) go to different tables and need nothing from each other.
Sent one by one in a pipeline, each costs the client and the server a statement's handling (and the client a
hand-over of the interpreter's lock); gathered here, they become one statement of data-modifying ``WITH`` parts,
which PostgreSQL runs to completion, all on one snapshot, whatever the final ``SELECT`` reads.  A write's
``RETURNING`` of one column (an outbox entry's id) is read by that ``SELECT``; its answer, a cursor-like
:class:`BatchedAnswer`, gives it once the batch has run.  A statement that is not a write (a read) makes the
batch run first, so that it sees the writes before it (statements through SQLAlchemy are not run inside
:meth:`~connector.store.Store.commit_together`).  What is to be done only once the writes are committed (an outbox
entry's log line) waits in :meth:`WriteBatch.after_commit`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

BATCH = "creditguard.write_batch"  # the key of the connection's batch in SQLAlchemy's Connection.info

_PARAMETER = re.compile(r"%\((\w+)\)s")
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\s+(\w+)\s*$", re.IGNORECASE)


def is_write(sql: str) -> bool:
    """Whether ``sql`` is a write a batch can take: an INSERT, UPDATE or DELETE, with at most one column returned."""
    returning = re.search(r"\bRETURNING\b", sql, re.IGNORECASE)
    return bool(_WRITE.match(sql)) and (returning is None or _RETURNING.search(sql) is not None)


@lru_cache(maxsize=256)
def _statement(writes: tuple[str, ...]) -> tuple[str, tuple[int, ...]]:
    """The one statement of ``writes`` (each write's parameters prefixed with ``w<n>_``), and the positions of the
    writes whose column it selects, in order.  Kept: a decision's writes come in a few shapes, and rewriting them
    (regular expressions over every write's text) cost more per confirmation than the rest of the batch."""
    parts, selected, returned = [], [], []
    for n, sql in enumerate(writes):
        parts.append(f"w{n} AS ({_PARAMETER.sub(lambda m, n=n: f'%(w{n}_{m.group(1)})s', sql)})")
        if (returning := _RETURNING.search(sql)) is not None:
            selected.append(f"(SELECT {returning.group(1)} FROM w{n})")
            returned.append(n)
    return f"WITH {', '.join(parts)} SELECT {', '.join(selected) or '1'}", tuple(returned)


class _Ran:
    """The batch's one row, read once for all its answers."""

    def __init__(self, cursor: Any) -> None:
        self._cursor, self._read, self._row = cursor, False, None

    def row(self) -> Any:
        if not self._read:
            self._row, self._read = self._cursor.fetchone(), True
        return self._row


class BatchedAnswer:
    """What a batched write returned: a row of its one column, or none (asked before its batch has run, it runs the
    batch, and the answer waits for the server's)."""

    def __init__(self, batch: "WriteBatch") -> None:
        self._batch = batch
        self._ran: _Ran | None = None
        self._position = -1

    def bind(self, ran: _Ran, position: int) -> None:
        self._ran, self._position = ran, position

    def fetchone(self) -> tuple[Any] | None:
        if self._ran is None:
            self._batch.run()
        assert self._ran is not None
        row = self._ran.row()
        value = row[self._position] if row is not None else None
        return None if value is None else (value,)


class WriteBatch:
    """The writes sent on a psycopg connection ``raw`` until :meth:`run` (see the module's docstring)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._writes: list[tuple[str, Mapping[str, Any], BatchedAnswer]] = []
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the transaction the batch is in has committed (see :meth:`committed`)."""
        self._after_commit.append(callback)

    def committed(self) -> None:
        """The transaction committed: the callbacks given to :meth:`after_commit`, in order."""
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def add(self, sql: str, params: Mapping[str, Any]) -> BatchedAnswer:
        answer = BatchedAnswer(self)
        self._writes.append((sql, params, answer))
        return answer

    def run(self) -> None:
        """Send the writes gathered so far, as one statement (in the pipeline, if one is open)."""
        writes, self._writes = self._writes, []
        if not writes:
            return
        sql, returned = _statement(tuple(sql for sql, _, _ in writes))
        params = {f"w{n}_{name}": value for n, (_, values, _) in enumerate(writes) for name, value in values.items()}
        ran = _Ran(self.raw.execute(sql, params))
        for position, n in enumerate(returned):
            writes[n][2].bind(ran, position)
