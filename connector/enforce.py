"""Enforcement: evaluate every open order, place and release holds, flag risky customers.

Each change becomes an outbox entry with the absolute target state; the daemon's
own hold registry (``holds``) remembers what it decided, with a revision bumped
on every change, so that re-running changes nothing.  A hold released by a
person in the ERP is honoured: the order is not held again unless its credit
group's exposure has grown since the release.  A release recorded at a lower
approval tier than the hold's is not: the hold is placed again, saying so.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from policy.model import TODO_ACTIVITY, AlertAction, Policy

from .checks import CheckError, CheckOutcome, CreditChecker
from .deadlines import Deadline, DeadlineKind, DeadlineStatus, InsurerDeadlines, list_deadlines
from .decisions import Result
from .domain import OrderState, SalesOrder
from .holds import RELEASE_TIER_TOO_LOW, policy_codes, queue_hold
from .logs import get_logger
from .outbox import Outbox
from .rates import MissingRate
from .store import Store
from .store.outbox import HoldRecord

log = get_logger("creditguard.enforce")

OPEN_STATES = (OrderState.DRAFT, OrderState.SENT, OrderState.CONFIRMED)


@dataclass(frozen=True, slots=True)
class Change:
    order: str
    customer: str
    # place_hold | update_hold | release_hold | honour_release | refuse_release | set_risk_flag (orders, customers);
    # create_alert | insurer_alert | close_alert (invoices)
    action: str
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


def risk_flag(outcome: CheckOutcome, exposure: Decimal) -> str:
    """ok / watch / stop for the customer, from the figures of a check of one of its orders and the credit
    group's ``exposure`` (as ``creditguard exposure`` gives it: no order under check).  Stop: the group itself
    is over its limit, or its cover or grade stops every order; watch: an order of it is held, or it has
    overdue invoices."""
    codes = {r.code for r in outcome.decision.reasons}
    limit = outcome.decision.limit.amount
    over = limit is not None and exposure > limit
    if codes & {"cover_withdrawn", "insurer_cover_stopped", "grade"} or over:
        return "stop"
    if codes or outcome.overdue.amount > 0:
        return "watch"
    return "ok"


class Enforcer:
    def __init__(self, store: Store, policy: Policy, as_of: date, outbox: Outbox,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.store = store
        self.policy = policy
        self.checker = CreditChecker(store, policy, as_of, clock)
        self.outbox = outbox
        self.clock = clock

    def run(self, source: str, *, dry_run: bool = False) -> EnforceReport:
        report = EnforceReport(source)
        checked: dict[str, CheckOutcome] = {}  # per credit group, the check of one of its open orders
        for order in self.store.iter_orders(source):
            hold = self.store.hold(source, order.erp_id)
            if not is_open(order):
                if hold is not None and hold.state == "held":
                    self._release(report, order, hold, None, f"order is {order.state.value}", dry_run)
                continue
            try:
                outcome = self.checker.check(order.number, source, trigger="enforce", record=False)
            except (CheckError, MissingRate) as exc:  # one order's facts are incomplete; the others go on
                log.warning("enforce.order_skipped", source=source, order=order.number, error=str(exc))
                continue
            report.checked += 1
            checked[outcome.facts.credit_group] = outcome
            if not self._enforce_order(report, order, hold, outcome, dry_run) and not dry_run:
                self.checker.record(outcome, "enforce")  # a decision that changes nothing is only logged
        if checked:  # the groups' own figures, as `creditguard exposure` gives them (no order under check)
            figures = self.checker.exposures.compute(source, list(checked))
            for group, outcome in checked.items():
                exposure = figures[group][0].total
                self._flag(report, outcome, risk_flag(outcome, exposure), exposure, dry_run)
        return report

    # ------------------------------------------------------------------ orders

    def _enforce_order(self, report: EnforceReport, order: SalesOrder, hold: HoldRecord | None,
                       outcome: CheckOutcome, dry_run: bool) -> bool:
        """Act on the decision; True when the decision was recorded with the hold change it led to."""
        decision = outcome.decision
        exposure = outcome.exposure.total
        if hold is not None and hold.state == "held" and order.erp_released_at is not None \
                and order.erp_released_at >= hold.since:
            # a person released the hold in the ERP: honour it, remember the exposure at release; unless the
            # policy still holds the order and the release was recorded at a lower tier than the hold's
            needed = self._tier_short(order, hold) if decision.result is Result.HOLD else None
            if needed is not None:
                return self._refuse_release(report, order, hold, outcome, needed, dry_run)
            report.changes.append(Change(order.number, outcome.facts.key, "honour_release",
                                         f"released in the ERP by {_release_text(order)}"))
            if not dry_run:
                with self.store.transaction() as conn:
                    self.checker.record(outcome, "enforce", conn, _erp_release(order, hold, honoured=True))
                    self.store.save_hold(HoldRecord(
                        hold.source, hold.order_erp_id, hold.order_number, "released", hold.revision, hold.reasons,
                        hold.release_tier, str(exposure), hold.since, f"erp:{order.erp_released_by or ''}",
                        self.clock(), order.erp_released_tier, order.erp_release_reason), conn)
            return not dry_run
        if decision.result is Result.HOLD:
            report.held += 1
            reasons = [{"code": r.code, "message": r.message} for r in decision.reasons]
            if hold is not None and hold.state == "released" and (hold.released_by or "").startswith("erp:") \
                    and exposure <= Decimal(hold.exposure):
                return False  # released by a person and the figures did not get worse
            if hold is not None and hold.state == "held" and policy_codes(hold.reasons) == policy_codes(reasons):
                return False  # already held for the same reasons
            action = "update_hold" if hold is not None and hold.state == "held" else "place_hold"
            revision = (hold.revision if hold else 0) + 1
            since = hold.since if hold is not None and hold.state == "held" else self.clock()
            record = HoldRecord(order.source, order.erp_id, order.number, "held", revision, reasons,
                                decision.release_tier, str(exposure), since, None, self.clock())
            report.changes.append(Change(order.number, outcome.facts.key, action,
                                         "; ".join(r.message for r in decision.reasons)))
            if not dry_run:
                self._save_hold(record, outcome)
            return not dry_run
        if hold is not None and hold.state == "held":
            self._release(report, order, hold, outcome, "the policy now approves it", dry_run)
            return not dry_run
        return False

    def _tier_short(self, order: SalesOrder, hold: HoldRecord) -> str | None:
        """The tier the hold needs when its release in the ERP was recorded at a lower one of the policy's
        ``[[approval_tiers]]`` (lowest first), else None: a release with no tier recorded (an ERP or addon that
        records none, a controller without a tier), a hold without a tier, or a tier the policy does not know
        (logged) is honoured as it always was."""
        released, needed = order.erp_released_tier, hold.release_tier
        if not released or not needed:
            return None
        roles = [tier.role for tier in self.policy.approval_tiers]
        if released not in roles or needed not in roles:
            log.warning("enforce.release_tier_unknown", source=order.source, order=order.number,
                        released_tier=released, hold_tier=needed, known=",".join(roles),
                        detail="the release is honoured: its tier cannot be compared with the hold's")
            return None
        return needed if roles.index(released) < roles.index(needed) else None

    def _refuse_release(self, report: EnforceReport, order: SalesOrder, hold: HoldRecord, outcome: CheckOutcome,
                        needed: str, dry_run: bool) -> bool:
        """Place the hold again (a new revision, written like any other) with a reason that says why: the
        release was recorded at a lower tier than the hold needs."""
        decision = outcome.decision
        report.held += 1
        message = (f"Released in the ERP by {order.erp_released_by or 'a user'} at tier {order.erp_released_tier}; "
                   f"this hold needs {needed}.")
        reasons = [{"code": RELEASE_TIER_TOO_LOW, "message": message}]
        reasons += [{"code": r.code, "message": r.message} for r in decision.reasons]
        # the new hold starts after the release (whatever the two clocks say): the next cycle sees a release
        # older than the hold, not this one again
        assert order.erp_released_at is not None
        since = max(self.clock(), order.erp_released_at + timedelta(seconds=1))
        record = HoldRecord(order.source, order.erp_id, order.number, "held", hold.revision + 1, reasons,
                            self._higher_tier(needed, decision.release_tier), str(outcome.exposure.total), since,
                            None, self.clock())
        report.changes.append(Change(order.number, outcome.facts.key, "refuse_release", message))
        if not dry_run:
            self._save_hold(record, outcome, _erp_release(order, hold, honoured=False))
        return not dry_run

    def _higher_tier(self, tier: str, other: str | None) -> str:
        roles = [t.role for t in self.policy.approval_tiers]
        if other in roles and roles.index(other) > roles.index(tier):
            return other
        return tier

    def _release(self, report: EnforceReport, order: SalesOrder, hold: HoldRecord, outcome: CheckOutcome | None,
                 why: str, dry_run: bool) -> None:
        customer = outcome.facts.key if outcome else order.customer_id
        report.changes.append(Change(order.number, customer, "release_hold", why))
        if dry_run:
            return
        exposure = str(outcome.exposure.total) if outcome else hold.exposure
        record = HoldRecord(hold.source, hold.order_erp_id, hold.order_number, "released", hold.revision + 1, [],
                            None, exposure, self.clock(), "policy", self.clock())
        self._save_hold(record, outcome)

    def _save_hold(self, record: HoldRecord, outcome: CheckOutcome | None,
                   erp_release: dict | None = None) -> None:
        """The decision, the hold in the registry and its write in the outbox, in one transaction: a crash
        between them would leave a hold the registry knows and the ERP never gets."""
        with self.store.transaction() as conn:
            if outcome is not None:
                self.checker.record(outcome, "enforce", conn, erp_release)
            self.store.save_hold(record, conn)
            queue_hold(self.outbox, record, outcome.facts.name if outcome else None, self.policy.base_currency,
                       conn)

    # ------------------------------------------------------------------- flags

    def _flag(self, report: EnforceReport, outcome: CheckOutcome, flag: str, exposure: Decimal,
              dry_run: bool) -> None:
        d = outcome.decision
        state = {
            "flag": flag,
            "grade": outcome.facts.grade,
            "exposure": str(exposure),
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


def _release_text(order: SalesOrder) -> str:
    """``Carla Credit at tier cfo: Guaranteed by the parent company`` (what the ERP recorded of a release)."""
    text = order.erp_released_by or "a user"
    if order.erp_released_tier:
        text += f" at tier {order.erp_released_tier}"
    if order.erp_release_reason:
        text += f": {order.erp_release_reason}"
    return text


def _erp_release(order: SalesOrder, hold: HoldRecord, *, honoured: bool) -> dict:
    """The release in the ERP as the decision log keeps it."""
    return {"by": order.erp_released_by, "at": order.erp_released_at.isoformat() if order.erp_released_at else None,
            "tier": order.erp_released_tier, "reason": order.erp_release_reason, "hold_tier": hold.release_tier,
            "hold_revision": hold.revision, "honoured": honoured}


class InvoiceAlerts:
    """Alerts raised on invoices, each once per key, for the credit controller (``controller_user_id``)."""

    def __init__(self, store: Store, policy: Policy, as_of: date, outbox: Outbox,
                 controller_user_id: int | None = None) -> None:
        self.store = store
        self.policy = policy
        self.as_of = as_of
        self.outbox = outbox
        self.controller_user_id = controller_user_id

    def _queue(self, source: str, invoice_erp_id: str, key: str, payload: dict, dry_run: bool) -> bool:
        """Queue the alert unless its key was queued before (True when new); a dry run only says whether it would be."""
        if dry_run:
            return not self.store.outbox_has(key)
        return self.outbox.enqueue(source=source, kind="create_alert", target_model="account.move",
                                   target_id=invoice_erp_id, key=key, payload=payload)


@dataclass(frozen=True, slots=True)
class _Late:
    """An open invoice past due, as the ageing alerts see it."""

    erp_id: str
    number: str
    credit_group_id: str
    due_date: date  # its earliest open instalment's due date (the invoice's, without receivable items)
    amount: Decimal  # what is open of it (document currency)
    currency: str


class AgeingAlerts(InvoiceAlerts):
    """Queue one alert per (invoice, threshold) crossed, and close them when the invoice is paid."""

    def run(self, source: str, *, dry_run: bool = False) -> list[Change]:
        changes = self._raise(source, dry_run) if self.policy.alerts else []
        return changes + close_paid_alerts(self.store, self.outbox, source, dry_run)

    def _late(self, source: str, due_before: date) -> list[_Late]:
        """The open invoices with something due before ``due_before``: with receivable items, each invoice by its
        earliest open instalment (its days overdue) with what is open of all its instalments; else by the
        invoice's own due date and open amount."""
        if not self.store.has_receivables(source):
            return [_Late(i.erp_id, i.number, i.credit_group_id, i.due_date, i.amount_open, i.currency)
                    for i in self.store.iter_invoices(source, open_only=True, due_before=due_before)
                    if i.kind.value == "invoice" and i.due_date is not None]
        late: dict[str, _Late] = {}
        for item in self.store.iter_receivables(source, open_only=True, kind="instalment"):
            if item.due_date is None or item.document_id is None:
                continue
            seen = late.get(item.document_id)
            if seen is None:  # items come by due date: the first is the earliest
                late[item.document_id] = _Late(item.document_id, item.document_number, item.credit_group_id,
                                               item.due_date, item.amount_open, item.currency)
            else:
                late[item.document_id] = replace(seen, amount=seen.amount + item.amount_open)
        return [entry for entry in late.values() if entry.due_date < due_before]

    def _raise(self, source: str, dry_run: bool) -> list[Change]:
        changes: list[Change] = []
        first = min(a.days for a in self.policy.alerts)
        names = {}
        for invoice in self._late(source, self.as_of - timedelta(days=first - 1)):
            overdue = (self.as_of - invoice.due_date).days
            for alert in self.policy.alerts:
                if overdue < alert.days:
                    break
                key = f"{source}:alert:{invoice.erp_id}:{alert.days}"
                if not names:
                    names = {c.erp_id: c.name for c in self.store.iter_customers(source)}
                customer = names.get(invoice.credit_group_id, invoice.credit_group_id)
                summary = alert.summary.format(invoice=invoice.number, customer=customer, days=alert.days,
                                               amount=invoice.amount, currency=invoice.currency)
                payload = {
                    "invoice": invoice.number, "customer": customer, "days": alert.days, "overdue": overdue,
                    "due_date": invoice.due_date.isoformat(), "amount": str(invoice.amount),
                    "currency": invoice.currency, "action": alert.action.value, "summary": summary,
                    "activity_type": alert.activity_type,
                    "deadline": (self.as_of + timedelta(days=alert.deadline_days)).isoformat(),
                    "user_id": alert.user_id or self.controller_user_id,
                }
                if self._queue(source, invoice.erp_id, key, payload, dry_run):
                    changes.append(Change(invoice.number, customer, "create_alert", summary))
        return changes


def close_paid_alerts(store: Store, outbox: Outbox, source: str, dry_run: bool) -> list[Change]:
    """Close every alert (ageing or insurer deadline) whose invoice is no longer open."""
    changes = []
    for entry in store.alerts_to_close(source):
        key = entry.key.replace(":alert:", ":alert-close:")
        if dry_run:
            continue
        if outbox.enqueue(source=source, kind="close_alert", target_model="account.move", target_id=entry.target_id,
                          key=key, payload={"alert_key": entry.key, "invoice": entry.payload["invoice"]}):
            changes.append(Change(entry.payload["invoice"], entry.payload["customer"], "close_alert",
                                  "invoice paid or cancelled"))
    return changes


_DEADLINE_SLUGS = {DeadlineKind.NOTIFY: "insurer-notify", DeadlineKind.COVER_STOPS: "insurer-cover",
                   DeadlineKind.COLLECTION: "insurer-collect"}


def _slug(name: str) -> str:
    """``Allianz Trade`` → ``allianz-trade``: safe inside an outbox key and the ERP marker that carries it."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "insurer"


def deadline_summary(entry: InsurerDeadlines, deadline: Deadline) -> str:
    """What the credit controller must do, and by when."""
    insurer, customer, day = entry.insurer, entry.customer_name, deadline.day
    invoice = f"invoice {entry.invoice_number} due {entry.due}"
    missed = deadline.status is DeadlineStatus.MISSED
    if deadline.kind is DeadlineKind.NOTIFY:
        return (f"Notify {insurer} of the overdue account of {customer} now: the deadline was {day} ({invoice}) "
                "— cover may be lost" if missed else
                f"Notify {insurer} of the overdue account of {customer} by {day} ({invoice}) "
                "— cover is lost otherwise")
    if deadline.kind is DeadlineKind.COVER_STOPS:
        return (f"{insurer} no longer covers new deliveries to {customer}: the maximum extension period of "
                f"{invoice} expired on {day} — stop deliveries" if missed else
                f"{insurer} cover for new deliveries to {customer} stops after {day}, when the maximum extension "
                f"period of {invoice} expires — collect or agree an extension with {insurer}")
    return (f"Transfer the account of {customer} to {insurer} for collection now: the deadline was {day} "
            f"({invoice})" if missed else
            f"Transfer the account of {customer} to {insurer} for collection by {day} ({invoice})")


class InsurerDeadlineAlerts(InvoiceAlerts):
    """Queue one alert per insurer deadline due soon or missed, on the buyer's oldest unpaid invoice.

    The alert is an activity for the credit controller, due on the insurer's deadline, and a note in
    the invoice's chatter; it is raised once per (invoice, deadline, insurer) and closed with the
    ageing alerts when the invoice is paid (then the next oldest invoice starts the clock again).
    """

    def run(self, source: str, *, dry_run: bool = False) -> list[Change]:
        changes: list[Change] = []
        if not self.policy.insurers:
            return changes
        for entry in list_deadlines(self.store, self.policy, source, self.as_of):
            for deadline in entry.deadlines:
                if not deadline.alerting:
                    continue
                key = (f"{source}:alert:{entry.invoice_erp_id}:{_DEADLINE_SLUGS[deadline.kind]}:"
                       f"{_slug(entry.insurer)}")
                summary = deadline_summary(entry, deadline)
                if self._queue(source, entry.invoice_erp_id, key, self._payload(entry, deadline, summary), dry_run):
                    changes.append(Change(entry.invoice_number, entry.customer_name, "insurer_alert", summary))
        return changes

    def _payload(self, entry: InsurerDeadlines, deadline: Deadline, summary: str) -> dict:
        return {
            "title": "Insurer deadline", "invoice": entry.invoice_number, "customer": entry.customer_name,
            "insurer": entry.insurer, "deadline_kind": deadline.kind.value, "status": deadline.status.value,
            "days_left": deadline.days_left, "overdue": (self.as_of - entry.due).days,
            "due_date": entry.due.isoformat(), "action": AlertAction.BOTH.value, "summary": summary,
            "activity_type": TODO_ACTIVITY, "deadline": deadline.day.isoformat(), "user_id": self.controller_user_id,
        }
