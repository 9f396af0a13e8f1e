"""Collection cases: one per overdue credit group, from the first dunning level until it is settled.

A case moves between ``open``, ``in_contact``, ``promise_to_pay`` (a date and an amount), ``disputed`` (a reason
and an amount), ``handed_to_collection``, ``claimed`` and ``closed``.  Every change, note and dunning step is an
event of the case's append-only history with the group's figures at that moment (overdue, disputed, exposure,
in the policy's base currency), which ``creditguard cases`` shows and the claim file reads.

The transitions are pure (:func:`transition`); :class:`Cases` reads the facts from the store, applies a
transition and writes the case and its event in one transaction.  A promise whose date has passed without the
promised amount paid is broken and reopens the case (:func:`promise_outcome`, run by the dunning engine each day);
with ``[cases] exclude_disputed`` the disputed amount is left out of the overdue rules (:func:`less_disputed`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from policy.model import Policy

from .errors import CreditGuardError
from .exposure import ExposureCalculator, Overdue
from .money import for_people as _money
from .money import from_minor, quantize, to_minor
from .store import Store
from .store.cases import CaseEvent, CaseRecord

STATES = ("open", "in_contact", "promise_to_pay", "disputed", "handed_to_collection", "claimed", "closed")
# the states in which the dunning ladder goes on (a promise not yet due, a hand-over, a claim stop it)
DUNNING_STATES = ("open", "in_contact", "disputed")
ACTIONS = ("contact", "promise", "dispute", "resolve", "note", "handover", "claim", "close")
_TARGET = {"contact": "in_contact", "promise": "promise_to_pay", "dispute": "disputed", "resolve": "open",
           "handover": "handed_to_collection", "claim": "claimed", "close": "closed"}
# which states an action may leave from (note: any active state)
_FROM = {
    "contact": ("open", "in_contact", "promise_to_pay", "disputed"),
    "promise": ("open", "in_contact", "promise_to_pay", "disputed", "handed_to_collection"),
    "dispute": ("open", "in_contact", "promise_to_pay", "disputed", "handed_to_collection"),
    "resolve": ("disputed",),
    "handover": ("open", "in_contact", "promise_to_pay", "disputed"),
    "claim": ("open", "in_contact", "promise_to_pay", "disputed", "handed_to_collection"),
    "close": STATES[:-1],
    "note": STATES[:-1],
}


class CaseError(CreditGuardError):
    """An action a case cannot take; ``field`` names the input at fault (for the API's 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Figures:
    """A credit group's figures at an event, in the policy's base currency."""

    currency: str
    overdue: Decimal  # past due, the disputed part included
    exposure: Decimal | None
    disputed: Decimal = Decimal(0)

    @property
    def undisputed(self) -> Decimal:
        return max(Decimal(0), self.overdue - self.disputed)


@dataclass(frozen=True, slots=True)
class Change:
    """What an action does to a case: the case after it, and the event that records it."""

    case: CaseRecord
    event: str
    detail: str
    amount: Decimal | None = None
    due_on: date | None = None


def transition(case: CaseRecord, action: str, *, as_of: date, now: datetime, amount: Decimal | None = None,
               day: date | None = None, text: str | None = None, overdue: Decimal | None = None) -> Change:
    """The case after ``action`` (pure).  ``overdue``: the group's overdue now (a promise remembers it, to tell
    later whether the promised amount was paid).  Raises :class:`CaseError` naming the input at fault."""
    if action not in ACTIONS:
        raise CaseError("action", f"unknown action {action!r}; one of: {', '.join(ACTIONS)}")
    if case.state not in _FROM[action]:
        raise CaseError("action", f"a case in state {case.state} cannot take action {action!r}")
    cur = case.currency
    if amount is not None:
        if not amount.is_finite() or amount <= 0:
            raise CaseError("amount", f"must be a positive amount (got {amount})")
        if amount != quantize(amount, cur):
            raise CaseError("amount", f"{amount} has more decimals than {cur} allows")
        if amount >= Decimal(10) ** 15:
            raise CaseError("amount", "must be less than 1,000,000,000,000,000")
    text = (text or "").strip() or None
    base = replace(case, updated_at=now, revision=case.revision + 1)
    if action == "note":
        if not text:
            raise CaseError("text", "a note needs its text")
        return Change(base, "note", text)
    if action == "promise":
        if amount is None:
            raise CaseError("amount", "a promise to pay needs the amount promised")
        if day is None:
            raise CaseError("date", "a promise to pay needs the date promised")
        if day < as_of:
            raise CaseError("date", f"the promised date {day} is already past (today is {as_of})")
        after = replace(base, state="promise_to_pay", promise_date=day, promise_amount_minor=to_minor(amount, cur),
                        promise_overdue_minor=to_minor(overdue if overdue is not None else Decimal(0), cur))
        return Change(after, "promise", f"promise to pay {_money(amount, cur)} by {day}" + (f": {text}" if text else ""),
                      amount, day)
    if action == "dispute":
        if amount is None:
            raise CaseError("amount", "a dispute needs the amount disputed")
        if not text:
            raise CaseError("reason", "a dispute needs its reason")
        after = replace(base, state="disputed", dispute_amount_minor=to_minor(amount, cur), dispute_reason=text)
        return Change(after, "dispute", f"{_money(amount, cur)} disputed: {text}", amount)
    if action == "resolve":
        after = replace(base, state="open", dispute_amount_minor=None, dispute_reason=None)
        return Change(after, "resolve", "dispute resolved" + (f": {text}" if text else ""))
    state = _TARGET[action]
    after = replace(base, state=state, closed_at=now if state == "closed" else None)
    if action in ("contact", "handover", "claim") and case.state == "promise_to_pay":
        after = replace(after, promise_date=None, promise_amount_minor=None, promise_overdue_minor=None)
    labels = {"contact": "in contact with the customer", "handover": "handed over to collection",
              "claim": "claim filed with the insurer", "close": "case closed"}
    return Change(after, action, labels[action] + (f": {text}" if text else ""))


def promise_outcome(case: CaseRecord, as_of: date, overdue: Decimal) -> str | None:
    """``kept``, ``broken`` or None (no promise, or its date not passed yet): a promise is kept when the overdue
    has fallen by at least the amount promised since it was given (or nothing is overdue any more)."""
    if case.state != "promise_to_pay" or case.promise_date is None or as_of <= case.promise_date:
        return None
    promised = from_minor(case.promise_amount_minor or 0, case.currency)
    before = from_minor(case.promise_overdue_minor or 0, case.currency)
    return "kept" if overdue <= 0 or before - overdue >= promised else "broken"


def disputed_amount(case: CaseRecord | None) -> Decimal:
    if case is None or case.state == "closed" or not case.dispute_amount_minor:
        return Decimal(0)
    return from_minor(case.dispute_amount_minor, case.currency)


def less_disputed(store: Store, policy: Policy, source: str, group: str, overdue: Overdue,
                  convert: Callable[[Decimal, str], Decimal] | None = None) -> Overdue:
    """``overdue`` without the amount disputed in the group's case, when the policy leaves disputes out of the
    overdue rules (never below zero).  The case's amount is in its currency (the base currency when it was
    recorded); ``convert`` turns another into the base currency."""
    if not policy.cases.exclude_disputed or overdue.amount <= 0:
        return overdue
    disputed = store.disputed_minor(source, group)
    if disputed is None or disputed[0] <= 0:
        return overdue
    amount, currency = from_minor(disputed[0], disputed[1]), disputed[1]
    if currency != policy.base_currency:
        if convert is None:
            return overdue
        amount = convert(amount, currency)
    return replace(overdue, amount=max(Decimal(0), quantize(overdue.amount - amount, policy.base_currency)))


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Cases:
    """Acting on cases: figures from the store, a transition, the case and its event in one transaction."""

    def __init__(self, store: Store, policy: Policy, as_of: date, clock: Callable[[], datetime] = _utcnow) -> None:
        self.store = store
        self.policy = policy
        self.as_of = as_of
        self.clock = clock
        self._calc: ExposureCalculator | None = None

    def figures(self, source: str, group: str, case: CaseRecord | None = None) -> Figures:
        """The group's overdue (everything past due) and exposure now, and the amount its case disputes."""
        if self._calc is None:
            self._calc = ExposureCalculator(self.store, self.policy.exposure, self.policy.base_currency, self.as_of,
                                            self.clock())
        exposure, overdue = self._calc.compute(source, [group], overdue_days=0)[group]
        return Figures(self.policy.base_currency, overdue.amount, exposure.total, disputed_amount(case))

    def resolve_group(self, key: str, source: str | None = None) -> tuple[str, str, str]:
        """``(source, credit group id, name)`` of a customer reference, ``source:erp_id``, or a credit group id
        of ``source``."""
        found = self.store.find_customers(key, source)
        if not found and source and key.isdigit():
            head = self.store.get_customer(source, key)
            found = [head] if head else []
        if not found:
            raise CaseError("group", f"no customer {key!r} in the store" + (f" for source {source!r}" if source else ""))
        if len({(c.source, c.credit_group_id) for c in found}) > 1:
            raise CaseError("group", f"{key!r} names several credit groups: give the source (or source:erp_id)")
        customer = found[0]
        head = self.store.get_customer(customer.source, customer.credit_group_id) or customer
        return customer.source, customer.credit_group_id, head.name

    def open_case(self, source: str, group: str, name: str, figures: Figures, actor: str, detail: str,
                  conn: Any = None) -> CaseRecord:
        now = self.clock()
        case = self.store.save_case(CaseRecord(None, source, group, name, "open", self.policy.base_currency,
                                               self.as_of, now, now), conn)
        self.event(case, "opened", detail, actor, figures, conn=conn)
        return case

    def event(self, case: CaseRecord, event: str, detail: str, actor: str, figures: Figures | None, *,
              level: int | None = None, amount: Decimal | None = None, due_on: date | None = None,
              key: str | None = None, conn: Any = None) -> None:
        cur = case.currency
        self.store.add_case_event(CaseEvent(
            case.id or 0, case.source, case.credit_group_id, self.clock(), self.as_of, event, case.state, detail,
            actor, level, to_minor(amount, cur) if amount is not None else None, due_on,
            to_minor(figures.overdue, cur) if figures else None,
            to_minor(figures.disputed, cur) if figures else None,
            to_minor(figures.exposure, cur) if figures and figures.exposure is not None else None, key), conn)

    def act(self, key: str, action: str, actor: str, *, source: str | None = None, amount: Decimal | None = None,
            day: date | None = None, text: str | None = None) -> CaseRecord:
        """Apply ``action`` to the group's active case (opening one first, for anything but closing, claiming or
        resolving: a credit manager may record a dispute or a promise before the first dunning level)."""
        src, group, name = self.resolve_group(key, source)
        case = self.store.active_case(src, group)
        if case is None and action in ("close", "claim", "resolve"):
            raise CaseError("group", f"{name} has no open case")
        figures = self.figures(src, group, case)
        with self.store.transaction() as conn:
            if case is None:
                case = self.open_case(src, group, name, figures, actor, f"opened by {actor}", conn)
            change = transition(case, action, as_of=self.as_of, now=self.clock(), amount=amount, day=day, text=text,
                                overdue=figures.overdue)
            saved = self.store.save_case(change.case, conn)
            self.event(saved, change.event, change.detail, actor, replace(figures, disputed=disputed_amount(saved)),
                       amount=change.amount, due_on=change.due_on, conn=conn)
        if action == "close":
            for step in self.store.dunning_steps(case_id=saved.id, state="proposed"):
                self.store.save_dunning_step(replace(step, state="cancelled", decided_by=actor,
                                                     decided_at=self.clock()))
        return saved


def case_json(case: CaseRecord, events: list[CaseEvent] | None = None, steps: list | None = None) -> dict[str, Any]:
    """The stable JSON document of a case (``creditguard cases --json``, ``GET /v1/cases``)."""
    cur = case.currency

    def amount(minor: int | None) -> str | None:
        return None if minor is None else str(from_minor(minor, cur))

    doc: dict[str, Any] = {
        "id": case.id, "source": case.source, "credit_group": case.credit_group_id, "customer": case.customer,
        "state": case.state, "currency": cur, "opened_on": case.opened_on.isoformat(),
        "updated_at": case.updated_at.isoformat(), "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "promise": None if case.promise_date is None else {
            "date": case.promise_date.isoformat(), "amount": amount(case.promise_amount_minor),
            "overdue_when_given": amount(case.promise_overdue_minor)},
        "dispute": None if not case.dispute_amount_minor else {
            "amount": amount(case.dispute_amount_minor), "reason": case.dispute_reason},
        "revision": case.revision,
    }
    if events is not None:
        doc["history"] = [{
            "at": e.at.isoformat(), "day": e.day.isoformat(), "event": e.event, "state": e.state, "detail": e.detail,
            "actor": e.actor, "level": e.level, "amount": amount(e.amount_minor),
            "due_on": e.due_on.isoformat() if e.due_on else None, "overdue": amount(e.overdue_minor),
            "disputed": amount(e.disputed_minor), "exposure": amount(e.exposure_minor), "outbox_key": e.outbox_key,
        } for e in events]
    if steps is not None:
        doc["dunning"] = [{"level": s.level, "channel": s.channel, "template": s.template, "state": s.state,
                           "day": s.day.isoformat(), "key": s.key, "decided_by": s.decided_by} for s in steps]
    return doc
