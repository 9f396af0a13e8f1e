"""``creditguard sync``: one pass over the configured sources, or a pass every interval."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import click
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from connector.errors import ConfigError, SourceError
from connector.logs import get_logger
from connector.sync import SourceReport, SyncEngine

from .render import console as rich_console
from .render import print_json, print_table
from .sources import build_source

log = get_logger("creditguard.sync")


def full_sync_due(store: Any, source: str, cron: str, tz: tzinfo, now: datetime) -> bool:
    """Whether the source's next sync should be a full read: ``cron`` (``[sync].full_sync_cron``, in the
    company's time zone) has fired since the store last reconciled the source's deletions (its last
    full read, else its first read).  The very first sync reads everything anyway: not due."""
    if cron == "off":
        return False
    from apscheduler.triggers.cron import CronTrigger

    since = store.reconciled_since(source)
    if since is None:
        return False
    after = since + timedelta(microseconds=1)  # a run started on the very instant it fired has done it
    fires = CronTrigger.from_crontab(cron, timezone=tz).get_next_fire_time(None, after)
    return fires is not None and fires <= now


def sync_engine(config: Any, store: Any, source_config: Any = None, progress: Any = None) -> SyncEngine:
    """The engine for one source (its own ``batch_size`` if it has one) as ``[sync]`` configures it."""
    sync = config.sync
    return SyncEngine(
        store,
        batch_size=source_config.effective_batch_size(sync) if source_config is not None else sync.batch_size,
        overlap_seconds=float(sync.overlap_seconds),
        late_commit_seconds=float(sync.late_commit_seconds),
        progress=progress,
    )


def report_expired_reservations(store: Any) -> None:
    """Approvals at confirmation whose order never showed up: their reservation expired (logged once each)."""
    for r in store.report_expired_reservations(datetime.now(UTC)):
        log.warning("check.reservation_expired", source=r.source, order=r.order_number, order_erp_id=r.order_erp_id,
                    credit_group=r.credit_group_id, amount=str(r.amount), currency=r.currency,
                    approved_at=r.created_at.isoformat(), expired_at=r.expires_at.isoformat())


def _selected_sources(config: Any, source_name: str | None) -> list[Any]:
    if source_name:
        return [config.source(source_name)]
    sources = list(config.enabled_sources)
    if not sources:
        raise ConfigError(f"{config.path}: no enabled [[source]]")
    return sources


def sync_all(config: Any, store: Any, *, full: bool, source_name: str | None,
             progress: Any = None) -> tuple[list[SourceReport], list[SourceError]]:
    """Sync every selected source; a failing source does not stop the others."""
    reports: list[SourceReport] = []
    errors: list[SourceError] = []
    for source_config in _selected_sources(config, source_name):
        engine = sync_engine(config, store, source_config, progress)
        source = build_source(source_config, store)
        try:
            report = engine.sync_source(source, full=full)
        finally:
            source.close()
        reports.append(report)
        errors.extend(report.errors)
    report_expired_reservations(store)
    return reports, errors


def run_sync(config: Any, store: Any, *, full: bool, source_name: str | None, as_json: bool) -> int:
    console = rich_console(stderr=True)
    if console.is_terminal and not as_json:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} records"),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            tasks: dict[tuple[str, str], Any] = {}

            def advance(source: str, stream: str, n: int) -> None:
                key = (source, stream)
                if key not in tasks:
                    tasks[key] = bar.add_task(f"{source} {stream}", total=None)
                bar.advance(tasks[key], n)

            reports, errors = sync_all(config, store, full=full, source_name=source_name, progress=advance)
    else:
        reports, errors = sync_all(config, store, full=full, source_name=source_name)
    streams = [s for r in reports for s in r.streams]  # every stream, the failed ones with their error
    if as_json:
        print_json({"streams": [s.as_dict() for s in streams],
                    "sources": [{"source": r.source, "server_version": r.server_version,
                                 "connect_calls": r.connect_calls} for r in reports],
                    "errors": [str(e) for e in errors]}, sys.stdout)
    elif streams:
        print_table("Sync", [("source", "Source"), ("stream", "Stream"), ("status", "Status"), ("read", ">Read"),
                             ("written", ">Written"),
                             ("quarantined", ">Quarantined"), ("deleted", ">Deleted"), ("calls", ">Calls"),
                             ("seconds", ">Seconds")],
                    (s.as_dict() for s in streams), rich_console())
    for error in errors:
        click.echo(f"creditguard: error: {error}", err=True)
    return 1 if errors else 0


def run_sync_forever(config: Any, store: Any, *, full: bool, source_name: str | None, as_json: bool) -> None:
    """Sync now, then every ``[sync].interval_seconds``, until SIGINT/SIGTERM."""
    import signal

    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="UTC")
    state = {"full": full}

    def job() -> None:
        reports, errors = [], []
        for source in _selected_sources(config, source_name):
            # --full applies to the first pass; later passes are full when [sync].full_sync_cron says so
            full_now = state["full"] or full_sync_due(store, source.name, config.sync.full_sync_cron,
                                                      config.sync.tzinfo, datetime.now(UTC))
            done, failed = sync_all(config, store, full=full_now, source_name=source.name)
            reports += done
            errors += failed
        state["full"] = False
        for error in errors:
            log.error("sync.source_failed", error=str(error))
        for report in reports:
            log.info("sync.source_done", source=report.source,
                     streams={s.stream: s.as_dict() for s in report.streams})

    scheduler.add_job(job, "interval", seconds=config.sync.interval_seconds, next_run_time=datetime.now(UTC),
                      coalesce=True, max_instances=1, misfire_grace_time=60, id="sync")

    def stop(_signum, _frame) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()
