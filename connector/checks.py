"""Credit checks: gather the facts of one order from the store, decide, log the decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from policy.model import Grouping, Policy

from .decisions import CustomerFacts, Decision, OrderFacts, Result, customer_grade, customer_key, decide
from .domain import Customer, OrderState, SalesOrder
from .errors import CreditGuardError
from .exposure import Exposure, ExposureCalculator, OrderUnderCheck, Overdue, earliest
from .holds import hold_key, policy_codes, queue_hold
from .insurer_limits import applied_decisions
from .money import quantize
from .outbox import Outbox
from .payment_grade import PaymentRecord, adjust_grade, combine, from_snapshot
from .rates import RateTables
from .store import Store
from .store.outbox import HoldRecord
from .store.reservations import Reservation

if TYPE_CHECKING:
    from .live_checks import LiveCustomer, LiveOrder


class CheckError(CreditGuardError):
    """The order or customer cannot be checked (unknown, ambiguous)."""


class BadFacts(CheckError):
    """Facts of an order that are missing or contradict each other; ``field`` names the one at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


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
    hold_key: str | None = None  # a hold decided at confirmation: the key of its write into the ERP
    reservation: Decimal | None = None  # an approval at confirmation: the exposure reserved (base currency)


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


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CreditChecker:
    def __init__(self, store: Store, policy: Policy, as_of: date,
                 clock: Callable[[], datetime] = _utcnow, rate_tables: RateTables | None = None) -> None:
        self.store = store
        # the insurer decisions imported from their exports count too, and their grades (docs/insurer-feed.md)
        self.policy, self.insurer_grades = applied_decisions(store, policy, as_of)
        self.as_of = as_of
        self.clock = clock
        self.exposures = ExposureCalculator(store, policy.exposure, policy.base_currency, as_of, clock(),
                                            rate_tables)
        self._last_document: tuple[CheckOutcome, dict[str, Any]] | None = None  # see document()

    def document(self, outcome: CheckOutcome) -> dict[str, Any]:
        """The JSON document of ``outcome`` (:func:`outcome_json`), built once for the decision log's entry and
        the API's answer about the same outcome (the last one is kept).  Do not change it."""
        last = self._last_document
        if last is None or last[0] is not outcome:
            last = self._last_document = (outcome, outcome_json(outcome))
        return last[1]

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
        grade, grade_source = customer_grade(self.policy, file.grade if file else None, head.risk_category,
                                             self.insurer_grades.get(key))
        if self.policy.payment_behaviour and grade is not None:  # no read at all without the policy's table
            grade, grade_source = adjust_grade(self.policy.payment_behaviour, grade, grade_source,
                                               self.payment_record(head.source, groups))
        facts = CustomerFacts(
            source=head.source, erp_id=head.erp_id, key=key, name=head.name, credit_group=head.credit_group_id,
            erp_limit=erp_limit, grade=grade, segment=file.segment if file else None, grade_source=grade_source,
            risk_category=head.risk_category, erp_blocked=head.credit_blocked,
        )
        return facts, groups

    def payment_record(self, source: str, groups: list[str]) -> PaymentRecord | None:
        """How the credit groups paid, as their latest daily snapshot up to ``as_of`` keeps it (one indexed read
        per group, see :mod:`.payment_grade`); None without figures."""
        records = [r for g in groups
                   if (r := from_snapshot(self.store.latest_payment_snapshot(source, g, self.as_of))) is not None]
        return combine(records)

    def less_disputed(self, source: str, group: str, overdue: Overdue) -> Overdue:
        """The overdue figures without the amount disputed in the group's collection case (``[cases]
        exclude_disputed``, see :mod:`.cases`)."""
        from .cases import less_disputed

        return less_disputed(self.store, self.policy, source, group, overdue,
                             lambda value, currency: self.convert(source, value, currency))

    def overdue_days(self, facts: CustomerFacts) -> int:
        segment = self.policy.segments.get(facts.segment or "")
        if segment is not None and segment.overdue_days is not None:
            return segment.overdue_days
        return self.policy.rules.overdue.days

    def check(self, number: str, source: str | None = None, *, trigger: str = "check",
              record: bool = True) -> CheckOutcome:
        with self.store.reading():
            order = _one_order(self.store, number, source)
            customer = self.store.get_customer(order.source, order.customer_id)
            if customer is None:
                raise CheckError(f"order {number}: customer {order.source}:{order.customer_id} is not in the store")
            group = customer.credit_group_id
            self._read_ahead(order.source, group, (group,) if group != customer.erp_id else (), order.erp_id)
            head = customer if customer.credit_group_id == customer.erp_id else \
                self.store.get_customer(order.source, customer.credit_group_id) or customer
            outcome = self._outcome(order, customer, head, _order_amount(order))
            if record:
                self.record(outcome, trigger)
        return outcome

    def _outcome(self, order: SalesOrder, customer: Customer, head: Customer, amount: Decimal,
                 order_type: str | None = None) -> CheckOutcome:
        """The decision on ``order`` (adding ``amount``) for the credit group ``head`` leads."""
        facts, groups = self.facts(head)
        under_check = OrderUnderCheck(order.erp_id, amount, order.currency, order.company_id or None,
                                      order.order_date.date() if order.order_date else self.as_of)
        per_group = self.exposures.compute(order.source, groups, overdue_days=self.overdue_days(facts),
                                           order=under_check)
        exposure, overdue = _merge(order.source, facts.credit_group, self.policy.base_currency, per_group)
        overdue = self.less_disputed(order.source, facts.credit_group, overdue)
        project = None
        segment = self.policy.segments.get(facts.segment or "")
        if segment is not None and segment.project_limit is not None and order.project:
            project_exposure, _ = self.exposures.project(order.source, order.project, order=under_check)
            project = (order.project, project_exposure)
        decision = decide(
            self.policy, facts, exposure, overdue,
            OrderFacts(order.number, order.erp_id, self.convert(order.source, amount, order.currency), order_type),
            self.as_of, lambda value, currency: self.convert(order.source, value, currency), project,
        )
        return CheckOutcome(order, customer, facts, exposure, overdue, decision, self.policy, project)

    def check_live(self, order: LiveOrder, customer: LiveCustomer, *, confirm: bool = False, record: bool = True,
                   outbox: Outbox | None = None, reservation_ttl: timedelta = timedelta(hours=24),
                   trigger: str = "api") -> CheckOutcome:
        """The decision on an order as the ERP has it now, synced or not (see :mod:`.live_checks`).

        ``confirm``: the order is being confirmed.  The decision is then taken one at a time per credit group
        (:meth:`Store.decision_lock`), and in the same transaction an approval reserves the order's amount
        until the sync brings the order in, and a hold is registered with its write into the ERP (the key the
        answer gives, so that ``enforce`` finds it placed)."""
        if order.state is OrderState.CANCELLED:
            raise BadFacts("order.state", f"order {order.number} is cancelled: there is nothing to decide")
        with self.store.reading():
            return self._check_live(order, customer, confirm, record, outbox, reservation_ttl, trigger)

    def _check_live(self, order: LiveOrder, customer: LiveCustomer, confirm: bool, record: bool,
                    outbox: Outbox | None, reservation_ttl: timedelta, trigger: str) -> CheckOutcome:
        self._read_ahead(order.source, customer.commercial_erp_id, (customer.commercial_erp_id, customer.erp_id),
                         order.erp_id, confirm=confirm)
        head = self._live_head(order.source, customer)
        member = self.store.get_customer(order.source, customer.erp_id) if customer.erp_id != head.erp_id else head
        now = self.clock()
        sales_order = SalesOrder(
            order.source, order.erp_id, order.number, customer.erp_id, order.state, False,
            datetime.combine(order.order_date, time(), UTC) if order.order_date else None, order.currency,
            order.amount_total, order.amount_uninvoiced, order.company_id or "", now, project=order.project)
        # what the order adds once confirmed: its part not invoiced yet; a quotation only checked: its total
        confirmed = confirm or order.state in (OrderState.CONFIRMED, OrderState.DONE)
        amount = order.amount_uninvoiced if confirmed else order.amount_total
        if not confirm:
            outcome = self._outcome(sales_order, member or head, head, amount, order.order_type)
            if record:
                self.record(outcome, trigger)
            return outcome
        group = head.credit_group_id  # the group the decision is about (facts(head).credit_group)
        # decide first without the group's lock; under it, keep that decision only if no other decision at
        # confirmation came in meanwhile (else decide again, now one at a time): the lock is held for the writes
        # (PostgreSQL, reading ahead: the reads took the group's lock first, so none can have come in)
        version = self.store.decision_version(order.source, group)
        outcome = self._outcome(sales_order, member or head, head, amount, order.order_type)
        with self.store.decision_lock(order.source, group, order.erp_id) as (conn, before):
            if before != version:
                outcome = self._outcome(sales_order, member or head, head, amount, order.order_type)
            approved = outcome.decision.result is Result.APPROVE
            reserved = self.convert(order.source, amount, order.currency) if approved else None
            with self.store.commit_together(conn):  # the writes only: what they need is read by now
                decision_id = self.record(outcome, "confirm", conn) if record else None
                if reserved is not None:
                    self.store.put_reservation(Reservation(
                        order.source, order.erp_id, order.number, group, order.company_id, order.currency, amount,
                        self.policy.base_currency, reserved, now, now + reservation_ttl, decision_id), conn)
                    return replace(outcome, reservation=reserved)
                self.store.drop_reservation(order.source, order.erp_id, conn)
                key = self._hold_at_confirmation(outcome, outbox or Outbox(self.store), conn)
            return replace(outcome, hold_key=key)

    def _read_ahead(self, source: str, group: str, customers: tuple[str, ...], order_erp_id: str, *,
                    confirm: bool = False) -> None:
        """Let the store read at once what deciding on an order of ``group`` will read (see
        :mod:`connector.store.check_reads`): the customers named, the group's exposure with the policy's own
        overdue days, and at confirmation the group's lock for the decision (PostgreSQL: the decision is then taken
        under it from its first read).  Not with a custom grouping, whose groups are known only from the head's
        facts."""
        if self.policy.grouping.key is Grouping.CUSTOM:
            return
        self.store.read_ahead(self.exposures.reads(
            source, group, customers, order_erp_id, overdue_days=self.policy.rules.overdue.days,
            disputed=self.policy.cases.exclude_disputed, lock=confirm))

    def _live_head(self, source: str, customer: LiveCustomer) -> Customer:
        """The commercial entity of the order's customer: as the store has it, or a new buyer (no history, the
        ERP limit the request carries)."""
        stored = self.store.get_customer(source, customer.commercial_erp_id)
        if stored is not None:
            if stored.credit_group_id != stored.erp_id:
                raise BadFacts("customer.commercial_erp_id",
                               f"{customer.commercial_erp_id} is a contact of {stored.credit_group_id} in {source}, "
                               "not a commercial entity")
            return stored
        limit = customer.credit_limit if customer.credit_limit else None  # 0 means "no limit" in the ERP
        return Customer(source, customer.commercial_erp_id, customer.commercial_ref, customer.commercial_name,
                        customer.commercial_erp_id, None, None, None, True, None, limit,
                        customer.credit_limit_currency if limit is not None else None, True, self.clock())

    def _hold_at_confirmation(self, outcome: CheckOutcome, outbox: Outbox, conn: Any) -> str:
        """Register the hold decided at confirmation and queue its write (the ERP may have written it already
        from the answer: the write finds its key there and adds only the note); the key of that write."""
        order, decision = outcome.order, outcome.decision
        reasons = [{"code": r.code, "message": r.message} for r in decision.reasons]
        hold = self.store.hold(order.source, order.erp_id)
        if hold is not None and hold.state == "held" and policy_codes(hold.reasons) == policy_codes(reasons):
            return hold_key(hold)  # already held for the same reasons
        now = self.clock()
        record = HoldRecord(order.source, order.erp_id, order.number, "held", (hold.revision if hold else 0) + 1,
                            reasons, decision.release_tier, str(outcome.exposure.total),
                            hold.since if hold is not None and hold.state == "held" else now, None, now)
        self.store.save_hold(record, conn)
        return queue_hold(outbox, record, outcome.facts.name, self.policy.base_currency, conn)

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
        overdue = self.less_disputed(customer.source, facts.credit_group, overdue)
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

    def record(self, outcome: CheckOutcome, trigger: str, conn: Any = None,
               erp_release: dict[str, Any] | None = None) -> int:
        """Append the decision to the log; ``erp_release``: the release in the ERP it honoured or refused."""
        document = self.document(outcome)
        if erp_release is not None:
            document = document | {"erp_release": erp_release}
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
            "record": orjson.dumps(document, option=orjson.OPT_SORT_KEYS).decode(),
        }, conn)


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
        "hold_key": outcome.hold_key,
        "reserved": _s(outcome.reservation),
    }
