"""The Odoo implementation of :class:`connector.ports.ERPSource`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connector.domain import Company, SyncedRecord
from connector.errors import BadRecord, FatalError
from connector.logs import get_logger
from connector.pipeline import prefetch
from connector.ports import Cursor, Entry, Page, Rejected, SourceInfo, Stamp, Stream

from . import mapping
from .client import OdooClient
from .versions import (ADDON_ORDER_FIELDS, COMPANY_FIELDS, MOVE_FIELDS, PARTIAL_FIELDS, PARTNER_FIELDS, RATE_FIELDS,
                       RECEIVABLE_LINE_FIELDS, OdooVersion)

log = get_logger("creditguard.odoo")

ID_ORDER = "id asc"
NEWEST_ORDER = "write_date desc, id desc"
STAMP_FIELDS = ["write_date"]
ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True, slots=True)
class _StreamSpec:
    model: str
    base_domain: tuple
    company_domain: Callable[[list[int]], list]
    mapper: Callable[[mapping.MappingContext, dict[str, Any]], SyncedRecord]


def _shared_or(companies: list[int]) -> list:
    return ["|", ("company_id", "=", False), ("company_id", "in", companies)]


def _only(companies: list[int]) -> list:
    return [("company_id", "in", companies)]


STREAMS: dict[Stream, _StreamSpec] = {
    Stream.CUSTOMERS: _StreamSpec("res.partner", (), _shared_or, mapping.map_partner),
    Stream.INVOICES: _StreamSpec(
        "account.move", (("move_type", "in", ["out_invoice", "out_refund"]),), _only, mapping.map_move
    ),
    Stream.ORDERS: _StreamSpec("sale.order", (), _only, mapping.map_order),
    Stream.CURRENCY_RATES: _StreamSpec("res.currency.rate", (), _shared_or, mapping.map_rate),
    # every receivable item with a partner, open or not and whatever its entry's state: an item that is paid, or
    # whose entry goes back to draft, is read again with its new residual or state (a domain on open items would
    # lose sight of it); payments on account and credit notes are items too
    Stream.RECEIVABLES: _StreamSpec(
        "account.move.line", (("account_type", "=", "asset_receivable"), ("partner_id", "!=", False)), _only,
        mapping.map_receivable_line,
    ),
}


SETTLEMENT_CHUNK = 5000  # reconciliations asked for per call
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


class OdooSource:
    """Reads customers, invoices, orders and currency rates from one Odoo database."""

    def __init__(self, name: str, client: OdooClient, companies: list[int] | None = None) -> None:
        self.name = name
        self.client = client
        self.companies = list(companies or [])
        self.version: OdooVersion | None = None
        self.addon = False  # the credit_guard addon is installed: orders carry hold fields
        self.addon_order_fields: tuple[str, ...] = ()  # those of ADDON_ORDER_FIELDS its installed version has
        self._default_currency: str | None = None
        self._settlements_readable = True  # the user may read account.partial.reconcile (settlement dates)

    @classmethod
    def from_config(cls, config: Any) -> "OdooSource":
        """Build from a ``[[source]]`` entry of the configuration."""
        client = OdooClient(
            source=config.name,
            url=str(config.url),
            database=config.database,
            username=config.username,
            secret=config.secret,
            protocol=config.protocol,
            timeout=float(config.timeout),
            verify_tls=config.verify_tls,
            ca_file=str(config.ca_file) if config.ca_file else None,
            retry_attempts=config.retry_attempts,
            max_answer_mb=getattr(config, "max_answer_mb", None),
            call_deadline=getattr(config, "call_deadline_seconds", None),
        )
        return cls(config.name, client, list(config.companies or []))

    @property
    def calls(self) -> int:
        return self.client.calls

    # ------------------------------------------------------------- ERPSource

    def open(self) -> SourceInfo:
        info = self.client.server_version()
        self.version = OdooVersion.from_version_info(info)
        if not self.version.supported:
            log.warning("odoo.version_unsupported", source=self.name, version=self.version.label)
        self.client.login()
        companies = self._read_companies()
        if not companies:
            raise FatalError(self.name, "the user sees no company (check its allowed companies)")
        self._default_currency = companies[0].currency
        self.addon = self.client.module_installed("credit_guard")
        self.addon_order_fields = self._addon_order_fields() if self.addon else ()
        log.info("odoo.connected", source=self.name, version=self.version.label,
                 protocol=self.client.protocol, companies=len(companies))
        return SourceInfo(self.name, "odoo", self.version.label, tuple(companies))

    def streams(self) -> tuple[Stream, ...]:
        return (Stream.CUSTOMERS, Stream.INVOICES, Stream.ORDERS, Stream.CURRENCY_RATES, Stream.RECEIVABLES)

    def model_of(self, stream: Stream) -> str:
        return STREAMS[stream].model

    def count(self, stream: Stream) -> int:
        spec = STREAMS[stream]
        return self.client.search_count(spec.model, self._domain(spec), context=self._context())

    # every stream is read by change scans: write_date is one value per transaction, in whole seconds
    def scans(self, stream: Stream) -> bool:
        return stream in STREAMS

    def newest_change(self, stream: Stream) -> datetime | None:
        spec = STREAMS[stream]
        raws = self.client.search_read(spec.model, self._domain(spec), STAMP_FIELDS, limit=1, order=NEWEST_ORDER,
                                       context=self._context())
        return mapping.record_key(raws[0])[0] if raws and mapping.record_key(raws[0]) else None

    def read_all(self, stream: Stream, after_id: int, batch_size: int) -> Iterator[Page]:
        """Every record above ``after_id``, paged on the id alone (never on write_date, which thousands of
        records can share and which RPC reports in whole seconds).  The next page is asked for as soon as
        the last one has arrived, while it is mapped and written."""
        spec = STREAMS[stream]
        ctx = mapping.MappingContext(self.name, spec.model, self._default_currency or "USD")
        for raws, last in prefetch(self._pages_by_id(stream, after_id, batch_size)):
            yield self._map_page(spec.model, ctx, spec.mapper, raws, last_id=last)

    def _pages_by_id(self, stream: Stream, after_id: int, batch_size: int) -> Iterator[tuple[list[dict], int]]:
        spec = STREAMS[stream]
        fields = list(self._fields(stream))
        last = int(after_id)
        while True:
            raws = self.client.search_read(spec.model, self._domain(spec) + [("id", ">", last)], fields,
                                           limit=batch_size, order=ID_ORDER, context=self._context())
            if not raws:
                return
            last = max(int(raw["id"]) for raw in raws)
            if stream is Stream.RECEIVABLES:
                self._add_settlement_dates(raws)
            yield raws, last
            if len(raws) < batch_size:
                return

    def scan(self, stream: Stream, since: datetime, until: datetime | None, batch_size: int) -> Iterator[list[Stamp]]:
        """Ids and write dates of the records written in ``[since, until)``: a second is a half-open range
        (``>=`` its start, ``<`` the next), since ``=`` on a whole second matches none of the records
        Odoo stamped with microseconds; paged on the id."""
        spec = STREAMS[stream]
        window = [("write_date", ">=", since.strftime(ODOO_DATETIME))]
        if until is not None:
            window.append(("write_date", "<", until.strftime(ODOO_DATETIME)))
        last = 0
        while True:
            raws = self.client.search_read(spec.model, self._domain(spec) + window + [("id", ">", last)],
                                           STAMP_FIELDS, limit=batch_size, order=ID_ORDER, context=self._context())
            if not raws:
                return
            last = max(int(raw["id"]) for raw in raws)
            yield [Stamp(str(key[1]), key[0]) for key in map(mapping.record_key, raws) if key is not None]
            if len(raws) < batch_size:
                return

    def fetch(self, stream: Stream, erp_ids: Sequence[str]) -> Page:
        spec = STREAMS[stream]
        ctx = mapping.MappingContext(self.name, spec.model, self._default_currency or "USD")
        ids = [int(i) for i in erp_ids]
        raws = self.client.search_read(spec.model, self._domain(spec) + [("id", "in", ids)],
                                       list(self._fields(stream)), order=ID_ORDER, context=self._context())
        if stream is Stream.RECEIVABLES:
            self._add_settlement_dates(raws)
        return self._map_page(spec.model, ctx, spec.mapper, raws)

    def close(self) -> None:
        self.client.close()

    # -------------------------------------------------------------- helpers

    def _fields(self, stream: Stream) -> tuple[str, ...]:
        assert self.version is not None, "open() first"
        return {
            Stream.CUSTOMERS: PARTNER_FIELDS,
            Stream.INVOICES: MOVE_FIELDS,
            Stream.ORDERS: self.version.order_fields() + self.addon_order_fields,
            Stream.CURRENCY_RATES: RATE_FIELDS,
            Stream.RECEIVABLES: RECEIVABLE_LINE_FIELDS,
        }[stream]

    def _add_settlement_dates(self, raws: list[dict[str, Any]]) -> None:
        """Give each receivable item settled in full the day it was settled (``paid_on``): the latest ``max_date``
        of its partial reconciliations, read in one call per page.  An item with something still open, a
        credit item (a payment, a credit note) or one without reconciliations gets none.  A user who may not read
        reconciliations gets none either (logged once): the rest of the sync is not held up for it."""
        wanted: dict[int, list[dict[str, Any]]] = {}
        for raw in raws:
            partials = raw.get("matched_credit_ids")
            if (not isinstance(partials, list) or not partials or raw.get("amount_residual") != 0
                    or raw.get("amount_residual_currency") != 0 or not _positive(raw.get("balance"))):
                continue
            for partial in partials:
                if type(partial) is int:
                    wanted.setdefault(partial, []).append(raw)
        if not wanted or not self._settlements_readable:
            return
        try:
            found = []
            ids = sorted(wanted)
            for start in range(0, len(ids), SETTLEMENT_CHUNK):
                found += self.client.search_read("account.partial.reconcile",
                                                 [("id", "in", ids[start:start + SETTLEMENT_CHUNK])],
                                                 list(PARTIAL_FIELDS), context=self._context())
        except FatalError as exc:
            self._settlements_readable = False
            log.warning("odoo.settlements_unreadable", source=self.name, error=str(exc),
                        detail="payment dates (days late, share paid late) are not synced")
            return
        for partial in found:  # an answer that is not what Odoo sends is left out (the item stays undated)
            if not isinstance(partial, dict) or type(partial.get("id")) is not int:
                continue
            day = partial.get("max_date")
            if not isinstance(day, str) or not _ISO_DAY.fullmatch(day):
                continue
            for raw in wanted.get(partial["id"], ()):
                if day > (raw.get("paid_on") or ""):
                    raw["paid_on"] = day

    def _addon_order_fields(self) -> tuple[str, ...]:
        """The addon's order fields the installed version of it has (an older one has no release tier or reason:
        asking for a field Odoo does not know is a fault, so they are not asked for)."""
        present = self.client.fields_present("sale.order", ADDON_ORDER_FIELDS)
        fields = tuple(name for name in ADDON_ORDER_FIELDS if name in present)
        missing = [name for name in ADDON_ORDER_FIELDS if name not in present]
        if missing:
            log.info("odoo.addon_fields_missing", source=self.name, fields=",".join(missing),
                     detail="an older credit_guard: these fields are not synced until it is updated")
        return fields

    def _context(self) -> dict[str, Any]:
        # archived records are synced too, so that archiving is seen as a change
        context: dict[str, Any] = {"active_test": False}
        if self.companies:
            context["allowed_company_ids"] = self.companies
        return context

    def _domain(self, spec: _StreamSpec) -> list:
        domain = [tuple(leaf) for leaf in spec.base_domain]
        if self.companies:
            domain += spec.company_domain(self.companies)
        return domain

    @staticmethod
    def _map_page(model: str, ctx: mapping.MappingContext, mapper, raws: list[dict[str, Any]],
                  last_id: int | None = None) -> Page:
        entries: list[Entry] = []
        for raw in raws:
            try:
                record = mapper(ctx, raw)
            except BadRecord as exc:
                key = mapping.record_key(raw)
                rejected = Rejected(model, exc.erp_id, exc.reason, raw, key[0] if key else None)
                entries.append(Entry(Cursor(*key) if key else None, rejected))
            else:
                entries.append(Entry(Cursor(record.changed_at, raw["id"]), record))
        return Page(model=model, entries=tuple(entries), last_id=last_id)

    def _read_companies(self) -> list[Company]:
        domain = [("id", "in", self.companies)] if self.companies else []
        raws = self.client.search_read("res.company", domain, list(COMPANY_FIELDS), context=self._context())
        ctx = mapping.MappingContext(self.name, "res.company", "USD")
        by_id = {}
        for raw in raws:
            try:
                company = mapping.map_company(ctx, raw)
            except BadRecord as exc:
                raise FatalError(self.name, f"cannot read company: {exc}") from None
            by_id[company.erp_id] = company
        if self.companies:  # the configured order decides the default company
            return [by_id[str(c)] for c in self.companies if str(c) in by_id]
        return list(by_id.values())
