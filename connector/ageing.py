"""Ageing of open receivables: what is not due yet, and for how long the rest has been past due.

The core is pure: :func:`age` takes open items, the policy's bucket boundaries
(``[ageing] buckets``), the day of the report and a currency converter, and
returns an :class:`AgeingReport`:

* one :class:`CompanyAgeing` per company, in the company's currency (the ERP's
  own conversion of each document, so that a company's total ties to its
  receivable balance in the ERP);
* a consolidated section in the policy's base currency (each item converted
  with the ERP's rates, as exposure converts: :class:`connector.rates.RateTable`);
* lines per company, per document currency or per credit group (``by``).

Columns: ``not due`` (due today or later), then one per bucket (``1–30``,
``31–60`` … with the default ``[0, 30, 60, 90, 120]``), then ``over 120``.
Credit notes and unapplied payments are not aged: they are in a ``credits``
column of their own (negative), so that the total of a line is what the
customer owes net, as the ERP's receivable balance shows it.

Days past due are calendar days from the due date to ``as_of``, the day of
the report in the company's time zone (``[sync] timezone``), as the overdue
rule and the ageing alerts count them.

:func:`open_items` is the only code that knows where open items come from.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from policy.model import DEFAULT_AGEING_BUCKETS, Conversion

from .domain import Invoice, InvoiceKind, ReceivableItem, ReceivableKind
from .money import quantize

if TYPE_CHECKING:
    from .store import Store

__all__ = [
    "AgeingLine", "AgeingReport", "By", "Column", "CompanyAgeing", "Convert", "ItemKind", "OpenItem", "age",
    "column_index", "columns", "days_past_due", "open_items", "store_converter",
]


class ItemKind(StrEnum):
    INSTALMENT = "instalment"  # an amount due on one date: an invoice, or one instalment of it
    CREDIT_NOTE = "credit_note"  # an open credit note (negative)
    UNAPPLIED_PAYMENT = "unapplied_payment"  # a payment received but not matched to an invoice (negative)


CREDIT_KINDS = frozenset({ItemKind.CREDIT_NOTE, ItemKind.UNAPPLIED_PAYMENT})


class By(StrEnum):
    COMPANY = "company"
    CURRENCY = "currency"  # the document currency
    GROUP = "group"  # the credit group (commercial entity)


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An open receivable item: what is left to pay of one document on one due date, or an open credit.

    Amounts are signed: instalments positive, credit notes and unapplied payments negative.
    """

    source: str
    kind: ItemKind
    erp_id: str  # the document's id in the ERP (an invoice, a credit note, a payment)
    number: str  # the document's number as people read it
    customer_id: str
    credit_group_id: str
    company_id: str
    currency: str  # the document's currency
    company_currency: str
    due_date: date | None
    amount_open: Decimal  # document currency
    amount_open_company: Decimal  # company currency, as the ERP converted it
    invoice_date: date | None = None

    @property
    def is_credit(self) -> bool:
        return self.kind in CREDIT_KINDS


# ------------------------------------------------------------------------------------------- columns


@dataclass(frozen=True, slots=True)
class Column:
    """One ageing column: items ``first`` to ``last`` days past due (either end open when None)."""

    key: str  # "not_due", "1_30", …, "over_120"
    label: str  # "Not due", "1–30", …, "Over 120"
    first: int | None
    last: int | None


def columns(buckets: Sequence[int] = DEFAULT_AGEING_BUCKETS) -> tuple[Column, ...]:
    """The ageing columns of ``buckets`` (``[0, 30, 60]``: not due, 1–30, 31–60, over 60)."""
    result = [Column("not_due", "Not due", None, buckets[0])]
    for low, high in zip(buckets, buckets[1:]):
        first = low + 1
        key, label = (f"{first}", f"{first}") if first == high else (f"{first}_{high}", f"{first}–{high}")
        result.append(Column(key, label, first, high))
    result.append(Column(f"over_{buckets[-1]}", f"Over {buckets[-1]}", buckets[-1] + 1, None))
    return tuple(result)


def days_past_due(due: date | None, as_of: date) -> int:
    """Calendar days from ``due`` to ``as_of`` (0 or less: not due; no due date: due at once, 0)."""
    return (as_of - due).days if due is not None else 0


def column_index(days: int, buckets: Sequence[int]) -> int:
    """The column of an amount ``days`` past due: 0 (not due) up to ``len(buckets)`` (over the last)."""
    return bisect.bisect_left(buckets, days) if days > buckets[0] else 0


def item_due(item: OpenItem) -> date | None:
    """The day an item falls due: its due date, else its document's date (the ERP's default term)."""
    return item.due_date or item.invoice_date


# ---------------------------------------------------------------------------------------------- report


@dataclass(frozen=True, slots=True)
class AgeingLine:
    """Amounts per column of one line, all in ``currency``."""

    source: str | None  # None on a consolidated currency line (it spans sources)
    key: str  # company erp_id, document currency, or credit group erp_id
    currency: str
    buckets: tuple[Decimal, ...]  # one per ageing column, not due first
    credits: Decimal  # open credit notes and unapplied payments: 0 or negative
    items: int  # open items counted

    @property
    def past_due(self) -> Decimal:
        return sum(self.buckets[1:], Decimal(0))

    @property
    def total(self) -> Decimal:
        """What is owed net: every column and the credits."""
        return sum(self.buckets, self.credits)


@dataclass(frozen=True, slots=True)
class CompanyAgeing:
    """One company's ageing in its own currency."""

    source: str
    company_id: str
    currency: str  # the company's currency: of ``total``, and of the lines unless by currency
    lines: tuple[AgeingLine, ...]  # by currency: each line in its document currency
    total: AgeingLine


@dataclass(frozen=True, slots=True)
class AgeingReport:
    as_of: date
    by: By
    buckets: tuple[int, ...]
    base_currency: str
    companies: tuple[CompanyAgeing, ...]
    lines: tuple[AgeingLine, ...]  # consolidated, in the base currency
    total: AgeingLine  # consolidated, in the base currency

    @property
    def columns(self) -> tuple[Column, ...]:
        return columns(self.buckets)


# (source, amount, from currency, to currency, company erp_id, day) -> amount in the target currency, rounded
Convert = Callable[[str, Decimal, str, str, str | None, date], Decimal]


class _Sums:
    """Running sums of one line."""

    __slots__ = ("buckets", "credits", "items")

    def __init__(self, width: int) -> None:
        self.buckets = [Decimal(0)] * width
        self.credits = Decimal(0)
        self.items = 0

    def add(self, column: int | None, amount: Decimal) -> None:
        if column is None:
            self.credits += amount
        else:
            self.buckets[column] += amount
        self.items += 1

    def line(self, source: str | None, key: str, currency: str) -> AgeingLine:
        return AgeingLine(source, key, currency, tuple(quantize(a, currency) for a in self.buckets),
                          quantize(self.credits, currency), self.items)


def _line_key(item: OpenItem, by: By) -> str:
    if by is By.COMPANY:
        return item.company_id
    if by is By.CURRENCY:
        return item.currency
    return item.credit_group_id


def age(items: Iterable[OpenItem], buckets: Sequence[int], as_of: date, *, by: By | str = By.COMPANY,
        base_currency: str, convert: Convert, conversion: Conversion = Conversion.DOCUMENT_DATE) -> AgeingReport:
    """Age ``items`` on ``as_of`` into the columns of ``buckets``.

    Per company, amounts are in the company's currency (``amount_open_company``), except the lines by
    document currency, which are in that currency (``amount_open``).  The consolidated section converts
    each item into ``base_currency`` as exposure does under ``conversion``: the company amount at the
    rate of the document's date (``document_date``), or the document amount at the rate of ``as_of``
    (``today``).  Every item lands in exactly one column (credits in ``credits``), and every total is the
    sum of its items.
    """
    by = By(by)
    buckets = tuple(buckets)
    width = len(buckets) + 1
    companies: dict[tuple[str, str], tuple[str, dict[str, _Sums], _Sums]] = {}
    lines: dict[tuple[str | None, str], _Sums] = defaultdict(lambda: _Sums(width))
    consolidated = _Sums(width)
    for item in items:
        column = None if item.is_credit else column_index(days_past_due(item_due(item), as_of), buckets)
        company_key = (item.source, item.company_id)
        if company_key not in companies:
            companies[company_key] = (item.company_currency, defaultdict(lambda: _Sums(width)), _Sums(width))
        _currency, company_lines, company_total = companies[company_key]
        key = _line_key(item, by)
        company_lines[key].add(column, item.amount_open if by is By.CURRENCY else item.amount_open_company)
        company_total.add(column, item.amount_open_company)
        if conversion is Conversion.DOCUMENT_DATE:
            base = convert(item.source, item.amount_open_company, item.company_currency, base_currency,
                           item.company_id, item.invoice_date or as_of)
        else:
            base = convert(item.source, item.amount_open, item.currency, base_currency, item.company_id, as_of)
        lines[(None if by is By.CURRENCY else item.source, key)].add(column, base)
        consolidated.add(column, base)
    sections = []
    for (source, company_id), (currency, company_lines, company_total) in sorted(companies.items()):
        sections.append(CompanyAgeing(
            source, company_id, currency,
            tuple(sums.line(source, key, key if by is By.CURRENCY else currency)
                  for key, sums in sorted(company_lines.items())),
            company_total.line(source, company_id, currency)))
    return AgeingReport(
        as_of, by, buckets, base_currency, tuple(sections),
        tuple(sums.line(source, key, base_currency)
              for (source, key), sums in sorted(lines.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))),
        consolidated.line(None, "total", base_currency),
    )


# ------------------------------------------------------------------------------------------- the store


def _invoice_item(invoice: Invoice) -> OpenItem:
    credit = invoice.kind is InvoiceKind.CREDIT_NOTE
    return OpenItem(
        source=invoice.source, kind=ItemKind.CREDIT_NOTE if credit else ItemKind.INSTALMENT,
        erp_id=invoice.erp_id, number=invoice.number, customer_id=invoice.customer_id,
        credit_group_id=invoice.credit_group_id, company_id=invoice.company_id, currency=invoice.currency,
        company_currency=invoice.company_currency, due_date=invoice.due_date,
        amount_open=invoice.sign * invoice.amount_open, amount_open_company=invoice.sign * invoice.amount_open_company,
        invoice_date=invoice.invoice_date,
    )


def _receivable_item(item: ReceivableItem) -> OpenItem:
    return OpenItem(
        source=item.source, kind=_ITEM_KINDS[item.kind], erp_id=item.document_id or item.erp_id,
        number=item.document_number, customer_id=item.customer_id, credit_group_id=item.credit_group_id,
        company_id=item.company_id, currency=item.currency, company_currency=item.company_currency,
        due_date=item.due_date, amount_open=item.amount_open, amount_open_company=item.amount_open_company,
        invoice_date=item.document_date,
    )


_ITEM_KINDS = {ReceivableKind.INSTALMENT: ItemKind.INSTALMENT, ReceivableKind.CREDIT_NOTE: ItemKind.CREDIT_NOTE,
               ReceivableKind.PAYMENT: ItemKind.UNAPPLIED_PAYMENT}


def open_items(store: Store, source: str | None = None, company: str | None = None,
               customer: str | None = None) -> Iterator[OpenItem]:
    """The open receivable items in the store: of one source, one company (its erp_id) and one credit group
    (``customer``: the erp_id of the commercial entity) when given.

    A source that syncs its receivable items (``receivables`` stream: instalments, open credit notes, unapplied
    payments, each with its own due date; see :meth:`Store.has_receivables`) gives them as they are; for any
    other source each open posted invoice is one item due on its due date and each open credit note one credit
    item.  This is the only place that knows it.
    """
    itemised: dict[str, bool] = {}

    def has_items(name: str) -> bool:
        if name not in itemised:
            itemised[name] = store.has_receivables(name)
        return itemised[name]

    for invoice in store.iter_invoices(source, open_only=True, customer=customer):
        if (company is None or invoice.company_id == company) and not has_items(invoice.source):
            yield _invoice_item(invoice)
    for item in store.iter_receivables(source, open_only=True, customer=customer):
        if (company is None or item.company_id == company) and has_items(item.source):
            yield _receivable_item(item)


def store_converter(store: Store) -> Convert:
    """Conversion with each source's rates in the store (the tables exposure uses, built once per source)."""
    from .exposure import rate_tables

    tables = rate_tables(store, max_age=float("inf"))
    return lambda source, amount, currency, to, company_id, day: tables.get(source).convert(
        amount, currency, to, company_id, day)
