"""The sync engine: drives every stream of a source from its cursor into the store.

Per stream: read pages after the cursor minus a small overlap window (a record
can be committed after our read with an older change time), upsert each page,
quarantine what could not be mapped and advance the cursor — all in one
transaction per page.  Records re-read inside the overlap that did not change
are recognised by their content hash and neither counted nor written.

``full=True`` re-reads everything from the start and afterwards marks every
stored record the ERP no longer returned as deleted (mark and sweep).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from .errors import SourceError
from .ports import Cursor, ERPSource, Rejected, SourceInfo, Stream
from .store import FullRun, Store

log = structlog.get_logger("creditguard.sync")

Progress = Callable[[str, str, int], None]


@dataclass
class StreamStats:
    source: str
    stream: str
    read: int = 0
    written: int = 0
    quarantined: int = 0
    calls: int = 0
    seconds: float = 0.0
    reread: int = 0  # unchanged records seen again inside the overlap window
    deleted: int = 0
    full: bool = False
    kept: int = 0  # parts of a snapshot stream the source found unchanged and did not re-read

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "stream": self.stream,
            "read": self.read,
            "written": self.written,
            "quarantined": self.quarantined,
            "calls": self.calls,
            "seconds": round(self.seconds, 3),
            "reread": self.reread,
            "deleted": self.deleted,
            "full": self.full,
            "kept": self.kept,
        }


@dataclass
class SourceReport:
    source: str
    server_version: str = ""
    connect_calls: int = 0
    streams: list[StreamStats] = field(default_factory=list)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SyncEngine:
    def __init__(
        self,
        store: Store,
        *,
        batch_size: int = 1000,
        overlap_seconds: float = 5.0,
        clock: Callable[[], datetime] = _utcnow,
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.overlap_seconds = overlap_seconds
        self.clock = clock
        self.progress = progress

    def sync_source(self, source: ERPSource, *, full: bool = False) -> SourceReport:
        report = SourceReport(source.name)
        before = source.calls
        info: SourceInfo = source.open()
        report.server_version = info.server_version
        report.connect_calls = source.calls - before
        self.store.save_companies(source.name, info.companies, self.clock())
        for stream in source.streams():
            report.streams.append(self.sync_stream(source, stream, full=full))
        return report

    def sync_stream(self, source: ERPSource, stream: Stream, *, full: bool = False) -> StreamStats:
        # sources without change times (SAP open items) re-read a stream whole every time: only changed
        # records are written (content hashes) and records gone from the ERP are swept.  A source that
        # fingerprints the parts of such a stream skips the parts that did not change (not on --full).
        snapshot = _is_snapshot(source, stream)
        if snapshot and not full and callable(getattr(source, "remember_scopes", None)):
            source.remember_scopes(stream, self.store.load_scopes(source.name, stream))
        full = full or snapshot
        logger = log.bind(source=source.name, stream=stream.value)
        stats = StreamStats(source.name, stream.value, full=full)
        started = time.perf_counter()
        calls_before = source.calls
        model = source.model_of(stream)
        run_id = self.store.start_run(source.name, stream, full, self.clock())
        cursor = None if full else self.store.get_cursor(source.name, stream)
        since = cursor.before(self.overlap_seconds) if cursor else None
        run = FullRun(run_id, source.name, stream) if full else None
        scoped: set[str] = set()  # the snapshot parts the pages reported (see ports.Scope)
        try:
            for page in source.read(stream, since, self.batch_size):
                fresh_rejects = [
                    e.item
                    for e in page.entries
                    if isinstance(e.item, Rejected) and _beyond(e.position, cursor)
                ]
                result = self.store.save_page(
                    source.name, stream, model, page.records, fresh_rejects, page.position, run, self.clock(),
                    scopes=page.scopes,
                )
                stats.kept += sum(1 for scope in page.scopes if scope.unchanged)
                scoped.update(scope.key for scope in page.scopes)
                # new to us: beyond the cursor, or changed inside the overlap window
                read = len(fresh_rejects) + sum(
                    1
                    for e in page.entries
                    if not isinstance(e.item, Rejected)
                    and (_beyond(e.position, cursor) or e.item.erp_id in result.written_ids)
                )
                stats.read += read
                stats.reread += len(page.entries) - read
                stats.written += len(result.written_ids)
                stats.quarantined += result.quarantined
                for reject in fresh_rejects:
                    logger.warning("sync.record_quarantined", erp_model=reject.model, erp_id=reject.erp_id,
                                   reason=reject.reason)
                logger.debug("sync.page_committed", records=len(page.entries), written=len(result.written_ids),
                             cursor=str(page.position))
                if self.progress:
                    self.progress(source.name, stream.value, len(page.entries))
            if run is not None:
                stats.deleted = self.store.sweep_unseen(run, model, self.clock())
                if snapshot:  # a part gone from the ERP must not be "unchanged" should it come back
                    self.store.prune_scopes(source.name, stream, keep=scoped)
        except SourceError as exc:
            stats.calls = source.calls - calls_before
            stats.seconds = time.perf_counter() - started
            self.store.finish_run(run_id, status="failed", read=stats.read, written=stats.written,
                                  quarantined=stats.quarantined, deleted=stats.deleted, calls=stats.calls,
                                  error=str(exc), now=self.clock())
            logger.error("sync.stream_failed", error=str(exc), error_kind=exc.__class__.__name__)
            raise
        stats.calls = source.calls - calls_before
        stats.seconds = time.perf_counter() - started
        self.store.finish_run(run_id, status="ok", read=stats.read, written=stats.written,
                              quarantined=stats.quarantined, deleted=stats.deleted, calls=stats.calls,
                              now=self.clock())
        logger.info("sync.stream_done", **{k: v for k, v in stats.as_dict().items() if k not in ("source", "stream")})
        return stats


def _is_snapshot(source: ERPSource, stream: Stream) -> bool:
    check = getattr(source, "is_snapshot", None)
    if callable(check):
        return bool(check(stream))
    return bool(getattr(source, "snapshot_streams", False))


def _beyond(position: Cursor | None, cursor: Cursor | None) -> bool:
    """Whether an entry lies after the stored cursor (is new to this run)."""
    if cursor is None or position is None:
        return True
    return position > cursor
