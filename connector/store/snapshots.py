"""Store side of the daily snapshots (mixed into :class:`Store`): one row a day per source, credit group and
company (``daily_snapshots``; what the rows hold is decided by :mod:`connector.snapshots`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from . import tables as t
from .driver_sql import Dialect

GROUP_ROW = ""  # company_id of a credit group's own row (all its companies)


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    day: date
    source: str
    credit_group_id: str
    company_id: str  # GROUP_ROW: the whole group (exposure, limit, overdue; consolidated ageing)
    customer: str
    currency: str
    base_currency: str
    exposure_minor: int | None
    limit_minor: int | None
    overdue_minor: int | None
    past_due_minor: int
    past_due_base_minor: int
    receivable_minor: int
    receivable_base_minor: int
    ageing: str  # JSON
    taken_at: datetime
    # payment figures (connector.figures) over the instalments settled in the last ``payment_months`` months, in
    # ``currency``; all None in rows taken before they were kept
    payment_months: int | None = None
    paid_items: int | None = None
    paid_minor: int | None = None
    days_late_tenths: int | None = None  # amount-weighted average days late × 10; None: nothing settled
    share_late_bp: int | None = None  # share of the amount settled late, basis points


@dataclass(frozen=True, slots=True)
class PaymentSnapshot:
    """A credit group's payment figures as its latest snapshot row (company "") keeps them."""

    day: date
    currency: str
    payment_months: int | None
    paid_items: int | None
    paid_minor: int | None
    days_late_tenths: int | None
    share_late_bp: int | None


@dataclass(frozen=True, slots=True)
class DayTotal:
    """The sums of the credit groups' own rows of one day (base currency, minor units)."""

    day: date
    base_currency: str
    groups: int
    exposure_minor: int
    overdue_minor: int
    past_due_base_minor: int


_LATEST_PAYMENTS = """
SELECT day, currency, payment_months, paid_items, paid_minor, days_late_tenths, share_late_bp FROM daily_snapshots
WHERE source = :source AND credit_group_id = :group AND company_id = :company AND day <= :day ORDER BY day DESC LIMIT 1"""


class SnapshotStore:
    engine: Any

    def _writing(self, conn: Connection | None):  # provided by Store
        raise NotImplementedError

    def _reader(self):  # provided by Store
        raise NotImplementedError

    def replace_snapshot_day(self, day: date, sources: Sequence[str], rows: Iterable[SnapshotRow], *,
                             keep_days: int | None = None, conn: Connection | None = None) -> tuple[int, int]:
        """Replace the rows of ``day`` of ``sources`` by ``rows``, and remove the days older than ``keep_days``
        before ``day``, in one transaction.  Returns (rows written, old rows removed)."""
        s = t.daily_snapshots
        values = [{f: getattr(r, f) for f in SnapshotRow.__slots__} for r in rows]
        pruned = 0
        with self._writing(conn) as c:
            if sources:
                c.execute(delete(s).where(s.c.day == day, s.c.source.in_(list(sources))))
            for start in range(0, len(values), 400):
                c.execute(insert(s), values[start:start + 400])
            if keep_days is not None:
                pruned = c.execute(delete(s).where(s.c.day <= day - timedelta(days=keep_days))).rowcount or 0
        return len(values), pruned

    def has_snapshot(self, day: date, source: str) -> bool:
        s = t.daily_snapshots
        with self._reader() as c:
            return c.execute(select(s.c.day).where(s.c.day == day, s.c.source == source).limit(1)).first() is not None

    def snapshot_days(self, source: str | None = None) -> list[date]:
        s = t.daily_snapshots
        query = select(s.c.day).distinct().order_by(s.c.day)
        if source is not None:
            query = query.where(s.c.source == source)
        with self._reader() as c:
            return list(c.execute(query).scalars())

    def snapshot_rows(self, day: date, source: str | None = None) -> list[SnapshotRow]:
        s = t.daily_snapshots
        query = select(s).where(s.c.day == day).order_by(s.c.source, s.c.credit_group_id, s.c.company_id)
        if source is not None:
            query = query.where(s.c.source == source)
        with self._reader() as c:
            return [SnapshotRow(**dict(r._mapping)) for r in c.execute(query)]

    def latest_payment_snapshot(self, source: str, credit_group_id: str, on_or_before: date
                                ) -> PaymentSnapshot | None:
        """The payment figures of the group's own row of its latest snapshot day up to ``on_or_before`` (one
        seek on the index by source, group, company and day); None without a snapshot."""
        with self._reader() as c:  # a credit check's hot path: SQL on the driver (compiling costs more than it)
            d = Dialect.of(c)
            found = c.connection.driver_connection.execute(d.sql(_LATEST_PAYMENTS), {
                "source": source, "group": credit_group_id, "company": GROUP_ROW, "day": d.day(on_or_before)}).fetchone()
        if found is None:
            return None
        day, *rest = found
        return PaymentSnapshot(Dialect.read_day(day), *rest)

    def snapshot_totals(self, first: date, last: date) -> list[DayTotal]:
        """Per day from ``first`` to ``last`` with snapshots: the sums of the credit groups' own rows (one line
        per base currency; a policy keeps one)."""
        s = t.daily_snapshots
        query = (select(s.c.day, s.c.base_currency, func.count(), func.sum(s.c.exposure_minor),
                        func.sum(s.c.overdue_minor), func.sum(s.c.past_due_base_minor))
                 .where(s.c.company_id == GROUP_ROW, s.c.day >= first, s.c.day <= last)
                 .group_by(s.c.day, s.c.base_currency).order_by(s.c.day, s.c.base_currency))
        with self._reader() as c:
            return [DayTotal(day, currency, int(n), int(e or 0), int(o or 0), int(p or 0))
                    for day, currency, n, e, o, p in c.execute(query)]
