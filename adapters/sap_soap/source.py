"""The SAP (SOAP, RFC-based web services) implementation of :class:`connector.ports.ERPSource`.

SAP's BAPIs have no change timestamps: customers, open items and orders are
*snapshot* streams — read in full each cycle, every entry without position
(``Entry.position is None``).  The engine treats such reads as full reads (mark
and sweep); unchanged records are recognised by their content hash and not
written.  Currency rates are the exception: TCURR rows are dated (valid from),
so that stream has positions and a cursor, and its history accumulates in the
store (see :mod:`adapters.sap_soap.rates`).  Receivable items cleared since the last read get their clearing
date from one more open-item call at a past key date, when the source is given the store's items
(``stored_items``, :func:`store_items`).  See README.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connector.domain import Company, ReceivableItem
from connector.errors import BadRecord, FatalError
from connector.logs import get_logger
from connector.ports import Cursor, Entry, Page, Rejected, Scope, SourceInfo, Stream

from . import fingerprints, mapping, rates
from .client import SapClient
from .errors import CustomerError

log = get_logger("creditguard.sap")

MODELS = {Stream.CUSTOMERS: "KNA1", Stream.INVOICES: "BSID", Stream.ORDERS: "VBAK",
          Stream.CURRENCY_RATES: mapping.RATE_MODEL, Stream.RECEIVABLES: "BSID"}


def _utcnow() -> datetime:
    return datetime.now(UTC)


SHARE_LIMIT = 5000  # customers whose list rows and credit masters a sync keeps for all its streams
CLEARING_CALLS = 3  # past key dates asked at most per customer and company code for the clearing of vanished items
SETTLED_DAYS = 1130  # settled items are reported again this long after their clearing (37 months: payment_months ≤ 36)

StoredItems = Callable[[str], Iterable[ReceivableItem]]


def store_items(store: Any, source: str) -> StoredItems:
    """``stored_items`` from the store the source syncs into: a customer's receivable items as the last sync left
    them (not deleted).  SAP's credit group is the customer itself."""

    def items(customer: str) -> list[ReceivableItem]:
        return [i for i in store.iter_receivables(source, customer=customer) if i.customer_id == customer]

    return items


class SapSoapSource:
    """Reads customers (KNA1 + KNKK), open items (BSID), sales orders (VBAK) and exchange rates (TCURR)
    of one SAP client."""

    kind = "sap_soap"

    def __init__(
        self,
        name: str,
        client: SapClient,
        company_codes: list[str],
        sales_organization: str | Mapping[str, str],
        credit_control_area: str | None = None,
        timezone: str = "UTC",
        *,
        company_currencies: Mapping[str, str] | None = None,
        curr_internal: bool = False,
        rate_type: str = "M",
        rates_history_days: int = 400,
        reconcile_hours: float = 24,
        credit_list: bool = False,
        stored_items: StoredItems | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not company_codes:
            raise FatalError(name, "no company code configured")
        self.name = name
        self.client = client
        self.company_codes = [str(c) for c in company_codes]
        # sales organization -> company code the orders count for
        if isinstance(sales_organization, str):
            self.sales_organizations = {sales_organization: self.company_codes[0]}
        else:
            self.sales_organizations = dict(sales_organization)
        self.credit_control_area = credit_control_area
        self.timezone = timezone
        ZoneInfo(timezone)  # fail early on a bad name
        self.company_currencies = dict(company_currencies or {})
        self.rate_type = rate_type
        if rates_history_days < 1:
            raise FatalError(name, f"rates_history_days must be at least 1, got {rates_history_days}")
        self.rates_history_days = rates_history_days
        if reconcile_hours <= 0:
            raise FatalError(name, f"reconcile_hours must be positive, got {reconcile_hours}")
        self.reconcile = timedelta(hours=reconcile_hours)  # re-read unchanged customers at least this often
        self.credit_list = credit_list  # credit masters a page at a time (ZCG_CREDIT_LIST), not one per customer
        # the receivable items the store holds of a customer: those gone from the open list are looked up at a past
        # key date for their clearing date (settled, not swept), and the settled ones are reported again
        self.stored_items = stored_items
        self.clearing_calls = 0  # past-key-date calls for vanished items, last RECEIVABLES read
        self.clock = clock
        self._known: dict[Stream, dict[str, Scope]] = {}  # fingerprints of the last read (remember_scopes)
        self._credit_rows: dict[str, tuple[dict[str, Any] | None, ...]] = {}  # credit masters, this sync
        self._pages: dict[int, list[list[dict[str, Any]]]] = {}  # the customer list by page size, this sync
        self._shared = True  # the customer list and credit masters are kept for the next stream (a short list)
        self.share_limit = SHARE_LIMIT
        self._failed: set[str] = set()  # customers whose records could not be read, this stream
        self.rate_key_dates: list[date] = []  # key dates the last CURRENCY_RATES read asked (its cost)
        self.ctx = mapping.MappingContext(name, timezone, curr_internal)
        self.special_gl_skipped = 0  # special G/L items (down payments…) left out of INVOICES, last read
        self._companies: tuple[Company, ...] = ()
        # the open items each customer's INVOICES read brought, this sync (a short list only): RECEIVABLES maps the
        # same items without asking SAP again
        self._open_items: dict[str, list[dict[str, Any]]] = {}

    @property
    def calls(self) -> int:
        return self.client.calls

    def is_snapshot(self, stream: Stream) -> bool:
        """Every stream but the rates: their TCURR rows are dated, so rate history accumulates."""
        return stream is not Stream.CURRENCY_RATES

    # ------------------------------------------------------------- ERPSource

    def remember_scopes(self, stream: Stream, scopes: Mapping[str, Scope]) -> None:
        """The fingerprints of ``stream``'s customers at the last read: the next read skips the
        customers whose credit master has not moved (see :mod:`.fingerprints`)."""
        self._known[stream] = dict(scopes)

    def open(self) -> SourceInfo:
        self._credit_rows.clear()  # credit masters and the customer list are read afresh each sync
        self._pages.clear()
        self._open_items.clear()
        self._shared = True
        first = self.client.customer_list(max_rows=1)  # logon + service reachable
        currencies = dict(self.company_currencies)
        missing = [cc for cc in self.company_codes if cc not in currencies]
        if missing:
            currencies.update(self._probe_currencies(missing, first))
        unknown = [cc for cc in self.company_codes if cc not in currencies]
        if unknown:
            raise FatalError(self.name, f"cannot tell the currency of company code(s) {', '.join(unknown)}: "
                                        "no open item found; configure company_currencies")
        self._companies = tuple(Company(self.name, cc, f"Company code {cc}", currencies[cc])
                                for cc in self.company_codes)
        log.info("sap.connected", source=self.name, client=self.client.client, companies=len(self._companies))
        return SourceInfo(self.name, self.kind, f"SAP client {self.client.client}", self._companies)

    def streams(self) -> tuple[Stream, ...]:
        return (Stream.CUSTOMERS, Stream.INVOICES, Stream.ORDERS, Stream.CURRENCY_RATES, Stream.RECEIVABLES)

    def model_of(self, stream: Stream) -> str:
        if stream not in MODELS:
            raise FatalError(self.name, f"stream {stream.value} is not provided by SAP")
        return MODELS[stream]

    def read(self, stream: Stream, since: Cursor | None, batch_size: int) -> Iterator[Page]:
        """Snapshot streams: everything, ``batch_size`` customers per page (``since`` is ignored).
        Currency rates: see :meth:`_rate_pages`."""
        model = self.model_of(stream)
        if stream is Stream.CURRENCY_RATES:
            yield from self._rate_pages(since, batch_size)
            return
        per_customer = {
            Stream.CUSTOMERS: self._customer_entries,
            Stream.INVOICES: self._invoice_entries,
            Stream.ORDERS: self._order_entries,
            Stream.RECEIVABLES: self._receivable_entries,
        }[stream]
        if stream is Stream.INVOICES:
            self.special_gl_skipped = 0
        if stream is Stream.RECEIVABLES:
            self.clearing_calls = 0
        key_date = self._today().isoformat()
        known = self._known.pop(stream, {})
        self._failed.clear()
        now = self.clock()
        size = max(1, batch_size)
        entries: list[Entry] = []
        scopes: list[Scope] = []
        for customers in self._customer_pages(batch_size):
            if self.credit_list:
                self._prefetch_credit(customers)
            for address in customers:
                customer = mapping.alpha(address.get("Customer") or "")
                mark = fingerprints.fingerprint(stream, address, self._credit_masters(customer))
                prior = known.get(customer)
                if mark is not None and prior is not None and prior.fingerprint == mark and now < prior.recheck_at:
                    scopes.append(Scope(customer, mark, prior.recheck_at, unchanged=True))
                else:
                    read = per_customer(address, key_date)
                    entries.extend(read)
                    if mark is not None and customer not in self._failed:
                        scopes.append(Scope(customer, mark, fingerprints.recheck_at(read, now, self.reconcile,
                                                                                    self._unwatched(customer))))
                # a page ends at a customer once it holds batch_size records or parts: memory stays flat
                # however many items a customer page brings
                if len(entries) + len(scopes) >= size:
                    yield Page(model=model, entries=tuple(entries), scopes=tuple(scopes))
                    entries, scopes = [], []
            if not self._shared:  # a long list: its credit masters are not kept for the next stream
                self._credit_rows.clear()
        if entries or scopes:
            yield Page(model=model, entries=tuple(entries), scopes=tuple(scopes))

    def count(self, stream: Stream) -> int:
        return sum(len(page.entries) for page in self.read(stream, None, 500))

    def close(self) -> None:
        self.client.close()

    # -------------------------------------------------------------- helpers

    def _today(self) -> date:
        """Today in the SAP system's time zone (the key date of the BAPIs)."""
        return self.clock().astimezone(ZoneInfo(self.timezone)).date()

    def _rate_pages(self, since: Cursor | None, batch_size: int) -> Iterator[Page]:
        """Rates valid on some day from the lower bound to today (walk back, :mod:`.rates`), per company
        code, in (changed_at, erp_id) pages; positions ``Cursor(midnight of ValidFrom, 0)``.

        Lower bound: the first day at or after ``since``; without ``since``, today − ``rates_history_days``.
        The rows valid at the key dates asked come back even when older than ``since`` (the engine
        counts them as re-read unless they changed: a corrected current rate or a new pair is seen).
        """
        today = self._today()
        lower = rates.first_day_from(since.changed_at, self.timezone) if since is not None \
            else today - timedelta(days=self.rates_history_days)
        walk = rates.walk_back(self.name, self.client, self.rate_type, today, lower)
        self.rate_key_dates = walk.key_dates
        entries = rates.rate_entries(self.ctx, list(walk.rows.values()), self._company_currencies())
        log.info("sap.rates_read", source=self.name, rate_type=self.rate_type, lower_bound=str(lower),
                 calls=len(walk.key_dates), rows=len(walk.rows), entries=len(entries))
        yield from rates.pages(MODELS[Stream.CURRENCY_RATES], entries, batch_size)

    def _company_currencies(self) -> dict[str, str]:
        """Company code → local currency: as learnt by open(), else as configured."""
        known = {c.erp_id: c.currency for c in self._companies} or self.company_currencies
        missing = [cc for cc in self.company_codes if cc not in known]
        if missing:
            raise FatalError(self.name, f"currency of company code(s) {', '.join(missing)} unknown: open() the "
                                        "source first or configure company_currencies")
        return {cc: known[cc] for cc in self.company_codes}

    def _customer_pages(self, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        """The customer list in pages.  Up to ``share_limit`` customers it is read once per sync and shared
        by the streams (one read for all three; a new customer waits for the next sync), and so are their
        credit masters; a longer list is read by each stream, a page at a time, so that memory does not
        grow with the number of customers."""
        size = max(1, batch_size)
        cached = self._pages.get(size)
        if cached is not None:
            yield from cached
            return
        pages: list[list[dict[str, Any]]] | None = [] if self._shared else None
        kept = 0
        for page in self._list_pages(size):
            if pages is not None:
                kept += len(page)
                if kept <= self.share_limit:
                    pages.append(page)
                else:
                    pages, self._shared = None, False
                    self._credit_rows.clear()
            yield page
        if pages is not None:
            self._pages[size] = pages  # only a complete list is kept

    def _list_pages(self, size: int) -> Iterator[list[dict[str, Any]]]:
        """Keyset paging over BAPI_CUSTOMER_GETLIST: customer number > last one, MAXROWS = batch."""
        after: str | None = None
        while True:
            customers = self.client.customer_list(after=after, max_rows=size)
            if not customers:
                return
            yield customers
            last = customers[-1].get("Customer") or ""
            if len(customers) < size:
                return
            if after is not None and last <= after:
                raise FatalError(self.name, f"customer list paging did not advance past {after}")
            after = last

    def _customer_entries(self, address: dict[str, Any], key_date: str) -> list[Entry]:
        customer = mapping.alpha(address.get("Customer") or "")
        try:
            detail = self.client.customer_detail(customer)
            credit = self._credit(customer)
            return [Entry(None, mapping.map_customer(self.ctx, address, detail, credit))]
        except CustomerError as exc:  # vanished between list and detail
            log.warning("sap.customer_skipped", source=self.name, customer=customer, reason=exc.reason)
            self._failed.add(customer)
            return []
        except BadRecord as exc:
            return [Entry(None, Rejected("KNA1", exc.erp_id, exc.reason, _jsonable(address)))]

    def _credit_pairs(self) -> list[tuple[str, str]]:
        """(company code, credit control area) to read the credit master in: the configured area,
        else the area assigned to each company code (empty ``Kkber``)."""
        if self.credit_control_area:
            return [(self.company_codes[0], self.credit_control_area)]
        return [(cc, "") for cc in self.company_codes]

    def _credit_masters(self, customer: str) -> tuple[dict[str, Any] | None, ...]:
        """The customer's credit master in each area, read once per sync (shared by the streams)."""
        rows = self._credit_rows.get(customer)
        if rows is None:
            rows = tuple(self.client.credit_detail(customer, cc, area) for cc, area in self._credit_pairs())
            self._credit_rows[customer] = rows
        return rows

    def _prefetch_credit(self, customers: list[dict[str, Any]]) -> None:
        """The credit masters of a page of customers into the per-sync cache: one ``ZCG_CREDIT_LIST`` call per
        credit area, for the range from the page's first to its last customer; no call when an earlier stream
        read them.  A customer absent from an answer has no credit master there (None, as
        ``ZFI_CREDIT_DETAIL``'s "no credit data"); one not known in every area (an answer cut at its
        ``max_rows``) is left to :meth:`_credit_masters`, which reads it alone."""
        numbers = sorted(mapping.alpha(a.get("Customer") or "") for a in customers)
        if all(n in self._credit_rows for n in numbers):
            return
        areas = [self._credit_page(cc, area, numbers) for cc, area in self._credit_pairs()]
        for n in numbers:
            if all(n in known for known in areas):
                self._credit_rows[n] = tuple(known[n] for known in areas)

    def _credit_page(self, company_code: str, area: str, numbers: list[str]) -> dict[str, dict[str, Any] | None]:
        """Customer → credit master in one area (None: it has none), for the customers of ``numbers`` (sorted)
        the answer tells about: all of them, or, when it is full (``max_rows`` rows: a customer created in the
        range since the page was listed may have taken a place), those up to its last row."""
        found = {mapping.alpha(r.get("Kunnr") or ""): r
                 for r in self.client.credit_list(company_code, area, numbers[0], numbers[-1], len(numbers))}
        known_to = max(found) if len(found) >= len(numbers) else numbers[-1]
        return {n: found.get(n) for n in numbers if n <= known_to}

    def _unwatched(self, customer: str) -> set[str]:
        """Company codes whose credit control area has no credit master for the customer."""
        if self.credit_control_area:  # one area for every company code
            return set(self.company_codes) if self._credit_masters(customer)[0] is None else set()
        return {cc for (cc, _), row in zip(self._credit_pairs(), self._credit_masters(customer)) if row is None}

    def _credit(self, customer: str) -> mapping.CreditInfo | None:
        """The credit master of the first area that has one: limit, risk category, block."""
        for (_, area), raw in zip(self._credit_pairs(), self._credit_masters(customer)):
            info = mapping.map_credit(raw, customer, area)
            if info is not None:
                return info
        return None

    def _open_item_rows(self, customer: str, key_date: str) -> list[dict[str, Any]] | None:
        """The customer's open items in every company code (special G/L items left out and counted), None when
        they cannot be read (the customer is skipped: its stored records stay)."""
        rows: list[dict[str, Any]] = []
        for company_code in self.company_codes:
            try:
                items = self.client.open_items(customer, company_code, key_date)
            except CustomerError as exc:
                if not exc.not_in_company_code:
                    log.warning("sap.customer_skipped", source=self.name, customer=customer, reason=exc.reason)
                    self._failed.add(customer)
                    return None
                continue
            for raw in items:
                if mapping.is_special_gl(raw):
                    self.special_gl_skipped += 1
                    continue
                rows.append(raw)
        return rows

    def _invoice_entries(self, address: dict[str, Any], key_date: str) -> list[Entry]:
        customer = mapping.alpha(address.get("Customer") or "")
        rows = self._open_item_rows(customer, key_date)
        if rows is None:
            return []
        if self._shared:
            self._open_items[customer] = rows
        entries: list[Entry] = []
        for raw in rows:
            try:
                entries.append(Entry(None, mapping.map_open_item(self.ctx, raw)))
            except BadRecord as exc:
                entries.append(Entry(None, Rejected("BSID", exc.erp_id, exc.reason, _jsonable(raw))))
        return entries

    def _receivable_entries(self, address: dict[str, Any], key_date: str) -> list[Entry]:
        """The customer's open items as receivable items (signed, per due date): those its INVOICES read brought
        this sync, else read again.  An item that cannot be mapped is quarantined by INVOICES (same key), not here."""
        customer = mapping.alpha(address.get("Customer") or "")
        rows = self._open_items.pop(customer, None)
        if rows is None:
            rows = self._open_item_rows(customer, key_date)
            if rows is None:
                return []
        entries: list[Entry] = []
        open_ids: set[str] = set()
        for raw in rows:
            open_ids.add(mapping.item_erp_id(raw))
            try:
                entries.append(Entry(None, mapping.map_open_receivable(self.ctx, raw)))
            except BadRecord:
                continue
        if self.stored_items is not None:
            entries.extend(Entry(None, item) for item in self._settled_items(customer, open_ids, key_date))
        return entries

    def _settled_items(self, customer: str, open_ids: set[str], key_date: str) -> list[ReceivableItem]:
        """The customer's items settled in full that are no longer open: those stored as settled by an earlier
        read, and the stored open items gone from the open list whose clearing SAP shows at a past key date.
        Stored open items it does not show cleared are left out (the sweep marks them deleted, as before)."""
        today = date.fromisoformat(key_date)
        horizon = today - timedelta(days=SETTLED_DAYS)
        settled: list[ReceivableItem] = []
        vanished: dict[str, dict[str, ReceivableItem]] = {}  # company code -> erp_id -> stored open item
        for item in self.stored_items(customer):  # type: ignore[misc]
            if item.erp_id in open_ids:
                continue
            if item.paid_on is not None and not item.is_open:
                if item.paid_on >= horizon:  # older ones are swept: no payment figure reaches back that far
                    settled.append(item)
            elif item.is_open and item.company_id in self.company_codes:
                vanished.setdefault(item.company_id, {})[item.erp_id] = item
        for company_code, items in vanished.items():
            settled.extend(self._cleared(customer, company_code, items, today))
        return settled

    def _cleared(self, customer: str, company_code: str, items: dict[str, ReceivableItem],
                 today: date) -> list[ReceivableItem]:
        """The clearing of items gone from the open list, from ``BAPI_AR_ACC_GETOPENITEMS`` at a past key date:
        it returns the items posted by then and cleared after it with their clearing date.  The key date is the
        latest day any of them was entered (the day of ``changed_at``): every one was posted by then, and cleared
        after it unless cleared on the day the newest one was entered — those are asked again at the latest day
        of their own, up to :data:`CLEARING_CALLS` calls."""
        zone = ZoneInfo(self.timezone)

        def entered(item: ReceivableItem) -> date:
            at = item.changed_at if item.changed_at.tzinfo else item.changed_at.replace(tzinfo=UTC)
            return at.astimezone(zone).date()

        pending = {k: i for k, i in items.items() if i.changed_at != mapping.EPOCH and entered(i) < today}
        found: list[ReceivableItem] = []
        for _ in range(CLEARING_CALLS):
            if not pending:
                break
            key = max(entered(i) for i in pending.values())
            try:
                rows = self.client.open_items(customer, company_code, key.isoformat())
            except CustomerError as exc:
                log.warning("sap.clearing_unreadable", source=self.name, customer=customer,
                            company_code=company_code, reason=exc.reason)
                break
            finally:
                self.clearing_calls += 1
            for raw in rows:
                erp_id = mapping.item_erp_id(raw)
                if pending.pop(erp_id, None) is None:
                    continue
                try:
                    item = mapping.map_cleared_receivable(self.ctx, raw)
                except BadRecord:
                    continue
                if item is not None:
                    found.append(item)
            pending = {k: i for k, i in pending.items() if entered(i) < key}
        log.info("sap.clearing_read", source=self.name, customer=customer, company_code=company_code,
                 vanished=len(items), settled=len(found))
        return found

    def _order_entries(self, address: dict[str, Any], key_date: str) -> list[Entry]:
        customer = mapping.alpha(address.get("Customer") or "")
        entries: list[Entry] = []
        for sales_org, company_code in self.sales_organizations.items():
            try:
                items = self.client.sales_orders(customer, sales_org)
            except CustomerError as exc:
                log.warning("sap.customer_skipped", source=self.name, customer=customer, reason=exc.reason)
                self._failed.add(customer)
                return entries
            for result in mapping.map_orders(self.ctx, items, company_code):
                if isinstance(result, BadRecord):
                    payload = [_jsonable(i) for i in items if (i.get("SdDoc") or "?").strip() == result.erp_id]
                    entries.append(Entry(None, Rejected("VBAK", result.erp_id, result.reason, {"items": payload})))
                else:
                    entries.append(Entry(None, result))
        return entries

    def _probe_currencies(self, company_codes: list[str], first: list[dict[str, Any]]) -> dict[str, str]:
        """Local currency of each company code, from the first open item found (bounded probe)."""
        found: dict[str, str] = {}
        candidates = self.client.customer_list(max_rows=50) if first else []
        key_date = datetime.now(UTC).date().isoformat()
        for company_code in company_codes:
            for address in candidates[:50]:
                try:
                    items = self.client.open_items(mapping.alpha(address["Customer"]), company_code, key_date)
                except CustomerError:
                    continue
                currency = next((i.get("LocCurrcy") for i in items if i.get("LocCurrcy")), None)
                if currency:
                    found[company_code] = currency
                    break
        return found


def _jsonable(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, (str, int, float, bool, type(None))) else str(v)) for k, v in raw.items()}
