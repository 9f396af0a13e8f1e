"""Sums of a credit group's documents kept between credit checks, for as long as its book has not moved.

A credit check sums the group's open invoices (``invoice_balances``) or open receivable items.  Those change
only when a sync writes ``invoices`` or ``receivable_items``, and every such write moves the source's counter
in ``book_generations`` in the same transaction (migration 0019: triggers on updates and deletions, and the
record writer on SQLite inserts).  So a process reads the counter — one row, one index seek — and reuses the
sums it read with the same value; any write by any process sharing the store makes the next check read them
again.  The counter is read before the sums, in the same connection: sums kept with a counter value are never
older than that value.  On PostgreSQL, where a check's reads go in one round trip, the counter is read in the
same statement as the invoice sums, which the server computes only when the counter is not the one kept
(:func:`connector.store.aggregates.counted_invoice_sums_query`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence, Sized
from typing import TypeVar

from sqlalchemy import Connection

from .driver_sql import Dialect

S = TypeVar("S", bound=Sized)

# the tables whose writes move a counter, and the name the counter goes by
BOOKS = {"invoices": "invoices", "receivable_items": "receivables"}

_READ = "SELECT generation FROM book_generations WHERE source = :source AND stream = :stream"


def sqlite_move_generation(table: str) -> str | None:
    """SQLite: the statement that moves the counter of ``table`` for parameter ``source`` (inserts have no
    trigger: the record writer runs it once per page); None for a table without one."""
    if table not in BOOKS:
        return None
    return ("INSERT INTO book_generations (source, stream, generation) "
            f"VALUES (:source, '{BOOKS[table]}', 1) "
            "ON CONFLICT (source, stream) DO UPDATE SET generation = book_generations.generation + 1")


def sums_key(book: str, source: str, groups: Sequence[str], *args: Hashable) -> tuple:
    """What a group's sums are kept under: the book, the source, the groups and what else they were read for."""
    return (book, source, tuple(sorted(groups)), *args)


def read_generation(conn: Connection, source: str, book: str) -> int:
    """The counter of ``book`` ("invoices", "receivables") for ``source``; 0 when nothing was written since the
    counters were introduced."""
    row = conn.connection.driver_connection.execute(Dialect.of(conn).sql(_READ),
                                                    {"source": source, "stream": book}).fetchone()
    return int(row[0]) if row else 0


class BookCache:
    """A bounded map of sums by what they were read for (source, book, groups, cut, conversion) and the counter
    value they were read with.  Bounded by the rows it holds (a group's sums are a few rows, or one per day of
    its open book when converted at document dates): the least recently used go first.  Shared by the threads
    of a process."""

    def __init__(self, max_rows: int = 100_000) -> None:
        self._max_rows = max_rows
        self._rows = 0
        self._entries: OrderedDict[Hashable, tuple[int, Sized]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_read(self, key: Hashable, generation: int, read: Callable[[], S]) -> S:
        kept = self.get(key, generation)
        if kept is not None:
            return kept
        value = read()
        self.put(key, generation, value)
        return value

    def generation(self, key: Hashable) -> int | None:
        """The counter value the sums kept under ``key`` were read with, None when none are kept."""
        with self._lock:
            entry = self._entries.get(key)
            return entry[0] if entry is not None else None

    def get(self, key: Hashable, generation: int) -> S | None:  # type: ignore[type-var]
        """The sums kept under ``key`` if they were read with ``generation``, else None (counted as a miss)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == generation:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]  # type: ignore[return-value]
            self.misses += 1
            return None

    def put(self, key: Hashable, generation: int, value: Sized) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._rows -= len(old[1]) + 1
            self._entries[key] = (generation, value)
            self._rows += len(value) + 1
            while self._rows > self._max_rows and self._entries:
                _, (_, gone) = self._entries.popitem(last=False)
                self._rows -= len(gone) + 1
