"""Store side of the insurer limit feed (mixed into :class:`Store`): the imported decisions, append-only
(``insurer_decisions``), and the customers a buyer can be matched to (by VAT)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from ..domain import Customer
from . import tables as t
from .rows import row_to_customer


@dataclass(frozen=True, slots=True)
class ImportedDecision:
    """One insurer decision on one buyer, as imported (money in minor units of ``currency``)."""

    insurer: str
    source: str
    customer_erp_id: str  # the buyer's commercial entity (credit group head)
    customer: str  # its policy key when imported
    customer_name: str
    buyer_name: str | None
    buyer_id: str
    country: str | None
    decision: str  # connector.insurer_feed.Decision
    code: str
    decided: date
    amount_minor: int | None
    currency: str | None
    expires: date | None
    grade: int | None
    insurer_grade: str | None
    file: str
    line: int
    import_id: str
    imported_at: datetime
    id: int | None = None  # set once stored

    def same_decision(self, other: ImportedDecision) -> bool:
        """The same decision of the same insurer on the same buyer (a re-import of a file adds nothing)."""
        return all(getattr(self, f) == getattr(other, f) for f in _IDENTITY)


_IDENTITY = ("insurer", "source", "customer_erp_id", "decision", "code", "decided", "amount_minor", "currency",
             "expires", "grade")
_COLUMNS = [f.name for f in fields(ImportedDecision) if f.name != "id"]


def _decision(row: Any) -> ImportedDecision:
    m = row._mapping
    return ImportedDecision(**{name: m[name] for name in _COLUMNS}, id=m["id"])


class InsurerDecisionStore:
    engine: Any
    _insurer_version: tuple[float, int] | None = None  # (monotonic time read, version): see insurer_decisions_version

    def _writing(self, conn: Connection | None):  # provided by Store
        raise NotImplementedError

    def _reader(self):  # provided by Store
        raise NotImplementedError

    def customers_with_vat(self, source: str | None = None) -> list[Customer]:
        """The active, not deleted customers with a VAT or registration number, to match buyers against."""
        c = t.customers
        numbered = (c.c.vat.is_not(None) & (c.c.vat != "")) | (c.c.registry.is_not(None) & (c.c.registry != ""))
        query = select(c).where(numbered, c.c.deleted_at.is_(None), c.c.active.is_(True))
        if source is not None:
            query = query.where(c.c.source == source)
        with self._reader() as conn:
            return [row_to_customer(r) for r in conn.execute(query.order_by(c.c.source, c.c.erp_id))]

    def record_insurer_decisions(self, decisions: Sequence[ImportedDecision], *, dry_run: bool = False,
                                 conn: Connection | None = None) -> tuple[int, int]:
        """Add the decisions of one import, all or none (one transaction); a decision already stored (the
        same insurer, buyer, date, code and figures) is not added again.  Returns (added, unchanged); with
        ``dry_run``, what would be, writing nothing."""
        d = t.insurer_decisions
        with (self._reader() if dry_run else self._writing(conn)) as c:
            stored: dict[tuple[str, str], list[ImportedDecision]] = {}
            new = []
            for x in decisions:
                key = (x.source, x.customer_erp_id)
                if key not in stored:
                    rows = c.execute(select(d).where(d.c.source == x.source, d.c.customer_erp_id == x.customer_erp_id))
                    stored[key] = [_decision(r) for r in rows]
                if any(x.same_decision(k) for k in stored[key]):
                    continue
                stored[key].append(x)
                new.append({name: getattr(x, name) for name in _COLUMNS})
            if new and not dry_run:
                c.execute(insert(d), new)
        if new and not dry_run:
            self._insurer_version = None  # the next checker of this process reads the new version
        return len(new), len(decisions) - len(new)

    def insurer_decisions_version(self, *, max_age: float = 0.0) -> int:
        """The newest imported decision's id (0 when none): decisions are only ever added, so an unchanged
        version means unchanged decisions (one read of the primary key's end).  ``max_age``: seconds for which
        the last answer of this store object is taken as current (an import through it is seen at once; one
        by another process within that time)."""
        known = getattr(self, "_insurer_version", None)
        now = time.monotonic()
        if known is not None and now - known[0] < max_age:
            return known[1]
        with self._reader() as conn:  # every credit checker asks: SQL run on the driver
            row = conn.connection.driver_connection.execute("SELECT MAX(id) FROM insurer_decisions").fetchone()
        version = int(row[0] or 0) if row else 0
        self._insurer_version = (now, version)
        return version

    def insurer_decisions(self, source: str | None = None, customer_erp_id: str | None = None,
                          *, include_pending: bool = True) -> list[ImportedDecision]:
        """Imported decisions, oldest first (by decision date, then as imported)."""
        d = t.insurer_decisions
        query = select(d)
        if source is not None:
            query = query.where(d.c.source == source)
        if customer_erp_id is not None:
            query = query.where(d.c.customer_erp_id == customer_erp_id)
        if not include_pending:
            query = query.where(d.c.decision != "pending")
        with self._reader() as conn:
            return [_decision(r) for r in conn.execute(query.order_by(d.c.decided, d.c.id))]
