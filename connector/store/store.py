"""The :class:`Store`: synced records, cursors, runs and the quarantine."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from .. import crashpoints
from ..domain import Company, Customer, CurrencyRate, Invoice, ReceivableItem, SalesOrder, SyncedRecord
from ..ports import Cursor, Rejected, Scope, Stream
from . import tables as t
from .ahead import MISSING, key
from .book_cache import BookCache, read_generation, sums_key
from .cases import CaseStore
from .decision_locks import LockedForDecision, lock_for_decision, lock_group
from .check_reads import LOCK_TAKEN, CheckReads, exposure_key, read_ahead, receivable_key
from .driver_sql import DriverStatement, PerDialect, column_list
from .engine import create_store_engine, migrate, schema_status
from .outbox import OutboxStore
from .pipelines import kept_cursors, pipeline
from .write_batches import BATCH, WriteBatch
from .record_writes import RecordWriter, record_writer
from .rows import row_to_customer, row_to_invoice, row_to_item, row_to_order, row_to_rate
from .insurer_decisions import InsurerDecisionStore
from .reservations import ReservationStore
from .scan_state import ScanState, ScanStateStore
from .snapshots import SnapshotStore

_CHUNK = 400  # rows per multi-row statement: well under SQLite's bound-parameter limit
_monotonic = time.monotonic  # the clock of the "no receivable items" memo (tests move it)
_RECEIVABLES_NO_SECONDS = 1.0  # how long "this source syncs no receivable items" is believed without asking again
_KEPT_GROUPS = 16  # sums of at most this many groups at once are kept between checks (see book_cache)
# the column that says which part (Scope.key) of a snapshot stream a stored record belongs to
SCOPE_COLUMNS = {"customers": "erp_id", "invoices": "customer_id", "orders": "customer_id", "receivables": "customer_id"}


@dataclass(frozen=True, slots=True)
class FullRun:
    """A full read of one stream; records it does not see are marked deleted."""

    id: int
    source: str
    stream: Stream


@dataclass(frozen=True, slots=True)
class PageResult:
    written_ids: frozenset[str]
    quarantined: int


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    source: str
    stream: str
    erp_model: str
    erp_id: str
    reason: str
    payload: dict[str, Any]
    first_seen: datetime
    last_seen: datetime
    occurrences: int
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class SyncRunRow:
    id: int
    source: str
    stream: str
    full: bool
    started_at: datetime
    finished_at: datetime | None
    status: str
    read: int
    written: int
    quarantined: int
    deleted: int
    calls: int
    error: str | None


def _utcnow() -> datetime:
    return datetime.now(UTC)


_SQLITE_BUSY_MS = 30_000  # the engine's own wait (connect_args timeout)


def _begin_immediate(conn: Connection, wait: float = 30.0) -> None:
    """Take SQLite's write lock, waiting for another process's write in steps of at most 2 ms (SQLite's own
    busy handler sleeps 1, 2, 5, 10, … 100 ms: short writes from several API processes would queue for tens
    of milliseconds behind each other)."""
    raw = conn.connection.driver_connection
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        delay, deadline = 0.0001, time.monotonic() + wait
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.002)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_MS}")


# statements of a credit check's hot path, built once (building one costs more than running it)
_ORDER_COLUMNS, _ORDER_LIST = column_list(t.orders)
_ORDERS_BY_NUMBER_SQL = f"SELECT {_ORDER_LIST} FROM orders WHERE number = :number AND deleted_at IS NULL"
_ORDERS_BY_NUMBER_ANY_SOURCE = PerDialect(lambda dialect: DriverStatement(
    _ORDERS_BY_NUMBER_SQL + " ORDER BY source", t.orders, dialect, _ORDER_COLUMNS))
_ORDERS_BY_NUMBER = PerDialect(lambda dialect: DriverStatement(
    _ORDERS_BY_NUMBER_SQL + " AND source = :source", t.orders, dialect, _ORDER_COLUMNS))
_CUSTOMER_COLUMNS, _CUSTOMER_LIST = column_list(t.customers)
_CUSTOMER = PerDialect(lambda dialect: DriverStatement(
    f"SELECT {_CUSTOMER_LIST} FROM customers WHERE source = :source AND erp_id = :erp_id", t.customers, dialect,
    _CUSTOMER_COLUMNS))
_ORDERS_CUSTOMERS_SQL = (f"SELECT {column_list(t.customers, 'c')[1]} FROM customers AS c WHERE (c.source, c.erp_id) IN "
                         "(SELECT source, customer_id FROM orders WHERE number = :number AND deleted_at IS NULL{source})")
_ORDERS_CUSTOMERS = PerDialect(lambda dialect: DriverStatement(
    _ORDERS_CUSTOMERS_SQL.format(source=""), t.customers, dialect, _CUSTOMER_COLUMNS))
_ORDERS_CUSTOMERS_IN_SOURCE = PerDialect(lambda dialect: DriverStatement(
    _ORDERS_CUSTOMERS_SQL.format(source=" AND source = :source"), t.customers, dialect, _CUSTOMER_COLUMNS))
_DECISION_COLUMNS, _DECISION_LIST = column_list(t.decisions, without=("id",))
_DECISION = PerDialect(lambda dialect: DriverStatement(
    f"INSERT INTO decisions ({_DECISION_LIST}) VALUES ({', '.join(':' + c for c in _DECISION_COLUMNS)}) RETURNING id",
    t.decisions, dialect))
_DECISION_WITH_ID = PerDialect(lambda dialect: DriverStatement(
    f"INSERT INTO decisions (id, {_DECISION_LIST}) VALUES (:id, {', '.join(':' + c for c in _DECISION_COLUMNS)})",
    t.decisions, dialect))


class Store(OutboxStore, ScanStateStore, ReservationStore, SnapshotStore, CaseStore, InsurerDecisionStore):
    """All reads and writes of CreditGuard's own database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        self._writers: dict[tuple[str, type], RecordWriter] = {}
        self._checkpoints: Any = None  # see checkpoint_in_background
        # decisions of this process's threads queue here rather than in the database's busy wait: SQLite has
        # one writer anyway (one lock); PostgreSQL locks per group (striped)
        self._group_locks = tuple(threading.Lock() for _ in range(1 if self._dialect == "sqlite" else 64))
        self._pinned = threading.local()  # the connection this thread's reads share (see reading())
        # the sources known to sync their receivable items: once one has, it always has (its successful runs are
        # kept), so a credit check asks the database only until then
        self._with_receivables: set[str] = set()
        # and those that did not, when last asked: a "no" holds for a second (a check asks on every call), or until
        # this store writes receivable items or ends a run
        self._without_receivables: dict[str, float] = {}
        self._books = BookCache()  # sums of groups' documents kept between checks

    @classmethod
    def open(cls, url: str, *, apply_migrations: bool = True) -> "Store":
        engine = create_store_engine(url)
        if apply_migrations:
            migrate(engine)
        return cls(engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction for several writes (pass the connection to each): all of them, or none."""
        with self.engine.begin() as conn:
            yield conn
        crashpoints.reached("store.commit")

    @contextmanager
    def _writing(self, conn: Connection | None) -> Iterator[Connection]:
        """``conn`` (a transaction the caller commits), else a transaction of its own: on the connection this
        thread's reads share, if any (see :meth:`reading`; one connection per check), else a new one."""
        pinned = getattr(self._pinned, "conn", None)
        self._pinned.ahead = None  # reads after a write read again
        if conn is not None:
            yield conn
        elif pinned is not None and not getattr(self._pinned, "locked", False):
            self._release_lock_taken_ahead(pinned)  # not committed with this write: the decision takes it again
            if self._dialect == "sqlite":
                pinned.rollback()  # the reads so far end here: the write takes the write lock from the start
                _begin_immediate(pinned)
            try:  # PostgreSQL: in the reads' own transaction (two round trips fewer)
                yield pinned
            except BaseException:
                pinned.rollback()
                raise
            pinned.commit()
        else:
            with self.engine.begin() as own:
                if self._dialect == "sqlite":
                    _begin_immediate(own)
                yield own
        if conn is None:
            crashpoints.reached("store.commit")

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Until the block ends, this thread's reads share one connection (a credit check makes a handful of
        small reads: one pool checkout instead of one each)."""
        if getattr(self._pinned, "conn", None) is not None:
            yield
            return
        with self.engine.connect() as conn:
            self._pinned.conn = conn
            try:
                yield
            finally:
                self._pinned.conn = self._pinned.ahead = self._pinned.lock_taken = None  # (closing rolls back)

    def read_ahead(self, reads: CheckReads) -> None:
        """Inside :meth:`reading`, on PostgreSQL: a check's reads sent together, each answer kept for the store
        method that reads it with the same arguments (see :mod:`connector.store.check_reads`).  Nothing on
        SQLite, where a read costs no round trip."""
        conn = getattr(self._pinned, "conn", None)
        if self._dialect == "sqlite" or conn is None or getattr(self._pinned, "locked", False):
            return
        self._release_lock_taken_ahead(conn)
        receivables = self._has_receivables(conn, reads.source)
        self._pinned.ahead = read_ahead(conn, reads, _CUSTOMER(conn), receivables, self._books)
        self._pinned.lock_taken = self._pinned.ahead.pop(LOCK_TAKEN, None)

    def _ahead(self, key: tuple) -> Any:
        """The answer read ahead under ``key`` (taken: a second read reads again), else MISSING."""
        ahead = getattr(self._pinned, "ahead", None)
        return ahead.pop(key, MISSING) if ahead else MISSING

    @contextmanager
    def _reader(self) -> Iterator[Connection]:
        """The connection this thread's reads share, else one of their own."""
        conn = getattr(self._pinned, "conn", None)
        if conn is not None:
            yield conn
        else:
            with self.engine.connect() as own:
                yield own

    @contextmanager
    def decision_lock(self, source: str, group: str, order_erp_id: str | None = None
                      ) -> Iterator[tuple[Connection, int]]:
        """:meth:`credit_group_lock` for a decision at confirmation: with the lock, the group's count of such
        decisions is read and moved on by one; yields the connection and the count before this decision (see
        :meth:`decision_version`: when it moved since the decision was first taken, another one came in
        meanwhile).  On PostgreSQL the lock's round trip also brings the id the decision will be recorded under
        and, given ``order_erp_id``, the order's hold (:meth:`hold` then reads it from there), so that the writes
        need not wait for answers (see :meth:`commit_together`); when the check's reads took that lock already
        (:meth:`read_ahead` at confirmation), it is the one used, and the decision version they gave is its
        count."""
        with self._group_lock(source, group, count=True, order_erp_id=order_erp_id) as (conn, before):
            yield conn, before

    @contextmanager
    def commit_together(self, conn: Connection) -> Iterator[None]:
        """Inside :meth:`decision_lock`, around the decision's writes (nothing else: no reads through
        SQLAlchemy): on PostgreSQL they are sent without waiting for their answers and committed with them, in
        one round trip at the block's end (an outbox entry's answer, whether it was queued, is then handed to its
        ``on_queued``); an error in the block commits nothing.  On SQLite the block is the lock's own transaction,
        which commits when the lock ends."""
        if self._dialect == "sqlite":
            yield
            return
        raw = conn.connection.driver_connection
        conn.info[BATCH] = batch = WriteBatch(raw)  # the writes as one statement (see connector.store.write_batches)
        try:
            with raw.pipeline():
                yield
                batch.run()
                kept_cursors(conn).execute_unread("COMMIT")
        finally:
            conn.info.pop(BATCH, None)
        batch.committed()

    @contextmanager
    def credit_group_lock(self, source: str, group: str) -> Iterator[Connection]:
        """A transaction in which one decision about a credit group is taken and recorded: a second one for the
        same group waits until it commits (SQLite: the database's write lock; PostgreSQL: an advisory lock on
        the group, for this transaction, so that checks of other groups, also from other processes sharing the
        database, go on).  Reads meant to see the other decisions come after entering; writes go through the
        connection yielded.  Inside :meth:`reading`, the decision's transaction runs on the reads' connection
        (one connection per check, however many threads wait); on PostgreSQL it is the reads' own transaction,
        READ COMMITTED (see :func:`connector.store.engine.create_store_engine`): each statement after the lock
        sees every decision committed before it."""
        with self._group_lock(source, group, count=False) as (conn, _):
            yield conn

    @contextmanager
    def _group_lock(self, source: str, group: str, count: bool,
                    order_erp_id: str | None = None) -> Iterator[tuple[Connection, int]]:
        """:meth:`credit_group_lock`, and with ``count`` the count of :meth:`decision_lock`."""
        pinned = getattr(self._pinned, "conn", None)
        taken = self._lock_taken_ahead(source, group, count, pinned)
        # a group whose lock this thread holds already takes no stripe: a thread holding an advisory lock must never
        # wait for a stripe, which another thread may hold while it waits for that advisory lock
        stripe = nullcontext() if taken is not None else self._group_locks[hash((source, group)) % len(self._group_locks)]
        with stripe, (nullcontext(pinned) if pinned is not None else self.engine.connect()) as conn:
            self._pinned.ahead = None  # reads under the lock see the decisions taken meanwhile
            if self._dialect == "sqlite":
                if pinned is not None:
                    conn.rollback()  # the reads so far end here; the decision's own transaction begins
                _begin_immediate(conn)
                before = self._count_decision(conn, source, group) if count else 0
            elif count:
                locked = taken or lock_for_decision(conn, source, group, order_erp_id)
                before = locked.before
                self._pinned.decision_id, self._pinned.locked_hold = locked.decision_id, locked.hold
            else:
                lock_group(conn, source, group)
                before = 0
            self._pinned.conn, self._pinned.locked = conn, True  # reads inside see this transaction
            try:
                yield conn, before
            except BaseException:
                conn.rollback()
                raise
            finally:
                self._pinned.conn, self._pinned.locked = pinned, False
                self._pinned.decision_id = self._pinned.locked_hold = None
            conn.commit()  # (nothing left to commit after commit_together)
        crashpoints.reached("store.commit")

    def _lock_taken_ahead(self, source: str, group: str, count: bool, pinned: Connection | None
                          ) -> LockedForDecision | None:
        """The lock a check's reads took for a decision at confirmation (see :meth:`read_ahead`), if it is the one
        asked for; else None, and a lock taken for another group (the head's group was not the one the request
        named) is let go first, so that no thread holds one group's lock while it waits for another's."""
        taken = getattr(self._pinned, "lock_taken", None)
        if taken is not None and count and (taken.source, taken.group) == (source, group):
            self._pinned.lock_taken = None
            return taken
        self._release_lock_taken_ahead(pinned)
        return None

    def _release_lock_taken_ahead(self, pinned: Connection | None) -> None:
        """The reads' transaction, which took a group's lock and moved its count on, rolled back (both undone)."""
        if getattr(self._pinned, "lock_taken", None) is not None:
            self._pinned.lock_taken = None
            if pinned is not None:
                pinned.rollback()

    def _locked_hold(self, source: str, order_erp_id: str) -> Any:
        """The order's hold as the lock's round trip read it (taken: a second read reads again), else MISSING."""
        locked = getattr(self._pinned, "locked_hold", None)
        if locked is None or locked[0] != (source, order_erp_id):
            return MISSING
        self._pinned.locked_hold = None
        return locked[1]

    @property
    def _integrity_errors(self) -> tuple[type[BaseException], ...]:
        """A unique key already taken, as SQLAlchemy or the driver raises it."""
        return (IntegrityError, self.engine.dialect.dbapi.IntegrityError)

    @property
    def server_side(self) -> bool:
        """Whether the database is a server (PostgreSQL): its writes wait on the network, not on this
        process, so they are worth overlapping with other work."""
        return self._dialect == "postgresql"

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
            self._checkpoints = None
        self.engine.dispose()

    def checkpoint_in_background(self) -> None:
        """SQLite: checkpoint the write-ahead log from a thread of this store's own rather than in the commit that
        fills it (see :mod:`connector.store.checkpoints`): for a process answering credit checks.  Nothing on
        PostgreSQL; until :meth:`close`."""
        if self._dialect != "sqlite" or self._checkpoints is not None:
            return
        from .checkpoints import BackgroundCheckpoints

        self._checkpoints = BackgroundCheckpoints(self.engine).start()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def analyze(self, stream: Stream | None = None) -> None:
        """Refresh the planner's statistics (after a bulk load: a first sync, before autovacuum gets to it),
        of one stream's table or of every table that holds rows.  An empty table is left alone: analyzed, it
        would be known as empty until autovacuum analyzes it again (after 50 changed rows at the soonest), and a
        statement planned meanwhile for the API's connections (generic plans, kept per connection) could pick
        any of its indexes, all equally cheap on no rows; unanalyzed, PostgreSQL plans it on its actual size."""
        with self.engine.begin() as conn:
            if stream is not None:
                target = f' "{t.SYNCED_TABLES[stream.value].name}"'
            elif self._dialect == "postgresql":
                held = [table.name for table in t.metadata.sorted_tables
                        if conn.execute(select(1).select_from(table).limit(1)).first() is not None]
                if not held:
                    return
                target = " " + ", ".join(f'"{name}"' for name in held)
            else:  # (SQLite keeps no statistics of an empty table)
                target = ""
            conn.exec_driver_sql(f"ANALYZE{target}")

    def schema_status(self) -> tuple[str | None, str]:
        return schema_status(self.engine)

    # ------------------------------------------------------------------ writes

    def _insert(self, table: Table):
        if self._dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        if self._dialect == "sqlite":
            from sqlalchemy.dialects import sqlite

            return sqlite.insert(table)
        raise RuntimeError(f"unsupported dialect {self._dialect}")  # pragma: no cover

    def save_companies(self, source: str, companies: Iterable[Company], now: datetime | None = None) -> None:
        now = now or _utcnow()
        rows = [
            {"source": source, "erp_id": c.erp_id, "name": c.name, "currency": c.currency, "synced_at": now}
            for c in companies
        ]
        if not rows:
            return
        stmt = self._insert(t.companies)
        stmt = stmt.on_conflict_do_update(
            index_elements=["source", "erp_id"],
            set_={"name": stmt.excluded.name, "currency": stmt.excluded.currency, "synced_at": stmt.excluded.synced_at},
        )
        with self.engine.begin() as conn:
            conn.execute(stmt, rows)

    def save_page(
        self,
        source: str,
        stream: Stream,
        model: str,
        records: Sequence[SyncedRecord],
        rejected: Sequence[Rejected],
        cursor: Cursor | None,
        run: FullRun | None = None,
        now: datetime | None = None,
        scopes: Sequence[Scope] = (),
        scan_state: ScanState | None = None,
        settle: timedelta | None = None,
        fresh: bool = False,
    ) -> PageResult:
        """Upsert a page, quarantine its rejects and advance the cursor, in one transaction.

        ``now``: when the page was read from the ERP (each written record's ``synced_at``).
        ``scopes``: the snapshot-stream parts the page covers; their fingerprints are kept, and
        the stored records of parts the source left unread (``unchanged``) count as seen.
        ``scan_state``: the state of a change-scanned stream that this page brings it to.
        ``settle``: a record read again unchanged whose stored read time was less than this after
        its change time gets this read's time (it is then known to be the second's last version).
        ``fresh``: the records are expected to be new to the store (a first read): they are inserted
        without looking first; should one be there already, the page is written the usual way.
        Returns the ids of the records that were new or changed.
        """
        if stream is Stream.RECEIVABLES:
            self._without_receivables.pop(source, None)
        if fresh:
            try:
                return self._save_page(source, stream, model, records, rejected, cursor, run, now, scopes,
                                       scan_state, settle, fresh=True)
            except self._integrity_errors:
                pass  # rolled back: one of them was there already
        return self._save_page(source, stream, model, records, rejected, cursor, run, now, scopes, scan_state, settle,
                               fresh=False)

    def _save_page(self, source, stream, model, records, rejected, cursor, run, now, scopes, scan_state, settle,
                   *, fresh: bool) -> PageResult:
        now = now or _utcnow()
        table = t.SYNCED_TABLES[stream.value]
        with self.engine.begin() as conn:
            if self._dialect == "sqlite":
                # the write lock from the page's first read: what the store holds of the page, and the highest row
                # id that the running totals of the inserted records count from, are the store's as it is written
                _begin_immediate(conn)
            written: list[str] = []
            if records:
                writer = self._record_writer(table, type(records[0]))
                run_id = run.id if run is not None else None
                written = (writer.insert(conn, model, records, now, run_id) if fresh
                           else writer.write(conn, model, records, now, run_id, settle))
            self._resolve_quarantine(conn, source, model, [r.erp_id for r in records], now)
            for reject in rejected:
                self._quarantine(conn, source, stream, reject, now)
            if run is not None and rejected:
                self._mark_seen(conn, table, source, model, [r.erp_id for r in rejected], run.id)
            if cursor is not None:
                self._set_cursor(conn, source, stream, cursor, now)
            if scan_state is not None:
                self._write_scan_state(conn, source, stream, scan_state, now)
            if scopes:
                self._save_scopes(conn, source, stream, scopes, now)
                kept = [s.key for s in scopes if s.unchanged]
                if run is not None and kept:
                    self._mark_scopes_seen(conn, table, source, model, SCOPE_COLUMNS[stream.value], kept, run.id)
        return PageResult(written_ids=frozenset(written), quarantined=len(rejected))

    def _record_writer(self, table: Table, record_type: type) -> RecordWriter:
        key = (table.name, record_type)
        writer = self._writers.get(key)
        if writer is None:
            writer = self._writers[key] = record_writer(table, record_type, self.engine.dialect)
        return writer

    def _mark_seen(
        self, conn: Connection, table: Table, source: str, model: str, ids: list[str], run_id: int
    ) -> None:
        for start in range(0, len(ids), _CHUNK):
            conn.execute(
                update(table)
                .where(table.c.source == source, table.c.erp_model == model, table.c.erp_id.in_(ids[start : start + _CHUNK]))
                .values(seen_run=run_id)
            )

    def _mark_scopes_seen(self, conn: Connection, table: Table, source: str, model: str, column: str,
                          keys: list[str], run_id: int) -> None:
        for start in range(0, len(keys), _CHUNK):
            conn.execute(
                update(table)
                .where(table.c.source == source, table.c.erp_model == model, table.c.deleted_at.is_(None),
                       table.c[column].in_(keys[start : start + _CHUNK]))
                .values(seen_run=run_id)
            )

    def _save_scopes(self, conn: Connection, source: str, stream: Stream, scopes: Sequence[Scope],
                     now: datetime) -> None:
        s = t.snapshot_scopes
        rows = [{"source": source, "stream": stream.value, "scope": sc.key, "fingerprint": sc.fingerprint,
                 "recheck_at": sc.recheck_at, "updated_at": now} for sc in scopes]
        stmt = self._insert(s)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["source", "stream", "scope"],
            set_={"fingerprint": stmt.excluded.fingerprint, "recheck_at": stmt.excluded.recheck_at,
                  "updated_at": stmt.excluded.updated_at},
        ), rows)

    def prune_scopes(self, source: str, stream: Stream, keep: set[str]) -> int:
        """Forget the fingerprints of the parts a complete read no longer reported."""
        s = t.snapshot_scopes
        gone = [key for key in self.load_scopes(source, stream) if key not in keep]
        with self.engine.begin() as conn:
            for start in range(0, len(gone), _CHUNK):
                conn.execute(delete(s).where(s.c.source == source, s.c.stream == stream.value,
                                             s.c.scope.in_(gone[start : start + _CHUNK])))
        return len(gone)

    def load_scopes(self, source: str, stream: Stream) -> dict[str, Scope]:
        """The fingerprints of a snapshot stream's parts as last read (see :class:`Scope`)."""
        s = t.snapshot_scopes
        query = select(s.c.scope, s.c.fingerprint, s.c.recheck_at).where(s.c.source == source,
                                                                          s.c.stream == stream.value)
        with self._reader() as conn:
            return {row.scope: Scope(row.scope, row.fingerprint, row.recheck_at) for row in conn.execute(query)}

    def _quarantine(self, conn: Connection, source: str, stream: Stream, reject: Rejected, now: datetime) -> None:
        q = t.quarantine
        stmt = self._insert(q).values(
            source=source,
            stream=stream.value,
            erp_model=reject.model,
            erp_id=reject.erp_id,
            reason=reject.reason,
            payload=json.dumps(reject.payload, sort_keys=True, default=str),
            first_seen=now,
            last_seen=now,
            occurrences=1,
            resolved_at=None,
            changed_at=reject.changed_at,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["source", "erp_model", "erp_id"],
            set_={
                "reason": stmt.excluded.reason,
                "payload": stmt.excluded.payload,
                "last_seen": stmt.excluded.last_seen,
                "occurrences": q.c.occurrences + 1,
                "resolved_at": None,
                "changed_at": stmt.excluded.changed_at,
            },
        )
        conn.execute(stmt)

    def _resolve_quarantine(self, conn: Connection, source: str, model: str, ids: list[str], now: datetime) -> None:
        """Quarantine entries of records that mapped this time are resolved."""
        q = t.quarantine
        open_ids = set(conn.execute(select(q.c.erp_id).where(
            q.c.source == source, q.c.erp_model == model, q.c.resolved_at.is_(None))).scalars())
        resolved = [erp_id for erp_id in ids if erp_id in open_ids]
        for start in range(0, len(resolved), _CHUNK):
            conn.execute(
                update(q)
                .where(q.c.source == source, q.c.erp_model == model, q.c.erp_id.in_(resolved[start : start + _CHUNK]))
                .values(resolved_at=now)
            )

    # ----------------------------------------------------------------- cursors

    def get_cursor(self, source: str, stream: Stream) -> Cursor | None:
        c = t.sync_cursors
        with self._reader() as conn:
            row = conn.execute(
                select(c.c.changed_at, c.c.last_id).where(c.c.source == source, c.c.stream == stream.value)
            ).first()
        return Cursor(row.changed_at, int(row.last_id)) if row else None

    def _set_cursor(self, conn: Connection, source: str, stream: Stream, cursor: Cursor, now: datetime) -> None:
        c = t.sync_cursors
        stmt = self._insert(c).values(
            source=source, stream=stream.value, changed_at=cursor.changed_at, last_id=cursor.last_id, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["source", "stream"],
            set_={"changed_at": stmt.excluded.changed_at, "last_id": stmt.excluded.last_id, "updated_at": now},
            # a cursor never moves backwards
            where=or_(
                c.c.changed_at < stmt.excluded.changed_at,
                and_(c.c.changed_at == stmt.excluded.changed_at, c.c.last_id < stmt.excluded.last_id),
            ),
        )
        conn.execute(stmt)

    # -------------------------------------------------------------------- runs

    def start_run(self, source: str, stream: Stream, full: bool, now: datetime | None = None) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                insert(t.sync_runs)
                .values(
                    source=source, stream=stream.value, full=full, started_at=now or _utcnow(), status="running",
                    read=0, written=0, quarantined=0, deleted=0, calls=0,
                )
                .returning(t.sync_runs.c.id)
            ).scalar_one()

    def set_scan_state(self, source: str, stream: Stream, state: ScanState, now: datetime) -> None:
        if stream is Stream.RECEIVABLES:
            self._without_receivables.pop(source, None)
        super().set_scan_state(source, stream, state, now)

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        read: int,
        written: int,
        quarantined: int,
        deleted: int,
        calls: int,
        error: str | None = None,
        now: datetime | None = None,
    ) -> None:
        self._without_receivables.clear()
        with self.engine.begin() as conn:
            conn.execute(
                update(t.sync_runs)
                .where(t.sync_runs.c.id == run_id)
                .values(
                    finished_at=now or _utcnow(), status=status, read=read, written=written,
                    quarantined=quarantined, deleted=deleted, calls=calls, error=error,
                )
            )

    def sweep_unseen(self, run: FullRun, model: str, now: datetime | None = None) -> int:
        """After a complete full read: mark every record the run did not see as deleted."""
        table = t.SYNCED_TABLES[run.stream.value]
        with self.engine.begin() as conn:
            result = conn.execute(
                update(table)
                .where(
                    table.c.source == run.source,
                    table.c.erp_model == model,
                    table.c.deleted_at.is_(None),
                    or_(table.c.seen_run.is_(None), table.c.seen_run != run.id),
                )
                .values(deleted_at=now or _utcnow())
            )
        return result.rowcount or 0

    def reconciled_since(self, source: str) -> datetime | None:
        """Since when the store may have missed deletions in the source's ERP: per stream, its last
        successful full read (mark and sweep), else its first read (which started from nothing); the
        oldest over the streams.  None before the first sync."""
        r = t.sync_runs
        full_ok = func.max(r.c.started_at).filter(and_(r.c.full.is_(True), r.c.status == "ok"))
        query = (select(r.c.stream, full_ok.label("last_full"), func.min(r.c.started_at).label("first"))
                 .where(r.c.source == source).group_by(r.c.stream))
        with self._reader() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return None
        return min(row.last_full or row.first for row in rows)

    def last_runs(self, source: str | None = None, limit: int = 50) -> list[SyncRunRow]:
        r = t.sync_runs
        query = select(r).order_by(r.c.id.desc()).limit(limit)
        if source:
            query = query.where(r.c.source == source)
        with self._reader() as conn:
            return [SyncRunRow(**row._mapping) for row in conn.execute(query)]

    # ------------------------------------------------------------------- reads

    def _iter(self, query, convert) -> Iterator[Any]:
        with self._reader() as conn:
            result = conn.execute(query.execution_options(yield_per=1000))
            for row in result:
                yield convert(row)

    def iter_customers(self, source: str | None = None, *, include_inactive: bool = True) -> Iterator[Customer]:
        c = t.customers
        query = select(c).where(c.c.deleted_at.is_(None)).order_by(c.c.source, c.c.name, c.c.id)
        if source:
            query = query.where(c.c.source == source)
        if not include_inactive:
            query = query.where(c.c.active.is_(True))
        return self._iter(query, row_to_customer)

    def iter_invoices(
        self, source: str | None = None, *, open_only: bool = False, customer: str | None = None,
        due_before: date | None = None, dated_from: date | None = None,
    ) -> Iterator[Invoice]:
        i = t.invoices
        query = select(i).where(i.c.deleted_at.is_(None)).order_by(
            i.c.source, i.c.due_date.is_(None), i.c.due_date, i.c.number, i.c.id
        )
        if source:
            query = query.where(i.c.source == source)
        if open_only:
            query = query.where(i.c.state == "posted", i.c.amount_open_minor != 0)
        if customer:
            query = query.where(i.c.credit_group_id == customer)
        if due_before:
            query = query.where(i.c.due_date < due_before)
        if dated_from:  # documents dated that day or later (the credit sales of a DSO window)
            query = query.where(i.c.invoice_date >= dated_from)
        return self._iter(query, row_to_invoice)

    def get_invoice(self, source: str, erp_id: str) -> Invoice | None:
        i = t.invoices
        with self._reader() as conn:
            row = conn.execute(select(i).where(i.c.source == source, i.c.erp_id == erp_id)).first()
        return row_to_invoice(row) if row else None

    def iter_orders(self, source: str | None = None, *, customer: str | None = None) -> Iterator[SalesOrder]:
        o = t.orders
        query = select(o).where(o.c.deleted_at.is_(None)).order_by(o.c.source, o.c.number, o.c.id)
        if source:
            query = query.where(o.c.source == source)
        if customer:
            query = query.where(o.c.customer_id == customer)
        return self._iter(query, row_to_order)

    def iter_rates(self, source: str | None = None) -> Iterator[CurrencyRate]:
        r = t.currency_rates
        query = select(r).where(r.c.deleted_at.is_(None)).order_by(r.c.source, r.c.currency, r.c.day)
        if source:
            query = query.where(r.c.source == source)
        return self._iter(query, row_to_rate)

    def companies(self, source: str | None = None) -> list[Company]:
        c = t.companies
        query = select(c).order_by(c.c.source, c.c.erp_id)
        if source:
            query = query.where(c.c.source == source)
        with self._reader() as conn:
            return [Company(r.source, r.erp_id, r.name, r.currency) for r in conn.execute(query)]

    def quarantine(self, source: str | None = None, *, include_resolved: bool = False) -> list[QuarantineEntry]:
        q = t.quarantine
        query = select(q).order_by(q.c.source, q.c.stream, q.c.last_seen.desc(), q.c.id)
        if source:
            query = query.where(q.c.source == source)
        if not include_resolved:
            query = query.where(q.c.resolved_at.is_(None))
        with self._reader() as conn:
            return [
                QuarantineEntry(
                    source=r.source, stream=r.stream, erp_model=r.erp_model, erp_id=r.erp_id, reason=r.reason,
                    payload=json.loads(r.payload), first_seen=r.first_seen, last_seen=r.last_seen,
                    occurrences=r.occurrences, resolved_at=r.resolved_at,
                )
                for r in conn.execute(query)
            ]

    def count(self, stream: Stream, source: str | None = None, *, include_deleted: bool = False) -> int:
        table = t.SYNCED_TABLES[stream.value]
        query = select(func.count()).select_from(table)
        if source:
            query = query.where(table.c.source == source)
        if not include_deleted:
            query = query.where(table.c.deleted_at.is_(None))
        with self._reader() as conn:
            return conn.execute(query).scalar_one()

    def exposure_sums(self, source: str, groups, *, overdue_before, by_date: bool, exclude_orders=(),
                      base_currency: str | None = None):
        """Grouped invoice and order sums for exposure (see :mod:`connector.store.aggregates`)."""
        from .aggregates import exposure_sums

        ahead = self._ahead(exposure_key(source, groups, overdue_before, by_date, exclude_orders, base_currency)) \
            if groups is not None else MISSING
        if ahead is not MISSING:
            return ahead
        with self._reader() as conn:
            kept = self._kept_sums(conn, "invoices", source, groups, overdue_before, by_date, base_currency)
            return exposure_sums(conn, source, groups, overdue_before=overdue_before, exclude_erp_ids=exclude_orders,
                                 by_date=by_date, base_currency=base_currency, invoice_sums=kept)

    def kept_sums(self) -> tuple[int, int]:
        """How often this store object served a group's sums from an earlier read, and how often it read them."""
        return self._books.hits, self._books.misses

    def _kept_sums(self, conn: Connection, book: str, source: str, groups, *args: Any):
        """For the sums of a few credit groups on SQLite: a function that returns those kept from an earlier read
        while ``book`` has not moved, else reads them (see :mod:`connector.store.book_cache`).  None otherwise:
        the sums of every group are read as they are needed, and on PostgreSQL a check's read-ahead reads the
        counter with the invoice sums (see :mod:`connector.store.check_reads`), where a counter read first would
        cost a round trip."""
        if self._dialect != "sqlite" or groups is None or len(groups) > _KEPT_GROUPS:
            return None
        generation = read_generation(conn, source, book)
        kept = sums_key(book, source, groups, *args)
        return lambda read: self._books.get_or_read(kept, generation, read)

    def oldest_open_invoices(self, source: str, *, due_before: date | None = None,
                             groups: Iterable[str] | None = None):
        """Per credit group, its oldest open posted invoice (see :mod:`connector.store.aggregates`)."""
        from .aggregates import oldest_open_instalments, oldest_open_invoices

        with self._reader() as conn:
            oldest = oldest_open_instalments if self._has_receivables(conn, source) else oldest_open_invoices
            return oldest(conn, source, due_before=due_before, groups=None if groups is None else set(groups))

    def has_receivables(self, source: str) -> bool:
        """Whether ``source`` syncs receivable items (instalments, credit notes, unapplied payments): then
        exposure, overdue and alerts work from them (see :mod:`connector.store.aggregates`)."""
        with self._reader() as conn:
            return self._has_receivables(conn, source)

    def _has_receivables(self, conn: Connection, source: str) -> bool:
        from .aggregates import has_receivables

        if source in self._with_receivables:
            return True
        said_no = self._without_receivables.get(source)
        if said_no is not None and _monotonic() - said_no < _RECEIVABLES_NO_SECONDS:
            return False
        if has_receivables(conn, source):
            self._with_receivables.add(source)
            return True
        self._without_receivables[source] = _monotonic()
        return False

    def receivable_sums(self, source: str, groups, *, overdue_before, by_date: bool,
                        base_currency: str | None = None):
        """Open receivable items summed per credit group, or None when ``source`` syncs none (exposure then
        works from its invoices)."""
        from .aggregates import receivable_sums

        ahead = self._ahead(receivable_key(source, groups, overdue_before, by_date, base_currency)) \
            if groups is not None else MISSING
        if ahead is not MISSING:
            return ahead
        with self._reader() as conn:
            if not self._has_receivables(conn, source):
                return None
            kept = self._kept_sums(conn, "receivables", source, groups, overdue_before, by_date, base_currency)
            read = partial(receivable_sums, conn, source, groups, overdue_before=overdue_before, by_date=by_date,
                           base_currency=base_currency)
            return read() if kept is None else kept(read)

    def iter_receivables(self, source: str | None = None, *, open_only: bool = False, customer: str | None = None,
                         kind: str | None = None, due_before: date | None = None) -> Iterator[ReceivableItem]:
        """Receivable items (instalments, credit notes, unapplied payments) by due date; ``customer``: a credit
        group; ``open_only``: posted with something left open."""
        r = t.receivable_items
        query = select(r).where(r.c.deleted_at.is_(None)).order_by(
            r.c.source, r.c.due_date.is_(None), r.c.due_date, r.c.document_number, r.c.id)
        if source:
            query = query.where(r.c.source == source)
        if open_only:
            query = query.where(r.c.state == "posted",
                                (r.c.amount_open_minor != 0) | (r.c.amount_open_company_minor != 0))
        if customer:
            query = query.where(r.c.credit_group_id == customer)
        if kind:
            query = query.where(r.c.kind == kind)
        if due_before:
            query = query.where(r.c.due_date < due_before)
        return self._iter(query, row_to_item)

    def iter_settled_instalments(self, source: str, *, paid_from: date, customer: str | None = None
                                 ) -> Iterator[ReceivableItem]:
        """Instalments settled in full on or after ``paid_from`` (their ``paid_on``), by settlement day;
        ``customer``: a credit group."""
        r = t.receivable_items
        query = select(r).where(r.c.source == source, r.c.paid_on.is_not(None), r.c.paid_on >= paid_from,
                                r.c.deleted_at.is_(None), r.c.kind == "instalment",
                                r.c.state == "posted").order_by(r.c.paid_on, r.c.id)
        if customer:
            query = query.where(r.c.credit_group_id == customer)
        return self._iter(query, row_to_item)

    # --------------------------------------------------------------- lookups

    def find_orders(self, number: str, source: str | None = None) -> list[SalesOrder]:
        params = {"number": number, "source": source} if source else {"number": number}
        with self._reader() as conn:
            orders = (_ORDERS_BY_NUMBER if source else _ORDERS_BY_NUMBER_ANY_SOURCE)(conn)
            if self._dialect == "sqlite" or conn is not getattr(self._pinned, "conn", None):
                return [row_to_order(r) for r in orders.rows(conn, params)]
            # a check's reads on PostgreSQL: the orders' customers come in the same round trip, for the check to find
            customers = (_ORDERS_CUSTOMERS_IN_SOURCE if source else _ORDERS_CUSTOMERS)(conn)
            with pipeline(conn.connection.driver_connection):
                order_rows, customer_rows = orders.send(conn, params), customers.send(conn, params)
            found = [row_to_order(r) for r in orders.rows_of(order_rows)]
            self._pinned.ahead = {key("customer", c.source, c.erp_id): c for c in customers.rows_of(customer_rows)}
            return found

    def get_customer(self, source: str, erp_id: str) -> Customer | None:
        ahead = self._ahead(key("customer", source, erp_id))
        if ahead is not MISSING:
            return row_to_customer(ahead) if ahead else None
        with self._reader() as conn:
            row = _CUSTOMER(conn).first(conn, {"source": source, "erp_id": erp_id})
        return row_to_customer(row) if row else None

    def find_customers(self, key: str, source: str | None = None) -> list[Customer]:
        """Customers whose ref is ``key``, or ``source:erp_id``."""
        c = t.customers
        if ":" in key and source is None:
            src, _, erp_id = key.partition(":")
            query = select(c).where(c.c.source == src, c.c.erp_id == erp_id)
        else:
            query = select(c).where(c.c.ref == key)
            if source:
                query = query.where(c.c.source == source)
        with self._reader() as conn:
            return [row_to_customer(r) for r in conn.execute(query.where(c.c.deleted_at.is_(None)))]

    # ---------------------------------------------------------- decision log

    def record_decision(self, row: dict[str, Any], conn: Connection | None = None) -> int:
        """Append one decision (the log is append-only: nothing updates or deletes it)."""
        values = {name: row[name] for name in _DECISION_COLUMNS}
        pinned = getattr(self._pinned, "conn", None)
        if conn is None and pinned is not None and self._dialect != "sqlite" and not getattr(self._pinned, "locked", False):
            return self._record_and_commit(pinned, values)
        decision_id = getattr(self._pinned, "decision_id", None) if conn is not None else None
        with self._writing(conn) as c:
            if decision_id is not None:  # under decision_lock on PostgreSQL: its id is known, no answer awaited
                self._pinned.decision_id = None
                _DECISION_WITH_ID(c).send(c, values | {"id": decision_id})
                return decision_id
            return int(_DECISION(c).first(c, values)[0])

    def _record_and_commit(self, pinned: Connection, values: dict[str, Any]) -> int:
        """PostgreSQL, in the transaction of a check's reads: the decision and the commit in one round trip."""
        self._pinned.ahead = None
        raw, cursors = pinned.connection.driver_connection, kept_cursors(pinned)
        try:
            with raw.pipeline():  # one sync at the block's end (the driver's commit would sync once more)
                cursor = _DECISION(pinned).send(pinned, values, cursors)
                cursors.execute_unread("COMMIT")
        except BaseException:
            pinned.rollback()
            raise
        pinned.commit()  # SQLAlchemy's transaction ends too; the driver has nothing left to commit
        crashpoints.reached("store.commit")
        return int(cursor.fetchone()[0])

    def decisions(self, *, customer: str | None = None, order: str | None = None, source: str | None = None,
                  limit: int = 1000) -> list[dict[str, Any]]:
        d = t.decisions
        query = select(d).order_by(d.c.taken_at.desc(), d.c.id.desc()).limit(limit)
        if customer:
            query = query.where(d.c.customer == customer)
        if order:
            query = query.where(d.c.order_number == order)
        if source:
            query = query.where(d.c.source == source)
        with self._reader() as conn:
            return [dict(r._mapping) | {"record": json.loads(r.record)} for r in conn.execute(query)]

    def project_sums(self, source: str, project: str, *, overdue_before, by_date: bool, exclude_orders=(),
                     base_currency: str | None = None):
        """Grouped sums of one project's orders and of the invoices raised from them."""
        from .aggregates import project_sums

        with self._reader() as conn:
            return project_sums(conn, source, project, overdue_before=overdue_before, exclude_erp_ids=exclude_orders,
                                by_date=by_date, base_currency=base_currency)

    def open_receivables(self, source: str | None = None) -> dict[str, int]:
        """Sum of open amounts of posted documents per document currency, in minor units, signed
        (credit notes negative)."""
        i = t.invoices
        query = (
            select(i.c.currency, i.c.kind, func.sum(i.c.amount_open_minor))
            .where(i.c.deleted_at.is_(None), i.c.state == "posted")
            .group_by(i.c.currency, i.c.kind)
        )
        if source:
            query = query.where(i.c.source == source)
        totals: dict[str, int] = {}
        with self._reader() as conn:
            for currency, kind, amount in conn.execute(query):
                sign = -1 if kind == "credit_note" else 1
                totals[currency] = totals.get(currency, 0) + sign * int(amount or 0)
        return totals
