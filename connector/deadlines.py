"""Insurer deadlines: what the credit-insurance policy demands once an insured buyer pays late.

For a buyer whose insurer decision is in force (approved or reduced — a withdrawn
decision covers nothing) and whose oldest unpaid invoice is past due, the
insurer's terms (``[insurers."NAME"]``) set three deadlines, each counted in
calendar days from that invoice's due date:

* ``notify_by`` — the overdue account must be notified to the insurer by then,
  or cover is lost (``overdue_notification_days``);
* ``cover_stops`` — the maximum extension period (MEP) expires: deliveries after
  it are no longer covered (``max_extension_days``, when the policy has one);
* ``collection_by`` — the account must be transferred to the insurer for
  collection by then (``collection_days`` after the MEP).

Each deadline has a status relative to ``as_of`` (the company's calendar day):
``pending`` before the warning window, ``due_soon`` inside it (``warn_days``
before the deadline up to the deadline itself), ``missed`` after it.

:func:`compute` and :func:`insurer_deadlines` are pure; :func:`list_deadlines`
reads the oldest open invoice of every credit group from the store in one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from policy.model import Grouping, InsurerStatus, InsurerTerms, Policy

from .decisions import customer_key, insurer_decision
from .insurer_limits import policy_key, with_imported_decisions
from .store import Store


class DeadlineKind(StrEnum):
    NOTIFY = "notify_by"  # notify the overdue account to the insurer
    COVER_STOPS = "cover_stops"  # the maximum extension period expires: no cover for new deliveries
    COLLECTION = "collection_by"  # transfer the account to the insurer for collection


class DeadlineStatus(StrEnum):
    PENDING = "pending"  # before the warning window
    DUE_SOON = "due_soon"  # within warn_days of the deadline, the deadline day included
    MISSED = "missed"  # after the deadline


URGENCY = {DeadlineStatus.MISSED: 0, DeadlineStatus.DUE_SOON: 1, DeadlineStatus.PENDING: 2}


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: DeadlineKind
    day: date
    status: DeadlineStatus
    days_left: int  # calendar days from as_of to the deadline; negative once missed

    @property
    def alerting(self) -> bool:
        """Whether the credit controller should hear of it now."""
        return self.status is not DeadlineStatus.PENDING


@dataclass(frozen=True, slots=True)
class InsurerDeadlines:
    """The deadlines of one insured buyer with an overdue account."""

    source: str
    customer: str  # the policy's key for the buyer
    customer_name: str
    credit_group: str
    insurer: str
    invoice_erp_id: str  # the oldest unpaid invoice: every period begins on its due date
    invoice_number: str
    due: date
    deadlines: tuple[Deadline, ...]  # in date order

    def get(self, kind: DeadlineKind) -> Deadline | None:
        return next((d for d in self.deadlines if d.kind is kind), None)

    @property
    def status(self) -> DeadlineStatus:
        """The most urgent status of its deadlines."""
        return min((d.status for d in self.deadlines), key=URGENCY.__getitem__)

    @property
    def next(self) -> Deadline | None:
        """The next deadline not yet passed (today's included), if any."""
        return next((d for d in self.deadlines if d.days_left >= 0), None)


def status_on(day: date, warn_days: int, as_of: date) -> DeadlineStatus:
    if as_of > day:
        return DeadlineStatus.MISSED
    if (day - as_of).days <= warn_days:
        return DeadlineStatus.DUE_SOON
    return DeadlineStatus.PENDING


def compute(terms: InsurerTerms, due: date, as_of: date) -> tuple[Deadline, ...]:
    """The deadlines the terms set for an account whose oldest unpaid invoice is ``due``.

    Empty while that invoice is not past due: the insurer's clock has not started.
    """
    if due >= as_of:
        return ()
    days = {DeadlineKind.NOTIFY: terms.notify_by(due), DeadlineKind.COVER_STOPS: terms.cover_stops(due),
            DeadlineKind.COLLECTION: terms.collection_by(due)}
    deadlines = [Deadline(kind, day, status_on(day, terms.warn_days, as_of), (day - as_of).days)
                 for kind, day in days.items() if day is not None]
    return tuple(sorted(deadlines, key=lambda d: d.day))


@dataclass(frozen=True, slots=True)
class OldestInvoice:
    """A buyer's oldest unpaid invoice, as the deadlines need it."""

    source: str
    credit_group: str
    customer: str  # the policy's key for the buyer
    customer_name: str
    erp_id: str
    number: str
    due: date


def insurer_deadlines(policy: Policy, oldest: OldestInvoice, as_of: date) -> InsurerDeadlines | None:
    """The buyer's deadlines under its insurer decision in force; None when it has none to meet
    (no decision, cover withdrawn, no terms for the insurer, or nothing past due)."""
    decision = insurer_decision(policy, oldest.customer, as_of)
    if decision is None or decision.status is InsurerStatus.WITHDRAWN:
        return None
    terms = policy.insurers.get(decision.insurer)
    deadlines = compute(terms, oldest.due, as_of) if terms is not None else ()
    if not deadlines:
        return None
    return InsurerDeadlines(oldest.source, oldest.customer, oldest.customer_name, oldest.credit_group,
                            decision.insurer, oldest.erp_id, oldest.number, oldest.due, deadlines)


def insured_groups(store: Store, policy: Policy, source: str) -> set[str]:
    """The credit groups of the buyers with an insurer decision under terms: the only ones that can
    have deadlines (members of a custom group count through the group's name)."""
    keys = {e.customer for e in policy.limits.insurer if e.insurer in policy.insurers}
    if policy.grouping.key is Grouping.CUSTOM:
        keys = {member for key in keys for member in policy.grouping.groups.get(key, (key,))}
    return {c.credit_group_id for key in sorted(keys)
            for c in store.find_customers(key, None if ":" in key else source) if c.source == source}


def oldest_invoices(store: Store, policy: Policy, source: str, as_of: date) -> list[OldestInvoice]:
    """Per insured buyer of the policy, its oldest unpaid invoice if it is past due (the earliest of its
    credit groups' when a custom group spans several)."""
    groups = insured_groups(store, policy, source)
    if not groups:
        return []
    by_key: dict[str, OldestInvoice] = {}
    for row in store.oldest_open_invoices(source, due_before=as_of, groups=groups):
        key = policy_key(policy, customer_key(row.customer_ref, source, row.credit_group_id))
        oldest = OldestInvoice(source, row.credit_group_id, key, row.customer_name or row.credit_group_id,
                               row.erp_id, row.number, row.due_date)
        if key not in by_key or oldest.due < by_key[key].due:
            by_key[key] = oldest
    return list(by_key.values())


def list_deadlines(store: Store, policy: Policy, source: str, as_of: date, *,
                   include_pending: bool = False) -> list[InsurerDeadlines]:
    """The insurer deadlines of every insured buyer of ``source`` with an overdue account, most urgent
    first; by default only the buyers with a deadline due soon or missed."""
    policy = with_imported_decisions(store, policy)
    found = [d for o in oldest_invoices(store, policy, source, as_of)
             if (d := insurer_deadlines(policy, o, as_of)) is not None]
    if not include_pending:
        found = [d for d in found if d.status is not DeadlineStatus.PENDING]
    return sorted(found, key=lambda d: (URGENCY[d.status], d.next.day if d.next else d.due, d.customer))


def deadlines_of(store: Store, policy: Policy, sources: Iterable[str], as_of: date, *,
                 include_pending: bool = False) -> list[InsurerDeadlines]:
    """:func:`list_deadlines` of each source, one after the other."""
    return [d for source in sources
            for d in list_deadlines(store, policy, source, as_of, include_pending=include_pending)]


def deadline_json(deadline: Deadline | None) -> dict[str, Any] | None:
    if deadline is None:
        return None
    return {"date": deadline.day.isoformat(), "status": deadline.status.value, "days_left": deadline.days_left}


def deadlines_json(entry: InsurerDeadlines) -> dict[str, Any]:
    """One buyer's deadlines as documented for ``creditguard deadlines --json``."""
    upcoming = entry.next
    return {
        "source": entry.source, "customer": entry.customer, "customer_name": entry.customer_name,
        "credit_group": entry.credit_group, "insurer": entry.insurer,
        "invoice": entry.invoice_number, "invoice_erp_id": entry.invoice_erp_id, "due": entry.due.isoformat(),
        **{kind.value: deadline_json(entry.get(kind)) for kind in DeadlineKind},
        "status": entry.status.value, "days_left": upcoming.days_left if upcoming else None,
    }
