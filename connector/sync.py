"""The sync engine: drives every stream of a source from its cursor into the store.

Three ways of reading a stream, by what the ERP can tell about change:

* **change scans** (Odoo, :class:`connector.ports.ChangeScanning`): change times that many records
  share and that a late commit can put behind records already read.  A first or full read pages
  on the id alone and pipelines pages (the next is fetched while the last is written).  An
  incremental read lists the records changed since the newest change time read minus an overlap
  window (ids and change times only), plus, once, each stretch of time that has since settled
  (every transaction stamped in it has committed: ``late_commit_seconds``), and fetches only the
  records the store does not hold as listed.  See :mod:`connector.change_scan`.
* **cursors** (SAP's currency rates): pages after the cursor minus the overlap window, in (change
  time, id) order; page, rejects and cursor in one transaction.
* **snapshots** (SAP's open items, customers, orders): every read is whole (mark and sweep), parts
  whose fingerprint did not move are skipped.

``full=True`` re-reads everything from the start and afterwards marks every stored record the ERP
no longer returned as deleted (mark and sweep).

A stream that fails is reported with its error and the next stream is read; when the ERP is
unreachable the streams after it are reported as not read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .change_scan import ChangeScanSync
from .errors import RetryableError, SourceError
from .logs import get_logger
from .ports import Cursor, ERPSource, Rejected, SourceInfo, Stream
from .store import FullRun, Store

log = get_logger("creditguard.sync")

Progress = Callable[[str, str, int], None]


@dataclass
class StreamStats:
    source: str
    stream: str
    read: int = 0  # records read whole that were new or changed (or newly quarantined)
    written: int = 0
    quarantined: int = 0
    calls: int = 0
    seconds: float = 0.0
    reread: int = 0  # records read whole again that had not changed
    deleted: int = 0
    full: bool = False
    kept: int = 0  # parts of a snapshot stream the source found unchanged and did not re-read
    scanned: int = 0  # records a change scan listed (id and change time only)
    status: str = "ok"  # ok | failed | not read
    error: str | None = None

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "stream": self.stream,
            "status": self.status,
            "read": self.read,
            "written": self.written,
            "quarantined": self.quarantined,
            "calls": self.calls,
            "seconds": round(self.seconds, 3),
            "reread": self.reread,
            "scanned": self.scanned,
            "deleted": self.deleted,
            "full": self.full,
            "kept": self.kept,
            "error": self.error,
        }


@dataclass
class SourceReport:
    source: str
    server_version: str = ""
    connect_calls: int = 0
    streams: list[StreamStats] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SyncEngine:
    def __init__(
        self,
        store: Store,
        *,
        batch_size: int = 1000,
        overlap_seconds: float = 5.0,
        late_commit_seconds: float = 900.0,
        scan_batch_size: int = 10_000,
        clock: Callable[[], datetime] = _utcnow,
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.overlap_seconds = overlap_seconds
        self.late_commit_seconds = late_commit_seconds
        self.scan_batch_size = max(scan_batch_size, batch_size)
        self.clock = clock
        self.progress = progress

    @property
    def overlap(self) -> timedelta:
        return timedelta(seconds=self.overlap_seconds)

    @property
    def late_commit(self) -> timedelta:
        return timedelta(seconds=max(self.late_commit_seconds, self.overlap_seconds))

    def sync_source(self, source: ERPSource, *, full: bool = False) -> SourceReport:
        """Every stream of ``source``; errors are in the report (``errors``, and each stream's)."""
        report = SourceReport(source.name)
        before = source.calls
        try:
            info: SourceInfo = source.open()
        except SourceError as exc:
            report.connect_calls = source.calls - before
            report.errors.append(exc)
            report.streams = [StreamStats(source.name, s.value, full=full, status="failed", error=str(exc))
                              for s in _streams(source)]
            log.error("sync.connect_failed", source=source.name, error=str(exc), error_kind=exc.__class__.__name__)
            return report
        report.server_version = info.server_version
        report.connect_calls = source.calls - before
        self.store.save_companies(source.name, info.companies, self.clock())
        unreachable: SourceError | None = None
        for stream in source.streams():
            if unreachable is not None:
                report.streams.append(StreamStats(source.name, stream.value, full=full, status="not read",
                                                  error=f"not read: {unreachable}"))
                continue
            try:
                report.streams.append(self.sync_stream(source, stream, full=full))
            except SourceError as exc:
                report.errors.append(exc)
                report.streams.append(exc.stats)  # type: ignore[attr-defined]
                if isinstance(exc, RetryableError):  # the ERP is down: the next streams would wait for it too
                    unreachable = exc
        return report

    def sync_stream(self, source: ERPSource, stream: Stream, *, full: bool = False) -> StreamStats:
        """One stream; a SourceError is raised with the figures so far attached (``exc.stats``)."""
        scanned = _scans(source, stream)
        snapshot = not scanned and _is_snapshot(source, stream)
        logger = log.bind(source=source.name, stream=stream.value)
        stats = StreamStats(source.name, stream.value, full=full or snapshot)
        started = time.perf_counter()
        calls_before = source.calls
        run_id = self.store.start_run(source.name, stream, full or snapshot, self.clock())
        try:
            if scanned:
                ChangeScanSync(self, source, stream, stats, logger, run_id).run(full=full)
            else:
                self._sync_paged(source, stream, full, snapshot, stats, logger, run_id)
        except SourceError as exc:
            stats.calls = source.calls - calls_before
            stats.seconds = time.perf_counter() - started
            stats.status, stats.error = "failed", str(exc)
            self.store.finish_run(run_id, status="failed", read=stats.read, written=stats.written,
                                  quarantined=stats.quarantined, deleted=stats.deleted, calls=stats.calls,
                                  error=str(exc), now=self.clock())
            logger.error("sync.stream_failed", error=str(exc), error_kind=exc.__class__.__name__)
            exc.stats = stats  # type: ignore[attr-defined]
            raise
        stats.calls = source.calls - calls_before
        stats.seconds = time.perf_counter() - started
        self.store.finish_run(run_id, status="ok", read=stats.read, written=stats.written,
                              quarantined=stats.quarantined, deleted=stats.deleted, calls=stats.calls,
                              now=self.clock())
        logger.info("sync.stream_done", **{k: v for k, v in stats.as_dict().items()
                                           if k not in ("source", "stream", "status", "error")})
        return stats

    def report_progress(self, source: ERPSource, stream: Stream, records: int) -> None:
        if self.progress:
            self.progress(source.name, stream.value, records)

    # ------------------------------------------------------------ cursor and snapshot streams

    def _sync_paged(self, source: ERPSource, stream: Stream, full: bool, snapshot: bool, stats: StreamStats,
                    logger, run_id: int) -> None:
        # sources without change times (SAP open items) re-read a stream whole every time: only changed
        # records are written (content hashes) and records gone from the ERP are swept.  A source that
        # fingerprints the parts of such a stream skips the parts that did not change (not on --full).
        if snapshot and not full and callable(getattr(source, "remember_scopes", None)):
            source.remember_scopes(stream, self.store.load_scopes(source.name, stream))
        full = full or snapshot
        model = source.model_of(stream)
        cursor = None if full else self.store.get_cursor(source.name, stream)
        since = cursor.before(self.overlap_seconds) if cursor else None
        run = FullRun(run_id, source.name, stream) if full else None
        scoped: set[str] = set()  # the snapshot parts the pages reported (see ports.Scope)
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
            self.report_progress(source, stream, len(page.entries))
        if run is not None:
            stats.deleted = self.store.sweep_unseen(run, model, self.clock())
            if snapshot:  # a part gone from the ERP must not be "unchanged" should it come back
                self.store.prune_scopes(source.name, stream, keep=scoped)


def _streams(source: ERPSource) -> tuple[Stream, ...]:
    try:
        return tuple(source.streams())
    except Exception:  # a source that knows its streams only once connected
        return ()


def _scans(source: ERPSource, stream: Stream) -> bool:
    check = getattr(source, "scans", None)
    return bool(check(stream)) if callable(check) else False


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
