"""`creditguard claim` as a real process on a store synced from the Odoo sandbox: the claim file's totals tie to
the store, each invoice carries the insurer limit in force on its date, the history is the case's."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.odoo.sandbox import OdooSandbox

from .test_dunning_cli import CONFIG, cli, ok

BUYER = "C00042"  # Tulip Logistics B.V. in the demo data: open invoices in EUR, USD and JPY
DECISIONS = """version = 1
name = "claims"
base_currency = "USD"

[[limits.insurer]]
customer = "C00042"
insurer = "Atradius"
amount = 50000
currency = "EUR"
decided = 2020-01-01
expires = 2026-08-31

[[limits.insurer]]
customer = "C00042"
insurer = "Atradius"
amount = 20000
currency = "EUR"
decided = 2026-09-01
status = "reduced"
{extra}
[insurers."Atradius"]
overdue_notification_days = 3650
max_extension_days = 3650
collection_days = 30
"""
def store_of(tmp_path: Path):
    from connector.store import Store

    return Store.open(f"sqlite:///{tmp_path / 'cg.db'}")


def paid_up_key(tmp_path: Path) -> str:
    """``odoo:ID`` of a credit group that owes nothing."""
    store = store_of(tmp_path)
    try:
        owing = {r.credit_group_id for r in store.iter_receivables("odoo", open_only=True)}
        return next(f"odoo:{c.erp_id}" for c in store.iter_customers("odoo") if c.credit_group_id == c.erp_id
                    and c.credit_group_id not in owing)
    finally:
        store.close()


def store_as_of(doc: dict):
    from datetime import date

    return date.fromisoformat(doc["as_of"])


@pytest.fixture
def setup(tmp_path):
    with OdooSandbox(version="17", data="demo") as sb:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(db=tmp_path / "cg.db", policy=tmp_path / "policy.toml", url=sb.url))
        (tmp_path / "policy.toml").write_text(DECISIONS.format(extra=""))
        ok(config, "sync", "--once")
        paid = paid_up_key(tmp_path)
        (tmp_path / "policy.toml").write_text(DECISIONS.format(extra=f"""
[[limits.insurer]]
customer = "{paid}"
insurer = "Atradius"
amount = 1000
decided = 2020-01-01
"""))
        yield config, paid, sb


def test_claim_totals_tie_to_the_store(setup, tmp_path):
    from connector.exposure import ExposureCalculator
    from policy.loader import load_policy

    config, *_ = setup
    out = tmp_path / "claim"
    result = ok(config, "claim", BUYER, "--out", str(out), "--json")
    assert sorted(result["files"]) == ["claim.html", "claim.json", "history.csv", "invoices.csv"]
    doc = json.loads((out / "claim.json").read_text())
    assert doc["buyer"]["ref"] == BUYER and doc["buyer"]["vat"] and doc["buyer"]["country"] == "NL"
    group = doc["buyer"]["credit_group"]
    store = store_of(tmp_path)
    try:
        items = [i for i in store.iter_receivables("odoo", open_only=True, customer=group)
                 if i.kind.value == "instalment"]
        policy = load_policy(tmp_path / "policy.toml")
        exposure, _ = ExposureCalculator(store, policy.exposure, "USD", store_as_of(doc)).compute(
            "odoo", [group])[group]
    finally:
        store.close()
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        expected[item.currency] += item.amount_open
    assert len(expected) >= 2  # several currencies: totals per currency and in the base currency
    assert {c: Decimal(v) for c, v in doc["totals"]["by_currency"].items()} == expected
    assert doc["totals"]["invoices"] == len(items) == len(doc["invoices"])
    # the base total is what exposure counts as open invoices, and the lines of invoices.csv add up to it
    assert Decimal(doc["totals"]["base"]) == exposure.components["open_invoices"]
    rows = list(csv.DictReader(io.StringIO((out / "invoices.csv").read_text())))
    assert sorted(r["number"] for r in rows) == sorted(i.document_number for i in items)
    assert sum(Decimal(r["amount_base"]) for r in rows) == Decimal(doc["totals"]["base"])
    for currency, total in expected.items():
        assert sum(Decimal(r["amount_open"]) for r in rows if r["currency"] == currency) == total
    html = (out / "claim.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "http" not in html.split("</style>")[0]
    for currency, total in doc["totals"]["by_currency"].items():
        assert f"<td>Total {currency}</td>" in html and f">{total}</td>" in html
    assert f">{doc['totals']['base']}</td>" in html and doc["buyer"]["vat"] in html


def test_limit_in_force_at_each_invoice_date(setup, tmp_path):
    config, *_ = setup
    ok(config, "claim", BUYER, "--out", str(tmp_path / "claim"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "claim" / "invoices.csv").read_text())))
    limits = {(r["limit_amount"], r["limit_status"], r["limit_decided"]) for r in rows}
    assert limits == {("50000.00", "approved", "2020-01-01"), ("20000.00", "reduced", "2026-09-01")}
    for r in rows:
        assert (r["limit_decided"] == "2026-09-01") == (r["invoice_date"] >= "2026-09-01")


def test_history_rows_are_the_case_events_and_the_state_is_kept(setup, tmp_path):
    config, *_ = setup
    ok(config, "case", BUYER, "contact", "--text", "called the buyer")
    ok(config, "case", BUYER, "promise", "--amount", "500", "--date", "2099-01-01")
    ok(config, "case", BUYER, "note", "insurer notified: overdue notice 4711")
    before = ok(config, "case", BUYER, "show", "--json")["cases"][0]
    ok(config, "claim", BUYER, "--out", str(tmp_path / "claim"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "claim" / "history.csv").read_text())))
    assert [(r["event"], r["state"], r["detail"]) for r in rows] == [
        (e["event"], e["state"], e["detail"]) for e in before["history"]]
    assert [r["overdue"] for r in rows] == [e["overdue"] for e in before["history"]]
    doc = json.loads((tmp_path / "claim" / "claim.json").read_text())
    assert doc["promises"] == [{"given_on": before["history"][2]["day"], "date": "2099-01-01", "amount": "500.00",
                                "outcome": "pending", "detail": before["history"][2]["detail"]}]
    deadlines = {d["kind"]: d for d in doc["deadlines"]}
    assert deadlines["notify_by"]["outcome"] == "met" and "overdue notice 4711" in deadlines["notify_by"]["evidence"]
    assert deadlines["cover_stops"]["outcome"] == "open" and deadlines["collection_by"]["outcome"] == "open"
    # the assembly is recorded in the case; its state is the person's to change
    after = ok(config, "case", BUYER, "show", "--json")["cases"][0]
    assert after["state"] == before["state"] == "promise_to_pay"
    assert [e["event"] for e in after["history"]][-1] == "claim_file"
    assert "promise_to_pay" in (tmp_path / "claim" / "claim.html").read_text()


def test_refusals_exit_2_and_name_the_group(setup, tmp_path):
    config, paid, _ = setup
    for group, why in (("NOBODY", "no customer"), ("C00013", "not insured"), (paid, "nothing unpaid")):
        out = tmp_path / group.replace(":", "_")
        result = cli(config, "claim", group, "--out", str(out))
        assert result.returncode == 2, (group, result.stderr)
        assert f"claim {group}:" in result.stderr and why in result.stderr
        assert "Traceback" not in result.stderr and not out.exists()


def test_an_existing_directory_is_kept_unless_forced(setup, tmp_path):
    config, *_ = setup
    out = tmp_path / "claim"
    out.mkdir()
    ok(config, "claim", BUYER, "--out", str(out))  # empty: fine
    first = (out / "claim.json").read_text()
    again = cli(config, "claim", BUYER, "--out", str(out))
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr
    assert (out / "claim.json").read_text() == first
    ok(config, "claim", BUYER, "--out", str(out), "--force")
    assert json.loads((out / "claim.json").read_text())["totals"] == json.loads(first)["totals"]
    (tmp_path / "a-file").write_text("x")
    as_file = cli(config, "claim", BUYER, "--out", str(tmp_path / "a-file"), "--force")
    assert as_file.returncode == 2 and "Traceback" not in as_file.stderr


def test_invoice_documents_the_erp_keeps(setup, tmp_path):
    config, _, sb = setup
    first = ok(config, "claim", BUYER, "--out", str(tmp_path / "plain"), "--json")
    doc = json.loads((tmp_path / "plain" / "claim.json").read_text())
    assert first["documents_note"] is None and all(i["document"] is None for i in doc["invoices"])
    printed, other = doc["invoices"][0], doc["invoices"][1]
    pdf = b"%PDF-1.4\n% the printed invoice\n%%EOF\n"
    sb.call("ir.attachment", "create", [{"name": f"{printed['number']}.pdf", "res_model": "account.move",
                                         "res_id": int(printed["document_id"]),
                                         "datas": base64.b64encode(pdf).decode()}])
    sb.call("ir.attachment", "create", [{"name": "notes.txt", "res_model": "account.move",  # not a PDF: left out
                                         "res_id": int(other["document_id"]),
                                         "datas": base64.b64encode(b"hello").decode()}])
    ok(config, "claim", BUYER, "--out", str(tmp_path / "docs"), "--documents")
    written = json.loads((tmp_path / "docs" / "claim.json").read_text())
    name = "documents/" + printed["number"].replace("/", "_") + ".pdf"
    assert (tmp_path / "docs" / name).read_bytes() == pdf
    assert [i["document"] for i in written["invoices"]] == [name] + [None] * (len(written["invoices"]) - 1)
    assert list((tmp_path / "docs" / "documents").iterdir()) == [tmp_path / "docs" / name]
    html = (tmp_path / "docs" / "claim.html").read_text()
    assert f'href="{name}"' in html and html.count("no document from the ERP") == len(written["invoices"]) - 1
    rows = list(csv.DictReader(io.StringIO((tmp_path / "docs" / "invoices.csv").read_text())))
    assert rows[0]["document"] == name and not rows[1]["document"]


CURRENCIES = st.sampled_from(["USD", "JPY", "KWD", "EUR"])
AMOUNTS = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=3, allow_nan=False)


@given(st.lists(st.tuples(CURRENCIES, AMOUNTS), max_size=30))
def test_totals_per_currency_keep_the_currency_precision(pairs):
    from connector.claim_render import amount
    from connector.claims import add_up
    from connector.money import currency_precision, quantize

    totals = add_up(pairs)
    assert list(totals) == sorted({c for c, _ in pairs})
    for currency, total in totals.items():
        assert total == quantize(sum((a for c, a in pairs if c == currency), Decimal(0)), currency)
        text = amount(total, currency)
        assert Decimal(text) == total and len(text.partition(".")[2]) == currency_precision(currency)
