"""The ageing as the dashboard and the HTML report show it: :mod:`connector.ageing` (the figures of
``creditguard ageing``) turned into the rows of the pages' tables and charts.

The columns are the policy's ``[ageing] buckets``; per company the amounts are in the company's currency, and
consolidated in the policy's base currency converted as ``creditguard ageing`` converts them; credit notes and
unapplied payments are in a column of their own (negative), so that a line's total is what is owed net.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass
class AgeingRow:
    """One line of an ageing table: a company, a credit group or (the total line) all of them."""

    key: str  # company: "source:company_id"; credit group: its erp_id
    label: str
    currency: str  # of ``amounts``
    amounts: list[Decimal]  # one per column, not due first
    credit_notes: Decimal = Decimal(0)  # open credit notes and unapplied payments: 0 or negative
    base: list[Decimal] | None = None  # ``amounts`` in the base currency
    base_credit_notes: Decimal | None = None
    documents: int = 0
    source: str = ""
    company_id: str = ""

    @property
    def total(self) -> Decimal:
        return sum(self.amounts, Decimal(0)) + self.credit_notes

    @property
    def overdue(self) -> Decimal:
        return sum(self.amounts[1:], Decimal(0))

    @property
    def base_total(self) -> Decimal | None:
        return None if self.base is None else sum(self.base, Decimal(0)) + (self.base_credit_notes or Decimal(0))

    @property
    def base_overdue(self) -> Decimal | None:
        return None if self.base is None else sum(self.base[1:], Decimal(0))


@dataclass
class AgeingReport:
    as_of: date
    base_currency: str
    labels: tuple[str, ...]
    rows: list[AgeingRow]  # per company (or per credit group of one company)
    total: AgeingRow | None = None  # consolidated in the base currency (per company: in its currency)
    unconverted: list[str] = field(default_factory=list)  # rows left out of the base-currency chart


def _age(store: Any, policy: Any, as_of: date, by: str, source: str | None = None, company: str | None = None):
    from connector.ageing import age, open_items, store_converter

    return age(open_items(store, source, company), policy.ageing.buckets, as_of, by=by,
               base_currency=policy.base_currency, convert=store_converter(store),
               conversion=policy.exposure.conversion)


def _labels(report: Any) -> tuple[str, ...]:
    return tuple(column.label for column in report.columns)


def ageing_by_company(store: Any, policy: Any, as_of: date) -> AgeingReport:
    """Open receivables per company and column, in company currency, with each company and the whole
    consolidated in the base currency (``creditguard ageing --by company``)."""
    report = _age(store, policy, as_of, "company")
    names = {(c.source, c.erp_id): c.name for c in store.companies()}
    base_lines = {(line.source, line.key): line for line in report.lines}
    rows = []
    for section in report.companies:
        total = section.total
        base = base_lines.get((section.source, section.company_id))
        rows.append(AgeingRow(
            f"{section.source}:{section.company_id}",
            f"{names.get((section.source, section.company_id), section.company_id)} ({section.source})",
            section.currency, list(total.buckets), total.credits,
            list(base.buckets) if base is not None else None, base.credits if base is not None else None,
            total.items, section.source, section.company_id))
    consolidated = report.total
    total = AgeingRow("total", f"All companies ({report.base_currency})", report.base_currency,
                      list(consolidated.buckets), consolidated.credits, list(consolidated.buckets),
                      consolidated.credits, consolidated.items)
    return AgeingReport(report.as_of, report.base_currency, _labels(report), rows, total,
                        [r.label for r in rows if r.base is None])


def ageing_by_group(store: Any, policy: Any, as_of: date, source: str, company_id: str) -> AgeingReport:
    """One company's open receivables per credit group and column, in the company's currency, most past due
    first (``creditguard ageing --company ID --by group``)."""
    report = _age(store, policy, as_of, "group", source, company_id)
    heads = {c.erp_id: c for c in store.iter_customers(source)}
    rows = []
    section = report.companies[0] if report.companies else None
    for line in section.lines if section else ():
        head = heads.get(line.key)
        label = f"{head.name} ({head.ref})" if head and head.ref else head.name if head else line.key
        rows.append(AgeingRow(line.key, label, line.currency, list(line.buckets), line.credits,
                              documents=line.items, source=source, company_id=company_id))
    rows.sort(key=lambda r: (-r.overdue, -r.total, r.label))
    total = None
    if section is not None:
        total = AgeingRow("total", "All credit groups", section.currency, list(section.total.buckets),
                          section.total.credits, documents=section.total.items, source=source,
                          company_id=company_id)
    return AgeingReport(report.as_of, report.base_currency, _labels(report), rows, total)


@dataclass(frozen=True)
class AgedItem:
    item: Any  # connector.ageing.OpenItem
    days_overdue: int
    bucket: str  # a column's label, or "credit"

    @property
    def kind(self) -> str:
        return self.item.kind.value.replace("_", " ")


def ageing_documents(store: Any, policy: Any, as_of: date, source: str, company_id: str,
                     group: str) -> list[AgedItem]:
    """The open items of one credit group in one company, oldest due first, each with its column."""
    from connector.ageing import column_index, columns, days_past_due, item_due, open_items

    buckets = policy.ageing.buckets
    labels = [c.label for c in columns(buckets)]
    found = []
    for item in open_items(store, source, company_id, group):
        days = days_past_due(item_due(item), as_of)
        label = "credit" if item.is_credit else labels[column_index(days, buckets)]
        found.append(AgedItem(item, days, label))
    return sorted(found, key=lambda a: (item_due(a.item) or as_of, a.item.number))
