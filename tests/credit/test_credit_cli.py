"""check, exposure, decisions and policy commands as real processes, on a synced sandbox."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.odoo.sandbox import OdooSandbox

from ..support.cli import ODOO_SANDBOX_CONFIG, odoo_cli

POLICY = """\
version = 1
name = "Test policy"
base_currency = "USD"

[limits]
precedence = ["override", "insurer", "erp", "grade"]
[limits.grades]
6 = {limit}

[customers."{ref}"]
grade = 6

[rules.over_limit]
tolerance_percent = 0
[rules.overdue]
days = 100000

[[approval_tiers]]
role = "sales_manager"
up_to = 1000
[[approval_tiers]]
role = "cfo"
"""

CONFIG = ODOO_SANDBOX_CONFIG


def cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    return odoo_cli(config, *args, columns=200)


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """A synced store, a quotation to check, and a policy grading its customer."""
    tmp = tmp_path_factory.mktemp("credit")
    policy = tmp / "policy.toml"
    config = tmp / "config.toml"
    with OdooSandbox(version="17", data="demo") as sb:
        config.write_text(CONFIG.format(db=tmp / "cg.db", policy=policy, url=sb.url))
        result = cli(config, "sync", "--once", "--json")
        assert result.returncode == 0, result.stderr
    customers = {c["erp_id"]: c for c in json.loads(cli(config, "customers", "--json").stdout)["customers"]}
    orders = json.loads(cli(config, "orders", "--json").stdout)["orders"]
    order = next(o for o in orders if o["state"] in ("draft", "sent")
                 and customers[customers[o["customer_id"]]["credit_group_id"]]["ref"])
    head = customers[customers[order["customer_id"]]["credit_group_id"]]
    policy.write_text(POLICY.format(limit=25000, ref=head["ref"]))
    return config, policy, head, order["number"]


def test_exposure_and_check(synced):
    config, policy, head, number = synced
    [row] = json.loads(cli(config, "exposure", head["ref"], "--json").stdout)["groups"]
    assert row["credit_group"] == head["erp_id"] and row["limit"] == {
        "amount": "25000.00", "source": "grade", "detail": "policy limit for grade 6"}
    components = {k: Decimal(v) for k, v in row["exposure"]["components"].items()}
    assert sum(components.values()) == Decimal(row["exposure"]["total"])
    assert Decimal(row["headroom"]) == Decimal("25000.00") - Decimal(row["exposure"]["total"])

    result = cli(config, "check", number, "--json")
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    for key in ("order", "customer", "credit_group", "decision", "reasons", "exposure", "limit", "headroom",
                "currency", "release_tier"):
        assert key in decision
    assert decision["order"] == number and decision["customer"] == head["ref"] and decision["currency"] == "USD"
    total = Decimal(decision["exposure"]["total"])
    assert total == Decimal(row["exposure"]["total"]) + Decimal(decision["exposure"]["components"]["current_order"])
    expected = "hold" if total > Decimal(25000) else "approve"
    assert decision["decision"] == expected

    logged = json.loads(cli(config, "decisions", "--order", number, "--json").stdout)["decisions"]
    assert logged[0]["result"] == expected
    assert logged[0]["policy_hash"] == hashlib.sha256(policy.read_bytes()).hexdigest()
    assert logged[0]["record"]["exposure"] == decision["exposure"]


def test_lower_limit_holds_with_reason_and_tier(synced, tmp_path):
    config, policy, head, number = synced
    strict = tmp_path / "strict.toml"
    strict.write_text(POLICY.format(limit=0, ref=head["ref"]))
    simulated = json.loads(cli(config, "policy", "simulate", str(strict), "--json").stdout)
    assert simulated["totals"]["orders_checked"] > 0 and simulated["totals"]["limits_changed"] == 1
    was = json.loads(cli(config, "check", number, "--json", "--no-log").stdout)["decision"]
    assert (number in {o["order"] for o in simulated["orders"]}) == (was == "approve")
    local = config.with_name("strict-config.toml")
    local.write_text(config.read_text().replace(str(config.with_name("policy.toml")), str(strict)))
    decision = json.loads(cli(local, "check", number, "--json").stdout)
    assert decision["decision"] == "hold"
    assert [r["code"] for r in decision["reasons"]] == ["over_limit"]
    assert decision["release_tier"] in ("sales_manager", "cfo")
    assert decision["limit"]["amount"] == "0.00" and Decimal(decision["headroom"]) < 0


def test_policy_validate(synced, tmp_path):
    config, policy, _, _ = synced
    ok = cli(config, "policy", "validate", str(policy), "policy/examples/default.toml")
    assert ok.returncode == 0, ok.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text(POLICY.format(limit=-5, ref="C00001").replace('base_currency = "USD"', 'base_currency = "USX"'))
    bad = cli(config, "policy", "validate", str(broken))
    assert bad.returncode == 2  # a file that cannot be used is bad input
    assert f"{broken}:3:" in bad.stderr and f"{broken}:8:" in bad.stderr  # both errors, not just the first


def test_unknown_order_is_one_clear_line(synced):
    config = synced[0]
    result = cli(config, "check", "S99999")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no order 'S99999' in the store" in result.stderr


INSURED = """
[[limits.insurer]]
customer = "{late}"
insurer = "Atradius"
amount = 1000000
decided = 2020-01-01

[[limits.insurer]]
customer = "{other}"
insurer = "Allianz Trade"
amount = 1000000
decided = 2020-01-01

[insurers."Atradius"]
overdue_notification_days = 0
max_extension_days = 0
collection_days = 3650

[insurers."Allianz Trade"]
overdue_notification_days = 3650
"""


def test_deadlines_of_insured_buyers_with_an_overdue_account(synced, tmp_path):
    config, _, _, _ = synced
    customers = {c["erp_id"]: c for c in json.loads(cli(config, "customers", "--json").stdout)["customers"]}
    invoices = json.loads(cli(config, "invoices", "--open", "--json").stdout)["invoices"]
    oldest: dict[str, dict] = {}
    for i in invoices:
        if i["kind"] == "invoice" and i["state"] == "posted" and i["due_date"]:
            current = oldest.get(i["credit_group_id"])
            if current is None or (i["due_date"], i["number"]) < (current["due_date"], current["number"]):
                oldest[i["credit_group_id"]] = i
    today = json.loads(cli(config, "exposure", "--json").stdout)["as_of"]
    late = sorted((i for g, i in oldest.items() if customers[g]["ref"] and i["due_date"] < today),
                  key=lambda i: i["due_date"])
    assert len(late) >= 2, "the demo data has insured buyers paying late"
    first, second = late[0], late[1]
    ref = customers[first["credit_group_id"]]["ref"]
    policy = tmp_path / "insured.toml"
    policy.write_text(POLICY.format(limit=25000, ref="C99999") + INSURED.format(
        late=ref, other=customers[second["credit_group_id"]]["ref"]))
    local = tmp_path / "config.toml"
    local.write_text(config.read_text().replace(str(config.with_name("policy.toml")), str(policy)))

    result = cli(local, "deadlines", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["as_of"] == today
    [entry] = document["deadlines"]  # Allianz Trade's deadlines are years away: not listed by default
    days = (date.fromisoformat(first["due_date"]) - date.fromisoformat(today)).days
    assert entry == {
        "source": "odoo", "customer": ref, "customer_name": customers[first["credit_group_id"]]["name"],
        "credit_group": first["credit_group_id"], "insurer": "Atradius", "invoice": first["number"],
        "invoice_erp_id": first["erp_id"], "due": first["due_date"],
        "notify_by": {"date": first["due_date"], "status": "missed", "days_left": days},
        "cover_stops": {"date": first["due_date"], "status": "missed", "days_left": days},
        "collection_by": {"date": (date.fromisoformat(first["due_date"]) + timedelta(days=3650)).isoformat(),
                          "status": "pending", "days_left": days + 3650},
        "status": "missed", "days_left": days + 3650,
    }
    every = json.loads(cli(local, "deadlines", "--json", "--all", "--source", "odoo").stdout)["deadlines"]
    assert [e["insurer"] for e in every] == ["Atradius", "Allianz Trade"]  # most urgent first
    assert every[1]["status"] == "pending" and every[1]["cover_stops"] is None

    table = cli(local, "deadlines")
    assert table.returncode == 0 and first["number"] in table.stdout and "missed" in table.stdout
    assert customers[second["credit_group_id"]]["name"] not in table.stdout
    # `creditguard enforce` (and so the daemon) raises them as alerts on the invoice; a dry run only lists them
    enforce = json.loads(cli(local, "enforce", "--dry-run", "--json").stdout)
    [source] = enforce["sources"]
    alerts = [c for c in source["changes"] if c["action"] == "insurer_alert"]
    assert [c["order"] for c in alerts] == [first["number"]] * 2  # notification and cover: both missed
    assert alerts[0]["detail"].startswith(f"Notify Atradius of the overdue account of {entry['customer_name']} now")
    unknown = cli(local, "deadlines", "--source", "nowhere")
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
