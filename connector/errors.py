"""One error taxonomy for everything that crosses the ERP boundary.

Adapters translate their transport and protocol errors into these classes at
the lowest layer; the core decides what to do by class, never by message text:

* :class:`RetryableError` — the ERP may answer later (connection refused or
  reset, timeout, HTTP 429/502/503/504, server busy).  Retried with backoff.
* :class:`FatalError` — retrying will not help (access denied, unknown
  database, bad configuration).  The run for that source stops.
* :class:`BadRecord` — one record cannot be mapped.  It is quarantined; the
  rest of the batch goes on.
* :class:`AmbiguousWrite` — a write timed out after it was sent; reconcile
  before any resend.

Messages never contain credentials.
"""

from __future__ import annotations


class CreditGuardError(Exception):
    """Base class of every error CreditGuard raises on purpose."""


class ConfigError(CreditGuardError):
    """The configuration cannot be used; the message names file, line and key."""


class SourceError(CreditGuardError):
    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.detail = message


class RetryableError(SourceError):
    """A transient failure: the same call may succeed later."""


class RecordLocked(RetryableError):
    """One record is being edited in the ERP; the ERP itself answers.  Retry that record later
    without stopping work on the others."""


class FatalError(SourceError):
    """A failure that retrying cannot fix."""


class AuthenticationFailed(FatalError):
    """Wrong login, password or API key."""


class AmbiguousWrite(SourceError):
    """A write whose outcome is unknown (sent, then timed out)."""


class BadRecord(CreditGuardError):
    """A record that cannot be mapped into the domain model."""

    def __init__(self, model: str, erp_id: str, reason: str) -> None:
        super().__init__(f"{model} {erp_id}: {reason}")
        self.model = model
        self.erp_id = erp_id
        self.reason = reason


def exception_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from (HTTP clients wrap socket and TLS errors)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen
