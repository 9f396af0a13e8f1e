"""Store side of streams read by change scans (mixed into :class:`Store`).

Such a stream (see :class:`connector.ports.ChangeScanning`) keeps, in its ``sync_cursors`` row, the
newest change time read, the moment before which every change has committed and been read (the
settled mark), and, while a first read is under way, the last id it committed.  A change scan asks
:meth:`ScanStateStore.held` which of the listed records the store already holds as listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from ..ports import Stream
from . import tables as t

_CHUNK = 400


@dataclass(frozen=True, slots=True)
class ScanState:
    """Where a change-scanned stream stands.

    ``changed_at``: the newest change time read (while a first read runs: the newest at its start).
    ``settled_at``: every transaction stamped before it had committed when it was read.
    ``resume_after_id``: a first read is under way and has committed every record up to this id.
    """

    changed_at: datetime
    settled_at: datetime | None = None
    resume_after_id: int | None = None


@dataclass(frozen=True, slots=True)
class Held:
    """What the store holds of one record: the change time of its version, and when it was read."""

    changed_at: datetime
    read_at: datetime


class ScanStateStore:
    engine: object

    def _insert(self, table):  # provided by Store
        raise NotImplementedError

    def get_scan_state(self, source: str, stream: Stream) -> ScanState | None:
        c = t.sync_cursors
        query = select(c.c.changed_at, c.c.settled_at, c.c.resume_after_id).where(
            c.c.source == source, c.c.stream == stream.value)
        with self._reader() as conn:  # type: ignore[attr-defined]
            row = conn.execute(query).first()
        if row is None:
            return None
        resume = None if row.resume_after_id is None else int(row.resume_after_id)
        return ScanState(row.changed_at, row.settled_at, resume)

    def set_scan_state(self, source: str, stream: Stream, state: ScanState, now: datetime) -> None:
        with self.engine.begin() as conn:  # type: ignore[attr-defined]
            self._write_scan_state(conn, source, stream, state, now)

    def _write_scan_state(self, conn: Connection, source: str, stream: Stream, state: ScanState,
                          now: datetime) -> None:
        c = t.sync_cursors
        values = {"changed_at": state.changed_at, "last_id": 0, "settled_at": state.settled_at,
                  "resume_after_id": state.resume_after_id, "updated_at": now}
        stmt = self._insert(c).values(source=source, stream=stream.value, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["source", "stream"], set_=values))

    def held(self, source: str, stream: Stream, model: str, erp_ids: Sequence[str]) -> dict[str, Held]:
        """Of ``erp_ids``, the records the store holds (synced, or quarantined with a change time)."""
        table = t.SYNCED_TABLES[stream.value]
        q = t.quarantine
        found: dict[str, Held] = {}
        with self._reader() as conn:  # type: ignore[attr-defined]
            for start in range(0, len(erp_ids), _CHUNK):
                chunk = list(erp_ids[start:start + _CHUNK])
                rows = conn.execute(select(table.c.erp_id, table.c.changed_at, table.c.synced_at).where(
                    table.c.source == source, table.c.erp_model == model, table.c.deleted_at.is_(None),
                    table.c.erp_id.in_(chunk)))
                found.update({r.erp_id: Held(r.changed_at, r.synced_at) for r in rows})
                rejected = conn.execute(select(q.c.erp_id, q.c.changed_at, q.c.last_seen).where(
                    q.c.source == source, q.c.erp_model == model, q.c.resolved_at.is_(None),
                    q.c.changed_at.is_not(None), q.c.erp_id.in_(chunk)))
                found.update({r.erp_id: Held(r.changed_at, r.last_seen) for r in rejected})
        return found
