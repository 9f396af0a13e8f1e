"""A crash campaign: ``creditguard enforce`` killed (SIGKILL) at many points, then the ERP's effects counted.

The world is the Odoo sandbox with its demo data (advisory mode: holds are chatter notes, To-Dos and tags),
a store (SQLite or PostgreSQL) and a policy that holds some orders, flags their customers and raises ageing
and insurer-deadline alerts.  Two rounds: the first places holds and alerts; between the rounds the ERP moves
(held orders cancelled, an alerted invoice paid) and the policy changes (new reasons: hold revisions), so
the second round releases, revises and closes.  In each round ``enforce`` runs with ``CREDITGUARD_CRASH_AT``
(see :mod:`connector.crashpoints`) — after a store commit, after an ERP write call, between an entry's writes
and its "applied" mark — and is run again until it completes; a last run drains the outbox.

Then every effect is counted in the ERP: each chatter note and activity CreditGuard made carries its
idempotency key as a marker, so a key seen twice is a duplicate, and an outbox entry whose effect is missing
(or an entry never applied) is a loss.  Used by ``tests/test_enforce_crash.py`` (a few kills per round, in
``make test``) and ``bench/crash.py`` (many).
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("store.commit", "erp.call", "outbox.applied")
MARKER = re.compile(r"\[creditguard ([^\]\s]+)\]")
FLAG_TAGS = {"ok": "Credit: OK", "watch": "Credit: watch", "stop": "Credit: stop"}

CONFIG = """\
[store]
url = "{store_url}"

[policy]
path = "{policy}"

[logging]
level = "warning"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CG_CRASH_PASSWORD"
protocol = "{protocol}"
retry_attempts = 1
"""

# tight grades hold a score of orders; one ageing threshold (note + To-Do); one insurer deadline
POLICY = """\
version = 1
name = "crash campaign"
base_currency = "USD"

[limits]
precedence = ["insurer", "grade"]

[limits.grades]
2 = 100000
4 = 30000
8 = 1000

[[limits.insurer]]
customer = "C00001"
insurer = "Allianz Trade"
amount = 60000
decided = 2026-01-15
status = "approved"

[insurers."Allianz Trade"]
overdue_notification_days = 60
warn_days = 3650

[rules.over_limit]
tolerance_percent = 0
[rules.overdue]
enabled = false
[rules.no_limit]
enabled = false
[rules.grade]
hold_at_or_worse = 9

[[approval_tiers]]
role = "credit_manager"

[[alerts.ageing]]
days = 60
action = "both"

"""
FIRST_GRADES = dict.fromkeys(range(2, 15), 8)  # C00002…C00014 graded 8: limit 1,000
# the second round: new reasons (grade 9: the grade rule instead of the limit), releases (grade 2), the same
SECOND_GRADES = {**dict.fromkeys(range(2, 7), 9), **dict.fromkeys(range(7, 11), 2), **dict.fromkeys(range(11, 15), 8)}


@dataclass
class Effects:
    """What the ERP shows against what the store's outbox says was applied."""

    entries: int = 0
    kills: int = 0
    runs: int = 0
    duplicated: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    counted: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.counted.items()))
        return (f"{self.runs} runs, {self.kills} kills; {self.entries} outbox entries ({kinds}); "
                f"{len(self.lost)} lost, {len(self.duplicated)} duplicated")


class CrashCampaign:
    def __init__(self, sandbox: Any, store_url: str, workdir: Path, *, protocol: str = "jsonrpc",
                 seed: int = 0) -> None:
        self.sb = sandbox
        self.addon = "credit_guard" in sandbox.addons  # holds and flags as the addon's fields, not To-Dos and tags
        self.store_url = store_url
        self.workdir = workdir
        self.rng = random.Random(seed)
        self.policy = workdir / "policy.toml"
        self.config = workdir / "config.toml"
        self.config.write_text(CONFIG.format(store_url=store_url, policy=self.policy, url=sandbox.url,
                                             protocol=protocol))
        self.write_policy(revised=False)
        self.effects = Effects()

    def write_policy(self, *, revised: bool) -> None:
        grades = SECOND_GRADES if revised else FIRST_GRADES
        self.policy.write_text(POLICY + "".join(f'[customers."C{n:05d}"]\ngrade = {g}\n'
                                                for n, g in grades.items()))

    # ------------------------------------------------------------------ runs

    def cli(self, *args: str, crash_at: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        env = dict(os.environ, CG_CRASH_PASSWORD="admin")
        env.pop("CREDITGUARD_CRASH_AT", None)
        if crash_at:
            env["CREDITGUARD_CRASH_AT"] = crash_at
        done = subprocess.run([sys.executable, "-m", "creditguard", "--config", str(self.config), *args],
                              env=env, capture_output=True, text=True, timeout=300)
        self.effects.runs += 1
        if done.returncode == -9:
            self.effects.kills += 1
        elif check and done.returncode != 0:
            raise AssertionError(f"creditguard {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
        return done

    def round(self, points: tuple[str, ...] = (), *, random_kills: int = 0, every_point: bool = False,
              stride: int = 1) -> None:
        """``enforce`` killed at each of ``points`` (``KIND:N``), then ``random_kills`` times at a random point
        of each kind in turn — or, ``every_point``, at the 1st, 2nd, 3rd… point of each kind (every
        ``stride``-th) until a run of that kind ends before its point — then run until the outbox is drained."""
        for point in points:
            self.cli("enforce", crash_at=point)
        done = 0
        reach = {"store.commit": 150, "erp.call": 300, "outbox.applied": 100}  # at most this many points ahead
        step = dict.fromkeys(KINDS, 0)
        turn = 0
        while reach and (every_point or done < random_kills):
            kind = list(reach)[turn % len(reach)]
            turn += 1
            if every_point:
                step[kind] += stride
                n = step[kind]
            else:
                n = self.rng.randint(1, reach[kind])
            if self.cli("enforce", crash_at=f"{kind}:{n}").returncode == -9:
                done += 1
            elif every_point or n == 1:
                del reach[kind]  # the run ended before this point: no more points of this kind to try
            else:
                reach[kind] = n - 1  # the run ended before its point: fewer of this kind are left
        self.drain()

    def drain(self) -> None:
        for _ in range(20):
            self.cli("enforce")
            if not self.pending():
                return
        raise AssertionError("the outbox did not drain in 20 runs")

    def pending(self) -> int:
        import json

        counts = json.loads(self.cli("outbox", "--json").stdout)["counts"]
        return counts["pending"]

    def sync(self) -> None:
        self.cli("sync", "--once")

    # ------------------------------------------------------------ the world

    def move_the_erp(self, store: Any) -> None:
        """Between the rounds: two held orders cancelled, the oldest alerted invoice paid."""
        held = [h for h in store.holds("odoo") if h.state == "held"][:2]
        for hold in held:
            self.sb.call("sale.order", "action_cancel", [int(hold.order_erp_id)])
        alerted = [e for e in store.outbox_entries(source="odoo") if e.kind == "create_alert"]
        if alerted:
            move = int(alerted[0].target_id)
            [row] = self.sb.search_read("account.move", [("id", "=", move)], ["amount_residual"])
            self.sb.register_payment(move, row["amount_residual"])

    # --------------------------------------------------------------- checks

    def check(self, store: Any) -> Effects:
        effects = self.effects
        entries = sorted(store.outbox_entries(source="odoo"), key=lambda e: e.id)
        effects.entries = len(entries)
        effects.counted = Counter(e.kind for e in entries)
        effects.lost = [f"{e.key}: {e.state}" for e in entries if e.state != "applied"]
        notes = self._markers("mail.message", "body", [("message_type", "=", "comment")])
        # an activity made once is open, or done: then a notification quotes its note (Odoo 17 deletes the
        # activity itself, 19 archives it)
        open_activities = self._markers("mail.activity", "note", [])
        done_activities = self._markers("mail.message", "body", [("message_type", "=", "notification")])
        activities = open_activities + done_activities
        effects.duplicated = [f"note {k} ×{n}" for k, n in notes.items() if n > 1] + \
                             [f"activity {k} ×{n}" for k, n in activities.items() if n > 1]
        latest_hold = {h.order_erp_id: h for h in store.holds("odoo")}
        latest_flag: dict[str, Any] = {}
        for e in entries:
            if e.state != "applied":
                continue
            if e.kind in ("place_hold", "release_hold"):
                self._expect(notes, e.key, f"{e.key}: hold note missing")
                hold = latest_hold.get(e.target_id)
                current = hold is not None and f"odoo:hold:{e.target_id}:r{hold.revision}" == e.key
                if self.addon:
                    if current:
                        self._check_order(e.target_id, e.key, hold.state == "held")
                    continue
                open_todo = open_activities.get(e.key, 0)
                if e.kind == "place_hold" and current and hold.state == "held" and open_todo != 1:
                    effects.lost.append(f"{e.key}: {open_todo} open To-Dos for the current hold")
                if not (current and hold.state == "held") and open_todo:
                    effects.lost.append(f"{e.key}: To-Do of a released or revised hold still open")
            elif e.kind == "create_alert":
                if e.payload["action"] in ("activity", "both"):
                    self._expect(activities, e.key, f"{e.key}: alert activity missing")
                if e.payload["action"] in ("message", "both"):
                    self._expect(notes, e.key, f"{e.key}: alert note missing")
            elif e.kind == "close_alert" and open_activities.get(e.payload["alert_key"], 0):
                effects.lost.append(f"{e.key}: alert activity still open after the invoice was paid")
            elif e.kind == "set_risk_flag":
                latest_flag[e.target_id] = e.payload["flag"]
        self._check_flags(latest_flag)
        return effects

    def _expect(self, seen: Counter, key: str, message: str) -> None:
        if seen.get(key, 0) < 1:
            self.effects.lost.append(message)

    def _markers(self, model: str, field_name: str, domain: list) -> Counter:
        rows = self.sb.search_read(model, [*domain, (field_name, "ilike", "[creditguard ")], [field_name])
        return Counter(m for r in rows for m in set(MARKER.findall(r[field_name] or "")))

    def _check_order(self, order_id: str, key: str, held: bool) -> None:
        [row] = self.sb.search_read("sale.order", [("id", "=", int(order_id))], ["credit_hold", "credit_hold_key"])
        if (row["credit_hold"], row["credit_hold_key"]) != (held, key):
            self.effects.lost.append(f"{key}: the order shows credit_hold={row['credit_hold']} with key "
                                     f"{row['credit_hold_key']}")

    def _check_flags(self, latest_flag: dict[str, str]) -> None:
        if self.addon:
            for partner, flag in latest_flag.items():
                [row] = self.sb.search_read("res.partner", [("id", "=", int(partner))], ["credit_risk_flag"])
                if row["credit_risk_flag"] != flag:
                    self.effects.lost.append(f"partner {partner}: flag {row['credit_risk_flag']}, expected {flag}")
            return
        tags = {r["name"]: r["id"] for r in self.sb.search_read("res.partner.category",
                                                                 [("name", "in", list(FLAG_TAGS.values()))],
                                                                 ["id", "name"])}
        for partner, flag in latest_flag.items():
            [row] = self.sb.search_read("res.partner", [("id", "=", int(partner))], ["category_id"])
            have = {name for name, tag_id in tags.items() if tag_id in row["category_id"]}
            if have != {FLAG_TAGS[flag]}:
                self.effects.lost.append(f"partner {partner}: flag tags {sorted(have)}, expected {flag}")


# the points every run of the suite kills at: the first decision's commit, the first hold's note and To-Do
# (in the ERP, not yet marked applied), the first entries fully written but not marked, the round's first
# release and revision (round two)
FIRST_ROUND = ("store.commit:1", "erp.call:1", "erp.call:2", "outbox.applied:1", "outbox.applied:2",
               "store.commit:200")
SECOND_ROUND = ("erp.call:1", "erp.call:2", "erp.call:3", "outbox.applied:1", "outbox.applied:2", "store.commit:5")


def run_campaign(sandbox: Any, store_url: str, workdir: Path, *, random_kills: int = 0, every_point: bool = False,
                 stride: int = 1, seed: int = 0) -> Effects:
    """Both rounds (the fixed points, then random or every point), then the count of effects."""
    from connector.store import Store

    campaign = CrashCampaign(sandbox, store_url, workdir, seed=seed)
    campaign.sync()
    campaign.round(FIRST_ROUND, random_kills=random_kills, every_point=every_point, stride=stride)
    with Store.open(store_url) as store:
        campaign.move_the_erp(store)
    campaign.write_policy(revised=True)
    campaign.sync()
    campaign.round(SECOND_ROUND, random_kills=random_kills, every_point=every_point, stride=stride)
    with Store.open(store_url) as store:
        return campaign.check(store)
