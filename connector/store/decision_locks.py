"""PostgreSQL: a credit group's lock for a decision at confirmation, in one round trip with what the decision needs
from under it.

The lock is a transaction-scoped advisory lock on the group (two daemons or API processes sharing the database
decide one at a time per group; other groups do not wait).  Two statements, in a psycopg pipeline: the
transaction's plan setting, the lock and the id the decision will be recorded under (one ``SELECT``: its target
list is computed in order); then the group's count of decisions at confirmation moved on by one, with the order's
hold beside it (read under the lock, so that it is the one the decision replaces).  Every statement after the lock,
in the same transaction, sees every decision committed before it.  Sent on its own (:func:`lock_for_decision`), or
first among a check's reads (:mod:`connector.store.check_reads`), so that a confirmation decides under the lock
from its first read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from . import tables as t
from .driver_sql import Dialect, column_list
from .outbox import HOLD, hold_of_row
from .pipelines import KeptCursors, pipeline
from .reservations import COUNT_DECISION_SQL

# the statements after it in the transaction planned once for any values (see connector.store.check_reads), the lock,
# and the id the decision will be recorded under
_LOCK_AND_NEXT_DECISION_ID_SQL = ("SELECT set_config('plan_cache_mode', 'force_generic_plan', true), "
                                  "pg_advisory_xact_lock(%s), nextval(pg_get_serial_sequence('decisions', 'id'))")
_COUNT_DECISION_SQL = Dialect("postgresql").sql(COUNT_DECISION_SQL)
# the count moved on, and the order's hold beside it: one statement, after the lock
_COUNT_DECISION_AND_HOLD_SQL = Dialect("postgresql").sql(
    f"WITH counted AS ({COUNT_DECISION_SQL}) SELECT counted.version, {column_list(t.holds, 'holds')[1]} FROM counted "
    "LEFT JOIN holds ON holds.source = :source AND holds.order_erp_id = :order_erp_id")


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

    def __init__(self, conn: Connection, source: str, group: str, order_erp_id: str | None,
                 cursors: KeptCursors | None = None) -> None:
        raw = cursors or conn.connection.driver_connection
        self._conn, self._source, self._group, self._order = conn, source, group, order_erp_id
        self._locked = raw.execute(_LOCK_AND_NEXT_DECISION_ID_SQL, (advisory_key(source, group),))
        if order_erp_id:
            self._counted = raw.execute(_COUNT_DECISION_AND_HOLD_SQL,
                                        {"source": source, "group": group, "order_erp_id": order_erp_id})
        else:
            self._counted = raw.execute(_COUNT_DECISION_SQL, {"source": source, "group": group})

    def result(self) -> LockedForDecision:
        decision_id = int(self._locked.fetchone()[2])
        counted = self._counted.fetchone()
        hold = None
        if self._order:
            held = HOLD(self._conn).row_of(counted[1:]) if counted[1] is not None else None
            hold = ((self._source, self._order), hold_of_row(held))
        return LockedForDecision(self._source, self._group, int(counted[0]) - 1, decision_id, hold)


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
