"""Run the test cases a policy file ships (``[[tests]]``): facts in, expected decision out.

``creditguard policy validate`` runs them, so that finance can pin down what a
policy must decide before it is made active.
"""

from __future__ import annotations

from decimal import Decimal

from connector.decisions import CustomerFacts, OrderFacts, customer_grade, decide
from connector.exposure import Exposure, Overdue
from connector.payment_grade import PaymentRecord, adjust_grade

from .model import Policy, PolicyCase


class _MissingRate(Exception):
    pass


def run_case(policy: Policy, case: PolicyCase):
    """The decision the policy takes on the case's facts."""
    file = policy.customers.get(case.customer)

    def convert(amount: Decimal, currency: str) -> Decimal:
        if currency == policy.base_currency:
            return amount
        if currency not in case.rates:
            raise _MissingRate(currency)
        return amount * case.rates[currency]

    grade, grade_source = customer_grade(policy, case.grade if case.grade is not None else
                                         (file.grade if file else None), case.risk_category)
    if case.average_days_late is not None:  # how the customer pays: [[payment_behaviour]] moves the grade
        items = case.paid_items if case.paid_items is not None else max(
            (s.min_items for s in policy.payment_behaviour), default=0)
        grade, grade_source = adjust_grade(policy.payment_behaviour, grade, grade_source, PaymentRecord(
            case.as_of, 12, items, Decimal(1), case.average_days_late, case.share_paid_late))
    facts = CustomerFacts(
        source="test", erp_id=case.customer, key=case.customer, name=case.customer, credit_group=case.customer,
        erp_limit=case.erp_limit, grade=grade,
        segment=case.segment if case.segment is not None else (file.segment if file else None),
        grade_source=grade_source, risk_category=case.risk_category, erp_blocked=case.erp_blocked,
    )
    exposure = Exposure("test", case.customer, policy.base_currency,
                        {"open_invoices": case.exposure - case.order, "current_order": case.order})
    overdue = Overdue(case.overdue, 1 if case.overdue else 0, None, case.oldest_due)
    return decide(policy, facts, exposure, overdue, OrderFacts(case.name, None, case.order), case.as_of, convert)


def run_cases(policy: Policy) -> tuple[int, list[str]]:
    """(number of cases, one ``FILE:LINE:COLUMN: tests.N: …`` line per failing case)."""
    failures: list[str] = []
    for index, case in enumerate(policy.tests):
        where = f"{policy.path}:{case.where}: tests.{index} ({case.name})"
        try:
            decision = run_case(policy, case)
        except _MissingRate as missing:
            failures.append(f"{where}: no rate for {missing.args[0]}: add rates = {{ {missing.args[0]} = … }} "
                            "(units of the base currency per unit)")
            continue
        codes = tuple(r.code for r in decision.reasons)
        problems = []
        if decision.result.value != case.expect:
            problems.append(f"expected {case.expect}, got {decision.result.value}")
        if case.reasons is not None and codes != tuple(case.reasons):
            problems.append(f"expected reasons {list(case.reasons)}, got {list(codes)}")
        if case.release_tier is not None and decision.release_tier != case.release_tier:
            problems.append(f"expected release by {case.release_tier}, got {decision.release_tier}")
        if problems:
            detail = "; ".join(r.message for r in decision.reasons) or "no reason to hold"
            failures.append(f"{where}: {', '.join(problems)} ({detail})")
    return len(policy.tests), failures
