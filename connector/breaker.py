"""A circuit breaker per source: stop hammering an ERP that is down.

After ``failures`` transient failures in a row the circuit opens: jobs for the
source are skipped until ``cooldown`` has passed, then one try is let through
(half open); a success closes it again.  The state is reported in ``/readyz``
and the metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Breaker:
    failures: int = 3
    cooldown: timedelta = timedelta(seconds=300)
    clock: Callable[[], datetime] = _utcnow
    consecutive: int = 0
    opened_at: datetime | None = None
    last_error: str = ""

    @property
    def open(self) -> bool:
        return self.opened_at is not None

    def allow(self) -> bool:
        """Whether a job may talk to the ERP now (closed, or half open after the cooldown)."""
        return self.opened_at is None or self.clock() - self.opened_at >= self.cooldown

    def success(self) -> None:
        self.consecutive = 0
        self.opened_at = None
        self.last_error = ""

    def failure(self, error: str) -> None:
        self.consecutive += 1
        self.last_error = error
        if self.consecutive >= self.failures:
            self.opened_at = self.clock()  # (re)opened: a failed half-open try waits a full cooldown again
