"""PostgreSQL: a credit group's lock for a decision at confirmation, in one round trip with what the decision needs
from under it.

The lock is a transaction-scoped advisory lock on the group (two daemons or API processes sharing the database
decide one at a time per group; other groups do not wait).  Sent in this order, in a psycopg pipeline: the lock
and the id the decision will be recorded under (one ``SELECT``: its target list is computed in order), the
group's count of decisions at confirmation moved on by one, and the order's hold (read under the lock, so that it
is the one the decision replaces).  Every statement after the lock, in the same transaction, sees every decision
committed before it.  Sent on its own (:func:`lock_for_decision`), or first among a check's reads
(:mod:`connector.store.check_reads`), so that a confirmation decides under the lock from its first read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from .driver_sql import Dialect
from .outbox import HOLD, hold_of_row
from .pipelines import pipeline
from .reservations import COUNT_DECISION_SQL

_LOCK_AND_NEXT_DECISION_ID_SQL = "SELECT pg_advisory_xact_lock(%s), nextval(pg_get_serial_sequence('decisions', 'id'))"
_COUNT_DECISION_SQL = Dialect("postgresql").sql(COUNT_DECISION_SQL)


def advisory_key(source: str, group: str) -> int:
    """The key of a group's advisory lock."""
    digest = hashlib.sha256(f"creditguard:{source}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True, slots=True)
class LockedForDecision:
    """What the round trip that takes a group's lock for a decision at confirmation brings back."""

    source: str
    group: str
    before: int  # the group's count of such decisions, before this one
    decision_id: int  # the id the decision will be recorded under
    hold: tuple[tuple[str, str], Any] | None  # the order's hold, as the store has it under the lock


class PendingLock:
    """The lock's statements sent in a pipeline; :meth:`result` once the pipeline is synced."""

    def __init__(self, conn: Connection, source: str, group: str, order_erp_id: str | None) -> None:
        raw = conn.connection.driver_connection
        self._conn, self._source, self._group, self._order = conn, source, group, order_erp_id
        self._locked = raw.execute(_LOCK_AND_NEXT_DECISION_ID_SQL, (advisory_key(source, group),))
        self._counted = raw.execute(_COUNT_DECISION_SQL, {"source": source, "group": group})
        self._held = HOLD(conn).send(conn, {"source": source, "order_erp_id": order_erp_id}) if order_erp_id else None

    def result(self) -> LockedForDecision:
        decision_id = int(self._locked.fetchone()[1])
        before = int(self._counted.fetchone()[0]) - 1
        hold = ((self._source, self._order), hold_of_row(HOLD(self._conn).first_of(self._held))) \
            if self._order else None
        return LockedForDecision(self._source, self._group, before, decision_id, hold)


def lock_for_decision(conn: Connection, source: str, group: str, order_erp_id: str | None) -> LockedForDecision:
    """The group's lock for a decision at confirmation, on its own, in ``conn``'s transaction (begun if need be)."""
    if not conn.in_transaction():
        conn.begin()
    with pipeline(conn.connection.driver_connection):
        pending = PendingLock(conn, source, group, order_erp_id)
    return pending.result()


def lock_group(conn: Connection, source: str, group: str) -> None:
    """The group's advisory lock alone, for this transaction."""
    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (advisory_key(source, group),))
