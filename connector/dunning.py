"""Dunning: for each overdue credit group, the level reached and the step due, each step once.

:func:`plan` is pure: from a group's facts (its overdue items and figures), its collection case and the steps
already taken, the policy and ``as_of`` (the company's day), it says what is due: nothing (paid, below the first
level, every overdue amount disputed), a stop (a promise to pay not yet due, a hand-over, a claim), or the step of
the highest level reached, to propose (it needs a person's approval) or to send.

:class:`DunningRun` gathers the facts from the store and acts: it opens the case when the group crosses the
first level, closes it when nothing is overdue any more, tells kept from broken promises (a broken one reopens
the case), and writes each step through the outbox with a key fixed before the first attempt
(``<source>:dunning:<group>:c<case>:d<days>``), in the same transaction as the step and its event in the case's
history: an ERP that is down leaves the step waiting in the outbox, applied once later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from policy.dunning_model import DunningLevel
from policy.model import Policy

from .cases import DUNNING_STATES, Cases, Figures, disputed_amount, promise_outcome
from .decisions import customer_key
from .exposure import ExposureCalculator
from .dunning_render import LetterItem, render_letter, totals
from .logs import get_logger
from .outbox import Outbox
from .store import Store
from .store.cases import CaseRecord, DunningStepRecord

log = get_logger("creditguard.dunning")

KIND = "send_dunning"  # the outbox entry kind


@dataclass(frozen=True, slots=True)
class GroupFacts:
    """What the engine knows of one credit group on ``as_of``."""

    source: str
    group: str  # credit group id (the commercial entity's ERP id)
    customer: str  # its name
    lang: str | None
    items: tuple[LetterItem, ...]  # open items past due, oldest first
    figures: Figures

    @property
    def oldest_due(self) -> date | None:
        return min((i.due_date for i in self.items), default=None)


@dataclass(frozen=True, slots=True)
class Plan:
    """What is due for one group.  ``action``: none | wait | stop | close | propose | send | pending | done."""

    source: str
    group: str
    customer: str
    action: str
    reason: str
    days_past_due: int = 0
    level: DunningLevel | None = None
    case_id: int | None = None
    key: str | None = None
    overdue: Decimal = Decimal(0)
    disputed: Decimal = Decimal(0)
    currency: str = ""


def step_key(source: str, group: str, case_id: int | None, level: DunningLevel) -> str:
    return f"{source}:dunning:{group}:c{case_id if case_id is not None else 'new'}:d{level.days}"


def plan(policy: Policy, as_of: date, facts: GroupFacts, case: CaseRecord | None,
         steps: dict[int, str]) -> Plan:
    """The step due for a group (pure).  ``steps``: the states of the case's steps by level days."""
    f = facts.figures
    disputed = f.disputed if policy.cases.exclude_disputed else Decimal(0)
    counted = max(Decimal(0), f.overdue - disputed)
    days = (as_of - facts.oldest_due).days if facts.oldest_due else 0
    base = dict(source=facts.source, group=facts.group, customer=facts.customer, days_past_due=days,
                case_id=case.id if case else None, overdue=f.overdue, disputed=f.disputed, currency=f.currency)
    if f.overdue <= 0 or not facts.items:
        if case is not None and case.state not in ("handed_to_collection", "claimed"):
            return Plan(action="close", reason="nothing is overdue any more: paid", **base)
        return Plan(action="none", reason="nothing overdue", **base)
    if counted <= 0:
        return Plan(action="none", reason="every overdue amount is disputed", **base)
    ladder = policy.dunning.levels
    index = policy.dunning.level_reached(days)
    if index is None:
        first = f"first level at {ladder[0].days} days" if ladder else "no [[dunning.levels]] in the policy"
        return Plan(action="wait", reason=f"{days} days past due; {first}", **base)
    level = ladder[index]
    base["level"] = level
    if case is not None and case.state not in DUNNING_STATES:
        why = {"promise_to_pay": f"promise to pay by {case.promise_date}",
               "handed_to_collection": "handed over to collection", "claimed": "claim filed"}.get(case.state, case.state)
        return Plan(action="stop", reason=why, **base)
    key = step_key(facts.source, facts.group, case.id if case else None, level)
    base["key"] = key
    higher = [d for d, state in steps.items() if d > level.days and state != "cancelled"]
    state = steps.get(level.days)
    if higher:
        return Plan(action="done", reason=f"a later level ({max(higher)} days) was already taken", **base)
    if state in ("queued",):
        return Plan(action="done", reason=f"{level.label} already sent", **base)
    if state == "proposed":
        return Plan(action="pending", reason=f"{level.label} awaits approval", **base)
    if state == "approved":
        return Plan(action="send", reason=f"{level.label} approved", **base)
    if policy.dunning.needs_approval(level):
        return Plan(action="propose", reason=f"{days} days past due: {level.label} (needs approval)", **base)
    return Plan(action="send", reason=f"{days} days past due: {level.label}", **base)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DunningRun:
    def __init__(self, store: Store, policy: Policy, as_of: date, outbox: Outbox,
                 clock: Callable[[], datetime] = _utcnow, actor: str = "daemon") -> None:
        self.store = store
        self.policy = policy
        self.as_of = as_of
        self.outbox = outbox
        self.clock = clock
        self.actor = actor
        self.cases = Cases(store, policy, as_of, clock)

    # ------------------------------------------------------------------ facts

    def _items(self, source: str) -> dict[str, list[LetterItem]]:
        """The open items past due, per credit group (instalments when the source syncs receivable items)."""
        items: dict[str, list[LetterItem]] = defaultdict(list)
        if self.store.has_receivables(source):
            for r in self.store.iter_receivables(source, open_only=True, kind="instalment", due_before=self.as_of):
                if r.due_date is not None and r.amount_open > 0:
                    items[r.credit_group_id].append(LetterItem(r.document_number, r.due_date,
                                                               (self.as_of - r.due_date).days, r.amount_open,
                                                               r.currency))
            return items
        for i in self.store.iter_invoices(source, open_only=True, due_before=self.as_of):
            if i.kind.value == "invoice" and i.due_date is not None and i.amount_open > 0:
                items[i.credit_group_id].append(LetterItem(i.number, i.due_date, (self.as_of - i.due_date).days,
                                                           i.amount_open, i.currency))
        return items

    def facts(self, source: str) -> list[tuple[GroupFacts, CaseRecord | None]]:
        items = self._items(source)
        active = {c.credit_group_id: c for c in self.store.list_cases(source=source, active_only=True)}
        groups = sorted(set(items) | set(active))
        if not groups:
            return []
        calc = ExposureCalculator(self.store, self.policy.exposure, self.policy.base_currency, self.as_of,
                                  self.clock())
        figures = calc.compute(source, groups, overdue_days=0)
        result = []
        for group in groups:
            head = self.store.get_customer(source, group)
            name = head.name if head else (active[group].customer if group in active else group)
            lang = None
            if head is not None:
                file = self.policy.customers.get(customer_key(head.ref, source, head.erp_id))
                lang = (file.lang if file else None) or getattr(head, "lang", None)
            exposure, overdue = figures[group]
            case = active.get(group)
            fig = Figures(self.policy.base_currency, overdue.amount, exposure.total, disputed_amount(case))
            result.append((GroupFacts(source, group, name, lang, tuple(items.get(group, ())), fig), case))
        return result

    # -------------------------------------------------------------------- run

    def run(self, source: str, *, dry_run: bool = False) -> list[Plan]:
        plans = []
        for facts, case in self.facts(source):
            if case is not None and not dry_run:
                case = self._promise(case, facts)
            steps = {s.level: s.state for s in self.store.dunning_steps(case_id=case.id)} if case else {}
            p = plan(self.policy, self.as_of, facts, case, steps)
            plans.append(p)
            if not dry_run:
                self._act(p, facts, case)
        return plans

    def _promise(self, case: CaseRecord, facts: GroupFacts) -> CaseRecord:
        """A promise whose date has passed: kept (back to open, or closed when paid) or broken (reopened)."""
        outcome = promise_outcome(case, self.as_of, facts.figures.overdue)
        if outcome is None:
            return case
        after = replace(case, state="open", promise_date=None, promise_amount_minor=None, promise_overdue_minor=None,
                        updated_at=self.clock(), revision=case.revision + 1)
        detail = (f"promise to pay by {case.promise_date} kept" if outcome == "kept" else
                  f"promise to pay by {case.promise_date} broken: the amount promised was not paid; case reopened")
        with self.store.transaction() as conn:
            saved = self.store.save_case(after, conn)
            self.cases.event(saved, f"promise_{outcome}", detail, self.actor, facts.figures, conn=conn)
        log.info(f"dunning.promise_{outcome}", source=case.source, group=case.credit_group_id)
        return saved

    def _act(self, p: Plan, facts: GroupFacts, case: CaseRecord | None) -> None:
        if p.action == "close" and case is not None:
            now = self.clock()
            with self.store.transaction() as conn:
                saved = self.store.save_case(replace(case, state="closed", closed_at=now, updated_at=now,
                                                     revision=case.revision + 1), conn)
                self.cases.event(saved, "paid", p.reason, self.actor, facts.figures, conn=conn)
                for step in self.store.dunning_steps(case_id=case.id, state="proposed"):
                    self.store.save_dunning_step(replace(step, state="cancelled", decided_by=self.actor,
                                                         decided_at=now), conn)
            log.info("dunning.case_closed", source=p.source, group=p.group, reason="paid")
            return
        if p.action not in ("propose", "send") or p.level is None:
            return
        # one run at a time per group (the daemon's and a person's `creditguard dunning` may meet): under the
        # group's lock the step is worked out again from what is stored now, and taken only if still due
        with self.store.credit_group_lock(p.source, p.group) as conn:
            case = self.store.active_case(p.source, p.group)
            steps = {s.level: s.state for s in self.store.dunning_steps(case_id=case.id)} if case else {}
            again = plan(self.policy, self.as_of, facts, case, steps)
            if (again.action, again.level) != (p.action, p.level):
                log.info("dunning.taken_meanwhile", source=p.source, group=p.group, action=again.action,
                         reason=again.reason)
                return
            if case is None:
                case = self.cases.open_case(p.source, p.group, p.customer, facts.figures, self.actor,
                                            f"{p.days_past_due} days past due: first dunning level reached", conn)
                log.info("dunning.case_opened", source=p.source, group=p.group)
            key = step_key(p.source, p.group, case.id, p.level)
            now = self.clock()
            existing = {s.level: s for s in self.store.dunning_steps(case_id=case.id)}.get(p.level.days)
            if p.action == "propose":
                self.store.save_dunning_step(DunningStepRecord(
                    case.id, p.level.days, p.source, p.group, p.level.channel.value, p.level.template, "proposed",
                    key, self.as_of, now), conn)
                self.cases.event(case, "dunning_proposed", f"{p.level.label} proposed: {p.reason}", self.actor,
                                 facts.figures, level=p.level.days, key=key, conn=conn)
                log.info("dunning.proposed", source=p.source, group=p.group, level=p.level.days, key=key)
                return
            key = existing.key if existing is not None else key  # fixed when it was proposed
            payload = self.payload(p, facts, case)
            self.outbox.enqueue(source=p.source, kind=KIND, target_model="res.partner", target_id=p.group, key=key,
                                payload=payload, conn=conn)
            step = existing or DunningStepRecord(case.id, p.level.days, p.source, p.group, p.level.channel.value,
                                                 p.level.template, "queued", key, self.as_of, now)
            self.store.save_dunning_step(replace(step, state="queued"), conn)
            self.cases.event(case, "dunning_sent", f"{p.level.label} ({p.level.channel.value}) sent: "
                             f"{len(facts.items)} open item(s) past due", self.actor, facts.figures,
                             level=p.level.days, key=key, conn=conn)
        log.info("dunning.queued", source=p.source, group=p.group, level=p.level.days, key=key)

    def payload(self, p: Plan, facts: GroupFacts, case: CaseRecord) -> dict[str, Any]:
        """The absolute content of the step's write: the rendered letter and what it lists."""
        assert p.level is not None
        dispute = (facts.figures.disputed, facts.figures.currency) if self.policy.cases.exclude_disputed else None
        letter = render_letter(p.level.template, facts.lang, customer=facts.customer, as_of=self.as_of,
                               items=facts.items, disputed=dispute, templates_dir=self.policy.dunning.templates_dir)
        return {
            "customer": facts.customer, "case": case.id, "level": p.level.days, "level_name": p.level.label,
            "channel": p.level.channel.value, "template": p.level.template, "lang": letter.lang,
            "subject": letter.subject, "body": letter.html, "as_of": self.as_of.isoformat(),
            "items": [{"number": i.number, "due_date": i.due_date.isoformat(), "days": i.days,
                       "amount": str(i.amount), "currency": i.currency} for i in facts.items],
            "totals": {c: str(v) for c, v in totals(facts.items).items()},
        }

    def approve(self, source: str, group: str, by: str, level: int | None = None) -> list[DunningStepRecord]:
        """Approve the group's proposed steps (of ``level`` only, if given): the next run sends them."""
        case = self.store.active_case(source, group)
        if case is None:
            return []
        approved = []
        now = self.clock()
        for step in self.store.dunning_steps(case_id=case.id, state="proposed"):
            if level is not None and step.level != level:
                continue
            with self.store.transaction() as conn:
                saved = replace(step, state="approved", decided_by=by, decided_at=now)
                self.store.save_dunning_step(saved, conn)
                self.cases.event(case, "dunning_approved", f"dunning level {step.level} days approved by {by}", by,
                                 None, level=step.level, key=step.key, conn=conn)
            approved.append(saved)
        return approved


def plan_json(p: Plan) -> dict[str, Any]:
    return {
        "source": p.source, "credit_group": p.group, "customer": p.customer, "action": p.action, "reason": p.reason,
        "days_past_due": p.days_past_due, "level": p.level.days if p.level else None,
        "level_name": p.level.label if p.level else None, "channel": p.level.channel.value if p.level else None,
        "template": p.level.template if p.level else None, "approval": p.level.approval if p.level else None,
        "case": p.case_id, "key": p.key, "overdue": str(p.overdue), "disputed": str(p.disputed),
        "currency": p.currency,
    }
