"""The claim file of an insured buyer: what the insurer asks for when the debt is handed over or claimed.

:func:`assemble` gathers, from the store, the policy and a day (``as_of``; nothing here reads the clock):

* the buyer's identification (name, reference, VAT id, country, the ERP's id of its credit group);
* each unpaid invoice (or instalment, for a source that syncs its receivable items) with its dates, days past
  due, currency, open amount, that amount in the policy's base currency, and the insurer's limit in force on the
  invoice's date (imported decisions included, as ``policy explain`` sees them);
* the totals per currency and in the base currency (they add up from the lines, which come from the store);
* the open credits (credit notes, unapplied payments), shown apart;
* the collection case: its state, its history, the dunning steps, the promises (kept, broken, pending) and the
  disputes (open or resolved);
* the insurer's deadlines (notify, cover stops, collection) and whether each was met.

The claim is refused (:class:`ClaimError`) for a buyer that is not insured or has nothing unpaid.  The files are
written by :mod:`connector.claim_render` and the command; recording that the file was assembled is
:func:`record_assembly` (a ``claim_file`` event of the case, which leaves its state alone).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from policy.model import Conversion, InsurerLimit, InsurerStatus, Policy

from .cases import Cases, Figures
from .deadlines import DeadlineKind, compute
from .decisions import customer_key, insurer_decision
from .errors import CreditGuardError
from .insurer_limits import policy_key, with_imported_decisions
from .money import from_minor, quantize
from .rates import RateTable
from .store import Store
from .store.cases import CaseEvent, CaseRecord, DunningStepRecord

CLAIM_EVENT = "claim_file"
NOTIFIED_PREFIX = "insurer notified"  # a case note starting so records the overdue notification
# the case events that show a deadline was acted on
_MEETS = {DeadlineKind.NOTIFY: ("handover", "claim"), DeadlineKind.COLLECTION: ("handover", "claim")}


class ClaimError(CreditGuardError):
    """A claim file that cannot be assembled (unknown buyer, not insured, nothing unpaid)."""


@dataclass(frozen=True, slots=True)
class Buyer:
    source: str
    credit_group: str
    name: str
    ref: str | None
    vat: str | None
    country: str | None
    policy_key: str  # the buyer's key in the policy's insurer entries


@dataclass(frozen=True, slots=True)
class Limit:
    """The insurer's decision in force on a day."""

    insurer: str
    amount: Decimal
    currency: str
    decided: date
    expires: date | None
    status: str  # approved | reduced | withdrawn

    @property
    def covers(self) -> bool:
        return self.status != InsurerStatus.WITHDRAWN.value


@dataclass(frozen=True, slots=True)
class Line:
    """One unpaid invoice (or instalment of one)."""

    number: str
    document_id: str | None
    item_id: str
    invoice_date: date | None
    due_date: date | None
    days_past_due: int
    currency: str
    amount_open: Decimal
    company_id: str
    amount_base: Decimal
    limit: Limit | None  # the decision in force on the invoice's date; None: none
    after_cover_stopped: bool = False  # delivered after the maximum extension period expired: not covered


@dataclass(frozen=True, slots=True)
class Promise:
    day: date  # when it was given
    promised_by: date | None
    amount: Decimal | None
    outcome: str  # kept | broken | pending | superseded
    detail: str


@dataclass(frozen=True, slots=True)
class Dispute:
    day: date
    amount: Decimal | None
    detail: str
    resolved_on: date | None


@dataclass(frozen=True, slots=True)
class ClaimDeadline:
    kind: str  # DeadlineKind value
    day: date
    status: str  # DeadlineStatus value, relative to as_of
    days_left: int
    outcome: str  # met | missed | open
    evidence: str  # what met it, or what is missing


@dataclass(frozen=True, slots=True)
class Claim:
    as_of: date
    base_currency: str
    buyer: Buyer
    insurer: Limit  # the latest decision on or before as_of (or the earliest one, when all are later)
    lines: tuple[Line, ...]
    credits: tuple[Line, ...]  # open credit notes and unapplied payments (negative amounts), shown apart
    case: CaseRecord | None
    events: tuple[CaseEvent, ...]
    steps: tuple[DunningStepRecord, ...]
    promises: tuple[Promise, ...]
    disputes: tuple[Dispute, ...]
    deadlines: tuple[ClaimDeadline, ...]
    oldest_due: date | None
    totals: dict[str, Decimal] = field(default_factory=dict)  # unpaid, per currency
    total_base: Decimal = Decimal(0)
    credits_totals: dict[str, Decimal] = field(default_factory=dict)
    credits_base: Decimal = Decimal(0)
    disputed: Decimal = Decimal(0)  # in the case's currency (the base currency)

    @property
    def net_base(self) -> Decimal:
        return quantize(self.total_base + self.credits_base, self.base_currency)


def add_up(amounts: list[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Totals per currency, each to its currency's precision, in currency order."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for currency, amount in amounts:
        sums[currency] += amount
    return {c: quantize(sums[c], c) for c in sorted(sums)}


def limit_of(entry: InsurerLimit | None) -> Limit | None:
    if entry is None:
        return None
    return Limit(entry.insurer, entry.amount, entry.currency, entry.decided, entry.expires, entry.status.value)


def promises_of(events: list[CaseEvent], currency: str, case: CaseRecord | None) -> tuple[Promise, ...]:
    """Each promise of the history with what became of it: ``kept`` or ``broken`` (the daemon's verdict once its
    date passed), ``pending`` (the case still waits for it) or ``superseded`` (a later promise or action)."""
    found: list[Promise] = []
    for n, e in enumerate(events):
        if e.event != "promise":
            continue
        outcome = None
        for later in events[n + 1:]:
            if later.event in ("promise_kept", "promise_broken"):
                outcome = later.event.removeprefix("promise_")
                break
            if later.event == "promise":
                outcome = "superseded"
                break
        if outcome is None:
            outcome = "pending" if case is not None and case.state == "promise_to_pay" else "superseded"
        amount = from_minor(e.amount_minor, currency) if e.amount_minor is not None else None
        found.append(Promise(e.day, e.due_on, amount, outcome, e.detail))
    return tuple(found)


def disputes_of(events: list[CaseEvent], currency: str) -> tuple[Dispute, ...]:
    """Each dispute of the history, and the day it was resolved (or replaced by a new dispute), if it was."""
    found: list[Dispute] = []
    for n, e in enumerate(events):
        if e.event != "dispute":
            continue
        resolved = next((x.day for x in events[n + 1:] if x.event in ("resolve", "dispute")), None)
        amount = from_minor(e.amount_minor, currency) if e.amount_minor is not None else None
        found.append(Dispute(e.day, amount, e.detail, resolved))
    return tuple(found)


def _acted(events: list[CaseEvent], kind: DeadlineKind) -> CaseEvent | None:
    """The first case event that acts on the deadline: a hand-over or a claim; for the notification also a note
    starting with "insurer notified"."""
    for e in events:
        if e.event in _MEETS.get(kind, ()):
            return e
        if kind is DeadlineKind.NOTIFY and e.event == "note" and e.detail.lower().startswith(NOTIFIED_PREFIX):
            return e
    return None


def claim_deadlines(policy: Policy, insurer: str, oldest_due: date | None, lines: list[Line],
                    events: list[CaseEvent], as_of: date) -> tuple[ClaimDeadline, ...]:
    """The insurer's deadlines of the account and whether each was met (pure)."""
    terms = policy.insurers.get(insurer)
    if terms is None or oldest_due is None:
        return ()
    found: list[ClaimDeadline] = []
    for d in compute(terms, oldest_due, as_of):
        if d.kind is DeadlineKind.COVER_STOPS:
            late = [ln.number for ln in lines if ln.invoice_date and ln.invoice_date > d.day]
            if late:
                outcome, evidence = "missed", "invoiced after cover stopped: " + ", ".join(late)
            else:
                outcome = "met" if d.days_left < 0 else "open"
                evidence = "no unpaid invoice dated after it"
        else:
            done = _acted(events, d.kind)
            if done is None:
                outcome = "missed" if d.days_left < 0 else "open"
                evidence = "not recorded in the case" + (
                    f" (record it: note \"{NOTIFIED_PREFIX} ...\")" if d.kind is DeadlineKind.NOTIFY else "")
            else:
                met = done.day <= d.day
                outcome = "met" if met else "missed"
                evidence = f"{done.event} {'on' if met else 'only on'} {done.day}" + (
                    f": {done.detail}" if done.detail else "")
        found.append(ClaimDeadline(d.kind.value, d.day, d.status.value, d.days_left, outcome, evidence))
    return tuple(found)


def _buyer(store: Store, policy: Policy, source: str, group: str, name: str) -> Buyer:
    head = store.get_customer(source, group)
    ref = head.ref if head else None
    key = policy_key(policy, customer_key(ref, source, group))
    return Buyer(source, group, name, ref, head.vat if head else None, head.country if head else None, key)


def _items(store: Store, source: str, group: str) -> list[tuple[str, str | None, str, date | None, date | None, str,
                                                                Decimal, str, str, Decimal, bool]]:
    """The group's open posted items: (number, document id, item id, date, due, currency, open, company,
    company currency, open in company currency, is an invoice)."""
    if store.has_receivables(source):
        return [(r.document_number, r.document_id, r.erp_id, r.document_date, r.due_date, r.currency, r.amount_open,
                 r.company_id, r.company_currency, r.amount_open_company, r.kind.value == "instalment")
                for r in store.iter_receivables(source, open_only=True, customer=group)]
    return [(i.number, i.erp_id, i.erp_id, i.invoice_date, i.due_date, i.currency, i.amount_open * i.sign,
             i.company_id, i.company_currency, i.amount_open_company * i.sign, i.sign > 0)
            for i in store.iter_invoices(source, open_only=True, customer=group)]


def assemble(store: Store, policy: Policy, source: str, group: str, name: str, as_of: date) -> Claim:
    """The claim file of credit group ``group`` of ``source`` on ``as_of``; :class:`ClaimError` when the buyer
    is not insured or has nothing unpaid."""
    merged = with_imported_decisions(store, policy)
    buyer = _buyer(store, merged, source, group, name)
    entries = sorted((e for e in merged.limits.insurer if e.customer == buyer.policy_key), key=lambda e: e.decided)
    if not any(e.status is not InsurerStatus.WITHDRAWN for e in entries):
        raise ClaimError(f"{name} ({source}:{group}) is not insured: no insurer decision names "
                         f"{buyer.policy_key!r} in the policy or the imported decisions")
    current = insurer_decision(merged, buyer.policy_key, as_of) or next(
        (e for e in reversed(entries) if e.decided <= as_of), entries[0])
    rates = RateTable.build(store.companies(source), store.iter_rates(source))
    by_date = merged.exposure.conversion is Conversion.DOCUMENT_DATE
    base = merged.base_currency

    def in_base(amount: Decimal, currency: str, company_amount: Decimal, company_currency: str, company: str,
                day: date | None) -> Decimal:
        if by_date:  # as exposure counts it: the ERP's own conversion, then company → base on the document's date
            return rates.convert(company_amount, company_currency, base, company, day or as_of)
        return rates.convert(amount, currency, base, company, as_of)

    lines: list[Line] = []
    credits: list[Line] = []
    for number, doc, item, day, due, cur, amount, company, company_cur, company_amount, invoice in _items(
            store, source, group):
        if amount == 0 and company_amount == 0:
            continue
        limit = limit_of(insurer_decision(merged, buyer.policy_key, day or due or as_of))
        late = (as_of - due).days if due and due < as_of else 0
        line = Line(number, doc, item, day, due, late, cur, quantize(amount, cur), company,
                    in_base(amount, cur, company_amount, company_cur, company, day), limit)
        (lines if invoice else credits).append(line)
    if not lines:
        raise ClaimError(f"{name} ({source}:{group}) has nothing unpaid: no open invoice in the store")
    oldest_due = min((ln.due_date for ln in lines if ln.due_date and ln.due_date < as_of), default=None)
    case = store.active_case(source, group)
    if case is None:
        closed = store.list_cases(source=source, group=group)
        case = closed[-1] if closed else None
    events = store.case_events(case_id=case.id) if case is not None and case.id is not None else []
    steps = store.dunning_steps(case_id=case.id) if case is not None and case.id is not None else []
    case_cur = case.currency if case is not None else base
    deadlines = claim_deadlines(merged, current.insurer, oldest_due, lines, events, as_of)
    stopped = next((d.day for d in deadlines if d.kind == DeadlineKind.COVER_STOPS.value), None)
    if stopped is not None:
        lines = [replace(ln, after_cover_stopped=bool(ln.invoice_date and ln.invoice_date > stopped))
                 for ln in lines]
    disputed = (from_minor(case.dispute_amount_minor, case_cur)
                if case is not None and case.state != "closed" and case.dispute_amount_minor else Decimal(0))
    return Claim(
        as_of, base, buyer, limit_of(current), tuple(lines), tuple(credits), case, tuple(events), tuple(steps),
        promises_of(events, case_cur, case), disputes_of(events, case_cur), deadlines, oldest_due,
        add_up([(ln.currency, ln.amount_open) for ln in lines]),
        quantize(sum((ln.amount_base for ln in lines), Decimal(0)), base),
        add_up([(ln.currency, ln.amount_open) for ln in credits]),
        quantize(sum((ln.amount_base for ln in credits), Decimal(0)), base), disputed)


def record_assembly(cases: Cases, claim: Claim, actor: str, where: str) -> CaseRecord:
    """Record in the buyer's case that the claim file was assembled (a ``claim_file`` event; the case's state is
    unchanged).  A buyer without an active case gets one, as any action on it would open it."""
    store = cases.store
    src, group = claim.buyer.source, claim.buyer.credit_group
    detail = (f"claim file assembled in {where}: {len(claim.lines)} unpaid invoices, "
              f"{quantize(claim.total_base, claim.base_currency):,} {claim.base_currency}")
    case = store.active_case(src, group)
    figures: Figures = cases.figures(src, group, case)
    with store.transaction() as conn:
        if case is None:
            case = cases.open_case(src, group, claim.buyer.name, figures, actor, f"opened by {actor}", conn)
        cases.event(case, CLAIM_EVENT, detail, actor, figures, amount=claim.total_base
                    if case.currency == claim.base_currency and claim.total_base > 0 else None, conn=conn)
    return case
