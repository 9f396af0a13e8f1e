"""``creditguard demo``: the bundled Odoo sandbox synced once into a SQLite store."""

from __future__ import annotations

import os
import sys
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

from .render import cell
from .render import console as rich_console
from .render import print_table
from .sources import build_source
from .sync_command import sync_engine

PASSWORD_ENV = "CREDITGUARD_ODOO_PASSWORD"
SAP_PASSWORD_ENV = "CREDITGUARD_SAP_PASSWORD"
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

[[source]]
name = "sap"
kind = "sap_soap"
url = "{sap_url}"
username = "admin"
password_env = "{sap_env}"
client = "100"
company_codes = ["1000", "3000"]
company_currencies = {{ "1000" = "EUR", "3000" = "JPY" }}
timezone = "Europe/Berlin"
credit_list_service = true

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
    from adapters.sap_soap.sandbox import SapSandbox

    console = rich_console()
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "creditguard.db"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)

    with OdooSandbox(version="17", data="demo", addons=("credit_guard", "sale_stock")) as sandbox, SapSandbox() as sap:
        config_path = workdir / "config.toml"
        config_path.write_text(CONFIG.format(db=db, url=sandbox.url, env=PASSWORD_ENV, protocol=protocol,
                                             policy=DEFAULT_POLICY, sap_url=sap.url, sap_env=SAP_PASSWORD_ENV))
        os.environ[PASSWORD_ENV] = "admin"
        os.environ[SAP_PASSWORD_ENV] = "admin"
        config = load_config(config_path)
        console.print(f"[bold]Odoo sandbox[/] on {sandbox.url} (database 'demo'), [bold]SAP sandbox[/] on "
                      f"{sap.url} (client 100); one store {db}")
        with Store.open(config.store.url_with_password()) as store:
            engine = sync_engine(config, store)
            rows, versions = [], []
            for source_config in config.sources:
                source = build_source(source_config, store)
                try:
                    first = engine.sync_source(source)
                    second = engine.sync_source(source)
                finally:
                    source.close()
                versions.append(f"{source_config.name}: {first.server_version}")
                rows += [s.as_dict() | {"pass": "first"} for s in first.streams]
                rows += [s.as_dict() | {"pass": "again"} for s in second.streams]
            print_table(f"Sync of Odoo 17.0 over {protocol} and SAP over SOAP ({'; '.join(versions)})",
                        [("source", "Source"), ("pass", "Pass"), ("stream", "Stream"), ("read", ">Read"),
                         ("written", ">Written"), ("quarantined", ">Quarantined"), ("calls", ">Calls"),
                         ("seconds", ">Seconds")],
                        rows, console)
            _print_receivables(store, console)
            _enforce_demo(store, config, sandbox, engine, console)
            _realtime_demo(store, config, sandbox, console)
            _enforce_sap_demo(store, config, sap, console)
    console.print(f"\nExplore: creditguard --config {config_path} customers | invoices --open | orders | "
                  "exposure | check ORDER | reservations | decisions | deadlines | outbox")
    _print_dashboard(workdir, config_path, console)
    return 0


DASHBOARD_PORT = 8765


def dashboard_command(workdir: Path, config_path: Path, port: int = DASHBOARD_PORT) -> tuple[str, str, str]:
    """The one command that serves the web dashboard on the demo's store, its URL and the token to log in with:
    `creditguard run` with a copy of the demo's configuration (``dashboard.toml``) whose sources are disabled
    (the sandboxes are gone once the demo ends: nothing to sync) and with an [http] table; the token is made
    now and given on the command line."""
    import secrets
    import shlex

    text = config_path.read_text(encoding="utf-8").replace(
        "# Written by `creditguard demo`: the bundled Odoo sandbox and a SQLite store.",
        "# Written by `creditguard demo`: the web dashboard on the demo's store (the sources are disabled: the demo's\n"
        "# sandboxes are gone once it ends, so nothing is synced).")
    text = text.replace('\nusername = "admin"\n', '\nusername = "admin"\nenabled = false\n')
    text += (f'\n[http]\nlisten = "127.0.0.1:{port}"\ntoken_env = "CREDITGUARD_API_TOKEN"\n'
             '\n[logging]\nlevel = "warning"\n')
    dashboard = workdir / "dashboard.toml"
    dashboard.write_text(text, encoding="utf-8")
    token = secrets.token_urlsafe(18)
    program = Path(sys.argv[0])
    creditguard = str(program.resolve()) if program.name == "creditguard" else "creditguard"
    command = f"CREDITGUARD_API_TOKEN={token} {shlex.quote(creditguard)} --config {shlex.quote(str(dashboard))} run"
    return command, f"http://127.0.0.1:{port}/ui/", token


def _print_dashboard(workdir: Path, config_path: Path, console: Console) -> None:
    from rich.markup import escape

    command, url, token = dashboard_command(workdir, config_path)
    console.print("\n[bold]Web dashboard[/] on this demo's data (Ctrl-C stops it):\n  " + escape(command) + "\n"
                  f"then open {url} and log in with the token {escape(token)}", soft_wrap=True)


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
        table.add_row(cell(names.get(group, group)), cell(currency), str(amount))
    console.print(table)


def _enforce_demo(store: Store, config, sandbox, engine: SyncEngine, console: Console) -> None:
    """Two enforcement cycles: holds and alerts pushed into Odoo, then a release made in Odoo honoured."""
    import xmlrpc.client

    from rich.markup import escape

    from connector.enforce import Enforcer
    from connector.outbox import Outbox
    from policy.loader import load_policy

    from .enforce_commands import run_alerts
    from .sources import build_writer

    policy = load_policy(config.policy.path)
    as_of = datetime.now(config.sync.tzinfo).date()
    outbox = Outbox(store)
    source_config = config.sources[0]

    def cycle():
        source = build_source(source_config, store)
        try:
            engine.sync_source(source)
        finally:
            source.close()
        report = Enforcer(store, policy, as_of, outbox).run(source_config.name)
        alerts = run_alerts(store, policy, as_of, outbox, source_config.name, 2)
        writer = build_writer(source_config)
        try:
            drained = outbox.drain(writer, source_config.name, limit=10_000)
        finally:
            writer.client.close()
        return report, alerts, drained

    report, alerts, drained = cycle()
    holds = [c for c in report.changes if c.action == "place_hold"]
    flags = [c for c in report.changes if c.action == "set_risk_flag"]
    insurer = [c for c in alerts if c.action == "insurer_alert"]
    console.print(f"\n[bold]Enforcement[/] under {policy.name!r}: {report.checked} open orders checked, "
                  f"{len(holds)} put on credit hold, {len(flags)} customers flagged, {len(alerts)} alerts "
                  f"({len(insurer)} of them insurer deadlines); "
                  f"{drained.applied} writes applied in Odoo through the outbox ({drained.dead} refused)")
    table = Table(title="Orders put on credit hold in Odoo (first 8)")
    table.add_column("Order")
    table.add_column("Customer")
    table.add_column("Why")
    for change in holds[:8]:
        table.add_row(cell(change.order), cell(change.customer), cell(change.detail))
    console.print(table)
    if holds:
        # a credit controller releases the first hold in Odoo; the next cycle honours it
        order = holds[0].order
        [order_id] = sandbox.search_read("sale.order", [("name", "=", order)], ["id"])
        proxy = xmlrpc.client.ServerProxy(f"{sandbox.url}/xmlrpc/2/object", allow_none=True)
        try:
            proxy.execute_kw("demo", 2, "admin", "sale.order", "action_confirm", [[order_id["id"]]])
        except xmlrpc.client.Fault as fault:
            console.print(f"Confirming {order} in Odoo is refused: [italic]{escape(fault.faultString)}[/]")
        proxy.execute_kw("demo", 2, "admin", "sale.order", "action_release_credit_hold", [[order_id["id"]]],
                         {"reason": "Customer paid the overdue invoices by wire today"})
        _refused_delivery(sandbox, proxy, console)
        report, _, _ = cycle()
        released = [c for c in report.changes if c.action in ("honour_release", "release_hold")]
        for change in released:
            console.print(f"Released: {escape(change.order)} ({escape(change.customer)}) — {escape(change.detail)}")
    held = sandbox.search_count("sale.order", [("credit_hold", "=", True)])
    activities = sandbox.search_count("mail.activity", [("res_model", "=", "account.move")])
    console.print(
        "\nWhere a user sees this in Odoo:\n"
        f"  • Sales › Orders, filter [bold]Credit hold[/]: {held} orders, each with a red banner giving the reasons "
        "and who may release it; Confirm is refused until a Credit Controller clicks [bold]Release credit hold[/].\n"
        f"  • Invoicing › Customers › Invoices: {activities} ageing-alert and insurer-deadline activities (and "
        "chatter notes) on overdue invoices, assigned to the credit controller; they close when the invoice is "
        "paid.\n"
        "  • Sales › Credit › [bold]Credit holds[/] (Credit Controllers): every held order across salespeople, "
        "filtered by release tier and age, grouped by customer, released in bulk; held rows are red with their "
        "reasons as a badge in the quotation and order lists.\n"
        "  • [bold]Release credit hold[/] asks for a reason and checks the release tier: Sales › Credit › "
        "[bold]Release tiers[/] maps the policy's approval tiers (sales_manager < credit_manager < cfo) to groups; "
        "a user below the order's tier is told which tier it needs.\n"
        "  • Inventory › Deliveries (with sale_stock: the bridge module credit_guard_stock installs itself): "
        "validating the delivery of a confirmed order on hold is refused with the hold's reasons.\n"
        "  • Contacts › a customer › [bold]Credit[/] tab: risk flag, grade, exposure, limit and headroom."
    )
    _partner_figures(store, policy, as_of, sandbox, console)


def _refused_delivery(sandbox, proxy, console: Console) -> None:
    """A confirmed order on hold: validating its delivery is refused (the bridge module credit_guard_stock)."""
    import xmlrpc.client

    from .render import escape

    for order in sandbox.search_read("sale.order", [("credit_hold", "=", True), ("state", "=", "sale")],
                                     ["id", "name"]):
        pickings = sandbox.search_read("stock.picking", [("sale_id", "=", order["id"]), ("state", "=", "assigned")],
                                       ["id", "name"])
        if not pickings:
            continue
        try:
            proxy.execute_kw("demo", 2, "admin", "stock.picking", "button_validate", [[pickings[0]["id"]]])
        except xmlrpc.client.Fault as fault:
            first = fault.faultString.strip().splitlines()[0]
            console.print(f"Validating delivery {escape(pickings[0]['name'])} of the confirmed order "
                          f"{escape(order['name'])} on hold is refused: [italic]{escape(first)}[/]")
        return


def _partner_figures(store: Store, policy, as_of, sandbox, console: Console) -> None:
    """One stopped customer's Credit tab next to `creditguard exposure`: the same figures."""
    from connector.checks import CreditChecker

    from .credit_commands import exposure_rows
    from .render import escape

    stopped = sandbox.search_read("res.partner", [("credit_risk_flag", "=", "stop"), ("ref", "!=", False)],
                                  ["name", "ref", "credit_exposure", "credit_effective_limit"])
    if not stopped:
        return
    partner = stopped[0]
    rows = list(exposure_rows(store, CreditChecker(store, policy, as_of), partner["ref"], None))
    if rows:
        console.print(f"    e.g. {escape(partner['name'])}: flag Stop, exposure {partner['credit_exposure']:,.2f} "
                      f"{policy.base_currency}, limit {partner['credit_effective_limit']:,.2f} {policy.base_currency} — "
                      f"`creditguard exposure {escape(partner['ref'])}` says {Decimal(rows[0]['exposure']['total']):,} "
                      f"{policy.base_currency}.")


def _realtime_demo(store: Store, config, sandbox, console: Console) -> None:
    """Orders confirmed in Odoo before any sync: the addon asks the daemon's API, which decides on the facts."""
    import secrets
    import socket
    import xmlrpc.client
    from types import SimpleNamespace

    from rich.markup import escape

    from policy.loader import load_policy

    from .http_api import Api, serve

    token = secrets.token_urlsafe(16)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    daemon = SimpleNamespace(store=store, config=config, policy=load_policy(config.policy.path), breakers={})
    server = serve(Api(daemon, lambda: token), "127.0.0.1", port)
    proxy = xmlrpc.client.ServerProxy(f"{sandbox.url}/xmlrpc/2/object", allow_none=True)

    def call(model: str, method: str, *args, **kwargs):
        return proxy.execute_kw("demo", 2, "admin", model, method, list(args), kwargs)

    def confirm(partner: int, amount: float) -> tuple[str, str]:
        order = call("sale.order", "create", {"partner_id": partner, "order_line": [
            (0, 0, {"name": "Goods", "product_uom_qty": 1, "price_unit": amount})]})
        name = call("sale.order", "read", [order], ["name"])[0]["name"]
        try:
            call("sale.order", "action_confirm", [order])
            return name, "confirmed"
        except xmlrpc.client.Fault as fault:
            return name, f"refused: [italic]{escape(fault.faultString)}[/]"

    try:
        for key, value in (("check_url", f"http://127.0.0.1:{port}/v1/check"), ("check_token", token)):
            call("ir.config_parameter", "set_param", f"credit_guard.{key}", value)
        console.print("\n[bold]Real-time checks[/]: Odoo asks CreditGuard before confirming, with the order as it is "
                      "now (none of these orders or customers has been synced)")
        newcomer = call("res.partner", "create", {"name": "Brand New Buyer Ltd", "is_company": True})
        name, result = confirm(newcomer, 9_000_000)
        console.print(f"  • {name}, 9,000,000 USD for a buyer seen for the first time: {result}")
        limited = call("res.partner", "create", {"name": "Ten Thousand Trading", "is_company": True,
                                                   "credit_limit": 10_000})
        for label in ("A", "B"):
            name, result = confirm(limited, 6_000)
            console.print(f"  • order {label} {name}, 6,000 USD against the ERP's limit of 10,000 USD: {result}")
        console.print("    (A's approval reserved 6,000 USD of exposure until the sync brings A in: "
                      "creditguard reservations)")
    finally:
        for key in ("check_url", "check_token"):
            call("ir.config_parameter", "set_param", f"credit_guard.{key}", False)
        server.close()


def _enforce_sap_demo(store: Store, config, sap, console: Console) -> None:
    """The same policy on the SAP orders: holds become the delivery block, set and committed in SAP."""

    from policy.loader import load_policy

    from .enforce_commands import enforce_source

    policy = load_policy(config.policy.path)
    source_config = next(s for s in config.sources if s.kind == "sap_soap")
    result = enforce_source(config, store, policy, source_config, alerts=False)  # as `creditguard enforce`
    holds = [c for c in result["changes"] if c["action"] == "place_hold"]
    pushed = result["outbox"]
    console.print(f"\n[bold]Enforcement in SAP[/]: {result['checked']} open orders checked, {len(holds)} put on "
                  f"credit hold as delivery block {source_config.delivery_block}, set through "
                  f"BAPI_SALESORDER_CHANGE + BAPI_TRANSACTION_COMMIT (outbox: {pushed['applied']} applied, risk "
                  f"flags included, which SAP has no place for and acknowledges; {pushed['dead']} refused)")
    table = Table(title="SAP orders put on credit hold (first 8)")
    for header in ("Order", "Customer", "Block in SAP", "Why"):
        table.add_column(header)
    for change in holds[:8]:
        table.add_row(cell(change["order"]), cell(change["customer"]), cell(sap.order(change["order"]).dlv_block or "-"),
                      cell(change["detail"]))
    console.print(table)
    blocked = [c for c in store.iter_customers(source_config.name) if c.credit_blocked]
    graded = sum(1 for c in store.iter_customers(source_config.name) if c.risk_category in policy.risk_categories)
    console.print(
        "Where a user sees this in SAP: VA03 / VA05 show the delivery block on the order header; "
        "delivery (VL01N) is refused until the block is removed, and a block removed in SAP is honoured "
        f"at the next cycle. {graded} SAP customers are graded from their credit-master risk category; "
        f"customers blocked in SAP credit management ({', '.join(c.name for c in blocked) or 'none'}) "
        "have every order held."
    )
