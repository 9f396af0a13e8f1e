"""`creditguard snapshot` and the payment figures of `creditguard exposure --json`, as real processes on a store
filled by a sync of the Odoo sandbox (two companies, USD and EUR, four document currencies, credit notes,
receivable items): the snapshot holds the figures of `creditguard exposure` and `creditguard ageing --by group`,
a day taken again is replaced, and DSO counts back over the store's own invoices."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from adapters.odoo.sandbox import OdooSandbox

from .test_ageing_cli import CONFIG, POLICY, cli

D = Decimal


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("snapshots")
    policy = tmp / "policy.toml"
    policy.write_text(POLICY)
    config = tmp / "config.toml"
    with OdooSandbox(version="17", data="demo") as sb:
        config.write_text(CONFIG.format(db=tmp / "cg.db", policy=policy, url=sb.url, tz="Europe/Paris")
                          + "\n[snapshots]\nkeep_days = 30\n\n[figures]\ndso_months = 3\n")
        result = cli(config, "sync", "--once", "--json")
        assert result.returncode == 0, result.stderr
    return config


def run_json(config, *args) -> dict:
    result = cli(config, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def open_store(config):
    from connector.config import load_config
    from connector.store import Store

    return Store.open(load_config(config).store.url_with_password())


def test_snapshot_holds_the_figures_of_exposure_and_ageing(synced):
    taken = run_json(synced, "snapshot", "--json")
    day = date.fromisoformat(taken["day"])
    exposure = {g["credit_group"]: g for g in run_json(synced, "exposure", "--json")["groups"]}
    ageing = run_json(synced, "ageing", "--json", "--by", "group")
    assert ageing["as_of"] == taken["day"] == run_json(synced, "exposure", "--json")["as_of"]
    store = open_store(synced)
    try:
        rows = store.snapshot_rows(day, "odoo")
        again = run_json(synced, "snapshot", "--json")  # the same day again: replaced, not added to
        replaced = store.snapshot_rows(day, "odoo")
        assert [replace(r, taken_at=None) for r in replaced] == [replace(r, taken_at=None) for r in rows]
        assert again["rows"] == taken["rows"] == len(rows) and again["groups"] == taken["groups"]
    finally:
        store.close()
    own = {r.credit_group_id: r for r in rows if r.company_id == ""}
    assert set(exposure) <= set(own) and taken["groups"] == len(own)
    for group, g in exposure.items():
        r = own[group]
        assert (r.currency, r.base_currency) == ("USD", "USD")
        assert D(r.exposure_minor) / 100 == D(g["exposure"]["total"])
        assert D(r.overdue_minor) / 100 == D(g["overdue"]["amount"])
        assert r.limit_minor is None if g["limit"]["amount"] is None else D(r.limit_minor) / 100 == D(
            g["limit"]["amount"])
    # per company: the group's ageing line in the company's currency
    for section in ageing["companies"]:
        for line in section["lines"]:
            [r] = [r for r in rows if (r.credit_group_id, r.company_id) == (line["key"], section["company"])]
            assert r.currency == section["currency"]
            assert D(r.receivable_minor) / 100 == D(line["total"]) and D(r.past_due_minor) / 100 == D(
                line["past_due"])
            assert json.loads(r.ageing)["columns"] == line["buckets"]
    # consolidated: the group's own row (each item converted on its own, as the ageing report does)
    for line in ageing["consolidated"]["lines"]:
        r = own[line["key"]]
        assert D(r.receivable_base_minor) / 100 == D(line["total"]) and D(r.past_due_base_minor) / 100 == D(
            line["past_due"])
    company_rows = [r for r in rows if r.company_id]
    assert {r.company_id for r in company_rows} == {"1", "2"}
    assert sum(r.receivable_base_minor for r in company_rows) == sum(r.receivable_base_minor for r in own.values())


def test_snapshot_as_of_and_retention(synced):
    first = run_json(synced, "snapshot", "--json", "--as-of", "2026-01-10")
    assert first["day"] == "2026-01-10" and first["keep_days"] == 30
    later = run_json(synced, "snapshot", "--json", "--as-of", "2026-02-20")
    assert later["pruned"] == first["rows"]  # more than keep_days (30) before: removed
    store = open_store(synced)
    try:
        assert date(2026, 1, 10) not in store.snapshot_days("odoo")
        assert date(2026, 2, 20) in store.snapshot_days("odoo")
    finally:
        store.close()
    bad = cli(synced, "snapshot", "--source", "nope")
    assert bad.returncode == 2 and "unknown source 'nope'" in bad.stderr


def test_exposure_json_gives_dso_and_overdue_ratio(synced):
    from connector.domain import InvoiceState
    from connector.figures import countback, month_windows

    doc = run_json(synced, "exposure", "--json")
    as_of = date.fromisoformat(doc["as_of"])
    ageing = run_json(synced, "ageing", "--json", "--by", "group")
    windows = month_windows(as_of, 3)
    store = open_store(synced)
    try:
        sales: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [D(0)] * 3)
        for invoice in store.iter_invoices("odoo"):
            day = invoice.invoice_date
            if invoice.state is InvoiceState.POSTED and day and windows[-1][0] <= day <= as_of:
                month = next(k for k, (a, b) in enumerate(windows) if a <= day <= b)
                sales[(invoice.credit_group_id, invoice.company_id)][month] += (
                    invoice.sign * invoice.amount_total_company)
    finally:
        store.close()
    lines = {(line["key"], s["company"]): line for s in ageing["companies"] for line in s["lines"]}
    consolidated = {line["key"]: line for line in ageing["consolidated"]["lines"]}
    days = [(b - a).days + 1 for a, b in windows]
    counted = capped = 0
    for g in doc["groups"]:
        figures = g["figures"]
        assert figures["currency"] == "USD" and figures["dso"]["months"] == 3
        assert figures["dso"]["window_days"] == sum(days)
        assert D(0) <= D(figures["dso"]["days"]) <= sum(days)
        line = consolidated.get(g["credit_group"])
        assert D(figures["receivable"]) == (D(line["total"]) if line else 0)
        for company in figures["companies"]:
            key = (g["credit_group"], company["company"])
            line = lines.get(key)
            receivable = D(line["total"]) if line else D(0)
            assert D(company["receivable"]) == receivable
            assert [D(s) for s in company["sales"]] == sales[key]
            assert D(company["dso"]["days"]) == countback(receivable, list(zip(days, sales[key]))).days
            gross = receivable - D(line["credits"]) if line else D(0)
            expected = None if gross <= 0 else (D(line["past_due"]) / gross).quantize(D("0.0001"))
            assert company["overdue_ratio"] == (None if expected is None else str(expected))
            counted += receivable > 0
            capped += company["dso"]["capped"]
    assert counted >= 5 and capped < counted  # the demo data has groups owing money, most within the window
    # days late and share paid late, from the demo's payments reconciled with their instalments
    payments = [g["figures"]["payments"] for g in doc["groups"]]
    late = [p for p in payments if p["average_days_late"] is not None]
    assert late and all(p["months"] == 12 and p["items"] > 0 for p in late)
    assert all(D(0) <= D(p["share_paid_late"]) <= 1 for p in late)
    assert any(D(p["average_days_late"]) > 0 for p in late) and any(p["by_month"] for p in late)
    assert all(p["items"] == 0 and p["share_paid_late"] is None for p in payments if p not in late)


def test_one_group_alone_has_the_same_figures(synced):
    every = {g["customer"]: g for g in run_json(synced, "exposure", "--json")["groups"]}
    customer = max(every, key=lambda c: D(every[c]["figures"]["receivable"]))
    [one] = run_json(synced, "exposure", customer, "--json")["groups"]
    assert one["figures"] == every[customer]["figures"]
