"""Payment figures of credit groups: DSO by the countback method and the overdue ratio.

**DSO (countback).**  Starting from the open receivable today, walk back one month at a time over the last
``months`` months of credit sales (posted customer invoices minus credit notes, by document date), taking
each month's sales off what is still unexplained: a month whose sales are used up counts all its days, the
month where the receivable runs out counts the fraction of its days that the rest is of its sales.  Months
are calendar months ending on ``as_of`` (the first one is the day after the same day a month earlier through
``as_of``), so a window has 28–31 days per month.  Bounds, by construction:

* no receivable (or a net credit): DSO is 0;
* a receivable the window's sales do not explain: DSO is the window's length in days, and ``capped`` says so
  (the true figure is longer than the window can tell);
* a month whose sales are zero or negative (more credit notes than invoices) explains nothing: it counts all
  its days.

So ``0 <= days <= window_days`` always, and days grow with the receivable.

**Overdue ratio**: the part of the open items that is past due (the ageing's *past due*: every column after
*not due*) divided by the open items before credits are netted (instalments only), so that it lies between
0 and 1; ``None`` when nothing is open.

**Payment behaviour**: over the instalments settled in full in the last ``payment_months`` months (the day
the ERP matched the last payment or credit note with them: Odoo's reconciliation date; SAP's clearing date),
weighted by each instalment's own amount: the *average days late* (days from the instalment's due date to its
settlement, 0 when settled on time or early) and the *share paid late* (the part of that amount settled after
its due date), overall and per calendar month of settlement (the trend).  An instalment still partly open
does not count yet; ``None`` when nothing was settled in the window.

:func:`countback` and :func:`month_windows` are pure; :func:`figures` reads the store (open items through
:func:`connector.ageing.open_items`, sales from the invoices) and converts as the ageing does.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from policy.model import Conversion

from .ageing import Convert, days_past_due, item_due, open_items
from .domain import InvoiceState
from .money import quantize

if TYPE_CHECKING:
    from .store import Store

DAYS = Decimal("0.1")  # DSO and days late are given to a tenth of a day
RATIO = Decimal("0.0001")


@dataclass
class Payments:
    """Instalments settled in a window, weighted by their amount: how late they were paid."""

    paid: Decimal = Decimal(0)  # their amount
    paid_late: Decimal = Decimal(0)  # the part settled after its due date
    weighted_days: Decimal = Decimal(0)  # Σ amount × days late
    items: int = 0

    def add(self, amount: Decimal, days_late: int) -> None:
        self.paid += amount
        self.weighted_days += amount * days_late
        if days_late > 0:
            self.paid_late += amount
        self.items += 1

    def average_days_late(self) -> Decimal | None:
        return (self.weighted_days / self.paid).quantize(DAYS, ROUND_HALF_UP) if self.paid > 0 else None

    def share_paid_late(self) -> Decimal | None:
        return ratio(self.paid_late, self.paid)

    def as_json(self, currency: str) -> dict[str, Any]:
        days, share = self.average_days_late(), self.share_paid_late()
        return {"paid": str(quantize(self.paid, currency)), "items": self.items,
                "average_days_late": None if days is None else str(days),
                "share_paid_late": None if share is None else str(share)}


@dataclass(frozen=True, slots=True)
class Dso:
    days: Decimal
    capped: bool  # the receivable is larger than the window's sales: days is the window's length
    window_days: int


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (the day clamped to the month's length: 31 March - 1 = 28/29
    February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_windows(as_of: date, months: int) -> list[tuple[date, date]]:
    """The last ``months`` months ending on ``as_of``, newest first: (first day, last day), both included."""
    return [(add_months(as_of, -k - 1) + timedelta(days=1), add_months(as_of, -k)) for k in range(months)]


def countback(receivable: Decimal, sales: Sequence[tuple[int, Decimal]]) -> Dso:
    """DSO of ``receivable`` against ``sales``: (days, credit sales) per month, newest first."""
    window = sum(days for days, _ in sales)
    if receivable <= 0:
        return Dso(Decimal(0), False, window)
    left, total = receivable, Decimal(0)
    for days, amount in sales:
        if amount > 0 and left <= amount:
            total += Decimal(days) * left / amount
            return Dso(min(total.quantize(DAYS, ROUND_HALF_UP), Decimal(window)), False, window)
        if amount > 0:
            left -= amount
        total += days
    return Dso(Decimal(window), True, window)


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole).quantize(RATIO, ROUND_HALF_UP) if whole > 0 else None


@dataclass
class Figures:
    """Receivable, past due and monthly credit sales of one credit group (in one company, or all of them)."""

    currency: str
    months: int
    receivable: Decimal = Decimal(0)  # open items, credits netted
    gross: Decimal = Decimal(0)  # open instalments only
    past_due: Decimal = Decimal(0)
    sales: list[Decimal] = field(default_factory=list)  # per month, newest first
    window: list[int] = field(default_factory=list)  # days per month
    payment_months: int = 12
    payments: Payments = field(default_factory=Payments)  # instalments settled in the last payment_months
    payments_by_month: dict[str, Payments] = field(default_factory=dict)  # "YYYY-MM" of settlement

    def dso(self) -> Dso:
        return countback(self.receivable, list(zip(self.window, self.sales)))

    def add_settled(self, amount: Decimal, days_late: int, paid_on: date) -> None:
        self.payments.add(amount, days_late)
        self.payments_by_month.setdefault(paid_on.strftime("%Y-%m"), Payments()).add(amount, days_late)

    def as_json(self) -> dict[str, Any]:
        dso = self.dso()
        return {"currency": self.currency, "dso": {"days": str(dso.days), "capped": dso.capped,
                                                   "window_days": dso.window_days, "months": self.months},
                "overdue_ratio": None if (r := ratio(self.past_due, self.gross)) is None else str(r),
                "receivable": str(quantize(self.receivable, self.currency)),
                "past_due": str(quantize(self.past_due, self.currency)),
                "sales": [str(quantize(s, self.currency)) for s in self.sales],
                "payments": {"months": self.payment_months, **self.payments.as_json(self.currency),
                             "by_month": [{"month": month, **p.as_json(self.currency)}
                                          for month, p in sorted(self.payments_by_month.items(), reverse=True)]}}


@dataclass
class GroupFigures:
    """A credit group's figures: in the base currency over all its companies, and per company in its own."""

    total: Figures
    companies: dict[str, Figures] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return self.total.as_json() | {
            "companies": [{"company": c} | f.as_json() for c, f in sorted(self.companies.items())]}


def figures(store: Store, sources: Iterable[str], as_of: date, *, months: int, base_currency: str,
            conversion: Conversion, convert: Convert, group: str | None = None, payment_months: int = 12,
            payments: bool = True) -> tuple[dict[tuple[str, str], GroupFigures], Figures]:
    """Figures per (source, credit group) — only ``group`` when given — and consolidated over all of them, in
    the base currency.  Amounts are converted item by item as the ageing converts them (``conversion``).
    ``payments``: also how the settled instalments were paid (without it, their figures stay empty)."""
    windows = month_windows(as_of, months)
    window = [(last - first).days + 1 for first, last in windows]
    first_day = windows[-1][0]
    paid_from = add_months(as_of, -payment_months) + timedelta(days=1)

    def new(currency: str) -> Figures:
        return Figures(currency, months, sales=[Decimal(0)] * months, window=window, payment_months=payment_months)

    total = new(base_currency)
    result: dict[tuple[str, str], GroupFigures] = {}

    def entry(source: str, group_id: str, company: str, currency: str) -> tuple[Figures, Figures]:
        key = (source, group_id)
        if key not in result:
            result[key] = GroupFigures(new(base_currency))
        companies = result[key].companies
        if company not in companies:
            companies[company] = new(currency)
        return result[key].total, companies[company]

    def to_base(source, amount, currency, company_amount, company_currency, company_id, day) -> Decimal:
        if conversion is Conversion.DOCUMENT_DATE:
            return convert(source, company_amount, company_currency, base_currency, company_id, day or as_of)
        return convert(source, amount, currency, base_currency, company_id, as_of)

    for source in sources:
        for item in open_items(store, source, customer=group):
            base = to_base(source, item.amount_open, item.currency, item.amount_open_company, item.company_currency,
                           item.company_id, item.invoice_date)
            group_total, company = entry(source, item.credit_group_id, item.company_id, item.company_currency)
            late = not item.is_credit and days_past_due(item_due(item), as_of) > 0
            for figure, amount in ((group_total, base), (company, item.amount_open_company), (total, base)):
                figure.receivable += amount
                if not item.is_credit:
                    figure.gross += amount
                if late:
                    figure.past_due += amount
        for invoice in store.iter_invoices(source, customer=group, dated_from=first_day):
            day = invoice.invoice_date
            if invoice.state is not InvoiceState.POSTED or day is None or not first_day <= day <= as_of:
                continue
            month = next(k for k, (first, last) in enumerate(windows) if first <= day <= last)
            base = invoice.sign * to_base(source, invoice.amount_total, invoice.currency,
                                          invoice.amount_total_company, invoice.company_currency,
                                          invoice.company_id, day)
            group_total, company = entry(source, invoice.credit_group_id, invoice.company_id,
                                         invoice.company_currency)
            group_total.sales[month] += base
            company.sales[month] += invoice.sign * invoice.amount_total_company
            total.sales[month] += base
        for item in (store.iter_settled_instalments(source, paid_from=paid_from, customer=group) if payments else ()):
            if item.paid_on is None or item.paid_on > as_of or item.amount_company is None or item.amount_company <= 0:
                continue
            late = max((item.paid_on - item.due_date).days, 0) if item.due_date else 0
            base = convert(source, item.amount_company, item.company_currency, base_currency, item.company_id,
                           (item.document_date or as_of) if conversion is Conversion.DOCUMENT_DATE else as_of)
            group_total, company = entry(source, item.credit_group_id, item.company_id, item.company_currency)
            for figure, amount in ((group_total, base), (company, item.amount_company), (total, base)):
                figure.add_settled(amount, late, item.paid_on)
    return result, total


def empty(base_currency: str, months: int, as_of: date, payment_months: int = 12) -> GroupFigures:
    """The figures of a group with no open item, no sales and no settled instalment in the windows."""
    window = [(last - first).days + 1 for first, last in month_windows(as_of, months)]
    return GroupFigures(Figures(base_currency, months, sales=[Decimal(0)] * months, window=window,
                                payment_months=payment_months))

