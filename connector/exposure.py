"""Exposure of credit groups, in the policy's base currency, from the store.

Exposure = open invoices − open credit notes and unapplied payments + draft invoices
+ confirmed orders not yet invoiced + reservations (approvals given at confirmation whose order the
sync has not brought in yet) + quotations + the order being checked, each
component switched on or off by the policy (reservations with the un-invoiced
orders).  Sums come from grouped SQL (``store.aggregates``); only the conversion
runs in Python, on a handful of rows per group.  A source that syncs its receivable
items (instalments, credit notes, unapplied payments: ``domain.ReceivableItem``) is
counted from them: an invoice is overdue when any of its instalments is, by that
instalment's due date, and the open items add up to the ERP's own receivable balance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from policy.model import Conversion, ExposureSettings

from .money import from_minor, quantize
from .rates import RateTable, RateTables
from .store import Store
from .store.check_reads import CheckReads
from .store.reservations import Reservation

if TYPE_CHECKING:
    from .store.aggregates import ItemSum

COMPONENTS = ("open_invoices", "credit_notes", "draft_invoices", "uninvoiced_orders", "reservations", "quotations",
              "current_order")


@dataclass(frozen=True, slots=True)
class OrderUnderCheck:
    """The order a decision is about (in the store already, or a prospective one)."""

    erp_id: str | None
    amount: Decimal  # the part that adds exposure: un-invoiced amount, or the total of a quotation
    currency: str
    company_id: str | None
    day: date


@dataclass(frozen=True, slots=True)
class Overdue:
    amount: Decimal  # open amount of invoices past the overdue threshold, base currency
    count: int
    oldest_due: date | None
    oldest_open_due: date | None = None  # earliest due date of any open posted invoice, overdue or not

    def days(self, as_of: date) -> int:
        return (as_of - self.oldest_due).days if self.oldest_due else 0


@dataclass(frozen=True, slots=True)
class Exposure:
    source: str
    group: str
    currency: str
    components: dict[str, Decimal]
    by_currency: dict[str, Decimal] = field(default_factory=dict)  # document currencies, unconverted

    @property
    def total(self) -> Decimal:
        return quantize(sum(self.components.values(), Decimal(0)), self.currency)


def earliest(*days: date | None) -> date | None:
    """The earliest of the dates given, ignoring the missing ones."""
    return min(filter(None, days), default=None)


class ExposureCalculator:
    def __init__(self, store: Store, settings: ExposureSettings, base_currency: str, as_of: date,
                 now: datetime | None = None, rate_tables: RateTables | None = None) -> None:
        self.store = store
        self.rate_tables = rate_tables  # shared between checks (the API); else built once for this calculator
        self.settings = settings
        self.base = base_currency
        self.as_of = as_of
        self.now = now or datetime.now(UTC)  # reservations count until they expire
        self._rates: dict[str, RateTable] = {}

    def rates(self, source: str) -> RateTable:
        if self.rate_tables is not None:
            return self.rate_tables.get(source)
        if source not in self._rates:
            self._rates[source] = RateTable.build(self.store.companies(source), self.store.iter_rates(source))
        return self._rates[source]

    def compute(
        self,
        source: str,
        groups: list[str] | None,
        *,
        overdue_days: int = 0,
        order: OrderUnderCheck | None = None,
    ) -> dict[str, tuple[Exposure, Overdue]]:
        """Exposure and overdue figures per credit group (all groups when ``groups`` is None)."""
        by_date = self.settings.conversion is Conversion.DOCUMENT_DATE
        reserved = [r for r in self.store.counting_reservations(source, groups, self.now)
                    if order is None or r.order_erp_id != order.erp_id] if self.settings.uninvoiced_orders else []
        # the order under check counts as such; an order reserved counts by its reservation (a quotation synced
        # before its confirmation does not count as well)
        excluded = {r.order_erp_id for r in reserved} | ({order.erp_id} if order and order.erp_id else set())
        cut = self.as_of - timedelta(days=overdue_days)
        invoice_rows, order_rows = self.store.exposure_sums(
            source, groups, overdue_before=cut, by_date=by_date, exclude_orders=excluded, base_currency=self.base,
        )
        item_rows = self.store.receivable_sums(source, groups, overdue_before=cut, by_date=by_date,
                                               base_currency=self.base)
        return self._fold(source, invoice_rows, order_rows, groups, order if groups is not None else None, reserved,
                          item_rows)

    def reads(self, source: str, group: str, customers: tuple[str, ...], order_erp_id: str | None, *,
              overdue_days: int, disputed: bool, lock: bool = False) -> CheckReads:
        """What :meth:`compute` of ``group`` for that order reads, with the customers and the disputed amount a
        check reads with it, and at confirmation (``lock``) the group's lock for the decision: for the store to
        read it all at once (see :mod:`connector.store.check_reads`)."""
        return CheckReads(source, customers, group, self.now, order_erp_id or None,
                          self.as_of - timedelta(days=overdue_days), self.settings.conversion is Conversion.DOCUMENT_DATE,
                          self.base, self.settings.uninvoiced_orders, disputed, lock)

    def project(
        self, source: str, project: str, *, overdue_days: int = 0, order: OrderUnderCheck | None = None
    ) -> tuple[Exposure, Overdue]:
        """Exposure of one project: its orders and the invoices raised from them (construction)."""
        by_date = self.settings.conversion is Conversion.DOCUMENT_DATE
        invoice_rows, order_rows = self.store.project_sums(
            source, project, overdue_before=self.as_of - timedelta(days=overdue_days), by_date=by_date,
            exclude_orders={order.erp_id} if order and order.erp_id else set(), base_currency=self.base,
        )
        return self._fold(source, invoice_rows, order_rows, [project], order)[project]

    def _fold(self, source, invoice_rows, order_rows, wanted_groups, order,
              reserved: list[Reservation] = (),  # type: ignore[assignment]
              item_rows: list[ItemSum] | None = None) -> dict[str, tuple[Exposure, Overdue]]:
        """Convert grouped sums into components per group, in the base currency.

        With ``item_rows`` (a source that syncs its receivable items) posted documents count by their items:
        instalments make ``open_invoices`` and the overdue figures (each by its own due date), credit notes and
        unapplied payments are netted in ``credit_notes``; the invoices then only give the drafts."""
        rates = self.rates(source)
        by_date = self.settings.conversion is Conversion.DOCUMENT_DATE
        components: dict[str, dict[str, Decimal]] = defaultdict(lambda: {c: Decimal(0) for c in COMPONENTS})
        by_currency: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        overdue: dict[str, list] = defaultdict(lambda: [Decimal(0), 0, None])
        oldest_open: dict[str, date | None] = {}  # due date of the oldest open posted invoice, overdue or not

        def add_open(group: str, currency: str, base: Decimal, doc_open: Decimal, is_overdue: bool, documents: int,
                     oldest_due: date | None) -> None:
            """An open posted invoice (or instalment): open receivable, and overdue when it is."""
            oldest_open[group] = earliest(oldest_open.get(group), oldest_due)
            if self.settings.open_invoices:
                components[group]["open_invoices"] += base
                by_currency[group][currency] += doc_open
            if is_overdue:
                entry = overdue[group]
                entry[0] += base
                entry[1] += documents
                entry[2] = earliest(entry[2], oldest_due)

        for item in item_rows or ():
            day = item.day if by_date and item.day else self.as_of
            if by_date:  # the ERP's own conversion at the document's rate, then company → base
                amount, currency = from_minor(item.open_company_minor, item.company_currency), item.company_currency
            else:
                amount, currency = from_minor(item.open_minor, item.currency), item.currency
            base = rates.convert(amount, currency, self.base, item.company_id, day)
            doc_open = from_minor(item.open_minor, item.currency)
            if item.kind == "instalment":
                add_open(item.credit_group_id, item.currency, base, doc_open, bool(item.overdue and item.open_minor),
                         item.documents, item.oldest_due)
            elif self.settings.credit_notes:  # open credit notes and unapplied payments, signed: netted
                components[item.credit_group_id]["credit_notes"] += base
                by_currency[item.credit_group_id][item.currency] += doc_open
        for row in invoice_rows:
            if item_rows is not None and row.state == "posted":
                continue  # counted by their receivable items
            day = row.day if by_date and row.day else self.as_of
            if by_date:  # the ERP's own conversion at the document's rate, then company → base
                amount_open = from_minor(row.open_company_minor, row.company_currency)
                amount_total = from_minor(row.total_company_minor, row.company_currency)
                currency = row.company_currency
            else:
                amount_open = from_minor(row.open_minor, row.currency)
                amount_total = from_minor(row.total_minor, row.currency)
                currency = row.currency
            doc_open = from_minor(row.open_minor, row.currency)
            doc_total = from_minor(row.total_minor, row.currency)
            if row.state == "posted" and row.kind == "invoice":
                base = rates.convert(amount_open, currency, self.base, row.company_id, day)
                add_open(row.credit_group_id, row.currency, base, doc_open, bool(row.overdue and row.open_minor),
                         row.count, row.oldest_due)
            elif row.state == "posted" and row.kind == "credit_note" and self.settings.credit_notes:
                components[row.credit_group_id]["credit_notes"] -= rates.convert(
                    amount_open, currency, self.base, row.company_id, day)
                by_currency[row.credit_group_id][row.currency] -= doc_open
            elif row.state == "draft" and row.kind == "invoice" and self.settings.draft_invoices:
                components[row.credit_group_id]["draft_invoices"] += rates.convert(
                    amount_total, currency, self.base, row.company_id, day)
                by_currency[row.credit_group_id][row.currency] += doc_total
        for row in order_rows:
            day = row.day if by_date and row.day else self.as_of
            if row.state in ("confirmed", "done") and self.settings.uninvoiced_orders:
                amount, key = from_minor(row.uninvoiced_minor, row.currency), "uninvoiced_orders"
            elif row.state in ("draft", "sent") and self.settings.quotations:
                amount, key = from_minor(row.total_minor, row.currency), "quotations"
            else:
                continue
            components[row.credit_group_id][key] += rates.convert(amount, row.currency, self.base, row.company_id, day)
            by_currency[row.credit_group_id][row.currency] += amount
        for r in reserved:
            day = r.created_at.date() if by_date else self.as_of
            components[r.credit_group_id]["reservations"] += rates.convert(r.amount, r.currency, self.base,
                                                                            r.company_id, day)
            by_currency[r.credit_group_id][r.currency] += r.amount
        wanted = list(wanted_groups) if wanted_groups is not None else sorted(set(components) | set(overdue))
        result: dict[str, tuple[Exposure, Overdue]] = {}
        for group in wanted:
            parts = dict(components[group])
            currencies = dict(by_currency[group])
            if order is not None and self.settings.current_order:
                day = order.day if by_date else self.as_of
                parts["current_order"] = rates.convert(order.amount, order.currency, self.base, order.company_id, day)
                currencies[order.currency] = currencies.get(order.currency, Decimal(0)) + order.amount
            amount, count, oldest = overdue[group]
            result[group] = (
                Exposure(source, group, self.base, {k: quantize(v, self.base) for k, v in parts.items()},
                         {k: v for k, v in currencies.items() if v}),
                Overdue(quantize(amount, self.base), count, oldest, oldest_open.get(group)),
            )
        return result


def rate_tables(store: Store, max_age: float = 60.0) -> RateTables:
    """Rate tables of ``store``'s sources, kept between checks (see :class:`RateTables`)."""
    return RateTables(lambda source: RateTable.build(store.companies(source), store.iter_rates(source)), max_age)
