"""The outbox: every write to an ERP is stored first, then applied, exactly once.

An entry carries an idempotency key fixed before the first attempt and the
absolute target state (never a toggle).  ``drain`` applies due entries through
the adapter's :class:`~connector.ports.ERPWriter`; transient failures wait with
exponential backoff and jitter, an entry that keeps failing becomes a dead
letter after ``max_attempts`` and is reported (``creditguard outbox``) and
logged as an alert.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import crashpoints
from .errors import AmbiguousWrite, AuthenticationFailed, RecordLocked, RetryableError, SourceError
from .logs import get_logger
from .ports import ERPWriter
from .store import Store

log = get_logger("creditguard.outbox")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class DrainReport:
    applied: int = 0
    retried: int = 0
    dead: int = 0
    stopped: str | None = None  # why draining stopped early (ERP down, credentials refused)
    results: list[str] = field(default_factory=list)


class Outbox:
    def __init__(
        self,
        store: Store,
        *,
        max_attempts: int = 8,
        base_delay: float = 30.0,
        max_delay: float = 3600.0,
        clock: Callable[[], datetime] = _utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock
        self.rng = rng or random.Random()

    def enqueue(self, *, source: str, kind: str, target_model: str, target_id: str, key: str,
                payload: dict[str, Any], conn: Any = None) -> bool | None:
        """Queue a write (``conn``: in the caller's transaction, together with what calls for it); whether it was
        queued (None: known once that transaction commits, see :meth:`Store.commit_together`)."""
        def logged() -> None:
            log.info("outbox.queued", source=source, kind=kind, target=f"{target_model}:{target_id}", key=key)

        return self.store.outbox_enqueue(source=source, kind=kind, target_model=target_model, target_id=target_id,
                                         key=key, payload=payload, now=self.clock(), conn=conn, on_queued=logged)

    def delay(self, attempts: int) -> timedelta:
        """Exponential backoff with jitter: between half and all of base·2^(n−1), capped."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, attempts - 1))
        return timedelta(seconds=ceiling * (0.5 + self.rng.random() / 2))

    def drain(self, writer: ERPWriter, source: str, limit: int = 100) -> DrainReport:
        report = DrainReport()
        for entry in self.store.outbox_due(source, self.clock(), limit):
            logger = log.bind(source=source, kind=entry.kind, key=entry.key, attempt=entry.attempts + 1)
            try:
                result = writer.apply(entry)
            except AuthenticationFailed as exc:
                report.stopped = str(exc)  # nothing will pass until the credentials are fixed
                logger.error("outbox.push_failed", error=str(exc), error_kind="authentication")
                break
            except (RetryableError, AmbiguousWrite) as exc:
                attempts = entry.attempts + 1
                dead = attempts >= self.max_attempts
                self.store.outbox_failed(entry.id, str(exc), self.clock() + self.delay(attempts), dead)
                if dead:
                    report.dead += 1
                    logger.error("outbox.dead_letter", error=str(exc), alert=True)
                else:
                    report.retried += 1
                    logger.warning("outbox.push_failed", error=str(exc), error_kind=exc.__class__.__name__)
                if isinstance(exc, RetryableError) and not isinstance(exc, RecordLocked):
                    report.stopped = str(exc)  # the ERP is not answering: try again next cycle
                    break
            except SourceError as exc:  # refused for good (validation, access): a dead letter now
                self.store.outbox_failed(entry.id, str(exc), self.clock(), True)
                report.dead += 1
                logger.error("outbox.dead_letter", error=str(exc), alert=True)
            else:
                crashpoints.reached("outbox.applied")
                self.store.outbox_applied(entry.id, result, self.clock())
                report.applied += 1
                report.results.append(f"{entry.kind} {entry.target_model}:{entry.target_id}: {result}")
                logger.info("outbox.applied", result=result)
        return report
