"""``creditguard run``: the service's main loop.

Signal handlers only set flags; the main loop acts on them (gunicorn's arbiter,
systemd's notify example).  APScheduler runs, per source, the sync and the
enforcement jobs at the configured interval, one instance each, coalesced, with
a misfire grace time; a job that raises is logged and runs again next time.
SIGHUP reloads configuration and policy — a reload that fails validation keeps
the running ones and logs every error.  SIGTERM/SIGINT stop: running jobs
finish (each page is its own transaction, so nothing is half-written), the
store closes, the process exits 0.
"""

from __future__ import annotations

import os
import signal
import threading
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from connector.errors import CreditGuardError
from connector.logs import configure_logging, get_logger
from connector.notify import Notifier, watchdog_interval

log = get_logger("creditguard.daemon")


class Daemon:
    def __init__(self, config_path: str, notifier: Notifier | None = None) -> None:
        self.config_path = config_path
        self.notifier = notifier or Notifier()
        self.config: Any = None
        self.policy: Any = None
        self.store: Any = None
        self.rate_tables: Any = None  # rate tables kept between API checks, renewed after each sync
        self.scheduler: BackgroundScheduler | None = None
        self._wake = threading.Event()
        self._stop = False
        self._reload = False
        self.lock: Any = None
        self.http: Any = None
        self.api_workers: Any = None  # more processes serving the API ([http] workers)
        self.leadership: Any = None
        self.breakers: dict[str, Any] = {}
        self.error_counts: dict[tuple[str, str], int] = {}  # (source, error kind) → count, for /metrics
        self._lead_lock = threading.Lock()
        self._dunning_days: dict[str, Any] = {}  # source → the company's day its dunning last ran

    # ------------------------------------------------------------ load/reload

    def _load(self) -> tuple[Any, Any]:
        """Configuration and policy, both validated; raises CreditGuardError listing every problem."""
        from connector.config import load_config
        from policy.loader import load_policy

        config = load_config(self.config_path)
        policy = load_policy(config.policy.path) if config.policy is not None else None
        return config, policy

    def start(self) -> None:
        from connector.instance import InstanceLock
        from connector.store import Store

        self.config, self.policy = self._load()
        configure_logging(self.config.logging.level, self.config.logging.format)
        self.lock = InstanceLock(self.config.store.url_with_password())
        self.lock.acquire()
        self.store = Store.open(self.config.store.url_with_password())
        from connector.exposure import rate_tables
        from connector.leader import Leadership

        self.rate_tables = rate_tables(self.store)

        self.leadership = Leadership(self.store.engine)
        self.scheduler = BackgroundScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
        self._schedule()
        if self.config.http is not None:
            from .http_api import Api, serve

            http = self.config.http
            http.token()  # a missing token is a configuration error now, not a 500 later
            self.store.checkpoint_in_background()  # SQLite: not in the commit of a credit check
            self.http = serve(Api(self, http.token), http.host, http.port, workers=http.workers, threads=http.threads)
            if http.workers > 1:
                from .api_workers import Workers

                self.api_workers = Workers(self.config_path, http.workers - 1)
                self.api_workers.start()
                self.scheduler.add_job(self.api_workers.keep_alive, "interval", id="http:workers", seconds=5)
            log.info("http.listening", listen=http.listen, processes=http.workers)
        # the jobs start once the API listens: its probes answer (not ready, and why) from the first sync on
        self.scheduler.start()
        self.notifier.ready(self._status())
        log.info("daemon.ready", sources=[s.name for s in self.config.enabled_sources],
                 policy=self.policy.content_hash[:12] if self.policy else None)

    def _schedule(self) -> None:
        assert self.scheduler is not None
        self.scheduler.remove_all_jobs()
        if self.api_workers is not None:
            self.scheduler.add_job(self.api_workers.keep_alive, "interval", id="http:workers", seconds=5)
        now = datetime.now(UTC)
        for source in self.config.enabled_sources:
            self.scheduler.add_job(self._sync_job, "interval", args=[source.name], id=f"sync:{source.name}",
                                   seconds=self.config.sync.interval_seconds, next_run_time=now)
            if self.policy is not None:
                self.scheduler.add_job(self._enforce_job, "interval", args=[source.name],
                                       id=f"enforce:{source.name}", seconds=self.config.sync.interval_seconds)
                if self.config.sync.alerts_cron:
                    from apscheduler.triggers.cron import CronTrigger

                    trigger = CronTrigger.from_crontab(self.config.sync.alerts_cron, timezone=self.config.sync.tzinfo)
                    self.scheduler.add_job(self._alerts_job, trigger, args=[source.name], id=f"alerts:{source.name}")

    def reload(self) -> bool:
        self.notifier.reloading()
        try:
            config, policy = self._load()
        except CreditGuardError as exc:
            for line in str(exc).splitlines():
                log.error("daemon.reload_rejected", error=line)
            self.notifier.ready(self._status("reload rejected, running the previous configuration"))
            return False
        self.config, self.policy = config, policy
        self._schedule()
        if self.api_workers is not None:
            self.api_workers.reload()
        log.info("daemon.reloaded", policy=policy.content_hash[:12] if policy else None)
        self.notifier.ready(self._status())
        return True

    def _status(self, note: str = "") -> str:
        sources = ", ".join(s.name for s in self.config.enabled_sources)
        policy = f"policy {self.policy.name!r} {self.policy.content_hash[:12]}" if self.policy else "no policy"
        return f"running: {sources}; {policy}" + (f"; {note}" if note else "")

    # ------------------------------------------------------------------- jobs

    def _leads(self, source_name: str, job: str) -> bool:
        """Whether this daemon works the source now (the one leader among daemons sharing a store)."""
        with self._lead_lock:  # one advisory-lock connection, used by one job at a time
            leads = self.leadership.try_lead(source_name)
        if not leads:
            log.info("leader.standby", source=source_name, job=job)
        return leads

    def breaker(self, source_name: str) -> Any:
        from datetime import timedelta

        from connector.breaker import Breaker

        sync = self.config.sync
        if source_name not in self.breakers:
            self.breakers[source_name] = Breaker(sync.breaker_failures,
                                                 timedelta(seconds=sync.breaker_cooldown_seconds))
        return self.breakers[source_name]

    def _sync_job(self, source_name: str) -> None:
        from connector.errors import RetryableError

        from .sync_command import sync_all

        if not self._leads(source_name, "sync"):
            return
        logger = log.bind(source=source_name, job="sync")
        breaker = self.breaker(source_name)
        if not breaker.allow():
            logger.info("breaker.skipped", reason=breaker.last_error)
            return
        from .sync_command import full_sync_due

        full = full_sync_due(self.store, source_name, self.config.sync.full_sync_cron, self.config.sync.tzinfo,
                             datetime.now(UTC))
        if full:
            logger.info("sync.full_read", reason="full_sync_cron fired since the last full read")
        try:
            reports, errors = sync_all(self.config, self.store, full=full, source_name=source_name)
        except Exception as exc:  # a job never kills the daemon: log it, run again next time
            logger.exception("daemon.job_failed", error=str(exc))
            return
        finally:
            self.rate_tables.invalidate(source_name)  # the next check reads the rates this sync wrote
        transient = [e for e in errors if isinstance(e, RetryableError)]
        if transient:
            was_open = breaker.open
            breaker.failure(str(transient[0]))
            if breaker.open and not was_open:
                logger.error("breaker.opened", error=breaker.last_error, cooldown=breaker.cooldown.total_seconds())
        elif not errors:
            if breaker.open:
                logger.info("breaker.closed")
            breaker.success()
        for error in errors:
            key = (source_name, error.__class__.__name__)
            self.error_counts[key] = self.error_counts.get(key, 0) + 1
            logger.error("sync.source_failed", error=str(error), error_kind=error.__class__.__name__)
        for report in reports:
            logger.info("sync.source_done", streams={s.stream: s.as_dict() for s in report.streams})
        if not errors:
            self._snapshot(source_name, logger)
            self._dunning(source_name, logger)

    def _snapshot(self, source_name: str, logger: Any) -> None:
        """The day's snapshot of the source, once a day, after its first sync without errors."""
        if self.policy is None:
            return
        from .snapshot_command import take_snapshot

        day = datetime.now(self.config.sync.tzinfo).date()
        try:
            if self.store.has_snapshot(day, source_name):
                return
            result = take_snapshot(self.store, self.policy, [source_name], day,
                                   keep_days=self.config.snapshots.keep_days,
                                   payment_months=self.config.figures.payment_months)
        except Exception as exc:  # a snapshot that fails is taken after the next sync
            logger.exception("snapshot.failed", error=str(exc))
            return
        logger.info("snapshot.taken", day=day.isoformat(), groups=result["groups"], rows=result["rows"],
                    pruned=result["pruned"])

    def _dunning(self, source_name: str, logger: Any) -> None:
        """The day's dunning run of the source, once a day, after its first sync without errors (each step is
        taken once per group and level whatever runs it: a restart that runs it again changes nothing)."""
        if self.policy is None or not self.policy.dunning.levels:
            return
        from .dunning_commands import run_dunning

        day = datetime.now(self.config.sync.tzinfo).date()
        if self._dunning_days.get(source_name) == day:
            return
        try:
            result = run_dunning(self.config, self.store, self.policy, self.config.source(source_name), day)
        except Exception as exc:  # a dunning run that fails runs again after the next sync
            logger.exception("dunning.failed", error=str(exc))
            return
        self._dunning_days[source_name] = day
        actions: dict[str, int] = {}
        for p in result["plans"]:
            actions[p["action"]] = actions.get(p["action"], 0) + 1
        logger.info("dunning.done", day=day.isoformat(), groups=len(result["plans"]), actions=actions,
                    outbox=result.get("outbox"))

    def _enforce_job(self, source_name: str) -> None:
        from .enforce_commands import enforce_source

        if not self._leads(source_name, "enforce"):
            return
        logger = log.bind(source=source_name, job="enforce")
        if not self.breaker(source_name).allow():
            logger.info("breaker.skipped", reason=self.breaker(source_name).last_error)
            return
        try:
            result = enforce_source(self.config, self.store, self.policy, self.config.source(source_name),
                                    alerts=not self.config.sync.alerts_cron)
        except Exception as exc:
            logger.exception("daemon.job_failed", error=str(exc))
            return
        logger.info("enforce.done", checked=result["checked"], held=result["held"],
                    changes=len(result["changes"]), outbox=result.get("outbox"))

    def _alerts_job(self, source_name: str) -> None:
        """Ageing alerts on their own cron schedule."""
        from .enforce_commands import enforce_source

        if not self._leads(source_name, "alerts") or not self.breaker(source_name).allow():
            return
        logger = log.bind(source=source_name, job="alerts")
        try:
            result = enforce_source(self.config, self.store, self.policy, self.config.source(source_name),
                                    holds=False)
        except Exception as exc:
            logger.exception("daemon.job_failed", error=str(exc))
            return
        logger.info("alerts.done", changes=len(result["changes"]), outbox=result.get("outbox"))

    # -------------------------------------------------------------- main loop

    def request_stop(self, *_args: Any) -> None:
        self._stop = True
        self._wake.set()

    def request_reload(self, *_args: Any) -> None:
        self._reload = True
        self._wake.set()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self.request_reload)
        self.start()
        interval = watchdog_interval()
        while not self._stop:
            self._wake.wait(interval)
            self._wake.clear()
            if self._reload and not self._stop:
                self._reload = False
                self.reload()
            self.notifier.watchdog()
        return self.shutdown()

    def _stop_scheduler(self) -> bool:
        """Let running jobs finish, within ``[sync].stop_timeout_seconds``; False if they did not."""
        if not self.scheduler.running:  # stopped before it started (the API could not listen)
            return True
        stopper = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, daemon=True)
        stopper.start()
        stopper.join(self.config.sync.stop_timeout_seconds)
        return not stopper.is_alive()

    def _flush_outboxes(self) -> None:
        """On the way out, push what the outbox can to every reachable ERP this daemon leads."""
        from .enforce_commands import push_outbox

        if self.config is None or self.store is None or self.leadership is None:
            return
        for source in self.config.enabled_sources:
            breaker = self.breakers.get(source.name)
            if (breaker is not None and breaker.open) or not self.leadership.try_lead(source.name):
                continue
            if not self.store.outbox_entries(source=source.name, state="pending", limit=1):
                continue
            try:
                log.info("daemon.outbox_flushed", source=source.name,
                         result=push_outbox(self.config, self.store, source))
            except Exception as exc:  # stopping must not fail
                log.warning("daemon.outbox_flush_failed", source=source.name, error=str(exc))

    def shutdown(self) -> int:
        self.notifier.stopping()
        log.info("daemon.stopping")
        if self.http is not None:
            self.http.close()
        if self.api_workers is not None:
            self.api_workers.stop()
        if self.scheduler is not None and not self._stop_scheduler():
            # a job is still inside an ERP call: its open page is a transaction the exit rolls back,
            # and its cursor still points before it, so nothing is half-written
            log.warning("daemon.stop_timeout", seconds=self.config.sync.stop_timeout_seconds)
            if self.store is not None:
                self.store.close()
            os._exit(0)
        self._flush_outboxes()
        if self.leadership is not None:
            self.leadership.release_all()
        if self.store is not None:
            self.store.close()
        if self.lock is not None:
            self.lock.release()
        log.info("daemon.stopped")
        return 0
