"""The currency-rates stream of the SAP source: TCURR through ``BAPI_EXCHRATE_GETCURRENTRATES``.

The BAPI answers, for one key date, the rate valid on that date for every pair of
one rate type — not the history.  The history is read by *walking back*: ask at
today, then at the day before the latest ``ValidFrom`` among the rows returned,
and so on until the key date falls before the lower bound (or a call returns no
rows).  Every TCURR row valid on some day between the lower bound and today is
collected (a row valid from D is the newest of its pair at any key date from D to
the day before the pair's next row), once after de-duplication, at the cost of one
call per distinct ``ValidFrom`` in that window, plus one.

Lower bound: on an incremental read the first day whose midnight is not before
``since`` (the engine's cursor minus its overlap window), so an unchanged cycle
costs one call; without ``since``, today minus the source's ``rates_history_days``.
Rates changed retroactively, valid from before that bound and no longer current,
are picked up by a full read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connector.domain import CurrencyRate
from connector.errors import BadRecord, FatalError
from connector.ports import Cursor, Entry, Page, Rejected

from . import mapping
from .client import SapClient

ONE_DAY = timedelta(days=1)


@dataclass
class Walk:
    """The rows a walk back collected (one per TCURR key) and the key dates it asked."""

    rows: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict)
    key_dates: list[date] = field(default_factory=list)


def first_day_from(moment: datetime, timezone: str) -> date:
    """The first calendar day (in ``timezone``) whose midnight is at or after ``moment``."""
    local = moment.astimezone(ZoneInfo(timezone))
    return local.date() if local.time() == time(0) else local.date() + ONE_DAY


def valid_from(raw: dict[str, Any]) -> date | None:
    value = raw.get("ValidFrom")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None  # 0000-00-00 or garbage: the mapper rejects the row


def _tcurr_key(raw: dict[str, Any]) -> tuple[str, str, str, str]:
    return tuple(str(raw.get(k) or "").strip() for k in ("RateType", "FromCurr", "ToCurrncy", "ValidFrom"))


def walk_back(source: str, client: SapClient, rate_type: str, today: date, lower: date) -> Walk:
    """Ask at ``today``, then before the latest ``ValidFrom`` returned, until the key date is before ``lower``."""
    walk = Walk()
    key_date = today
    while True:
        rows = client.current_rates(key_date.isoformat(), rate_type)
        walk.key_dates.append(key_date)
        for raw in rows:
            walk.rows.setdefault(_tcurr_key(raw), raw)
        dates = [d for d in map(valid_from, rows) if d is not None]
        if not dates:
            return walk
        next_date = max(dates) - ONE_DAY
        if next_date >= key_date:
            raise FatalError(source, f"ExchrateGetcurrentrates at {key_date} returned a rate valid from "
                                     f"{max(dates)}, after the key date")
        if next_date < lower:
            return walk
        key_date = next_date


def rate_entries(ctx: mapping.MappingContext, rows: list[dict[str, Any]],
                 company_currencies: Mapping[str, str]) -> list[Entry]:
    """Entries of every company code, de-duplicated by erp_id, in (changed_at, erp_id) order."""
    by_id: dict[str, Entry] = {}
    for company_id, currency in company_currencies.items():
        for raw, result in mapping.map_rates(ctx, rows, company_id, currency):
            entry = _entry(ctx, raw, result)
            by_id.setdefault(entry.item.erp_id, entry)
    return sorted(by_id.values(), key=_order)


def _entry(ctx: mapping.MappingContext, raw: dict[str, Any], result: CurrencyRate | BadRecord) -> Entry:
    if isinstance(result, CurrencyRate):
        return Entry(Cursor(result.changed_at, 0), result)
    day = valid_from(raw)  # a rejected row keeps its position: the engine quarantines it once, not every cycle
    position = Cursor(_midnight(day, ctx.timezone), 0) if day else None
    payload = {k: (v if isinstance(v, (str, int, bool, type(None))) else str(v)) for k, v in raw.items()}
    return Entry(position, Rejected(mapping.RATE_MODEL, result.erp_id, result.reason, payload))


def _midnight(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(timezone)).astimezone(UTC)


def _order(entry: Entry) -> tuple[datetime, str]:
    return (entry.position.changed_at if entry.position else mapping.EPOCH, entry.item.erp_id)


def pages(model: str, entries: list[Entry], batch_size: int) -> Iterator[Page]:
    size = max(1, batch_size)
    for start in range(0, len(entries), size):
        yield Page(model=model, entries=tuple(entries[start:start + size]))
