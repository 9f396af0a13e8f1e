"""Store side of the outbox and of the hold registry (mixed into :class:`Store`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, func, select, update

from . import tables as t
from .ahead import MISSING
from .driver_sql import DriverStatement, PerDialect, column_list, upsert_sql
from .write_batches import BATCH


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    source: str
    kind: str
    target_model: str
    target_id: str
    key: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    result: str | None
    created_at: datetime
    applied_at: datetime | None


@dataclass(frozen=True, slots=True)
class HoldRecord:
    source: str
    order_erp_id: str
    order_number: str
    state: str  # held | released
    revision: int
    reasons: list[dict[str, str]]
    release_tier: str | None
    exposure: str
    since: datetime
    released_by: str | None  # "erp:<user>": released by a person in the ERP; "policy": by the daemon
    updated_at: datetime
    # a release in the ERP that was honoured: the approval tier it was recorded at and the reason given
    # (None when the ERP recorded none)
    released_tier: str | None = None
    release_reason: str | None = None


# the statements a decision at confirmation runs when it holds the order (under the credit group's lock), written
# once as SQL (see connector.store.driver_sql): building them with their values cost more than running them
_HOLD_COLUMNS, _HOLD_LIST = column_list(t.holds)
HOLD = PerDialect(lambda dialect: DriverStatement(
    f"SELECT {_HOLD_LIST} FROM holds WHERE source = :source AND order_erp_id = :order_erp_id",
    t.holds, dialect, _HOLD_COLUMNS))
_SAVE_HOLD = PerDialect(lambda dialect: DriverStatement(
    upsert_sql("holds", _HOLD_COLUMNS, ("source", "order_erp_id")), t.holds, dialect))
_QUEUED_COLUMNS = ("source", "kind", "target_model", "target_id", "key", "payload", "state", "attempts",
                   "next_attempt_at", "created_at")
_QUEUED_LIST = ", ".join(f'"{c}"' for c in _QUEUED_COLUMNS)
_ENQUEUE = PerDialect(lambda dialect: DriverStatement(
    f"INSERT INTO outbox ({_QUEUED_LIST}) VALUES ({', '.join(':' + c for c in _QUEUED_COLUMNS)}) "
    'ON CONFLICT ("key") DO NOTHING RETURNING id', t.outbox, dialect))


def hold_of_row(row: Any) -> HoldRecord | None:
    """A row of :data:`HOLD` as a hold."""
    if row is None:
        return None
    data = row._asdict()
    data["reasons"] = json.loads(data["reasons"])
    return HoldRecord(**data)


def _entry(row: Any) -> OutboxEntry:
    data = dict(row._mapping)
    data["payload"] = json.loads(data["payload"])
    return OutboxEntry(**data)


class OutboxStore:
    """Outbox entries and holds. Needs ``self.engine``, ``self._reader`` and ``self._writing`` from :class:`Store`."""

    def outbox_enqueue(self, *, source: str, kind: str, target_model: str, target_id: str, key: str,
                       payload: dict[str, Any], now: datetime, conn: Connection | None = None,
                       on_queued: Callable[[], None] | None = None) -> bool | None:
        """Queue a write; False when an entry with this key exists already (the write is known), and then
        ``on_queued`` is not called.  ``conn``: in the caller's transaction (with the decision that calls for the
        write).  Inside :meth:`Store.commit_together` on PostgreSQL the answer comes with the commit: None, and
        ``on_queued`` is called once committed, if the entry was queued."""
        values = {"source": source, "kind": kind, "target_model": target_model, "target_id": target_id, "key": key,
                  "payload": json.dumps(payload, sort_keys=True), "state": "pending", "attempts": 0,
                  "next_attempt_at": now, "created_at": now}
        with self._writing(conn) as c:
            batch = c.info.get(BATCH) if conn is not None else None
            if batch is not None:  # gathered with the decision's other writes, answered with the commit
                answer = _ENQUEUE(c).send(c, values)

                def answered() -> None:
                    if _ENQUEUE(c).first_of(answer) is not None and on_queued is not None:
                        on_queued()

                batch.after_commit(answered)
                return None
            queued = _ENQUEUE(c).first(c, values) is not None
        if queued and on_queued is not None:
            on_queued()
        return queued

    def outbox_due(self, source: str, now: datetime, limit: int = 100) -> list[OutboxEntry]:
        o = t.outbox
        query = (
            select(o)
            .where(o.c.source == source, o.c.state == "pending", o.c.next_attempt_at <= now)
            .order_by(o.c.id)
            .limit(limit)
        )
        with self._reader() as conn:  # type: ignore[attr-defined]
            return [_entry(r) for r in conn.execute(query)]

    def outbox_applied(self, entry_id: int, result: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.outbox).where(t.outbox.c.id == entry_id).values(
                state="applied", applied_at=now, result=result, attempts=t.outbox.c.attempts + 1, last_error=None))

    def outbox_failed(self, entry_id: int, error: str, next_attempt_at: datetime, dead: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.outbox).where(t.outbox.c.id == entry_id).values(
                state="dead" if dead else "pending", last_error=error, next_attempt_at=next_attempt_at,
                attempts=t.outbox.c.attempts + 1))

    def outbox_entries(self, *, source: str | None = None, state: str | None = None, kind: str | None = None,
                       limit: int | None = 1000) -> list[OutboxEntry]:
        o = t.outbox
        query = select(o).order_by(o.c.id.desc()).limit(limit)
        if kind:
            query = query.where(o.c.kind == kind)
        if source:
            query = query.where(o.c.source == source)
        if state:
            query = query.where(o.c.state == state)
        with self._reader() as conn:  # type: ignore[attr-defined]
            return [_entry(r) for r in conn.execute(query)]

    def alerts_to_close(self, source: str) -> list[OutboxEntry]:
        """Applied ageing alerts whose invoice is no longer open (paid, cancelled, gone from the ERP)
        and that have no closing entry yet — one query, however many alerts there are."""
        o, i = t.outbox, t.invoices
        close = o.alias("close")
        still_open = exists().where(i.c.source == o.c.source, i.c.erp_id == o.c.target_id,
                                    i.c.deleted_at.is_(None), i.c.state == "posted", i.c.amount_open_minor != 0)
        closed = exists().where(close.c.source == o.c.source, close.c.kind == "close_alert",
                                close.c.key == func.replace(o.c.key, ":alert:", ":alert-close:"))
        query = (select(o).where(o.c.source == source, o.c.kind == "create_alert", o.c.state == "applied",
                                 ~still_open, ~closed).order_by(o.c.id))
        with self._reader() as conn:  # type: ignore[attr-defined]
            return [_entry(r) for r in conn.execute(query)]

    def outbox_has(self, key: str) -> bool:
        """Whether an entry with this key was ever queued."""
        o = t.outbox
        with self._reader() as conn:  # type: ignore[attr-defined]
            return conn.execute(select(o.c.id).where(o.c.key == key)).first() is not None

    def outbox_latest(self, source: str, kind: str, target_id: str) -> tuple[OutboxEntry | None, int]:
        """The latest entry of ``kind`` for a target, and how many there are."""
        from sqlalchemy import func

        o = t.outbox
        where = (o.c.source == source, o.c.kind == kind, o.c.target_id == target_id)
        with self._reader() as conn:  # type: ignore[attr-defined]
            row = conn.execute(select(o).where(*where).order_by(o.c.id.desc()).limit(1)).first()
            count = conn.execute(select(func.count()).select_from(o).where(*where)).scalar_one()
        return (_entry(row) if row else None), count

    def outbox_retry_dead(self, entry_id: int, now: datetime) -> bool:
        """Send a dead letter back to the queue (after the cause was fixed)."""
        with self.engine.begin() as conn:
            result = conn.execute(update(t.outbox).where(t.outbox.c.id == entry_id, t.outbox.c.state == "dead")
                                  .values(state="pending", attempts=0, next_attempt_at=now))
        return bool(result.rowcount)

    # ------------------------------------------------------------------ holds

    def hold(self, source: str, order_erp_id: str) -> HoldRecord | None:
        if (locked := self._locked_hold(source, order_erp_id)) is not MISSING:  # type: ignore[attr-defined]
            return locked
        with self._reader() as conn:  # type: ignore[attr-defined]
            return hold_of_row(HOLD(conn).first(conn, {"source": source, "order_erp_id": order_erp_id}))

    def holds(self, source: str | None = None, state: str | None = None,
              order: str | None = None) -> list[HoldRecord]:
        """The holds, by source and order number; ``order``: of the order with this number only."""
        h = t.holds
        query = select(h).order_by(h.c.source, h.c.order_number)
        if source:
            query = query.where(h.c.source == source)
        if state:
            query = query.where(h.c.state == state)
        if order:
            query = query.where(h.c.order_number == order)
        with self._reader() as conn:  # type: ignore[attr-defined]
            rows = [dict(r._mapping) for r in conn.execute(query)]
        return [HoldRecord(**(r | {"reasons": json.loads(r["reasons"])})) for r in rows]

    def save_hold(self, record: HoldRecord, conn: Connection | None = None) -> None:
        values = {
            "source": record.source, "order_erp_id": record.order_erp_id, "order_number": record.order_number,
            "state": record.state, "revision": record.revision, "reasons": json.dumps(record.reasons),
            "release_tier": record.release_tier, "exposure": record.exposure, "since": record.since,
            "released_by": record.released_by, "updated_at": record.updated_at,
            "released_tier": record.released_tier, "release_reason": record.release_reason,
        }
        with self._writing(conn) as c:
            _SAVE_HOLD(c).send(c, values)
