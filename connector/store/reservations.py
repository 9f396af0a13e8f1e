"""Store side of reservations (mixed into :class:`Store`): exposure an approval at confirmation reserved.

A reservation counts for its credit group until the sync brings its order in — confirmed (then the
order counts), or cancelled — or until it expires; it is never counted together with its order.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, exists, select, update

from ..money import from_minor, to_minor
from . import tables as t
from .ahead import MISSING, key
from .driver_sql import Dialect, DriverStatement, PerDialect, column_list, upsert_sql

COUNTED_ORDER_STATES = ("confirmed", "done", "cancelled")  # a synced order in one of these replaces its reservation


@dataclass(frozen=True, slots=True)
class Reservation:
    source: str
    order_erp_id: str
    order_number: str
    credit_group_id: str
    company_id: str | None
    currency: str
    amount: Decimal  # what the order adds to exposure, in its currency
    base_currency: str
    base_amount: Decimal  # the same in the policy's base currency when it was approved
    created_at: datetime
    expires_at: datetime
    decision_id: int | None = None
    status: str = "active"  # active | replaced (its order is in the store) | expired


class ReservationStore:
    engine: Any

    def _insert(self, table):  # provided by Store
        raise NotImplementedError

    def _writing(self, conn: Connection | None):  # provided by Store
        raise NotImplementedError

    def _ahead(self, key: tuple) -> Any:  # provided by Store
        raise NotImplementedError

    def put_reservation(self, r: Reservation, conn: Connection | None = None) -> None:
        """Record (or renew, for an order checked again) the reservation of an approved order."""
        values = {"source": r.source, "order_erp_id": r.order_erp_id, "order_number": r.order_number,
                  "credit_group_id": r.credit_group_id, "company_id": r.company_id, "currency": r.currency,
                  "amount_minor": to_minor(r.amount, r.currency), "base_currency": r.base_currency,
                  "base_amount": str(r.base_amount), "created_at": r.created_at, "expires_at": r.expires_at,
                  "decision_id": r.decision_id, "expiry_reported_at": None}
        with self._writing(conn) as c:
            _RESERVE(c).send(c, values)

    def decision_version(self, source: str, group: str) -> int:
        """How many decisions at confirmation the credit group has had (see :meth:`Store.decision_lock`)."""
        if (ahead := self._ahead(key("decision_version", source, group))) is not MISSING:
            return ahead
        with self._reader() as c:  # type: ignore[attr-defined]
            found = _VERSION(c).first(c, {"source": source, "group": group})
        return int(found[0] or 0) if found else 0

    def _count_decision(self, conn: Connection, source: str, group: str) -> int:
        """The group's count of decisions at confirmation moved on by one, in the decision's transaction; the
        count before (see :meth:`Store.decision_lock`; PostgreSQL sends the same statement in the lock's round
        trip)."""
        return int(_COUNT_DECISION(conn).first(conn, {"source": source, "group": group})[0]) - 1

    def drop_reservation(self, source: str, order_erp_id: str, conn: Connection | None = None) -> None:
        """An order checked again and held: what it reserved is released."""
        with self._writing(conn) as c:
            _DROP(c).send(c, {"source": source, "order_erp_id": order_erp_id})

    def counting_reservations(self, source: str, groups: list[str] | None, now: datetime) -> list[Reservation]:
        """The reservations that count for ``groups`` (all groups when None): not expired, and their order not
        in the store confirmed or cancelled."""
        if (ahead := self._ahead(key("reservations", source, groups, now))) is not MISSING:
            return ahead
        params: dict[str, Any] = {"source": source, "expires_at": now}
        with self._reader() as conn:  # type: ignore[attr-defined]
            if groups is None:
                statement = _COUNTING(conn)
            else:
                statement = counting_in(groups)(conn)
                params["groups"] = Dialect.of(conn).values(groups)
            return [reservation_of_row(row, "active") for row in statement.rows(conn, params)]

    def reservations(self, now: datetime, source: str | None = None) -> list[Reservation]:
        """Every reservation with its status, newest first."""
        x, o = t.reservations, t.orders
        replaced = exists().where(o.c.source == x.c.source, o.c.erp_id == x.c.order_erp_id, o.c.deleted_at.is_(None),
                                  o.c.state.in_(COUNTED_ORDER_STATES)).label("replaced")
        query = select(x, replaced).order_by(x.c.created_at.desc(), x.c.id.desc())
        if source:
            query = query.where(x.c.source == source)
        with self._reader() as conn:  # type: ignore[attr-defined]
            return [reservation_of_row(row, "replaced" if row.replaced
                                       else "expired" if row.expires_at <= now else "active")
                    for row in conn.execute(query)]

    def report_expired_reservations(self, now: datetime) -> list[Reservation]:
        """Reservations that expired without their order showing up, not reported before (each once)."""
        x, o = t.reservations, t.orders
        replaced = exists().where(o.c.source == x.c.source, o.c.erp_id == x.c.order_erp_id, o.c.deleted_at.is_(None),
                                  o.c.state.in_(COUNTED_ORDER_STATES))
        due = and_(x.c.expires_at <= now, x.c.expiry_reported_at.is_(None), ~replaced)
        with self.engine.begin() as conn:
            rows = [reservation_of_row(row, "expired") for row in conn.execute(select(x).where(due))]
            if rows:
                conn.execute(update(x).where(due).values(expiry_reported_at=now))
        return rows


_COLUMNS, _COLUMN_LIST = column_list(t.reservations, "x")
_COUNTED = ", ".join(f"'{state}'" for state in COUNTED_ORDER_STATES)
# not expired, and its order not in the store confirmed, done or cancelled (then the order counts instead)
_COUNTING_WHERE = ("x.source = :source AND x.expires_at > :expires_at"
                   " AND NOT EXISTS (SELECT 1 FROM orders AS o WHERE o.source = x.source AND o.erp_id = x.order_erp_id"
                   f" AND o.deleted_at IS NULL AND o.state IN ({_COUNTED}))")
_COUNTING_SQL = f"SELECT {_COLUMN_LIST} FROM reservations AS x WHERE {_COUNTING_WHERE}"
COUNTING_ORDERS_SQL = f"SELECT x.order_erp_id FROM reservations AS x WHERE {_COUNTING_WHERE}"
"""The orders whose reservation counts (parameters ``source`` and ``expires_at``: the time it counts at, as the
column stores it); for a statement that leaves them out as :meth:`ReservationStore.counting_reservations` does."""
_COUNTING = PerDialect(lambda dialect: DriverStatement(_COUNTING_SQL, t.reservations, dialect, _COLUMNS))
_COUNTING_IN = {  # by whether the groups are more than one
    False: PerDialect(lambda dialect: DriverStatement(
        _COUNTING_SQL + " AND x.credit_group_id = :groups", t.reservations, dialect, _COLUMNS)),
    True: PerDialect(lambda dialect: DriverStatement(
        _COUNTING_SQL + " AND " + Dialect(dialect.name).among_list("x.credit_group_id", "groups"), t.reservations,
        dialect, _COLUMNS))}


def counting_in(groups: Collection[str]) -> PerDialect:
    """The statement that reads the reservations counting for ``groups`` (parameters ``source``, ``expires_at``, and
    ``groups`` as :meth:`Dialect.values` gives them)."""
    return _COUNTING_IN[len(groups) != 1]


COUNT_DECISION_SQL = ("INSERT INTO decision_versions (source, credit_group_id, version) VALUES (:source, :group, 1) "
                      "ON CONFLICT (source, credit_group_id) DO UPDATE SET version = decision_versions.version + 1 "
                      "RETURNING version")  # the count after this decision
_DROP = PerDialect(lambda dialect: DriverStatement(
    "DELETE FROM reservations WHERE source = :source AND order_erp_id = :order_erp_id", t.reservations, dialect))
_RESERVE = PerDialect(lambda dialect: DriverStatement(
    upsert_sql("reservations", column_list(t.reservations, without=("id",))[0], ("source", "order_erp_id")),
    t.reservations, dialect))
_VERSION = PerDialect(lambda dialect: DriverStatement(
    "SELECT version FROM decision_versions WHERE source = :source AND credit_group_id = :group", t.decision_versions,
    dialect))
_COUNT_DECISION = PerDialect(lambda dialect: DriverStatement(COUNT_DECISION_SQL, t.decision_versions, dialect))


def reservation_of_row(row: Any, status: str) -> Reservation:
    return Reservation(row.source, row.order_erp_id, row.order_number, row.credit_group_id, row.company_id,
                       row.currency, from_minor(row.amount_minor, row.currency), row.base_currency,
                       Decimal(row.base_amount), row.created_at, row.expires_at, row.decision_id, status)
