"""`creditguard dunning`, `cases` and `case` as real processes on a store synced from the Odoo sandbox."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from adapters.odoo.sandbox import OdooSandbox

from ..support.cli import ODOO_SANDBOX_CONFIG, odoo_cli
from .conftest import ladder

POLICY = 'version = 1\nname = "dunning cli"\nbase_currency = "USD"\n' + ladder(approval="true")
CONFIG = ODOO_SANDBOX_CONFIG


def cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    return odoo_cli(config, *args, columns=220)


def ok(config: Path, *args: str) -> dict:
    result = cli(config, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if "--json" in args else result.stdout


@pytest.fixture
def setup(tmp_path):
    with OdooSandbox(version="17", data="demo") as sb:
        (tmp_path / "policy.toml").write_text(POLICY)
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(db=tmp_path / "cg.db", policy=tmp_path / "policy.toml", url=sb.url))
        assert cli(config, "sync", "--once").returncode == 0
        yield sb, config


def test_dunning_cases_and_case_actions(setup):
    sb, config = setup
    dry = ok(config, "dunning", "--dry-run", "--json", "--as-of", "2030-01-01")
    plans = dry["sources"][0]["plans"]
    assert plans and dry["dry_run"] is True
    # the oldest overdue group, 8 days past due: a reminder
    oldest = min(plans, key=lambda p: -p["days_past_due"])
    due = date(2030, 1, 1) - timedelta(days=oldest["days_past_due"])
    group = oldest["credit_group"]
    day8 = (due + timedelta(days=8)).isoformat()
    run = ok(config, "dunning", "--json", "--as-of", day8)
    [mine] = [p for p in run["sources"][0]["plans"] if p["credit_group"] == group]
    assert mine["action"] == "send" and mine["level"] == 7
    assert run["sources"][0]["outbox"]["applied"] >= 1
    assert sb.search_count("mail.message", [("model", "=", "res.partner"), ("res_id", "=", int(group)),
                                            ("body", "ilike", "creditguard")]) == 1
    # the case is listed, then worked from the command line
    cases = ok(config, "cases", "--json")["cases"]
    assert [c["state"] for c in cases if c["credit_group"] == group] == ["open"]
    assert "in_contact" in ok(config, "case", f"odoo:{group}", "contact", "--text", "called the buyer")
    bad = cli(config, "case", f"odoo:{group}", "promise", "--amount", "abc", "--date", "2031-01-01")
    assert bad.returncode == 2 and "--amount" in bad.stderr
    past = cli(config, "case", f"odoo:{group}", "promise", "--amount", "10", "--date", "2000-01-01")
    assert past.returncode == 2 and "date" in past.stderr
    assert "promise_to_pay" in ok(config, "case", f"odoo:{group}", "promise", "--amount", "10",
                                  "--date", "2099-01-01")
    shown = ok(config, "case", f"odoo:{group}", "show", "--json")["cases"][0]
    assert [e["event"] for e in shown["history"]] == ["opened", "dunning_sent", "contact", "promise"]
    assert shown["promise"]["amount"] == "10.00"
    # text output works too
    table = ok(config, "dunning", "--dry-run", "--as-of", day8)
    assert "odoo: dunning as of" in table and "(dry run: nothing written)" in table and "stopped" in table
    assert "Collection cases" in ok(config, "cases")
    assert ok(config, "case", f"odoo:{group}", "show").count("dunning_sent") == 1


def test_approve_sends_the_proposed_demand(setup):
    sb, config = setup
    dry = ok(config, "dunning", "--dry-run", "--json", "--as-of", "2030-01-01")
    oldest = min(dry["sources"][0]["plans"], key=lambda p: -p["days_past_due"])
    due = date(2030, 1, 1) - timedelta(days=oldest["days_past_due"])
    group = oldest["credit_group"]
    ok(config, "dunning", "--json", "--as-of", (due + timedelta(days=8)).isoformat())
    run = ok(config, "dunning", "--json", "--as-of", (due + timedelta(days=31)).isoformat())
    [mine] = [p for p in run["sources"][0]["plans"] if p["credit_group"] == group]
    assert mine["action"] == "propose"
    approved = cli(config, "dunning", "approve", f"odoo:{group}", "--by", "carla")
    assert approved.returncode == 0, approved.stderr
    assert "approved by cli:carla" in approved.stdout
    # the approval ran today's dunning, which sent the approved step
    assert sb.search_count("mail.message", [("model", "=", "res.partner"), ("res_id", "=", int(group)),
                                            ("body", "ilike", "creditguard")]) == 2
    again = cli(config, "dunning", "approve", f"odoo:{group}")
    assert again.returncode == 1
