"""Daily snapshots: ``creditguard snapshot`` and the daemon's once-a-day snapshot after a sync.

One row per source, credit group and company and day (``daily_snapshots``, see
:mod:`connector.store.snapshots`): the group's ageing in that company, in the company's currency and in the
policy's base currency, as ``creditguard ageing --by group`` gives it; and one row per group with company
"" holding what ``creditguard exposure`` gives for the group — exposure, limit, overdue (beyond the policy's
overdue rule), all in the base currency — and its consolidated ageing.  Each row keeps the payment figures
of :mod:`connector.figures` too (instalments settled in ``[figures] payment_months``, days late, share paid
late): credit checks read the group row's for the policy's ``[[payment_behaviour]]``.  Taking a day again replaces that
day's rows of the sources taken, in one transaction; days older than ``[snapshots] keep_days`` are removed.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import click

from .credit_commands import active_policy, exposure_rows, today
from .render import print_json


def _ageing_json(buckets: Sequence[int], line: Any, base: Any) -> str:
    from connector.ageing import columns

    keys = [c.key for c in columns(buckets)]
    doc = {"buckets": list(buckets),
           "columns": {k: str(a) for k, a in zip(keys, line.buckets)}, "credits": str(line.credits),
           "base": {"columns": {k: str(a) for k, a in zip(keys, base.buckets)}, "credits": str(base.credits)}}
    return json.dumps(doc, separators=(",", ":"))


def _payment_fields(payments: Any, currency: str, months: int) -> dict[str, Any]:
    """The payment figures of a snapshot row (:class:`connector.figures.Payments`; None: nothing settled)."""
    from connector.money import to_minor

    days, share = (None, None) if payments is None else (payments.average_days_late(), payments.share_paid_late())
    return {"payment_months": months, "paid_items": payments.items if payments else 0,
            "paid_minor": to_minor(payments.paid, currency) if payments else 0,
            "days_late_tenths": None if days is None else int(days * 10),
            "share_late_bp": None if share is None else int(share * 10_000)}


def snapshot_rows(store: Any, policy: Any, sources: Sequence[str], as_of: date,
                  now: datetime | None = None, *, payment_months: int = 12) -> list[Any]:
    """The rows of the day ``as_of`` for ``sources`` (pure reading: nothing is written)."""
    from connector.ageing import AgeingLine, By, age, open_items, store_converter
    from connector.checks import CreditChecker
    from connector.figures import figures
    from connector.money import to_minor
    from connector.store.snapshots import GROUP_ROW, SnapshotRow

    now = now or datetime.now(UTC)
    base = policy.base_currency
    buckets = tuple(policy.ageing.buckets)
    width = len(buckets) + 1
    convert = store_converter(store)
    checker = CreditChecker(store, policy, as_of)
    rows: list[SnapshotRow] = []
    zero = AgeingLine(None, "", base, tuple(Decimal(0) for _ in range(width)), Decimal(0), 0)
    for source in sources:
        groups = {r["credit_group"]: r for r in exposure_rows(store, checker, None, source)}
        paid, _ = figures(store, [source], as_of, months=1, base_currency=base,
                          conversion=policy.exposure.conversion, convert=convert, payment_months=payment_months)
        by_company: dict[str, list[Any]] = defaultdict(list)
        for item in open_items(store, source):
            by_company[item.company_id].append(item)
        consolidated: dict[str, list[Decimal]] = {}  # group → base columns + credits
        for company_id, items in sorted(by_company.items()):
            report = age(items, buckets, as_of, by=By.GROUP, base_currency=base, convert=convert,
                         conversion=policy.exposure.conversion)
            [section] = report.companies
            base_lines = {line.key: line for line in report.lines}
            for line in section.lines:
                in_base = base_lines[line.key]
                sums = consolidated.setdefault(line.key, [Decimal(0)] * (width + 1))
                for i, amount in enumerate((*in_base.buckets, in_base.credits)):
                    sums[i] += amount
                head = groups.get(line.key)
                found = paid.get((source, line.key))
                company_paid = found.companies.get(company_id) if found else None
                rows.append(SnapshotRow(
                    as_of, source, line.key, company_id, head["customer"] if head else f"{source}:{line.key}",
                    section.currency, base, None, None, None, to_minor(line.past_due, section.currency),
                    to_minor(in_base.past_due, base), to_minor(line.total, section.currency),
                    to_minor(in_base.total, base), _ageing_json(buckets, line, in_base), now,
                    **_payment_fields(company_paid.payments if company_paid else None, section.currency,
                                      payment_months)))
        for group in sorted(set(groups) | set(consolidated)):
            head = groups.get(group)
            sums = consolidated.get(group)
            line = zero if sums is None else AgeingLine(None, group, base, tuple(sums[:width]), sums[width], 0)
            limit = head["limit"]["amount"] if head else None
            rows.append(SnapshotRow(
                as_of, source, group, GROUP_ROW, head["customer"] if head else f"{source}:{group}", base, base,
                to_minor(Decimal(head["exposure"]["total"]), base) if head else None,
                to_minor(Decimal(limit), base) if limit is not None else None,
                to_minor(Decimal(head["overdue"]["amount"]), base) if head else None,
                to_minor(line.past_due, base), to_minor(line.past_due, base), to_minor(line.total, base),
                to_minor(line.total, base), _ageing_json(buckets, line, line), now,
                **_payment_fields(paid[(source, group)].total.payments if (source, group) in paid else None, base,
                                  payment_months)))
    return rows


def take_snapshot(store: Any, policy: Any, sources: Sequence[str], as_of: date, *, keep_days: int,
                  now: datetime | None = None, payment_months: int = 12) -> dict[str, Any]:
    """Take the day ``as_of`` for ``sources`` (replacing it if taken already) and prune old days."""
    rows = snapshot_rows(store, policy, sources, as_of, now, payment_months=payment_months)
    written, pruned = store.replace_snapshot_day(as_of, list(sources), rows, keep_days=keep_days)
    return {"day": as_of, "sources": list(sources), "groups": sum(1 for r in rows if r.company_id == ""),
            "rows": written, "pruned": pruned, "keep_days": keep_days}


def register(main: click.Group, guarded, App) -> None:
    @main.command()
    @click.option("--source", "source_name", help="Only this source (default: every configured source).")
    @click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
                  help="The day of the snapshot (default: today in the company's time zone). Today's open "
                       "items are aged as of that day, as `creditguard ageing --as-of`.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    @guarded
    def snapshot(app: App, source_name: str | None, as_of: datetime | None, as_json: bool) -> None:
        """Keep today's exposure, limit, overdue and ageing per credit group and company in the store
        (replaces the day's snapshot if taken already; removes days older than [snapshots] keep_days)."""
        policy = active_policy(app.config)
        names = [s.name for s in app.config.sources]
        if source_name is not None:
            if source_name not in names:
                raise click.BadParameter(f"unknown source {source_name!r}; configured sources: "
                                         + ", ".join(names), param_hint="--source")
            names = [source_name]
        day = as_of.date() if as_of else today(app.config)
        result = take_snapshot(app.store, policy, names, day, keep_days=app.config.snapshots.keep_days,
                               payment_months=app.config.figures.payment_months)
        if as_json:
            print_json(result, sys.stdout)
            return
        click.echo(f"snapshot of {day}: {result['groups']} credit group(s), {result['rows']} row(s) "
                   f"({', '.join(names)}); {result['pruned']} old row(s) removed (keep_days "
                   f"{result['keep_days']})")


__all__ = ["register", "snapshot_rows", "take_snapshot"]
