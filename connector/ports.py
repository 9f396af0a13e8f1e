"""The ports an ERP adapter implements for the sync engine.

An adapter reads one *stream* (a record type) page by page from a cursor and
returns domain records; records it cannot map come back as :class:`Rejected`
so that the engine can quarantine them while the rest of the page syncs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from .domain import Company, SyncedRecord, quick_init


class Stream(StrEnum):
    CUSTOMERS = "customers"
    INVOICES = "invoices"
    ORDERS = "orders"
    CURRENCY_RATES = "currency_rates"
    RECEIVABLES = "receivables"  # open items: instalments, credit notes, unapplied payments (domain.ReceivableItem)


@quick_init
@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """Position in a stream: the ERP change time (UTC) and id of a record.

    Streams are read in (changed_at, id) order, so a cursor says "everything
    up to and including this record has been seen".
    """

    changed_at: datetime
    last_id: int

    def before(self, seconds: float) -> "Cursor":
        """The start of the overlap window: ``seconds`` earlier, from the first id."""
        return Cursor(self.changed_at - timedelta(seconds=seconds), 0)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A raw ERP record that could not be mapped, with the reason and the payload."""

    model: str
    erp_id: str
    reason: str
    payload: dict[str, Any]
    changed_at: datetime | None = None  # its ERP change time, when it has a usable one


@quick_init
@dataclass(frozen=True, slots=True)
class Stamp:
    """One record as a cheap scan lists it: its ERP id and its change time as the ERP reports it."""

    erp_id: str
    changed_at: datetime


@quick_init
@dataclass(frozen=True, slots=True)
class Entry:
    """One raw record of a page: its stream position and what it mapped to."""

    position: Cursor | None  # None when the ERP record has no usable change time
    item: SyncedRecord | Rejected


@dataclass(frozen=True, slots=True)
class Scope:
    """One part of a snapshot stream (the records of one customer) and what it looked like.

    Sources without change times read snapshot streams whole; a source that can tell cheaply
    that a part has not changed (a fingerprint such as the customer's credit-master totals)
    reports the part with ``unchanged=True`` instead of re-reading it, and the engine keeps the
    part's stored records.  ``recheck_at``: read the part again then at the latest, even when
    the fingerprint has not moved (it cannot see every change).
    """

    key: str  # e.g. the customer's erp_id
    fingerprint: str
    recheck_at: datetime
    unchanged: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a stream, in read order.

    Rejected records keep their position so that the engine advances past
    them; the ids of every entry serve to reconcile full reads.  ``scopes``: the
    parts of a snapshot stream this page covers (see :class:`Scope`).
    """

    model: str
    entries: tuple[Entry, ...]
    scopes: tuple[Scope, ...] = ()
    last_id: int | None = None  # pages of ChangeScanning.read_all: the highest ERP id read so far

    @property
    def records(self) -> list[SyncedRecord]:
        return [e.item for e in self.entries if not isinstance(e.item, Rejected)]

    @property
    def rejected(self) -> list[Rejected]:
        return [e.item for e in self.entries if isinstance(e.item, Rejected)]

    @property
    def position(self) -> Cursor | None:
        positions = [e.position for e in self.entries if e.position is not None]
        return max(positions) if positions else None


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What an adapter learnt when it connected."""

    name: str
    kind: str
    server_version: str
    companies: tuple[Company, ...] = field(default_factory=tuple)


class ERPSource(Protocol):
    """What the sync engine needs from an ERP adapter."""

    name: str

    @property
    def calls(self) -> int:
        """ERP calls made so far (for statistics and benchmarks)."""

    def open(self) -> SourceInfo:
        """Connect, authenticate, detect the server version. Raises FatalError/RetryableError."""

    def streams(self) -> tuple[Stream, ...]:
        """The streams this source provides, in the order they should sync."""

    def model_of(self, stream: Stream) -> str:
        """The ERP model (table, BAPI) behind ``stream``, part of every record's key."""

    def read(self, stream: Stream, since: Cursor | None, batch_size: int) -> Iterator[Page]:
        """Pages of records changed after ``since`` (all records when ``since`` is None),
        in (changed_at, id) order."""

    def count(self, stream: Stream) -> int:
        """How many records a full read of ``stream`` returns."""

    def close(self) -> None: ...


class ChangeScanning(Protocol):
    """What a source offers for streams whose change times many records can share.

    Odoo stamps every record written in one transaction with the transaction's start and reports
    it in whole seconds, so an import or a mass action gives thousands of records one change
    time, and a long transaction commits records stamped before others already read.  Such
    streams are not paged on (change time, id): a whole read pages on the id alone; an
    incremental read lists the records changed since a moment (ids and change times only, no
    record bodies) and fetches only those the store does not hold as listed.  See docs/sync.md.
    """

    def scans(self, stream: Stream) -> bool:
        """Whether ``stream`` is read this way."""

    def newest_change(self, stream: Stream) -> datetime | None:
        """The latest change time in the stream (None when it is empty): one call."""

    def read_all(self, stream: Stream, after_id: int, batch_size: int) -> Iterator[Page]:
        """Every record with an id above ``after_id``, in id order, ``batch_size`` per page; each page
        says its highest id (``Page.last_id``) so that an interrupted read can resume after it."""

    def scan(self, stream: Stream, since: datetime, until: datetime | None, batch_size: int) -> Iterator[list[Stamp]]:
        """The records whose change time lies in ``[since, until)`` (no upper bound when ``until`` is
        None), as stamps in id order, ``batch_size`` per list.  Both bounds are whole seconds."""

    def fetch(self, stream: Stream, erp_ids: Sequence[str]) -> Page:
        """The named records (those gone from the ERP are absent)."""


class ERPWriter(Protocol):
    """What the outbox needs from an adapter that writes back into its ERP.

    ``apply`` brings the target to the entry's absolute state.  It first checks
    whether the effect is already there (an earlier attempt may have succeeded
    before its answer was lost), so applying an entry twice changes nothing.
    It returns a short description of what it did, and raises the core's
    errors (RetryableError, FatalError, AmbiguousWrite) when it cannot.
    """

    def apply(self, entry: Any) -> str: ...
