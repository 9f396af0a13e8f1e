"""Credit decisions: a pure, deterministic function of explicit inputs.

``decide(policy, customer, exposure, overdue, order, as_of, convert)`` says
``approve`` or ``hold``, with every reason as a stable code and a sentence
carrying the figures, the effective limit and where it came from, the
headroom, and the approval tier needed to release a hold.  Nothing here reads
the clock, the store or the ERP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from policy.model import ApprovalTier, InsurerLimit, InsurerStatus, LimitSource, Policy, Segment

from .exposure import Exposure, Overdue
from .money import for_people as _money
from .money import quantize

Convert = Callable[[Decimal, str], Decimal]  # (amount, currency) → amount in the policy's base currency


class Result(StrEnum):
    APPROVE = "approve"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    source: str
    erp_id: str
    key: str  # how the policy names the customer: its ref, else "source:erp_id"
    name: str
    credit_group: str
    erp_limit: Decimal | None  # in the base currency
    grade: int | None
    segment: str | None
    grade_source: str | None = None  # where the grade came from, for people ("policy file", "ERP risk …")
    risk_category: str | None = None  # the ERP's risk category, as synced
    erp_blocked: bool = False  # the ERP's credit management blocked the customer


@dataclass(frozen=True, slots=True)
class OrderFacts:
    number: str
    erp_id: str | None
    amount: Decimal  # base currency: what the order adds to exposure
    order_type: str | None = None


@dataclass(frozen=True, slots=True)
class EffectiveLimit:
    amount: Decimal | None
    source: LimitSource | None
    detail: str


@dataclass(frozen=True, slots=True)
class Decision:
    result: Result
    reasons: tuple[Reason, ...]
    matched_rules: tuple[str, ...]
    limit: EffectiveLimit
    headroom: Decimal | None
    release_tier: str | None
    currency: str
    as_of: date


def customer_key(ref: str | None, source: str, erp_id: str) -> str:
    return ref or f"{source}:{erp_id}"


GRADE_FROM_FILE = "policy customer file"


def _grade_origin(customer: CustomerFacts) -> str:
    """`` (ERP risk category 003)`` when the grade came from the ERP, else nothing."""
    source = customer.grade_source
    return f" ({source})" if source and source != GRADE_FROM_FILE else ""


def customer_grade(policy: Policy, file_grade: int | None, risk_category: str | None,
                   insurer_grade: tuple[int, str] | None = None) -> tuple[int | None, str | None]:
    """The customer's grade and where it came from: the policy's customer file first, then the
    insurer's grade of the imported decision in force (``insurer_grade``: grade and origin), then the
    grade ``[risk_categories]`` gives the ERP's risk category; ``(None, None)`` when none does."""
    if file_grade is not None:
        return file_grade, GRADE_FROM_FILE
    if insurer_grade is not None:
        return insurer_grade
    if risk_category is not None and risk_category in policy.risk_categories:
        return policy.risk_categories[risk_category], f"ERP risk category {risk_category}"
    return None, None


def effective_limit(policy: Policy, customer: CustomerFacts, as_of: date, convert: Convert) -> EffectiveLimit:
    """The first limit found in the policy's order of precedence."""
    base = policy.base_currency
    for source in policy.limits.precedence:
        if source is LimitSource.OVERRIDE:
            for o in policy.limits.overrides:
                if o.customer == customer.key and o.in_force(as_of):
                    amount = quantize(convert(o.amount, o.currency), base)
                    return EffectiveLimit(amount, source, f"temporary limit until {o.expires} "
                                                          f"({o.reason}, approved by {o.approved_by})")
        elif source is LimitSource.INSURER:
            cover = insurer_decision(policy, customer.key, as_of)
            if cover is not None and cover.status is not InsurerStatus.WITHDRAWN:
                amount = quantize(convert(cover.amount, cover.currency) + policy.limits.discretionary, base)
                return EffectiveLimit(amount, source, f"{cover.insurer} limit of {_money(cover.amount, cover.currency)}"
                                                      f" decided {cover.decided} plus discretionary "
                                                      f"{_money(policy.limits.discretionary, base)}")
        elif source is LimitSource.ERP:
            if customer.erp_limit is not None:
                return EffectiveLimit(quantize(customer.erp_limit, base), source, "credit limit set in the ERP")
        elif source is LimitSource.GRADE:
            if customer.grade is not None and customer.grade in policy.limits.grades:
                return EffectiveLimit(quantize(policy.limits.grades[customer.grade], base), source,
                                      f"policy limit for grade {customer.grade}"
                                      + _grade_origin(customer))
    return EffectiveLimit(None, None, "no limit from any source")


def insurer_decision(policy: Policy, customer_key: str, as_of: date) -> InsurerLimit | None:
    """The latest insurer decision in force for the customer (withdrawn ones included)."""
    decisions = [c for c in policy.limits.insurer if c.customer == customer_key and c.in_force(as_of)]
    return max(decisions, key=lambda c: c.decided) if decisions else None


def insurer_cover_stopped(policy: Policy, customer: CustomerFacts, overdue: Overdue, as_of: date) -> Reason | None:
    """Why the insurer no longer covers new deliveries: the maximum extension period (MEP) of the
    customer's oldest unpaid invoice expired before ``as_of``; None while cover holds."""
    cover = insurer_decision(policy, customer.key, as_of)
    if cover is None or cover.status is InsurerStatus.WITHDRAWN or overdue.oldest_open_due is None:
        return None
    terms = policy.insurers.get(cover.insurer)
    stops = terms.cover_stops(overdue.oldest_open_due) if terms is not None else None
    if stops is None or stops >= as_of:
        return None
    return Reason("insurer_cover_stopped",
                  f"{cover.insurer} cover for new deliveries to {customer.name} stopped when the maximum extension "
                  f"period of {terms.max_extension_days} days expired on {stops}: the oldest unpaid invoice was due "
                  f"{overdue.oldest_open_due}.")


def release_tier(tiers: tuple[ApprovalTier, ...], amount: Decimal, at_least: str | None = None) -> str | None:
    """The lowest tier allowed to release ``amount`` (and not below ``at_least``)."""
    if not tiers:
        return None
    roles = [t.role for t in tiers]
    floor = roles.index(at_least) if at_least in roles else 0
    for index, tier in enumerate(tiers):
        if index >= floor and (tier.up_to is None or amount <= tier.up_to):
            return tier.role
    return tiers[-1].role


def decide(
    policy: Policy,
    customer: CustomerFacts,
    exposure: Exposure,
    overdue: Overdue,
    order: OrderFacts,
    as_of: date,
    convert: Convert,
    project: tuple[str, Exposure] | None = None,
) -> Decision:
    """``project``: the order's project and that project's exposure, for construction segments."""
    base = policy.base_currency
    segment: Segment = policy.segments.get(customer.segment or "", Segment())
    limit = effective_limit(policy, customer, as_of, convert)
    headroom = quantize(limit.amount - exposure.total, base) if limit.amount is not None else None

    def approved(rule: str) -> Decision:
        return Decision(Result.APPROVE, (), (rule,), limit, headroom, None, base, as_of)

    exemptions = policy.exemptions
    if customer.key in exemptions.customers:
        return approved("exemptions.customers")
    if order.order_type and order.order_type in exemptions.excluded_order_types:
        return approved("exemptions.excluded_order_types")
    rules = policy.rules
    if rules.erp_blocked.enabled and customer.erp_blocked:  # no fast path for a blocked customer
        reason = Reason("erp_blocked", f"{customer.name} is blocked by the ERP's credit management.")
        tier = release_tier(policy.approval_tiers, order.amount)
        return Decision(Result.HOLD, (reason,), ("rules.erp_blocked",), limit, headroom, tier, base, as_of)
    fast_path = segment.auto_approve_below if segment.auto_approve_below is not None else exemptions.auto_approve_below
    if fast_path is not None and order.amount < fast_path:
        return approved("segments.auto_approve_below" if segment.auto_approve_below is not None
                        else "exemptions.auto_approve_below")

    reasons: list[Reason] = []
    matched: list[str] = []
    at_least: str | None = None

    cover = insurer_decision(policy, customer.key, as_of)
    if rules.cover_withdrawn.enabled and cover is not None and cover.status is InsurerStatus.WITHDRAWN:
        matched.append("rules.cover_withdrawn")
        reasons.append(Reason("cover_withdrawn", f"{cover.insurer} withdrew cover for {customer.name} "
                                                 f"on {cover.decided}."))
    stopped = insurer_cover_stopped(policy, customer, overdue, as_of) if rules.insurer_cover.enabled else None
    if stopped is not None:
        matched.append("rules.insurer_cover")
        reasons.append(stopped)
    if limit.amount is None:
        if rules.no_limit.enabled:
            matched.append("rules.no_limit")
            reasons.append(Reason("no_limit", f"{customer.name} has no credit limit (new buyer): "
                                              f"exposure would be {_money(exposure.total, base)}."))
    elif rules.over_limit.enabled:
        tolerance = max(limit.amount * rules.over_limit.tolerance_percent / 100, rules.over_limit.tolerance_amount)
        allowed = quantize(limit.amount + tolerance, base)
        if exposure.total > allowed:
            matched.append("rules.over_limit")
            reasons.append(Reason("over_limit", f"Exposure {_money(exposure.total, base)} exceeds the limit "
                                                f"{_money(limit.amount, base)} ({limit.source.value}) "
                                                f"plus tolerance {_money(quantize(tolerance, base), base)} by "
                                                f"{_money(exposure.total - allowed, base)}."))
    if rules.overdue.enabled:
        threshold = segment.overdue_amount if segment.overdue_amount is not None else rules.overdue.amount
        days = segment.overdue_days if segment.overdue_days is not None else rules.overdue.days
        if overdue.amount > threshold:
            matched.append("segments.overdue" if segment.overdue_days is not None else "rules.overdue")
            reasons.append(Reason("overdue", f"{_money(overdue.amount, base)} is more than {days} days overdue "
                                             f"({overdue.count} invoice(s), oldest due {overdue.oldest_due}, "
                                             f"{overdue.days(as_of)} days); allowed {_money(threshold, base)}."))
    if rules.grade.enabled and customer.grade is not None and customer.grade >= rules.grade.hold_at_or_worse:
        matched.append("rules.grade")
        reasons.append(Reason("grade", f"Risk grade {customer.grade}{_grade_origin(customer)} is at or worse than "
                                       f"{rules.grade.hold_at_or_worse}."))
    if segment.large_order_threshold is not None and order.amount > segment.large_order_threshold:
        matched.append("segments.large_order_threshold")
        at_least = segment.large_order_tier
        reasons.append(Reason("large_order", f"Order {order.number} of {_money(order.amount, base)} is above the "
                                             f"{customer.segment} single-order threshold "
                                             f"{_money(segment.large_order_threshold, base)}."))
    if segment.project_limit is not None and project is not None:
        name, project_exposure = project
        if project_exposure.total > segment.project_limit:
            matched.append("segments.project_limit")
            reasons.append(Reason("project_limit", f"Project {name!r} exposure {_money(project_exposure.total, base)}"
                                                   f" exceeds the project limit "
                                                   f"{_money(segment.project_limit, base)} by "
                                                   f"{_money(project_exposure.total - segment.project_limit, base)}."))
    if not reasons:
        return Decision(Result.APPROVE, (), tuple(matched), limit, headroom, None, base, as_of)
    tier = release_tier(policy.approval_tiers, order.amount, at_least)
    return Decision(Result.HOLD, tuple(reasons), tuple(matched), limit, headroom, tier, base, as_of)
