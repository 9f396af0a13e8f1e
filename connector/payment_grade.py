"""Payment behaviour feeding the grade: the policy's ``[[payment_behaviour]]`` steps (docs/policy.md).

How late a credit group pays (:mod:`connector.figures`: the amount-weighted average days late and the share
paid late of the instalments settled in the last ``[figures] payment_months`` months) is kept in the group's
own row of each daily snapshot.  A credit check reads the latest of those rows (one indexed read, and only
when the policy has steps) and this module, pure, turns it into a grade adjustment:

* a step matches when the group's settled instalments number ``min_items`` or more, their average days late
  is ``average_days_late`` or more and, when the step gives it, their share paid late is ``share_paid_late``
  or more;
* of the matching steps, the one with the highest ``average_days_late`` applies (the loader keeps them in
  strictly increasing order, so it is the last one that matches);
* its ``adjust`` is added to the grade (positive: worse, negative: better), clamped to 1 … 10;
* a customer without a grade is not graded by its payments: the adjustment moves a grade, it does not make
  one.  Nor is one without figures (no snapshot yet, or one taken before the figures were kept).

The reason goes into the grade's origin (``CustomerFacts.grade_source``), so that every decision using the
grade (the grade limit, the grade rule) says it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from policy.model import PaymentBehaviourStep

from .money import from_minor

DAYS = Decimal("0.1")
RATIO = Decimal("0.0001")
BEST, WORST = 1, 10


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """How a credit group paid, as of a snapshot day."""

    day: date  # the snapshot's day: the window ends there
    months: int  # the window, in months
    items: int  # instalments settled in the window
    paid: Decimal  # their amount (the weight when several credit groups make one policy group)
    average_days_late: Decimal | None  # None: nothing settled
    share_paid_late: Decimal | None


def from_snapshot(snapshot) -> PaymentRecord | None:
    """The record a snapshot row (:class:`connector.store.snapshots.PaymentSnapshot`) keeps; None when the row
    holds no payment figures."""
    if snapshot is None or snapshot.payment_months is None or snapshot.paid_items is None:
        return None
    return PaymentRecord(
        snapshot.day, snapshot.payment_months, snapshot.paid_items,
        from_minor(snapshot.paid_minor or 0, snapshot.currency),
        None if snapshot.days_late_tenths is None else Decimal(snapshot.days_late_tenths).scaleb(-1),
        None if snapshot.share_late_bp is None else Decimal(snapshot.share_late_bp).scaleb(-4))


def combine(records: Sequence[PaymentRecord]) -> PaymentRecord | None:
    """One record for several credit groups (a custom group of the policy): averages weighted by amount paid."""
    if not records:
        return None
    if len(records) == 1:
        return records[0]
    paid = sum((r.paid for r in records), Decimal(0))
    weighted = [r for r in records if r.paid > 0 and r.average_days_late is not None]
    days = share = None
    if paid > 0 and weighted:
        days = (sum((r.paid * r.average_days_late for r in weighted), Decimal(0)) / paid).quantize(DAYS, ROUND_HALF_UP)
        share = (sum((r.paid * (r.share_paid_late or 0) for r in weighted), Decimal(0)) / paid
                 ).quantize(RATIO, ROUND_HALF_UP)
    return PaymentRecord(min(r.day for r in records), max(r.months for r in records),
                         sum(r.items for r in records), paid, days, share)


def matching_step(steps: Sequence[PaymentBehaviourStep], record: PaymentRecord | None
                  ) -> PaymentBehaviourStep | None:
    """The step that applies to ``record``: of those that match, the one with the highest average_days_late."""
    if record is None or record.average_days_late is None:
        return None
    found = None
    for step in steps:
        if (record.items >= step.min_items and record.average_days_late >= step.average_days_late
                and (step.share_paid_late is None
                     or (record.share_paid_late is not None and record.share_paid_late >= step.share_paid_late))):
            if found is None or step.average_days_late > found.average_days_late:
                found = step
    return found


def clamp(grade: int) -> int:
    return max(BEST, min(WORST, grade))


def percent(share: Decimal) -> str:
    text = f"{(share * 100).quantize(Decimal('0.01'), ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def describe(record: PaymentRecord) -> str:
    """``paid 34.5 days late on average and 62.5 % of it late, 8 instalments over the 12 months to 2026-12-02``."""
    window = f"over the {record.months} months to {record.day.isoformat()}"
    if record.average_days_late is None:
        return f"no instalment settled {window}"
    share = "" if record.share_paid_late is None else f" and {percent(record.share_paid_late)} % of it late"
    return (f"paid {record.average_days_late} days late on average{share}, {record.items} instalment"
            f"{'' if record.items == 1 else 's'} {window}")


def adjust_grade(steps: Sequence[PaymentBehaviourStep], grade: int | None, origin: str | None,
                 record: PaymentRecord | None) -> tuple[int | None, str | None]:
    """The grade after the payment behaviour step that applies, and its origin with the reason when it moved
    (or when a step applies but the grade is at its bound already)."""
    if grade is None or not steps:
        return grade, origin
    step = matching_step(steps, record)
    if step is None or step.adjust == 0:
        return grade, origin
    assert record is not None
    adjusted = clamp(grade + step.adjust)
    direction = "worse" if step.adjust > 0 else "better"
    how = f"{abs(step.adjust)} {direction} by payment behaviour"
    if adjusted != grade + step.adjust:
        how += f", capped at {adjusted}"
    where = f" [{step.where}]" if step.where else ""
    return adjusted, f"grade {grade} from {origin or 'the policy'}, {how}: {describe(record)}{where}"


__all__ = ["PaymentRecord", "adjust_grade", "clamp", "combine", "describe", "from_snapshot", "matching_step", "percent"]
