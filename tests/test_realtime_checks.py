"""Real-time checks over real sockets: `creditguard run` serving /v1/check, the Odoo sandbox confirming orders
the way the credit_guard addon does (it posts the order's facts before confirming).

Orders are created and confirmed before any sync brings them (or their customer) in; reservations count until
the sync does; concurrent confirmations of one customer are decided one at a time (SQLite, and PostgreSQL with
two daemons sharing the store)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path


import httpx
import pytest

from adapters.odoo.sandbox import OdooSandbox

from .support.net import free_port
from .test_daemon import ROOT, Lines

TOKEN = "rt-token-9c2e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONFIG = """\
[store]
url = "{store}"

[sync]
interval_seconds = 3600

[logging]
format = "json"

[policy]
path = "{policy}"

[http]
listen = "127.0.0.1:{port}"
token_env = "CG_API_TOKEN"
workers = {workers}

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CG_DAEMON_PASSWORD"
protocol = "jsonrpc"
retry_attempts = 1
"""


class Daemon:
    def __init__(self, tmp: Path, name: str, store: str, sandbox_url: str, workers: int = 1) -> None:
        policy = tmp / "policy.toml"
        if not policy.exists():
            shutil.copy(ROOT / "policy" / "examples" / "default.toml", policy)
        self.port = free_port()
        self.config = tmp / f"{name}.toml"
        self.config.write_text(CONFIG.format(store=store, policy=policy, port=self.port, url=sandbox_url,
                                               workers=workers))
        self.env = dict(os.environ, CG_DAEMON_PASSWORD="admin", CG_API_TOKEN=TOKEN)
        self.env.pop("NOTIFY_SOCKET", None)
        self.process = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(self.config), "run"],
                                        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=self.env)
        self.lines = Lines(self.process.stderr)
        self.lines.wait_for("http.listening")
        self.url = f"http://127.0.0.1:{self.port}/v1/check"

    def cli(self, *args: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "creditguard", "--config", str(self.config), *args],
                              capture_output=True, text=True, env=self.env, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if "--json" in args else {}

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=60) == 0


def rpc(sb: OdooSandbox, model: str, method: str, *args, **kwargs):
    proxy = xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/object", allow_none=True)
    return proxy.execute_kw("demo", 2, "admin", model, method, list(args), kwargs)


def new_customer(sb: OdooSandbox, name: str, limit: float = 0.0) -> int:
    return rpc(sb, "res.partner", "create", {"name": name, "is_company": True, "customer_rank": 1,
                                              "credit_limit": limit})


def new_order(sb: OdooSandbox, partner: int, amount: float) -> tuple[int, str]:
    order_id = rpc(sb, "sale.order", "create", {"partner_id": partner, "order_line": [
        (0, 0, {"name": "Goods", "product_uom_qty": 1, "price_unit": amount})]})
    return order_id, rpc(sb, "sale.order", "read", [order_id], ["name"])[0]["name"]


def confirm(sb: OdooSandbox, order_id: int) -> str:
    """Confirm as a salesperson would: 'confirmed', or the refusal's message."""
    try:
        rpc(sb, "sale.order", "action_confirm", [order_id])
        return "confirmed"
    except xmlrpc.client.Fault as fault:
        return fault.faultString


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("realtime")
    with OdooSandbox(version="17", data="demo", addons=("credit_guard",)) as sb:
        daemon = Daemon(tmp, "daemon", f"sqlite:///{tmp / 'cg.db'}", sb.url, workers=2)  # two API processes
        try:
            daemon.lines.wait_for("sync.source_done")
            for key, value in (("check_url", daemon.url), ("check_token", TOKEN), ("fail_mode", "closed")):
                rpc(sb, "ir.config_parameter", "set_param", f"credit_guard.{key}", value)
            yield sb, daemon
        finally:
            daemon.stop()
    assert api_workers(daemon) == []  # the API workers stop with the daemon


def test_a_new_buyers_order_confirmed_before_any_sync_is_held(world):
    sb, _daemon = world
    order_id, name = new_order(sb, new_customer(sb, "Brand New Buyer Ltd"), 9_000_000)
    refusal = confirm(sb, order_id)
    assert f"Sales order {name} is on credit hold" in refusal and "has no credit limit" in refusal
    row = rpc(sb, "sale.order", "read", [order_id], ["state", "credit_hold", "credit_hold_codes", "credit_hold_key"])[0]
    assert row["state"] == "draft" and row["credit_hold"] is True and row["credit_hold_codes"] == "no_limit"
    assert row["credit_hold_key"] == f"odoo:hold:{order_id}:r1"  # the key of the daemon's own write


def test_order_b_after_order_a_counts_a(world):
    sb, daemon = world
    buyer = new_customer(sb, "Ten Thousand Trading", limit=10_000)
    a_id, a_name = new_order(sb, buyer, 6_000)
    b_id, b_name = new_order(sb, buyer, 6_000)
    assert confirm(sb, a_id) == "confirmed"
    refusal = confirm(sb, b_id)
    assert f"Sales order {b_name} is on credit hold" in refusal and "exceeds the limit" in refusal
    reserved = daemon.cli("reservations", "--json")["reservations"]
    assert [(r["order_number"], r["amount"], r["status"]) for r in reserved if r["order_number"] in (a_name, b_name)] \
        == [(a_name, "6000.00", "active")]
    # the next sync brings A in: it counts once, as a confirmed order, and its reservation no longer does
    daemon.cli("sync", "--once")
    [group] = daemon.cli("exposure", f"odoo:{buyer}", "--json")["groups"]
    components = {k: Decimal(v) for k, v in group["exposure"]["components"].items()}
    assert components["uninvoiced_orders"] == Decimal("6000.00") and components["reservations"] == 0
    assert Decimal(group["exposure"]["total"]) == Decimal("6000.00")
    statuses = {r["order_number"]: r["status"] for r in daemon.cli("reservations", "--all", "--json")["reservations"]}
    assert statuses[a_name] == "replaced"


def facts(order: int, customer: int, amount: str) -> dict:
    return {"source": "odoo", "event": "confirm",
            "order": {"erp_id": str(order), "reference": f"RT{order}", "state": "draft", "currency": "USD",
                      "amount_total": amount},
            "customer": {"erp_id": str(customer), "name": f"Concurrent {customer}", "credit_limit": "10000",
                         "credit_limit_currency": "USD"}}


def concurrent_checks(urls: list[str], customer: int) -> list[str]:
    """50 confirmations of 10 % of the customer's headroom each, all at once."""
    def one(n: int) -> str:
        with httpx.Client(timeout=60) as client:
            answer = client.post(urls[n % len(urls)], json=facts(900000 + customer * 100 + n, customer, "1000.00"),
                                 headers=AUTH)
            assert answer.status_code == 200, answer.text
            return answer.json()["decision"]

    with ThreadPoolExecutor(max_workers=50) as pool:
        return list(pool.map(one, range(50)))


def test_fifty_concurrent_confirmations_approve_only_what_fits(world):
    _sb, daemon = world
    decisions = concurrent_checks([daemon.url], 777001)
    assert decisions.count("approve") == 10 and decisions.count("hold") == 40


def api_workers(daemon: Daemon) -> list[int]:
    """The API worker processes the daemon started (from /proc: their parent and command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit() or (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] != \
                    str(daemon.process.pid):
                continue
            if b"creditguard.api_workers" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_api_worker_processes_serve_the_port_and_stop_with_the_daemon(world):
    _sb, daemon = world
    [worker] = api_workers(daemon)
    answers = [httpx.get(f"http://127.0.0.1:{daemon.port}/healthz", timeout=10).status_code for _ in range(20)]
    assert answers == [200] * 20
    os.kill(worker, signal.SIGKILL)  # a worker that dies is started again
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not api_workers(daemon) or api_workers(daemon) == [worker]):
        time.sleep(0.2)
    assert api_workers(daemon) and worker not in api_workers(daemon)
    assert concurrent_checks([daemon.url], 777003).count("approve") == 10


@pytest.mark.postgres
def test_two_daemons_sharing_postgresql_decide_one_at_a_time(tmp_path, postgres_server):
    store = postgres_server.create_database()
    with OdooSandbox(version="17", data="demo", addons=("credit_guard",)) as sb:
        first = Daemon(tmp_path, "first", store, sb.url)
        try:
            first.lines.wait_for("sync.source_done")
            second = Daemon(tmp_path, "second", store, sb.url)
            try:
                decisions = concurrent_checks([first.url, second.url], 777002)
            finally:
                second.stop()
        finally:
            first.stop()
    assert decisions.count("approve") == 10 and decisions.count("hold") == 40


def test_bad_facts_are_a_4xx_naming_the_field(world):
    _sb, daemon = world
    cases = [
        (lambda b: b["order"].update(amount_total="-5"), 422, "order.amount_total"),
        (lambda b: b["order"].update(currency="ZZZ"), 422, "order.currency"),
        (lambda b: b["order"].update(currency="XAU"), 422, "order.currency"),  # a code without exchange rates
        (lambda b: b["order"].update(state="cancel"), 422, "order.state"),
        (lambda b: b["order"].update(amount_total="1_000"), 400, "order.amount_total"),
        (lambda b: b["order"].update(amount_uninvoiced="2000", amount_total="1000"), 422, "order.amount_uninvoiced"),
        (lambda b: b.update(source="sap"), 422, "source"),
        (lambda b: b["customer"].pop("erp_id"), 400, "customer.erp_id"),
        (lambda b: b["order"].update(colour="red"), 400, "order.colour"),
    ]
    with httpx.Client(timeout=30) as client:
        for change, status, field in cases:
            body = facts(1, 2, "10.00")
            change(body)
            answer = client.post(daemon.url, json=body, headers=AUTH)
            assert answer.status_code == status, (field, answer.text)
            assert answer.json()["error"]["message"].startswith(f"{field}: "), answer.text


def test_a_script_checks_an_order_by_its_facts(world):
    _sb, daemon = world
    outcome = daemon.cli("check", "SCRIPT-1", "--order-id", "880001", "--amount", "500000", "--currency", "USD",
                         "--customer-id", "880002", "--customer-name", "Script Buyer", "--json")
    assert outcome["decision"] == "hold" and [r["code"] for r in outcome["reasons"]] == ["no_limit"]
    assert outcome["customer"] == "odoo:880002" and outcome["reserved"] is None
    limited = daemon.cli("check", "SCRIPT-2", "--order-id", "880003", "--amount", "500", "--currency", "USD",
                         "--customer-id", "880004", "--customer-name", "Small Buyer", "--credit-limit", "5000",
                         "--credit-limit-currency", "USD", "--confirm", "--json")
    assert limited["decision"] == "approve" and limited["reserved"] == "500.00"
    bad = subprocess.run([sys.executable, "-m", "creditguard", "--config", str(daemon.config), "check", "SCRIPT-3",
                          "--order-id", "1", "--amount", "-1", "--currency", "USD", "--customer-id", "2",
                          "--customer-name", "X"], capture_output=True, text=True, env=daemon.env, timeout=60)
    assert bad.returncode == 2 and "--amount" in bad.stderr and "must not be negative" in bad.stderr
