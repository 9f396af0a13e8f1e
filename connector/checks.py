"""Credit checks: gather the facts of one order from the store, decide, log the decision."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from policy.model import Grouping, Policy

from .decisions import CustomerFacts, Decision, OrderFacts, customer_grade, customer_key, decide
from .domain import Customer, OrderState, SalesOrder
from .errors import CreditGuardError
from .exposure import Exposure, ExposureCalculator, OrderUnderCheck, Overdue, earliest
from .money import quantize
from .store import Store


class CheckError(CreditGuardError):
    """The order or customer cannot be checked (unknown, ambiguous)."""


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    order: SalesOrder
    customer: Customer
    facts: CustomerFacts
    exposure: Exposure
    overdue: Overdue
    decision: Decision
    policy: Policy
    project: tuple[str, Exposure] | None = None


def _one_order(store: Store, number: str, source: str | None) -> SalesOrder:
    orders = store.find_orders(number, source)
    if not orders:
        raise CheckError(f"no order {number!r} in the store" + (f" for source {source!r}" if source else "")
                         + " (has it been synced?)")
    if len(orders) > 1:
        raise CheckError(f"order {number!r} exists in several sources ({', '.join(o.source for o in orders)}): "
                         "choose one with --source")
    return orders[0]


def _order_amount(order: SalesOrder) -> Decimal:
    """What the order adds to exposure: its un-invoiced part once confirmed, its total before."""
    if order.state in (OrderState.CONFIRMED, OrderState.DONE):
        return order.amount_uninvoiced
    if order.state is OrderState.CANCELLED:
        return Decimal(0)
    return order.amount_total


class CreditChecker:
    def __init__(self, store: Store, policy: Policy, as_of: date) -> None:
        self.store = store
        self.policy = policy
        self.as_of = as_of
        self.exposures = ExposureCalculator(store, policy.exposure, policy.base_currency, as_of)

    def convert(self, source: str, amount: Decimal, currency: str) -> Decimal:
        return self.exposures.rates(source).convert(amount, currency, self.policy.base_currency, None, self.as_of)

    def facts(self, head: Customer) -> tuple[CustomerFacts, list[str]]:
        """The credit facts of a commercial entity, and the credit group ids its exposure spans."""
        key = customer_key(head.ref, head.source, head.erp_id)
        groups = [head.credit_group_id]
        if self.policy.grouping.key is Grouping.CUSTOM:
            for name, members in self.policy.grouping.groups.items():
                if key in members:
                    key = name
                    groups = sorted({c.credit_group_id for m in members for c in self.store.find_customers(m)
                                     if c.source == head.source} | set(groups))
                    break
        file = self.policy.customers.get(key)
        erp_limit = None
        if head.credit_limit is not None and head.credit_limit_currency:
            erp_limit = self.convert(head.source, head.credit_limit, head.credit_limit_currency)
        grade, grade_source = customer_grade(self.policy, file.grade if file else None, head.risk_category)
        facts = CustomerFacts(
            source=head.source, erp_id=head.erp_id, key=key, name=head.name, credit_group=head.credit_group_id,
            erp_limit=erp_limit, grade=grade, segment=file.segment if file else None, grade_source=grade_source,
            risk_category=head.risk_category, erp_blocked=head.credit_blocked,
        )
        return facts, groups

    def overdue_days(self, facts: CustomerFacts) -> int:
        segment = self.policy.segments.get(facts.segment or "")
        if segment is not None and segment.overdue_days is not None:
            return segment.overdue_days
        return self.policy.rules.overdue.days

    def check(self, number: str, source: str | None = None, *, trigger: str = "check",
              record: bool = True) -> CheckOutcome:
        order = _one_order(self.store, number, source)
        customer = self.store.get_customer(order.source, order.customer_id)
        if customer is None:
            raise CheckError(f"order {number}: customer {order.source}:{order.customer_id} is not in the store")
        head = self.store.get_customer(order.source, customer.credit_group_id) or customer
        facts, groups = self.facts(head)
        amount = _order_amount(order)
        under_check = OrderUnderCheck(order.erp_id, amount, order.currency, order.company_id,
                                      order.order_date.date() if order.order_date else self.as_of)
        per_group = self.exposures.compute(order.source, groups, overdue_days=self.overdue_days(facts),
                                           order=under_check)
        exposure, overdue = _merge(order.source, facts.credit_group, self.policy.base_currency, per_group)
        project = None
        segment = self.policy.segments.get(facts.segment or "")
        if segment is not None and segment.project_limit is not None and order.project:
            project_exposure, _ = self.exposures.project(order.source, order.project, order=under_check)
            project = (order.project, project_exposure)
        decision = decide(
            self.policy, facts, exposure, overdue,
            OrderFacts(order.number, order.erp_id, self.convert(order.source, amount, order.currency)),
            self.as_of, lambda value, currency: self.convert(order.source, value, currency), project,
        )
        outcome = CheckOutcome(order, customer, facts, exposure, overdue, decision, self.policy, project)
        if record:
            self.record(outcome, trigger)
        return outcome

    def check_prospective(self, customer_key: str, amount: Decimal, currency: str, source: str | None = None, *,
                          record: bool = True) -> CheckOutcome:
        """The decision for an order not yet in the ERP: a customer and an amount."""
        matches = self.store.find_customers(customer_key, source)
        if not matches:
            raise CheckError(f"no customer {customer_key!r} in the store" +
                             (f" for source {source!r}" if source else ""))
        if len({c.source for c in matches}) > 1:
            raise CheckError(f"customer {customer_key!r} exists in several sources: give the source")
        customer = matches[0]
        head = self.store.get_customer(customer.source, customer.credit_group_id) or customer
        facts, groups = self.facts(head)
        under_check = OrderUnderCheck(None, amount, currency, None, self.as_of)
        per_group = self.exposures.compute(customer.source, groups, overdue_days=self.overdue_days(facts),
                                           order=under_check)
        exposure, overdue = _merge(customer.source, facts.credit_group, self.policy.base_currency, per_group)
        order = SalesOrder(customer.source, "", "(new order)", customer.erp_id, OrderState.DRAFT, False, None,
                           currency, amount, amount, "", datetime.now(UTC))
        decision = decide(
            self.policy, facts, exposure, overdue,
            OrderFacts(order.number, None, self.convert(customer.source, amount, currency)),
            self.as_of, lambda value, cur: self.convert(customer.source, value, cur),
        )
        outcome = CheckOutcome(order, customer, facts, exposure, overdue, decision, self.policy)
        if record:
            self.record(outcome, "api")
        return outcome

    def record(self, outcome: CheckOutcome, trigger: str) -> int:
        document = outcome_json(outcome)
        return self.store.record_decision({
            "taken_at": datetime.now(UTC),
            "trigger": trigger,
            "source": outcome.order.source,
            "order_number": outcome.order.number,
            "order_erp_id": outcome.order.erp_id,
            "customer": outcome.facts.key,
            "credit_group": outcome.facts.credit_group,
            "result": outcome.decision.result.value,
            "currency": outcome.decision.currency,
            "as_of": outcome.decision.as_of,
            "policy_name": outcome.policy.name,
            "policy_version": outcome.policy.version,
            "policy_hash": outcome.policy.content_hash,
            "record": json.dumps(document, sort_keys=True),
        })


def _merge(source: str, group: str, currency: str,
           per_group: dict[str, tuple[Exposure, Overdue]]) -> tuple[Exposure, Overdue]:
    if len(per_group) == 1:
        return next(iter(per_group.values()))
    components: dict[str, Decimal] = {}
    by_currency: dict[str, Decimal] = {}
    amount, count, oldest, oldest_open = Decimal(0), 0, None, None
    for exposure, overdue in per_group.values():
        for k, v in exposure.components.items():
            components[k] = components.get(k, Decimal(0)) + v
        for k, v in exposure.by_currency.items():
            by_currency[k] = by_currency.get(k, Decimal(0)) + v
        amount += overdue.amount
        count += overdue.count
        oldest = earliest(oldest, overdue.oldest_due)
        oldest_open = earliest(oldest_open, overdue.oldest_open_due)
    return (Exposure(source, group, currency, components, by_currency),
            Overdue(quantize(amount, currency), count, oldest, oldest_open))


def overdue_json(overdue: Overdue) -> dict[str, Any]:
    """The overdue figures of a check or an exposure row, dates in ISO 8601."""
    return {"amount": str(overdue.amount), "invoices": overdue.count,
            "oldest_due": overdue.oldest_due.isoformat() if overdue.oldest_due else None,
            "oldest_open_due": overdue.oldest_open_due.isoformat() if overdue.oldest_open_due else None}


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def outcome_json(outcome: CheckOutcome) -> dict[str, Any]:
    """The stable JSON document of a check (documented in docs/policy.md)."""
    d, e, o = outcome.decision, outcome.exposure, outcome.overdue
    return {
        "order": outcome.order.number,
        "source": outcome.order.source,
        "customer": outcome.facts.key,
        "customer_name": outcome.facts.name,
        "credit_group": outcome.facts.credit_group,
        "decision": d.result.value,
        "reasons": [{"code": r.code, "message": r.message} for r in d.reasons],
        "matched_rules": list(d.matched_rules),
        "exposure": {"total": str(e.total), "components": {k: str(v) for k, v in e.components.items()},
                     "by_currency": {k: str(v) for k, v in sorted(e.by_currency.items())}},
        "overdue": overdue_json(o),
        "limit": {"amount": _s(d.limit.amount), "source": d.limit.source.value if d.limit.source else None,
                  "detail": d.limit.detail},
        "headroom": _s(d.headroom),
        "currency": d.currency,
        "release_tier": d.release_tier,
        "project": None if outcome.project is None else {
            "name": outcome.project[0], "exposure": str(outcome.project[1].total),
            "components": {k: str(v) for k, v in outcome.project[1].components.items()}},
        "grade": outcome.facts.grade,
        "grade_source": outcome.facts.grade_source,
        "erp_risk_category": outcome.facts.risk_category,
        "erp_blocked": outcome.facts.erp_blocked,
        "segment": outcome.facts.segment,
        "as_of": d.as_of.isoformat(),
        "policy": {"name": outcome.policy.name, "version": outcome.policy.version,
                   "hash": outcome.policy.content_hash},
    }
