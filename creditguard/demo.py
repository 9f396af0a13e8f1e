"""``creditguard demo``: the bundled Odoo sandbox synced once into a SQLite store."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table

from connector.config import load_config
from connector.domain import InvoiceState
from connector.store import Store
from connector.sync import SyncEngine

from .render import print_table
from .sources import build_source

PASSWORD_ENV = "CREDITGUARD_ODOO_PASSWORD"
DEFAULT_POLICY = Path(__file__).resolve().parents[1] / "policy" / "examples" / "default.toml"

CONFIG = """\
# Written by `creditguard demo`: the bundled Odoo sandbox and a SQLite store.
[store]
url = "sqlite:///{db}"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "{env}"
protocol = "{protocol}"

[policy]
path = "{policy}"
"""

BUCKETS = ("not due", "1-30", "31-60", "61-90", "90+")


def _bucket(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "not due"
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "90+"


def run_demo(workdir: Path, protocol: str = "xmlrpc") -> int:
    from adapters.odoo.sandbox import OdooSandbox

    console = Console()
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "creditguard.db"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)

    with OdooSandbox(version="17", data="demo") as sandbox:
        config_path = workdir / "config.toml"
        config_path.write_text(CONFIG.format(db=db, url=sandbox.url, env=PASSWORD_ENV, protocol=protocol,
                                             policy=DEFAULT_POLICY))
        os.environ[PASSWORD_ENV] = "admin"
        config = load_config(config_path)
        console.print(f"[bold]Odoo sandbox[/] on {sandbox.url} (database 'demo'); store {db}")
        with Store.open(config.store.url_with_password()) as store:
            engine = SyncEngine(store, batch_size=config.sync.batch_size,
                                overlap_seconds=float(config.sync.overlap_seconds))
            source = build_source(config.sources[0])
            try:
                first = engine.sync_source(source)
                second = engine.sync_source(source)
            finally:
                source.close()
            rows = [s.as_dict() | {"pass": "first"} for s in first.streams]
            rows += [s.as_dict() | {"pass": "again"} for s in second.streams]
            print_table(f"Sync of Odoo {first.server_version} over {protocol}",
                        [("pass", "Pass"), ("stream", "Stream"), ("read", ">Read"), ("written", ">Written"),
                         ("quarantined", ">Quarantined"), ("calls", ">Calls"), ("seconds", ">Seconds")],
                        rows, console)
            _print_receivables(store, console)
            _print_decisions(store, config, console)
    console.print(f"\nExplore: creditguard --config {config_path} customers | invoices --open | orders | "
                  "exposure | check ORDER | decisions")
    return 0


def _print_receivables(store: Store, console: Console) -> None:
    today = datetime.now(UTC).date()
    by_bucket: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    by_group: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for inv in store.iter_invoices(open_only=True):
        if inv.state is not InvoiceState.POSTED:
            continue
        overdue = (today - inv.due_date).days if inv.due_date else 0
        by_bucket[inv.currency][_bucket(overdue)] += inv.sign * inv.amount_open
        by_group[(inv.credit_group_id, inv.company_currency)] += inv.sign * inv.amount_open_company
    table = Table(title="Open receivables by due-date bucket (document currency)")
    table.add_column("Currency")
    for bucket in BUCKETS:
        table.add_column(bucket, justify="right")
    table.add_column("Total", justify="right")
    for currency in sorted(by_bucket):
        amounts = by_bucket[currency]
        table.add_row(currency, *(str(amounts.get(b, Decimal(0))) for b in BUCKETS), str(sum(amounts.values())))
    console.print(table)
    names = {c.erp_id: c.name for c in store.iter_customers()}
    top = sorted(by_group.items(), key=lambda item: item[1], reverse=True)[:10]
    table = Table(title="Largest open balances per credit group (company currency)")
    table.add_column("Credit group")
    table.add_column("Currency")
    table.add_column("Open", justify="right")
    for (group, currency), amount in top:
        table.add_row(names.get(group, group), currency, str(amount))
    console.print(table)


def _print_decisions(store: Store, config, console: Console) -> None:
    """Every open order checked under the example policy; the held ones with their reasons."""
    from rich.markup import escape

    from connector.checks import CreditChecker
    from connector.domain import OrderState
    from policy.loader import load_policy

    policy = load_policy(config.policy.path)
    checker = CreditChecker(store, policy, datetime.now(config.sync.tzinfo).date())
    held, approved = [], 0
    for order in store.iter_orders():
        if order.state not in (OrderState.DRAFT, OrderState.SENT, OrderState.CONFIRMED):
            continue
        outcome = checker.check(order.number, order.source)
        if outcome.decision.result.value == "hold":
            held.append(outcome)
        else:
            approved += 1
    console.print(f"\n[bold]Credit decisions[/] under {policy.name!r} ({config.policy.path.name}): "
                  f"{approved} open orders approved, {len(held)} on hold (all recorded in the decision log)")
    table = Table(title="Orders on hold (first 8)")
    for header in ("Order", "Customer", "Exposure", "Limit", "Release by", "Why"):
        table.add_column(header, justify="right" if header in ("Exposure", "Limit") else "left")
    for outcome in held[:8]:
        d = outcome.decision
        table.add_row(outcome.order.number, outcome.facts.name, str(outcome.exposure.total),
                      f"{d.limit.amount} ({d.limit.source.value})" if d.limit.amount is not None else "none",
                      d.release_tier or "-", escape(", ".join(r.code for r in d.reasons)))
    console.print(table)
