"""Imported insurer decisions in limits and rules, like the policy's ``[[limits.insurer]]`` entries.

:func:`import_export` reads an insurer's export, matches its buyers and records their decisions in
the store, all or nothing.  :func:`with_imported_decisions` gives the policy whose insurer entries
include the imported decisions, so that limits, the ``cover_withdrawn`` and ``insurer_cover`` rules
and the insurer deadlines see them exactly as entries of the file.

Precedence (docs/insurer-feed.md): for one customer, the decision with the **latest decision date**
is in force, whether it comes from the policy file or from an import; a later decision ends every
earlier one (its period is cut to the day before).  On the same date the policy file's entry wins
(a deliberate correction), and of two imports the later one.  Pending decisions change nothing;
refused ones give no insurer limit, as ``withdrawn`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from policy.model import Grouping, InsurerLimit, InsurerStatus, Policy

from .insurer_mapping import Decision, InsurerMapping
from .logs import get_logger
from .money import from_minor, to_minor
from .store.insurer_decisions import ImportedDecision

if TYPE_CHECKING:
    from .insurer_feed import Match
    from .store import Store

log = get_logger("creditguard.insurer_feed")

STATUS = {Decision.APPROVED: InsurerStatus.APPROVED, Decision.PARTLY_APPROVED: InsurerStatus.APPROVED,
          Decision.REDUCED: InsurerStatus.REDUCED, Decision.WITHDRAWN: InsurerStatus.WITHDRAWN,
          Decision.REFUSED: InsurerStatus.WITHDRAWN}  # pending: not a decision yet


def policy_key(policy: Policy, key: str) -> str:
    """A customer's key in the policy: its custom group's name when it is in one."""
    if policy.grouping.key is Grouping.CUSTOM:
        for name, members in policy.grouping.groups.items():
            if key in members:
                return name
    return key


def as_limit(policy: Policy, d: ImportedDecision) -> InsurerLimit | None:
    """An imported decision as a policy entry; None for a pending one."""
    status = STATUS.get(Decision(d.decision))
    if status is None:
        return None
    currency = d.currency or policy.base_currency
    amount = from_minor(d.amount_minor, currency) if d.amount_minor is not None else Decimal(0)
    return InsurerLimit(policy_key(policy, d.customer), d.insurer, amount, currency, d.decided, d.expires, status)


def merge(policy: Policy, imported: list[ImportedDecision]) -> Policy:
    """``policy`` with the imported decisions among its insurer entries (pure; see the module's precedence)."""
    chains: dict[str, list[tuple[date, int, InsurerLimit]]] = {}
    for order, d in enumerate(sorted(imported, key=lambda d: (d.decided, d.id or 0))):
        entry = as_limit(policy, d)
        if entry is not None:
            chains.setdefault(entry.customer, []).append((entry.decided, order, entry))
    if not chains:
        return policy
    kept = [e for e in policy.limits.insurer if e.customer not in chains]
    for e in policy.limits.insurer:
        if e.customer in chains:
            chains[e.customer].append((e.decided, len(imported), e))  # after every import of its day
    for items in chains.values():
        items.sort(key=lambda item: (item[0], item[1]))
        chain: list[InsurerLimit] = []
        for _, _, entry in items:
            if chain and chain[-1].decided == entry.decided:
                chain[-1] = entry
            else:
                chain.append(entry)
        for entry, later in zip(chain, chain[1:] + [None]):
            if later is not None:
                end = later.decided - timedelta(days=1)
                if entry.expires is None or entry.expires > end:
                    entry = replace(entry, expires=end)
            kept.append(entry)
    return replace(policy, limits=replace(policy.limits, insurer=tuple(kept)))


def with_imported_decisions(store: Store, policy: Policy) -> Policy:
    """The policy as it applies: its own insurer entries and the imported decisions."""
    return _merged(store, policy)[0]


#: the last merges, per store: (store, policy, decisions' version, merged policy, decisions) — a credit check
#: (every API request makes a checker) reads the decisions' version, not every decision, while none is added
_MERGES: list[tuple[Store, Policy, int, Policy, list[ImportedDecision]]] = []
_MERGES_KEPT = 8
#: how long a store's decisions' version is taken as current (an import made by another process, e.g.
#: `creditguard insurer import` while the daemon serves checks, takes effect within this many seconds)
VERSION_SECONDS = 1.0


def _merged(store: Store, policy: Policy) -> tuple[Policy, list[ImportedDecision]]:
    version = store.insurer_decisions_version(max_age=VERSION_SECONDS)
    if version == 0:
        return policy, []
    for known_store, known_policy, known_version, merged, imported in _MERGES:
        if known_store is store and known_policy is policy and known_version == version:
            return merged, imported
    imported = store.insurer_decisions(include_pending=False)
    merged = merge(policy, imported) if imported else policy
    _MERGES.insert(0, (store, policy, version, merged, imported))
    del _MERGES[_MERGES_KEPT:]
    return merged, imported


Grades = dict[str, tuple[int, str]]  # policy key → (grade, where it came from)


def grades_in_force(merged: Policy, imported: list[ImportedDecision], as_of: date) -> Grades:
    """The insurer's grade of each customer whose decision in force on ``as_of`` is an imported one with a
    grade (pure)."""
    from .decisions import insurer_decision

    found: Grades = {}
    for d in imported:
        if d.grade is None or STATUS.get(Decision(d.decision)) is None:
            continue
        key = policy_key(merged, d.customer)
        cover = insurer_decision(merged, key, as_of)
        if cover is not None and (cover.insurer, cover.decided) == (d.insurer, d.decided):
            found[key] = (d.grade, f"{d.insurer} grade {d.insurer_grade} of {d.decided}")
    return found


def applied_decisions(store: Store, policy: Policy, as_of: date) -> tuple[Policy, Grades]:
    """The policy with the imported decisions (:func:`merge`), and the insurer grades in force on ``as_of``."""
    merged, imported = _merged(store, policy)
    if not imported:
        return policy, {}
    return merged, grades_in_force(merged, imported, as_of)


def from_policy_file(policy: Policy, entry: InsurerLimit) -> bool:
    """Whether an entry in force came from the policy file (not from an import)."""
    return any((e.customer, e.insurer, e.decided, e.amount, e.currency, e.status)
               == (entry.customer, entry.insurer, entry.decided, entry.amount, entry.currency, entry.status)
               for e in policy.limits.insurer)


# ------------------------------------------------------------------------------ import


@dataclass(frozen=True, slots=True)
class ImportReport:
    file: str
    insurer: str
    rows: int
    applied: tuple[tuple[Match, ImportedDecision], ...]  # matched rows and what they record
    skipped: tuple[Match, ...]  # unmatched or ambiguous buyers: not applied
    added: int  # decisions new to the store (would be, with dry_run)
    unchanged: int  # already there from an earlier import
    dry_run: bool


def import_export(store: Store, path: str | Path, mapping: InsurerMapping, insurer: str, now: datetime, *,
                  source: str | None = None, dry_run: bool = False) -> ImportReport:
    """Read, match and record one export; a :class:`FeedError` (nothing recorded) when it cannot be read."""
    from .insurer_feed import FeedError, conflicts, match_rows, parse_rows, read_export

    if not insurer.strip():
        raise FeedError("--insurer: name the insurer, as the policy does")
    if mapping.insurer is not None and mapping.insurer != insurer:
        raise FeedError(f"{mapping.origin}: the mapping is for insurer {mapping.insurer!r}, not {insurer!r}")
    table = read_export(path, mapping)
    rows = parse_rows(table, mapping)
    matches = match_rows(rows, store.customers_with_vat(source))
    problems = conflicts(matches, table.file)
    if problems:
        raise FeedError("\n".join(problems) + "\nnothing was imported")
    heads: dict[tuple[str, str], tuple[str, str]] = {}
    applied = []
    for m in matches:
        if not m.matched:
            continue
        group = (m.source or "", m.credit_group or "")
        if group not in heads:
            heads[group] = _head(store, m)
        key, name = heads[group]
        r = m.row
        applied.append((m, ImportedDecision(
            insurer=insurer, source=group[0], customer_erp_id=group[1], customer=key, customer_name=name,
            buyer_name=r.buyer_name, buyer_id=r.buyer_id, country=r.country, decision=r.decision.value, code=r.code,
            decided=r.decided, amount_minor=to_minor(r.amount, r.currency) if r.amount is not None and r.currency
            else None, currency=r.currency, expires=r.expires, grade=r.grade, insurer_grade=r.insurer_grade,
            file=Path(table.file).name, line=r.line, import_id=table.digest, imported_at=now)))
    added, unchanged = store.record_insurer_decisions([d for _, d in applied], dry_run=dry_run)
    log.info("insurer.import_dry_run" if dry_run else "insurer.import_committed", insurer=insurer,
             file=str(table.file), rows=len(rows), matched=len(applied), added=added, unchanged=unchanged,
             not_applied=len(matches) - len(applied))
    return ImportReport(table.file, insurer, len(rows), tuple(applied), tuple(m for m in matches if not m.matched),
                        added, unchanged, dry_run)


def _head(store: Store, m: Match) -> tuple[str, str]:
    """The policy key and name of a matched credit group: its commercial entity's."""
    from .decisions import customer_key

    heads = [c for c in store.find_customers(f"{m.source}:{m.credit_group}") if c.erp_id == m.credit_group]
    head = heads[0] if heads else m.customers[0]
    return customer_key(head.ref, head.source, head.erp_id), head.name


__all__ = ["Grades", "ImportReport", "applied_decisions", "as_limit", "from_policy_file", "grades_in_force",
           "import_export", "merge", "policy_key", "with_imported_decisions"]
