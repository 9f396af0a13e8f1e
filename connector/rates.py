"""Currency conversion with the ERP's own rates.

Odoo (and SAP's TCURR once mapped) give, per company, how many units of a
currency one unit of the company's currency buys on a day.  Converting X to Y
on a day goes through the company currency: ``amount / rate(X) * rate(Y)``,
with the latest rate on or before that day; the company currency has rate 1.
Rates recorded without a company apply to every company.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .domain import Company, CurrencyRate
from .errors import CreditGuardError
from .money import quantize


class MissingRate(CreditGuardError):
    def __init__(self, currency: str, company_id: str | None, day: date) -> None:
        super().__init__(f"no {currency} rate on or before {day} (company {company_id or 'any'})")
        self.currency = currency
        self.day = day


@dataclass(frozen=True, slots=True)
class RateTable:
    company_currency: dict[str, str]  # company erp_id → currency
    _days: dict[tuple[str | None, str], list[date]]
    _rates: dict[tuple[str | None, str], list[Decimal]]

    @classmethod
    def build(cls, companies: Iterable[Company], rates: Iterable[CurrencyRate]) -> "RateTable":
        series: dict[tuple[str | None, str], list[tuple[date, Decimal]]] = defaultdict(list)
        for rate in rates:
            series[(rate.company_id, rate.currency)].append((rate.day, rate.rate))
        days, values = {}, {}
        for key, points in series.items():
            points.sort()
            days[key] = [d for d, _ in points]
            values[key] = [r for _, r in points]
        return cls({c.erp_id: c.currency for c in companies}, days, values)

    def rate(self, currency: str, company_id: str | None, day: date) -> Decimal:
        """Units of ``currency`` per unit of the company's currency on ``day``."""
        if company_id is not None and self.company_currency.get(company_id) == currency:
            return Decimal(1)
        for key in ((company_id, currency), (None, currency)):
            days = self._days.get(key)
            if days:
                index = bisect.bisect_right(days, day) - 1
                if index >= 0:
                    return self._rates[key][index]
        raise MissingRate(currency, company_id, day)

    def convert(self, amount: Decimal, currency: str, to: str, company_id: str | None, day: date) -> Decimal:
        """``amount`` of ``currency`` in ``to``, rounded to ``to``'s precision."""
        if currency == to or amount == 0:
            return quantize(amount, to)
        if company_id is None:
            company_id = next(iter(self.company_currency), None)
        value = amount / self.rate(currency, company_id, day) * self.rate(to, company_id, day)
        return quantize(value, to)


class RateTables:
    """Each source's rate table, built once and kept for the checks that follow: until :meth:`invalidate`
    (the daemon calls it after each sync) or, for a process that does not sync itself (an API worker), until
    ``max_age`` seconds have passed.  Safe to share between threads (a table is never changed once built)."""

    def __init__(self, load: Callable[[str], RateTable], max_age: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._max_age = max_age
        self._clock = clock
        self._tables: dict[str, tuple[float, RateTable]] = {}
        self._lock = threading.Lock()

    def get(self, source: str) -> RateTable:
        now = self._clock()
        held = self._tables.get(source)
        if held is not None and now - held[0] < self._max_age:
            return held[1]
        table = self._load(source)
        with self._lock:
            self._tables[source] = (now, table)
        return table

    def invalidate(self, source: str | None = None) -> None:
        with self._lock:
            if source is None:
                self._tables.clear()
            else:
                self._tables.pop(source, None)
