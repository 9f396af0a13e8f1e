"""What the dashboard reads: the figures of the CLI's commands, gathered per page.  Read-only: nothing here
writes to the store, records a decision or queues a write.

Exposure, limits and headroom come from ``creditguard exposure``'s :func:`exposure_rows`, holds from the hold
registry as ``creditguard holds``, insurer deadlines from :func:`connector.deadlines.deadlines_of` as
``creditguard deadlines``, the what-if from ``creditguard policy simulate``'s own code and the policy loader.
The few queries the CLI has no command for (the latest risk flag per credit group, a text search of the
decision log) are here, on the store's tables, and only read.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, or_, select

from connector.store import tables as t

FLAGS = ("ok", "watch", "stop")
GROUP_SORTS = ("customer", "name", "source", "exposure", "limit", "headroom", "grade", "flag", "overdue")


@dataclass(frozen=True)
class GroupRow:
    source: str
    customer: str  # the policy's key: ref, else source:erp_id
    name: str
    credit_group: str
    exposure: Decimal
    components: dict[str, Decimal]
    limit: Decimal | None
    limit_source: str | None
    limit_detail: str
    headroom: Decimal | None
    grade: int | None
    grade_source: str | None
    flag: str | None  # the risk flag enforcement last set (ok / watch / stop); None: never flagged
    erp_blocked: bool
    overdue: Decimal  # more than the policy's overdue days past due
    overdue_count: int
    oldest_due: date | None
    segment: str | None

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.exposure > self.limit

    @property
    def used_percent(self) -> int | None:
        if self.limit is None or self.limit <= 0:
            return None
        return int(self.exposure * 100 / self.limit)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def credit_groups(store: Any, policy: Any, as_of: date, rate_tables: Any = None) -> list[GroupRow]:
    """Every credit group's exposure, limit, headroom, grade and flag, as ``creditguard exposure --json``."""
    from connector.checks import CreditChecker

    from ..credit_commands import exposure_rows

    checker = CreditChecker(store, policy, as_of, rate_tables=rate_tables)
    flags = risk_flags(store)
    rows = []
    for r in exposure_rows(store, checker, None, None):
        rows.append(GroupRow(
            source=r["source"], customer=r["customer"], name=r["name"], credit_group=r["credit_group"],
            exposure=Decimal(r["exposure"]["total"]),
            components={k: Decimal(v) for k, v in r["exposure"]["components"].items()},
            limit=Decimal(r["limit"]["amount"]) if r["limit"]["amount"] is not None else None,
            limit_source=r["limit"]["source"], limit_detail=r["limit"]["detail"],
            headroom=Decimal(r["headroom"]) if r["headroom"] is not None else None,
            grade=r["grade"], grade_source=r["grade_source"], flag=flags.get((r["source"], r["credit_group"])),
            erp_blocked=bool(r["erp_blocked"]), overdue=Decimal(r["overdue"]["amount"]),
            overdue_count=int(r["overdue"]["invoices"]), oldest_due=_day(r["overdue"]["oldest_due"]),
            segment=r["segment"]))
    return rows


def risk_flags(store: Any) -> dict[tuple[str, str], str]:
    """The risk flag enforcement last decided per (source, credit group): the newest ``set_risk_flag`` write
    of the outbox (applied or still waiting for the ERP)."""
    o = t.outbox
    newest = (select(func.max(o.c.id).label("id")).where(o.c.kind == "set_risk_flag")
              .group_by(o.c.source, o.c.target_id).subquery())
    query = select(o.c.source, o.c.target_id, o.c.payload).where(o.c.id.in_(select(newest.c.id)))
    flags = {}
    with store.engine.connect() as conn:
        for source, target, payload in conn.execute(query):
            flag = json.loads(payload).get("flag")
            if flag in FLAGS:
                flags[(source, target)] = flag
    return flags


@dataclass
class GroupFilter:
    """The groups table's filter and order, from the query string (a GET form: works without JavaScript)."""

    q: str = ""
    source: str = ""
    flag: str = ""  # ok | watch | stop | none
    over: bool = False  # only groups over their limit
    overdue: bool = False  # only groups with an overdue amount
    sort: str = "headroom"
    desc: bool = False

    @classmethod
    def from_args(cls, args: Any) -> "GroupFilter":
        sort = args.get("sort", "headroom")
        flag = args.get("flag", "")
        return cls(q=args.get("q", "").strip()[:100], source=args.get("source", "").strip()[:64],
                   flag=flag if flag in (*FLAGS, "none") else "", over=args.get("over") == "1",
                   overdue=args.get("overdue") == "1", sort=sort if sort in GROUP_SORTS else "headroom",
                   desc=args.get("dir") == "desc")

    def query(self, **changes: Any) -> dict[str, str]:
        """The query string of this filter with ``changes``, without the defaults."""
        values = {"q": self.q, "source": self.source, "flag": self.flag, "over": "1" if self.over else "",
                  "overdue": "1" if self.overdue else "", "sort": self.sort, "dir": "desc" if self.desc else ""}
        values.update({k: ("" if v is None else str(v)) for k, v in changes.items()})
        if values["sort"] == "headroom" and not values["dir"]:
            values["sort"] = ""
        return {k: v for k, v in values.items() if v}

    def apply(self, rows: list[GroupRow]) -> list[GroupRow]:
        needle = self.q.casefold()
        kept = [r for r in rows
                if (not needle or needle in r.customer.casefold() or needle in r.name.casefold()
                    or needle == r.credit_group.casefold())
                and (not self.source or r.source == self.source)
                and (not self.flag or (r.flag or "none") == self.flag)
                and (not self.over or r.over_limit)
                and (not self.overdue or r.overdue > 0)]
        return sorted(kept, key=self._key, reverse=self.desc)

    def _key(self, row: GroupRow) -> tuple:
        # rows without a value (no limit, no grade) sort after the others either way
        value: Any = {
            "customer": row.customer.casefold(), "name": row.name.casefold(), "source": row.source,
            "exposure": row.exposure, "limit": row.limit, "headroom": row.headroom, "grade": row.grade,
            "flag": FLAGS.index(row.flag) if row.flag in FLAGS else None, "overdue": row.overdue,
        }[self.sort]
        missing = value is None
        return ((not missing) if self.desc else missing, value if not missing else 0, row.name.casefold())


# --------------------------------------------------------------------------- holds


@dataclass(frozen=True)
class HoldView:
    record: Any  # connector.store.outbox.HoldRecord
    customer: str | None
    customer_name: str | None
    age_days: int

    @property
    def exposure(self) -> Decimal | None:
        try:
            return Decimal(self.record.exposure)
        except (ArithmeticError, TypeError, ValueError):
            return None


def holds(store: Any, as_of: date, state: str = "held", source: str | None = None) -> list[HoldView]:
    """The hold registry as ``creditguard holds``: held orders (or released ones), oldest first, with the
    customer each order is for."""
    from connector.decisions import customer_key

    views = []
    customers: dict[tuple[str, str], Any] = {}
    for record in store.holds(source or None, state):
        customer = None
        orders = [o for o in store.find_orders(record.order_number, record.source) if o.erp_id == record.order_erp_id]
        if orders:
            key = (record.source, orders[0].customer_id)
            if key not in customers:
                customers[key] = store.get_customer(*key)
            customer = customers[key]
            if customer is not None and customer.credit_group_id != customer.erp_id:
                head = (record.source, customer.credit_group_id)
                if head not in customers:
                    customers[head] = store.get_customer(*head)
                customer = customers[head] or customer
        views.append(HoldView(
            record,
            customer_key(customer.ref, customer.source, customer.erp_id) if customer else None,
            customer.name if customer else None,
            max(0, (as_of - record.since.date()).days)))
    return sorted(views, key=lambda v: (v.record.since, v.record.order_number))


# ------------------------------------------------------------------------ deadlines


def source_names(config: Any, wanted: str | None = None) -> list[str]:
    """The configured sources (a disabled one's data stay on view), or the one asked for."""
    names = [s.name for s in config.sources]
    return [n for n in names if n == wanted] if wanted else names


def deadlines(store: Any, policy: Any, names: list[str], as_of: date, include_pending: bool) -> list[Any]:
    """Insurer deadlines due soon or missed (all of them with ``include_pending``), as ``creditguard
    deadlines``, most urgent first."""
    from connector.deadlines import deadlines_of

    return deadlines_of(store, policy, names, as_of, include_pending=include_pending)


# ------------------------------------------------------------------------ decisions


@dataclass
class DecisionSearch:
    q: str = ""
    result: str = ""  # approve | hold
    trigger: str = ""  # check | enforce | api
    limit: int = 200

    @classmethod
    def from_args(cls, args: Any) -> "DecisionSearch":
        result, trigger = args.get("result", ""), args.get("trigger", "")
        return cls(q=args.get("q", "").strip()[:100], result=result if result in ("approve", "hold") else "",
                   trigger=trigger if re.fullmatch(r"[a-z_]{1,16}", trigger or "") else "")


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def decisions(store: Any, search: DecisionSearch) -> tuple[list[dict[str, Any]], bool]:
    """The newest decisions matching the search (order number, customer, policy or any text of the decision's
    record: reasons, names), and whether there are more than shown."""
    d = t.decisions
    query = select(d).order_by(d.c.taken_at.desc(), d.c.id.desc()).limit(search.limit + 1)
    if search.q:
        pattern = _like(search.q)
        query = query.where(or_(d.c.order_number.ilike(pattern, escape="\\"), d.c.customer.ilike(pattern, escape="\\"),
                                d.c.policy_name.ilike(pattern, escape="\\"), d.c.record.ilike(pattern, escape="\\")))
    if search.result:
        query = query.where(d.c.result == search.result)
    if search.trigger:
        query = query.where(d.c.trigger == search.trigger)
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) | {"record": json.loads(r.record)} for r in conn.execute(query)]
    return rows[:search.limit], len(rows) > search.limit


# ------------------------------------------------------------------------- what-if

MAX_POLICY_BYTES = 262_144
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def load_candidate(content: bytes, filename: str | None) -> Any:
    """A policy given as text or an upload, through the policy loader; a :class:`policy.loader.PolicyError`
    names it by ``filename`` (what the person gave), never by the temporary file it was read from."""
    from policy.loader import PolicyError, load_policy

    display = _NAME.sub("_", os.path.basename(filename or ""))[:80].strip("._") or "pasted-policy.toml"
    if len(content) > MAX_POLICY_BYTES:
        raise PolicyError([f"{display}: the file is larger than {MAX_POLICY_BYTES // 1024} KiB"])
    with tempfile.TemporaryDirectory(prefix="creditguard-whatif-") as folder:
        path = Path(folder) / display
        path.write_bytes(content)
        try:
            return load_policy(path)
        except PolicyError as exc:
            raise PolicyError([line.replace(str(path), display) for line in exc.errors]) from None


def simulate(store: Any, current: Any, candidate: Any, as_of: date, source: str | None = None) -> dict[str, Any]:
    """``creditguard policy simulate``: the open orders whose decision would change (nothing is recorded)."""
    from ..credit_commands import _simulate

    return _simulate(SimpleNamespace(store=store), current, candidate, as_of, source)


# ------------------------------------------------------------------------- overview


@dataclass
class Overview:
    as_of: date
    currency: str
    groups: int = 0
    exposure: Decimal = Decimal(0)
    limits: Decimal = Decimal(0)  # sum of the limits of the groups that have one
    exposure_limited: Decimal = Decimal(0)  # exposure of those groups
    over_limit: int = 0
    without_limit: int = 0
    overdue_rule: Decimal = Decimal(0)  # more than the policy's overdue days past due
    overdue_rule_groups: int = 0
    overdue_days: int = 0
    past_due: Decimal | None = None  # every overdue bucket of the ageing (base currency)
    holds: int = 0
    deadlines_missed: int = 0
    deadlines_due_soon: int = 0
    dso: Decimal | None = None  # consolidated countback DSO, base currency; None: nothing to count, no tile
    history: list[tuple[date, Decimal, Decimal]] | None = None  # (day, exposure, past due); None: no snapshots
    tightest: list[GroupRow] = field(default_factory=list)

    @property
    def used_percent(self) -> int | None:
        return int(self.exposure_limited * 100 / self.limits) if self.limits > 0 else None


def daily_history(store: Any, as_of: date, days: int = 90,
                  currency: str | None = None) -> list[tuple[date, Decimal, Decimal]] | None:
    """The daily snapshots of the last ``days`` days up to ``as_of``: (day, exposure, past due) summed over the
    credit groups, in the base currency (``currency``: only snapshots taken in it), oldest first; None when
    there is none (the page says "no history yet": never a made-up trend).  Days without a snapshot are left
    out, not filled in."""
    from connector.money import from_minor

    totals = [d for d in store.snapshot_totals(as_of - timedelta(days=days - 1), as_of)
              if currency is None or d.base_currency == currency]
    if not totals:
        return None
    points: dict[date, list[Decimal]] = {}
    for d in totals:
        point = points.setdefault(d.day, [Decimal(0), Decimal(0)])
        point[0] += from_minor(d.exposure_minor, d.base_currency)
        point[1] += from_minor(d.past_due_base_minor, d.base_currency)
    return [(day, e, o) for day, (e, o) in sorted(points.items())]


def consolidated_dso(store: Any, policy: Any, config: Any, as_of: date) -> Decimal | None:
    """DSO of all credit groups together (base currency), by the countback method (``[figures] dso_months``);
    None when there is nothing to count back from (no credit sales in the window and no receivable)."""
    from connector.ageing import store_converter
    from connector.figures import figures
    from connector.rates import MissingRate

    try:
        _, total = figures(store, source_names(config), as_of, months=config.figures.dso_months,
                           base_currency=policy.base_currency, conversion=policy.exposure.conversion,
                           convert=store_converter(store), payments=False)
    except MissingRate:  # a sale that cannot be converted: no DSO rather than a wrong one
        return None
    if total.receivable == 0 and not any(total.sales):
        return None
    return total.dso().days


def overview(store: Any, policy: Any, config: Any, as_of: date, groups: list[GroupRow],
             ageing_total: Any = None) -> Overview:
    from connector.deadlines import DeadlineStatus

    view = Overview(as_of, policy.base_currency, overdue_days=policy.rules.overdue.days)
    for g in groups:
        view.groups += 1
        view.exposure += g.exposure
        if g.limit is None:
            view.without_limit += 1
        else:
            view.limits += g.limit
            view.exposure_limited += g.exposure
            view.over_limit += g.over_limit
        if g.overdue > 0:
            view.overdue_rule += g.overdue
            view.overdue_rule_groups += 1
    if ageing_total is not None and ageing_total.base is not None:
        view.past_due = ageing_total.base_overdue
    view.holds = len(store.holds(None, "held"))
    for entry in deadlines(store, policy, source_names(config), as_of, include_pending=False):
        view.deadlines_missed += entry.status is DeadlineStatus.MISSED
        view.deadlines_due_soon += entry.status is DeadlineStatus.DUE_SOON
    view.history = daily_history(store, as_of, currency=policy.base_currency)
    view.dso = consolidated_dso(store, policy, config, as_of)
    view.tightest = sorted((g for g in groups if g.headroom is not None), key=lambda g: g.headroom)[:8]
    return view


def now_in(config: Any) -> datetime:
    return datetime.now(config.sync.tzinfo)
