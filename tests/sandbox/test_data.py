"""Invariants of the demo and large data sets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import xmlrpc.client
from datetime import date, timedelta

import pytest

from adapters.odoo.sandbox import OdooSandbox

from .conftest import ROOT, START, Client

BUCKETS = {"not due": (-10_000, 0), "1-30": (1, 30), "31-60": (31, 60), "61-90": (61, 90), "90+": (91, 10_000)}


def open_items(client: Client) -> list[dict]:
    return client.execute("account.move", "search_read",
                          [("state", "=", "posted"), ("move_type", "in", ["out_invoice", "out_refund"])],
                          ["move_type", "payment_state", "amount_total", "amount_residual", "amount_total_signed",
                           "amount_residual_signed", "invoice_date_due", "currency_id", "company_id",
                           "partner_id", "commercial_partner_id", "name", "reversed_entry_id"])


def test_companies_currencies_users(c17: Client) -> None:
    companies = c17.execute("res.company", "search_read", [], ["name", "currency_id"], order="id")
    assert companies == [{"id": 1, "name": "YourCompany", "currency_id": [1, "USD"]},
                         {"id": 2, "name": "My EU Company", "currency_id": [2, "EUR"]}]
    currencies = c17.execute("res.currency", "search_read", [], ["name", "decimal_places", "rounding"], order="id")
    assert [(c["name"], c["decimal_places"]) for c in currencies] == [("USD", 2), ("EUR", 2), ("GBP", 2), ("JPY", 0)]
    assert currencies[3]["rounding"] == 1.0
    for company in (1, 2):
        for currency in {1, 2, 3, 4} - {company}:
            rates = c17.execute("res.currency.rate", "search_read",
                                [("company_id", "=", company), ("currency_id", "=", currency)], ["name", "rate"])
            assert len(rates) >= 3 and all(r["rate"] > 0 for r in rates)
    rate = c17.execute("res.currency", "read", [2], ["rate"], context={"allowed_company_ids": [1]})[0]["rate"]
    assert 0.8 < rate < 1.1
    users = c17.execute("res.users", "search_read", [], ["login", "name"], order="id")
    assert [(u["id"], u["login"]) for u in users] == [(2, "admin"), (7, "portal")]


def test_customers(c17: Client) -> None:
    companies = c17.execute("res.partner", "search_read", [("is_company", "=", True), ("customer_rank", ">", 0)],
                            ["name", "ref", "country_code", "vat", "credit_limit", "company_id", "child_ids"])
    assert len(companies) >= 50
    assert all(c["ref"] and c["ref"].startswith("C") and len(c["ref"]) == 6 for c in companies)
    assert all(c["country_code"] for c in companies)
    assert sum(1 for c in companies if c["vat"]) >= 20
    assert sum(1 for c in companies if c["credit_limit"] > 0) >= 10
    assert all(1 <= len(c["child_ids"]) <= 3 for c in companies)
    assert {c["company_id"][0] for c in companies if c["company_id"]} == {1, 2}
    assert sum(1 for c in companies if not c["company_id"]) > len(companies) / 2
    contacts = c17.execute("res.partner", "search_read", [("parent_id", "!=", False)], ["type"])
    assert {c["type"] for c in contacts} == {"contact", "invoice"}
    individuals = c17.execute("res.partner", "search_count",
                              [("is_company", "=", False), ("parent_id", "=", False), ("customer_rank", ">", 0)])
    assert individuals >= 3
    assert c17.execute("res.partner", "search_count", [("active", "=", False), ("customer_rank", ">", 0),
                                                       ("is_company", "=", True)]) >= 2


def test_invoices(c17: Client) -> None:
    items = open_items(c17)
    invoices = [m for m in items if m["move_type"] == "out_invoice"]
    refunds = [m for m in items if m["move_type"] == "out_refund"]
    assert len(invoices) >= 300 and len(refunds) >= 20
    assert {m["currency_id"][1] for m in items} >= {"USD", "EUR", "GBP", "JPY"}
    today = START.date()
    for label, (low, high) in BUCKETS.items():
        in_bucket = [m for m in invoices if m["amount_residual"] > 0
                     and low <= (today - date.fromisoformat(m["invoice_date_due"])).days <= high]
        assert {m["currency_id"][1] for m in in_bucket} >= {"USD", "EUR", "GBP"}, label
    states = {m["payment_state"] for m in invoices}
    assert states >= {"not_paid", "partial", "paid", "reversed"}
    for m in items:
        total, residual = m["amount_total"], m["amount_residual"]
        assert total > 0
        if m["payment_state"] == "not_paid":
            assert residual == total
        elif m["payment_state"] == "partial":
            assert 0 < residual < total
        else:
            assert residual == 0
        sign = -1 if m["move_type"] == "out_refund" else 1
        assert m["amount_total_signed"] * sign > 0 and m["amount_residual_signed"] * sign >= 0
        if m["currency_id"][0] == m["company_id"][0]:  # company currency: signed == unsigned
            assert abs(m["amount_total_signed"]) == total
    reversed_ = [m for m in invoices if m["payment_state"] == "reversed"]
    reversals = {m["reversed_entry_id"][0] for m in refunds if m["reversed_entry_id"]}
    assert {m["id"] for m in reversed_} == reversals
    assert any(m["partner_id"] != m["commercial_partner_id"] for m in invoices)
    names = {(m["company_id"][0], m["name"]) for m in items}
    assert len(names) == len(items) and all(n.startswith(("INV/", "RINV/")) for _c, n in names)
    assert c17.execute("account.move", "search_count", [("state", "=", "draft")]) >= 5
    assert c17.execute("account.move", "search_count", [("state", "=", "cancel")]) >= 3


def test_orders(c17: Client, c19: Client) -> None:
    orders = c17.execute("sale.order", "search_read", [], ["name", "state", "locked", "amount_total",
                                                           "amount_invoiced", "amount_to_invoice", "date_order"])
    assert len(orders) >= 150
    assert {o["state"] for o in orders} == {"draft", "sent", "sale", "cancel"}
    confirmed = [o for o in orders if o["state"] == "sale"]
    assert any(o["locked"] for o in confirmed) and not all(o["locked"] for o in confirmed)
    assert any(0 < o["amount_invoiced"] < o["amount_total"] for o in confirmed)
    assert any(o["amount_invoiced"] == o["amount_total"] and o["amount_to_invoice"] == 0 for o in confirmed)
    assert any(o["amount_invoiced"] == 0 for o in confirmed)
    assert sorted(o["name"] for o in orders)[0] == "S00001"
    drafts19 = c19.execute("sale.order", "search_read", [("state", "=", "draft")], ["amount_to_invoice"])
    drafts17 = c17.execute("sale.order", "search_read", [("state", "=", "draft")], ["amount_to_invoice",
                                                                                    "amount_total"])
    assert all(d["amount_to_invoice"] == d["amount_total"] for d in drafts17)
    assert any(d["amount_to_invoice"] == 0.0 for d in drafts19)


def test_demo_is_deterministic() -> None:
    clock = lambda: START  # noqa: E731
    first, second = OdooSandbox(data="demo", clock=clock), OdooSandbox(data="demo", clock=clock)
    fields = ["name", "amount_total", "amount_residual", "partner_id", "write_date"]
    assert first.search_read("account.move", [], fields, order="id") == \
        second.search_read("account.move", [], fields, order="id")


def test_write_dates_are_in_the_past(c17: Client) -> None:
    stamp = START.strftime("%Y-%m-%d %H:%M:%S")
    for model in ("res.partner", "account.move", "sale.order"):
        assert c17.execute(model, "search_count", [("write_date", ">=", stamp)],
                           context={"active_test": False}) == 0
        assert c17.execute(model, "search_count", [("write_date", "<", (START - timedelta(days=11)).strftime(
            "%Y-%m-%d %H:%M:%S"))], context={"active_test": False}) < 10


def test_large() -> None:
    with OdooSandbox(version="19", data="large:20000") as sb:
        proxy = xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/object")
        assert proxy.execute_kw("demo", 2, "admin", "account.move", "search_count", [[]]) == 20000
        customers = proxy.execute_kw("demo", 2, "admin", "res.partner", "search_count",
                                     [[("customer_rank", ">", 0)]], {"context": {"active_test": False}})
        assert customers == 400
        assert sb.search_count("sale.order") == 4000
        assert sb.search_count("account.move", [("payment_state", "=", "partial")]) > 0


def test_cli_serves_until_sigterm() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from adapters.odoo.sandbox import main; "
                               "sys.exit(main(['--port', '0', '--version', '19']))"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("Odoo 19.0 sandbox serving database 'demo' on http://127.0.0.1:")
        assert line.endswith("(login admin/admin)")
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        assert xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").version()["server_version"] == "19.0"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("bad", [{"version": "16"}, {"data": "huge"}, {"data": "large:x"}])
def test_bad_arguments(bad: dict) -> None:
    with pytest.raises(ValueError):
        OdooSandbox(**bad)
