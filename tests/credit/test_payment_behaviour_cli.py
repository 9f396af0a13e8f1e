"""Payment behaviour feeding the grade, as real processes on a store filled by a sync of the Odoo sandbox (its
demo payments reconciled with their instalments): `creditguard snapshot` keeps each group's payment figures as
`exposure --json` gives them, and then `policy explain`, `exposure` and a live `check` grade the late payer
worse, saying why."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from adapters.odoo.sandbox import OdooSandbox

from ..test_ageing_cli import CONFIG, cli

D = Decimal
POLICY = """\
version = 1
name = "Payment behaviour over the sandbox"
base_currency = "USD"
limits = {{ precedence = ["grade"], grades = {{ 5 = 900000, 8 = 1 }} }}
customers = {{ "{key}" = {{ grade = 5 }} }}
rules = {{ overdue = {{ enabled = false }} }}
"""
STEP = """
[[payment_behaviour]]
average_days_late = {days}
min_items = 1
adjust = 3
"""


def run_json(config, *args) -> dict:
    result = cli(config, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("payment-behaviour")
    policy = tmp / "policy.toml"
    policy.write_text('version = 1\nname = "Sync"\nbase_currency = "USD"\n')
    config = tmp / "config.toml"
    with OdooSandbox(version="17", data="demo") as sb:
        config.write_text(CONFIG.format(db=tmp / "cg.db", policy=policy, url=sb.url, tz="UTC"))
        result = cli(config, "sync", "--once", "--json")
        assert result.returncode == 0, result.stderr
    groups = run_json(config, "exposure", "--json")["groups"]
    late = max((g for g in groups if g["figures"]["payments"]["average_days_late"] is not None),
               key=lambda g: D(g["figures"]["payments"]["average_days_late"]))
    return config, policy, groups, late


def test_snapshot_keeps_the_payment_figures_of_every_group(synced):
    config, _policy, groups, _late = synced
    taken = run_json(config, "snapshot", "--json")
    from connector.config import load_config
    from connector.store import Store

    store = Store.open(load_config(config).store.url_with_password())
    try:
        own = {r.credit_group_id: r for r in store.snapshot_rows(date.fromisoformat(taken["day"]), "odoo")
               if r.company_id == ""}
    finally:
        store.close()
    for g in groups:
        p, r = g["figures"]["payments"], own[g["credit_group"]]
        assert (r.payment_months, r.paid_items, D(r.paid_minor) / 100) == (p["months"], p["items"], D(p["paid"]))
        assert (None if r.days_late_tenths is None else str(D(r.days_late_tenths).scaleb(-1))) == p["average_days_late"]
        assert (None if r.share_late_bp is None else D(r.share_late_bp) / 10_000) == (
            None if p["share_paid_late"] is None else D(p["share_paid_late"]))


def test_a_late_payer_is_graded_worse_in_explain_exposure_and_check(synced):
    config, policy, _groups, late = synced
    payments = late["figures"]["payments"]
    # the step's threshold is the group's own average: "at or above" matches
    policy.write_text(POLICY.format(key=late["customer"]) + STEP.format(days=payments["average_days_late"]))
    taken = run_json(config, "snapshot", "--json", "--as-of", "2026-01-01")  # an earlier day first
    assert taken["groups"] > 0
    explained = cli(config, "policy", "explain", late["customer"])
    assert explained.returncode == 0, explained.stderr
    today = run_json(config, "snapshot", "--json")["day"]
    explained = cli(config, "policy", "explain", late["customer"])
    assert explained.returncode == 0, explained.stderr
    text = " ".join(explained.stdout.split())
    days = payments["average_days_late"]
    assert f"Payment behaviour (daily snapshot of {today}): paid {days} days late on average" in text
    assert f"→ payment_behaviour.0: {days} days late or more on average, 1 instalment or more: grade +3" in text
    assert f"Grade: 8 (grade 5 from policy customer file, 3 worse by payment behaviour: paid {days} days" in text
    assert "By month of settlement (today's figures):" in text

    [row] = run_json(config, "exposure", late["customer"], "--json")["groups"]
    assert row["grade"] == 8 and row["limit"]["amount"] == "1.00"
    assert row["grade_source"].endswith(f"over the 12 months to {today} [payment_behaviour.0]")

    # a live check (the facts as the ERP sends them): the adjusted grade's limit, and the reason says why
    decision = run_json(config, "check", "NEW/1", "--order-id", "999001", "--amount", "100", "--currency", "USD",
                        "--customer-id", late["credit_group"], "--customer-name", late["name"], "--no-log", "--json")
    assert decision["grade"] == 8 and decision["grade_source"] == row["grade_source"]
    assert decision["decision"] == "hold" and [r["code"] for r in decision["reasons"]] == ["over_limit"]
    assert decision["limit"]["detail"] == f"policy limit for grade 8 ({row['grade_source']})"


def test_without_the_table_nothing_moves(synced):
    config, policy, _groups, late = synced
    policy.write_text(POLICY.format(key=late["customer"]))
    run_json(config, "snapshot", "--json")
    [row] = run_json(config, "exposure", late["customer"], "--json")["groups"]
    assert (row["grade"], row["grade_source"]) == (5, "policy customer file")
    explained = cli(config, "policy", "explain", late["customer"])
    text = " ".join(explained.stdout.split())
    assert "Payment behaviour (daily snapshot of" in text and "payment_behaviour.0" not in text
