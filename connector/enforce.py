"""Enforcement: evaluate every open order, place and release holds, flag risky customers.

Each change becomes an outbox entry with the absolute target state; the daemon's
own hold registry (``holds``) remembers what it decided, with a revision bumped
on every change, so that re-running changes nothing.  A hold released by a
person in the ERP is honoured: the order is not held again unless its credit
group's exposure has grown since the release.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import structlog

from policy.model import Policy

from .checks import CheckError, CheckOutcome, CreditChecker
from .decisions import Result
from .domain import OrderState, SalesOrder
from .outbox import Outbox
from .rates import MissingRate
from .store import Store
from .store.outbox import HoldRecord

log = structlog.get_logger("creditguard.enforce")

OPEN_STATES = (OrderState.DRAFT, OrderState.SENT, OrderState.CONFIRMED)


@dataclass(frozen=True, slots=True)
class Change:
    order: str
    customer: str
    action: str  # place_hold | update_hold | release_hold | honour_release | set_risk_flag
    detail: str


@dataclass
class EnforceReport:
    source: str
    checked: int = 0
    held: int = 0
    changes: list[Change] = field(default_factory=list)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def is_open(order: SalesOrder) -> bool:
    """Draft, sent, or confirmed and not fully invoiced: an order a hold can still stop."""
    if order.state not in OPEN_STATES:
        return False
    return order.state is not OrderState.CONFIRMED or order.amount_uninvoiced > 0


def risk_flag(outcome: CheckOutcome) -> str:
    """ok / watch / stop for the customer, from the figures of a check."""
    codes = {r.code for r in outcome.decision.reasons}
    if codes & {"cover_withdrawn", "grade"} or (outcome.decision.headroom is not None
                                                and outcome.decision.headroom < 0):
        return "stop"
    if codes or outcome.overdue.amount > 0:
        return "watch"
    return "ok"


class Enforcer:
    def __init__(self, store: Store, policy: Policy, as_of: date, outbox: Outbox,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.store = store
        self.policy = policy
        self.checker = CreditChecker(store, policy, as_of)
        self.outbox = outbox
        self.clock = clock

    def run(self, source: str, *, dry_run: bool = False) -> EnforceReport:
        report = EnforceReport(source)
        flags: dict[str, tuple[CheckOutcome, str]] = {}
        for order in self.store.iter_orders(source):
            hold = self.store.hold(source, order.erp_id)
            if not is_open(order):
                if hold is not None and hold.state == "held":
                    self._release(report, order, hold, None, f"order is {order.state.value}", dry_run)
                continue
            try:
                outcome = self.checker.check(order.number, source, trigger="enforce", record=not dry_run)
            except (CheckError, MissingRate) as exc:  # one order's facts are incomplete; the others go on
                log.warning("enforce.order_skipped", source=source, order=order.number, error=str(exc))
                continue
            report.checked += 1
            flags[outcome.facts.credit_group] = (outcome, risk_flag(outcome))
            self._enforce_order(report, order, hold, outcome, dry_run)
        for group, (outcome, flag) in flags.items():
            self._flag(report, outcome, flag, dry_run)
        return report

    # ------------------------------------------------------------------ orders

    def _enforce_order(self, report: EnforceReport, order: SalesOrder, hold: HoldRecord | None,
                       outcome: CheckOutcome, dry_run: bool) -> None:
        decision = outcome.decision
        exposure = outcome.exposure.total
        if hold is not None and hold.state == "held" and order.erp_released_at is not None \
                and order.erp_released_at >= hold.since:
            # a person released the hold in the ERP: honour it, remember the exposure at release
            report.changes.append(Change(order.number, outcome.facts.key, "honour_release",
                                         f"released in the ERP by {order.erp_released_by or 'a user'}"))
            if not dry_run:
                self.store.save_hold(HoldRecord(
                    hold.source, hold.order_erp_id, hold.order_number, "released", hold.revision, hold.reasons,
                    hold.release_tier, str(exposure), hold.since, f"erp:{order.erp_released_by or ''}",
                    self.clock()))
            return
        if decision.result is Result.HOLD:
            report.held += 1
            reasons = [{"code": r.code, "message": r.message} for r in decision.reasons]
            if hold is not None and hold.state == "released" and (hold.released_by or "").startswith("erp:") \
                    and exposure <= Decimal(hold.exposure):
                return  # released by a person and the figures did not get worse
            if hold is not None and hold.state == "held" and [r["code"] for r in hold.reasons] == \
                    [r["code"] for r in reasons]:
                return  # already held for the same reasons
            action = "update_hold" if hold is not None and hold.state == "held" else "place_hold"
            revision = (hold.revision if hold else 0) + 1
            since = hold.since if hold is not None and hold.state == "held" else self.clock()
            record = HoldRecord(order.source, order.erp_id, order.number, "held", revision, reasons,
                                decision.release_tier, str(exposure), since, None, self.clock())
            report.changes.append(Change(order.number, outcome.facts.key, action,
                                         "; ".join(r.message for r in decision.reasons)))
            if not dry_run:
                self.store.save_hold(record)
                self._queue_hold(record, outcome)
        elif hold is not None and hold.state == "held":
            self._release(report, order, hold, outcome, "the policy now approves it", dry_run)

    def _release(self, report: EnforceReport, order: SalesOrder, hold: HoldRecord, outcome: CheckOutcome | None,
                 why: str, dry_run: bool) -> None:
        customer = outcome.facts.key if outcome else order.customer_id
        report.changes.append(Change(order.number, customer, "release_hold", why))
        if dry_run:
            return
        exposure = str(outcome.exposure.total) if outcome else hold.exposure
        record = HoldRecord(hold.source, hold.order_erp_id, hold.order_number, "released", hold.revision + 1, [],
                            None, exposure, self.clock(), "policy", self.clock())
        self.store.save_hold(record)
        self._queue_hold(record, outcome)

    def _queue_hold(self, record: HoldRecord, outcome: CheckOutcome | None) -> None:
        held = record.state == "held"
        self.outbox.enqueue(
            source=record.source,
            kind="place_hold" if held else "release_hold",
            target_model="sale.order",
            target_id=record.order_erp_id,
            key=f"{record.source}:hold:{record.order_erp_id}:r{record.revision}",
            payload={
                "order": record.order_number,
                "held": held,
                "revision": record.revision,
                "reasons": record.reasons,
                "codes": [r["code"] for r in record.reasons],
                "release_tier": record.release_tier,
                "since": record.since.isoformat(),
                "customer": outcome.facts.name if outcome else None,
                "exposure": record.exposure,
                "currency": self.policy.base_currency,
            },
        )

    # ------------------------------------------------------------------- flags

    def _flag(self, report: EnforceReport, outcome: CheckOutcome, flag: str, dry_run: bool) -> None:
        d = outcome.decision
        state = {
            "flag": flag,
            "grade": outcome.facts.grade,
            "exposure": str(outcome.exposure.total - outcome.exposure.components.get("current_order", Decimal(0))),
            "limit": str(d.limit.amount) if d.limit.amount is not None else None,
            "currency": d.currency,
        }
        latest, count = self.store.outbox_latest(outcome.order.source, "set_risk_flag", outcome.facts.credit_group)
        if latest is not None and {k: latest.payload.get(k) for k in state} == state:
            return
        if latest is None and flag == "ok":
            return  # nothing to say about a customer never flagged
        report.changes.append(Change("-", outcome.facts.key, "set_risk_flag", f"{flag} (grade {state['grade']}, "
                                     f"exposure {state['exposure']}, limit {state['limit']})"))
        if dry_run:
            return
        digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:12]
        self.outbox.enqueue(
            source=outcome.order.source, kind="set_risk_flag", target_model="res.partner",
            target_id=outcome.facts.credit_group,
            key=f"{outcome.order.source}:risk:{outcome.facts.credit_group}:{count + 1}:{digest}",
            payload=state | {"evaluated_at": self.clock().isoformat(), "customer": outcome.facts.name},
        )


class AgeingAlerts:
    """Queue one alert per (invoice, threshold) crossed, and close them when the invoice is paid."""

    def __init__(self, store: Store, policy: Policy, as_of: date, outbox: Outbox,
                 controller_user_id: int | None = None) -> None:
        self.store = store
        self.policy = policy
        self.as_of = as_of
        self.outbox = outbox
        self.controller_user_id = controller_user_id

    def run(self, source: str, *, dry_run: bool = False) -> list[Change]:
        changes: list[Change] = []
        if not self.policy.alerts:
            return changes
        first = min(a.days for a in self.policy.alerts)
        names = {}
        for invoice in self.store.iter_invoices(source, open_only=True,
                                                due_before=self.as_of - timedelta(days=first - 1)):
            if invoice.kind.value != "invoice" or invoice.due_date is None:
                continue
            overdue = (self.as_of - invoice.due_date).days
            for alert in self.policy.alerts:
                if overdue < alert.days:
                    break
                key = f"{source}:alert:{invoice.erp_id}:{alert.days}"
                if not names:
                    names = {c.erp_id: c.name for c in self.store.iter_customers(source)}
                customer = names.get(invoice.credit_group_id, invoice.credit_group_id)
                summary = alert.summary.format(invoice=invoice.number, customer=customer, days=alert.days,
                                               amount=invoice.amount_open, currency=invoice.currency)
                payload = {
                    "invoice": invoice.number, "customer": customer, "days": alert.days, "overdue": overdue,
                    "due_date": invoice.due_date.isoformat(), "amount": str(invoice.amount_open),
                    "currency": invoice.currency, "action": alert.action.value, "summary": summary,
                    "activity_type": alert.activity_type,
                    "deadline": (self.as_of + timedelta(days=alert.deadline_days)).isoformat(),
                    "user_id": alert.user_id or self.controller_user_id,
                }
                if dry_run:
                    if self.store.outbox_latest(source, "create_alert", invoice.erp_id)[1] == 0:
                        changes.append(Change(invoice.number, customer, "create_alert", summary))
                    continue
                if self.outbox.enqueue(source=source, kind="create_alert", target_model="account.move",
                                       target_id=invoice.erp_id, key=key, payload=payload):
                    changes.append(Change(invoice.number, customer, "create_alert", summary))
        changes += self._close_paid(source, dry_run)
        return changes

    def _close_paid(self, source: str, dry_run: bool) -> list[Change]:
        changes = []
        for entry in self.store.alerts_to_close(source):
            key = entry.key.replace(":alert:", ":alert-close:")
            if dry_run:
                continue
            if self.outbox.enqueue(source=source, kind="close_alert", target_model="account.move",
                                   target_id=entry.target_id, key=key,
                                   payload={"alert_key": entry.key, "invoice": entry.payload["invoice"]}):
                changes.append(Change(entry.payload["invoice"], entry.payload["customer"], "close_alert",
                                      "invoice paid or cancelled"))
        return changes
