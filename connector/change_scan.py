"""Reading a stream whose change times many records share (see :class:`connector.ports.ChangeScanning`).

Odoo stamps every record a transaction writes with the transaction's start and reports it in whole
seconds.  So one import or mass action gives thousands of records the same change time, and a
transaction that runs long commits records stamped earlier than records other transactions
committed, and we read, meanwhile.  Nothing here pages on (change time, id):

* A **whole read** (the first, or ``--full``) asks for the newest change time first, then pages on
  the id alone, fetching the next page while the last one is written.  A first read keeps its
  progress (the last id committed) with each page and resumes from it after a crash.
* An **incremental read** lists (ids and change times only) the records changed since the newest
  change time read minus the overlap window, and once more, each stretch of time that has since
  *settled*: every transaction stamped in it has committed, as no transaction runs longer than
  ``late_commit_seconds``.  Only the records the store does not hold as listed are fetched.

A record is held as listed when the store has its version with the same change time, read at
least ``overlap + 1`` seconds after that second began: a version read sooner may be followed by
another transaction stamped with the same second, and is fetched once more.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .pipeline import Stage, fewer_collections
from .ports import ChangeScanning, Page, Stamp, Stream
from .store import FullRun, Held, ScanState

if TYPE_CHECKING:
    from .sync import StreamStats, SyncEngine


def whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


class ChangeScanSync:
    """One run over one change-scanned stream."""

    def __init__(self, engine: SyncEngine, source: ChangeScanning, stream: Stream, stats: StreamStats, logger,
                 run_id: int) -> None:
        self.engine = engine
        self.store = engine.store
        self.source = source
        self.name: str = source.name  # type: ignore[attr-defined]
        self.stream = stream
        self.model: str = source.model_of(stream)  # type: ignore[attr-defined]
        self.stats = stats
        self.log = logger
        self.run_id = run_id
        # a version read this long after its second began is that second's last one
        self.settle = engine.overlap + timedelta(seconds=1)

    def run(self, *, full: bool) -> None:
        state = self.store.get_scan_state(self.name, self.stream)
        if full or state is None or state.resume_after_id is not None:
            self.read_whole(state, full=full)
        else:
            self.read_changes(state)

    # ------------------------------------------------------------------ whole reads

    def read_whole(self, state: ScanState | None, *, full: bool) -> None:
        first = state is None or state.resume_after_id is not None
        if first and state is not None and not full:  # a first read that was interrupted
            newest, settled, after = state.changed_at, state.settled_at, state.resume_after_id or 0
            self.log.info("sync.read_resumed", after_id=after)
        else:
            newest, after = self.source.newest_change(self.stream), 0
            settled = self._settled_after_read(newest, self.engine.clock()) if newest else None
        run = FullRun(self.run_id, self.name, self.stream) if full else None
        started = self.engine.clock()  # every page's read time: no later than when it was asked for

        def save(item: tuple[Page, ScanState | None]) -> None:
            self._save(item[0], started, run=run, scan_state=item[1])

        # a database server writes a page while the next one is mapped; SQLite writes in this process
        writer = Stage(save, name="creditguard-store") if self.store.server_side else None
        with fewer_collections(), writer or nullcontext():
            for page in self.source.read_all(self.stream, after, self.engine.batch_size):
                progress = None
                if first and newest is not None and page.last_id is not None:
                    progress = ScanState(newest, settled, page.last_id)
                (writer.submit if writer else save)((page, progress))
        if run is not None:
            self.stats.deleted = self.store.sweep_unseen(run, self.model, self.engine.clock())
        if newest is None:  # the stream was empty when the read began: the next read starts over
            return
        if state is not None and not first:  # --full over a stream already read: nothing moves back
            newest = max(newest, state.changed_at)
            marks = [mark for mark in (settled, state.settled_at) if mark is not None]
            settled = max(marks) if marks else None
        self.store.set_scan_state(self.name, self.stream, ScanState(newest, settled, None), self.engine.clock())

    def _settled_after_read(self, newest: datetime, started: datetime) -> datetime:
        """What a whole read that starts now settles: every transaction stamped ``late_commit`` before
        it began had committed, so the read saw it (and the fresh window starts after it anyway)."""
        return whole_second(min(newest - self.engine.overlap, max(newest, started) - self.engine.late_commit))

    # ------------------------------------------------------------------ incremental reads

    def read_changes(self, state: ScanState) -> None:
        started = self.engine.clock()
        fresh_since = whole_second(state.changed_at - self.engine.overlap)
        settled = state.settled_at or fresh_since
        settle_until = whole_second(min(fresh_since, max(state.changed_at, started) - self.engine.late_commit))
        newest = state.changed_at
        if settle_until > settled:  # once: the stretch that settled since the last read
            newest = max(newest, self._scan(settled, settle_until) or newest)
        newest = max(newest, self._scan(fresh_since, None) or newest)
        self.store.set_scan_state(self.name, self.stream, ScanState(newest, max(settled, settle_until), None),
                                  self.engine.clock())

    def _scan(self, since: datetime, until: datetime | None) -> datetime | None:
        """List the records changed in ``[since, until)``, fetch those not held as listed; the newest
        change time listed."""
        newest: datetime | None = None
        for stamps in self.source.scan(self.stream, since, until, self.engine.scan_batch_size):
            if not stamps:
                continue
            self.stats.scanned += len(stamps)
            newest = max([s.changed_at for s in stamps] + ([newest] if newest else []))
            held = self.store.held(self.name, self.stream, self.model, [s.erp_id for s in stamps])
            wanted = [s.erp_id for s in stamps if not self._holds(held.get(s.erp_id), s)]
            for chunk in _chunks(wanted, self.engine.batch_size):
                fetched_at = self.engine.clock()
                self._save(self.source.fetch(self.stream, chunk), fetched_at)
        return newest

    def _holds(self, held: Held | None, stamp: Stamp) -> bool:
        return (held is not None and held.changed_at == stamp.changed_at
                and held.read_at >= stamp.changed_at + self.settle)

    # ------------------------------------------------------------------ writing

    def _save(self, page: Page, fetched_at: datetime, *, run: FullRun | None = None,
              scan_state: ScanState | None = None) -> None:
        """One page in the store.  Whole reads do not confirm the read time of records read again unchanged
        (``settle``): they may have been asked for long before; a later incremental read does.  The pages
        of a first read (it keeps its progress in ``scan_state``) hold records new to the store."""
        records, rejects = page.records, page.rejected
        settle = self.settle if run is None and scan_state is None and page.last_id is None else None
        result = self.store.save_page(self.name, self.stream, self.model, records, rejects, None, run, fetched_at,
                                      scan_state=scan_state, settle=settle, fresh=scan_state is not None)
        written = len(result.written_ids)
        self.stats.read += written + len(rejects)
        self.stats.reread += len(records) - written
        self.stats.written += written
        self.stats.quarantined += result.quarantined
        for reject in rejects:
            self.log.warning("sync.record_quarantined", erp_model=reject.model, erp_id=reject.erp_id,
                             reason=reject.reason)
        self.log.debug("sync.page_committed", records=len(page.entries), written=written,
                       resume_after=scan_state.resume_after_id if scan_state else None)
        self.engine.report_progress(self.source, self.stream, len(page.entries))  # type: ignore[arg-type]


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
