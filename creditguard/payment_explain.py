"""``creditguard policy explain``: the customer's payment behaviour and the grade adjustment it gives
(``[[payment_behaviour]]`` of the policy, :mod:`connector.payment_grade`)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .render import cell


def step_text(step: Any) -> str:
    """``payment_behaviour.1: 30 days late or more on average, 50 % of it late or more, 3 instalments or more``."""
    from connector.payment_grade import percent

    parts = [f"{step.average_days_late} days late or more on average"]
    if step.share_paid_late is not None:
        parts.append(f"{percent(step.share_paid_late)} % of it late or more")
    parts.append(f"{step.min_items} instalment{'' if step.min_items == 1 else 's'} or more")
    return f"{step.where}: {', '.join(parts)}"


def _trend(store: Any, config: Any, policy: Any, source: str, groups: Sequence[str], as_of: Any) -> dict[str, Any]:
    """The groups' settled instalments per month of settlement, newest first, today (not the snapshot's)."""
    from connector.ageing import store_converter
    from connector.figures import Payments, figures

    months: dict[str, Payments] = {}
    convert = store_converter(store)
    for group in groups:
        found, _ = figures(store, [source], as_of, months=1, base_currency=policy.base_currency,
                           conversion=policy.exposure.conversion, convert=convert, group=group,
                           payment_months=config.figures.payment_months)
        entry = found.get((source, group))
        for month, p in (entry.total.payments_by_month.items() if entry else ()):
            into = months.setdefault(month, Payments())
            into.paid += p.paid
            into.paid_late += p.paid_late
            into.weighted_days += p.weighted_days
            into.items += p.items
    return dict(sorted(months.items(), reverse=True))


def print_payment_behaviour(app: Any, checker: Any, head: Any, facts: Any, groups: Sequence[str],
                            console: Any) -> None:
    """The payment figures the checks use (the group's latest daily snapshot), the steps of the policy with the
    one that applies marked, and the trend per month of settlement."""
    from connector.payment_grade import describe, matching_step

    pol = checker.policy
    record = checker.payment_record(head.source, list(groups))
    if record is None:
        if pol.payment_behaviour:
            console.print(cell("Payment behaviour: no payment figures in a daily snapshot yet (`creditguard "
                               "snapshot` keeps them): the grade is not adjusted."))
        return
    console.print(cell(f"Payment behaviour (daily snapshot of {record.day}): {describe(record)}."))
    if pol.payment_behaviour:
        applies = matching_step(pol.payment_behaviour, record)
        for step in pol.payment_behaviour:
            mark = "→" if step is applies else " "
            console.print(cell(f"  {mark} {step_text(step)}: grade {step.adjust:+d}"))
        if applies is None:
            console.print(cell("  No step applies: the grade is not adjusted."))
        elif facts.grade is None:
            console.print(cell("  Not graded: payment behaviour adjusts a grade, it does not give one."))
    trend = _trend(app.store, app.config, pol, head.source, groups, checker.as_of)
    if trend:
        console.print(cell("  By month of settlement (today's figures): " + "; ".join(
            f"{month}: {p.average_days_late()} days, {_share(p.share_paid_late())} late ({p.items})"
            for month, p in trend.items())))


def _share(share: Decimal | None) -> str:
    from connector.payment_grade import percent

    return "-" if share is None else f"{percent(share)} %"


__all__ = ["print_payment_behaviour", "step_text"]
