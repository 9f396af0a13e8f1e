"""Store side of the collection cases and dunning steps (mixed into :class:`Store`).

``collection_cases`` holds each case's current state; ``case_events`` is its append-only history (rows are only
ever inserted), which the claim file and ``creditguard cases`` read; ``dunning_steps`` holds one row per case and
dunning level with the outbox key of its write.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from . import tables as t
from .ahead import MISSING, key
from .driver_sql import Dialect

ACTIVE = "closed"  # a case is active while its state is not this
DISPUTED_SQL = ("SELECT dispute_amount_minor, currency FROM collection_cases WHERE source = :source "
                "AND credit_group_id = :group AND state <> 'closed' AND dispute_amount_minor <> 0")


@dataclass(frozen=True, slots=True)
class CaseRecord:
    id: int | None  # None: not saved yet
    source: str
    credit_group_id: str
    customer: str
    state: str
    currency: str
    opened_on: date
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    promise_date: date | None = None
    promise_amount_minor: int | None = None
    promise_overdue_minor: int | None = None
    dispute_amount_minor: int | None = None
    dispute_reason: str | None = None
    revision: int = 1


@dataclass(frozen=True, slots=True)
class CaseEvent:
    case_id: int
    source: str
    credit_group_id: str
    at: datetime
    day: date
    event: str
    state: str
    detail: str
    actor: str
    level: int | None = None
    amount_minor: int | None = None
    due_on: date | None = None
    overdue_minor: int | None = None
    disputed_minor: int | None = None
    exposure_minor: int | None = None
    outbox_key: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class DunningStepRecord:
    case_id: int
    level: int  # the level's days past due
    source: str
    credit_group_id: str
    channel: str
    template: str
    state: str  # proposed | approved | queued | cancelled
    key: str
    day: date
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None


class CaseStore:
    engine: Any

    def _writing(self, conn: Connection | None):  # provided by Store
        raise NotImplementedError

    def _reader(self):  # provided by Store
        raise NotImplementedError

    # ------------------------------------------------------------------ cases

    def active_case(self, source: str, group: str) -> CaseRecord | None:
        c = t.collection_cases
        with self._reader() as conn:
            row = conn.execute(select(c).where(c.c.source == source, c.c.credit_group_id == group,
                                               c.c.state != ACTIVE)).first()
        return CaseRecord(**row._mapping) if row else None

    def disputed_minor(self, source: str, group: str) -> tuple[int, str] | None:
        """The amount disputed in the group's active case and its currency, None when nothing is disputed (a credit
        check asks: SQL run on the driver, through the index of active cases)."""
        if (ahead := self._ahead(key("disputed", source, group))) is not MISSING:  # type: ignore[attr-defined]
            return ahead
        with self._reader() as conn:
            row = conn.connection.driver_connection.execute(Dialect.of(conn).sql(DISPUTED_SQL),
                                                            {"source": source, "group": group}).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def get_case(self, case_id: int) -> CaseRecord | None:
        c = t.collection_cases
        with self._reader() as conn:
            row = conn.execute(select(c).where(c.c.id == case_id)).first()
        return CaseRecord(**row._mapping) if row else None

    def list_cases(self, *, source: str | None = None, state: str | None = None, group: str | None = None,
                   active_only: bool = False) -> list[CaseRecord]:
        c = t.collection_cases
        query = select(c).order_by(c.c.source, c.c.credit_group_id, c.c.id)
        if source:
            query = query.where(c.c.source == source)
        if state:
            query = query.where(c.c.state == state)
        if group:
            query = query.where(c.c.credit_group_id == group)
        if active_only:
            query = query.where(c.c.state != ACTIVE)
        with self._reader() as conn:
            return [CaseRecord(**r._mapping) for r in conn.execute(query)]

    def save_case(self, record: CaseRecord, conn: Connection | None = None) -> CaseRecord:
        """Insert a new case (``id`` None) or update one; the record as saved (with its id)."""
        c = t.collection_cases
        values = {k: v for k, v in asdict(record).items() if k != "id"}
        with self._writing(conn) as w:
            if record.id is None:
                new_id = w.execute(c.insert().values(**values).returning(c.c.id)).scalar_one()
                return CaseRecord(**(values | {"id": new_id}))
            w.execute(update(c).where(c.c.id == record.id).values(**values))
        return record

    # ----------------------------------------------------------------- events

    def add_case_event(self, event: CaseEvent, conn: Connection | None = None) -> int:
        e = t.case_events
        values = {k: v for k, v in asdict(event).items() if k != "id"}
        with self._writing(conn) as w:
            return w.execute(e.insert().values(**values).returning(e.c.id)).scalar_one()

    def case_events(self, *, case_id: int | None = None, source: str | None = None,
                    group: str | None = None) -> list[CaseEvent]:
        """The history, oldest first (of one case, or of every case of a credit group)."""
        e = t.case_events
        query = select(e).order_by(e.c.id)
        if case_id is not None:
            query = query.where(e.c.case_id == case_id)
        if source:
            query = query.where(e.c.source == source)
        if group:
            query = query.where(e.c.credit_group_id == group)
        with self._reader() as conn:
            return [CaseEvent(**r._mapping) for r in conn.execute(query)]

    # ----------------------------------------------------------------- steps

    def dunning_steps(self, *, case_id: int | None = None, source: str | None = None,
                      state: str | None = None, group: str | None = None) -> list[DunningStepRecord]:
        s = t.dunning_steps
        query = select(s).order_by(s.c.source, s.c.credit_group_id, s.c.case_id, s.c.level)
        if case_id is not None:
            query = query.where(s.c.case_id == case_id)
        if source:
            query = query.where(s.c.source == source)
        if state:
            query = query.where(s.c.state == state)
        if group:
            query = query.where(s.c.credit_group_id == group)
        with self._reader() as conn:
            return [DunningStepRecord(**r._mapping) for r in conn.execute(query)]

    def save_dunning_step(self, step: DunningStepRecord, conn: Connection | None = None) -> None:
        s = t.dunning_steps
        values = asdict(step)
        stmt = self._insert(s).values(**values).on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=["case_id", "level"],
            set_={k: v for k, v in values.items() if k not in ("case_id", "level", "key", "created_at")})
        with self._writing(conn) as w:
            w.execute(stmt)
