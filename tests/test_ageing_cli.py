"""`creditguard ageing` as a real process on a store filled by a sync of the Odoo sandbox (two companies, USD
and EUR, invoices in four currencies over every bucket, credit notes, and the receivable items when the sync
stores them): the report ties to the store's open receivables and to exposure, and the table, JSON, CSV and
Excel outputs give the same figures."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.odoo.sandbox import OdooSandbox

from .support.cli import odoo_cli

D = Decimal
POLICY = 'version = 1\nname = "Ageing test"\nbase_currency = "USD"\n'
CONFIG = """\
[store]
url = "sqlite:///{db}"

[sync]
timezone = "{tz}"

[policy]
path = "{policy}"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CREDITGUARD_ODOO_PASSWORD"
protocol = "jsonrpc"
"""
KEYS = ["not_due", "1_30", "31_60", "61_90", "91_120", "over_120"]


def cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    return odoo_cli(config, *args, columns=220)


def ageing(config: Path, *args: str) -> dict:
    result = cli(config, "ageing", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def open_receivables(config: Path) -> list[dict]:
    """The store's open receivables, read with the store's own queries, signed (credits negative): its receivable
    items when the source syncs them (instalments, open credit notes, unapplied payments), else its open posted
    invoices and credit notes."""
    from connector.config import load_config
    from connector.store import Store

    store = Store.open(load_config(config).store.url_with_password())
    try:
        if getattr(store, "has_receivables", None) and store.has_receivables("odoo"):
            return [{"credit": str(i.kind) != "instalment", "company_id": i.company_id, "currency": i.currency,
                     "credit_group_id": i.credit_group_id, "amount_open": i.amount_open,
                     "amount_open_company": i.amount_open_company, "due": i.due_date or i.document_date}
                    for i in store.iter_receivables("odoo", open_only=True)]
        return [{"credit": i.sign < 0, "company_id": i.company_id, "currency": i.currency,
                 "credit_group_id": i.credit_group_id, "amount_open": i.sign * i.amount_open,
                 "amount_open_company": i.sign * i.amount_open_company, "due": i.due_date or i.invoice_date}
                for i in store.iter_invoices("odoo", open_only=True)]
    finally:
        store.close()


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """A configuration whose store holds a sync of the Odoo sandbox, and the open receivables it holds."""
    tmp = tmp_path_factory.mktemp("ageing")
    policy = tmp / "policy.toml"
    policy.write_text(POLICY)
    config = tmp / "config.toml"
    with OdooSandbox(version="17", data="demo") as sb:
        config.write_text(CONFIG.format(db=tmp / "cg.db", policy=policy, url=sb.url, tz="UTC"))
        result = cli(config, "sync", "--once", "--json")
        assert result.returncode == 0, result.stderr
    receivables = open_receivables(config)
    assert {i["company_id"] for i in receivables} == {"1", "2"} and {i["credit"] for i in receivables} == {
        True, False}
    return config, receivables


def column(item: dict, as_of: date) -> str:
    """The column of an open item, written out: credits in their own."""
    if item["credit"]:
        return "credits"
    days = (as_of - item["due"]).days if item["due"] else 0
    for key, last in zip(KEYS, [0, 30, 60, 90, 120]):
        if days <= last:
            return key
    return "over_120"


def expected_per_company(items: list[dict], as_of: date) -> dict[str, dict[str, Decimal]]:
    result: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for item in items:
        result[item["company_id"]][column(item, as_of)] += item["amount_open_company"]
    return result


def figures(line: dict) -> dict[str, Decimal]:
    return {**{k: D(v) for k, v in line["buckets"].items()}, "credits": D(line["credits"])}


def test_each_company_ties_to_its_open_receivables_in_the_store(synced):
    config, receivables = synced
    doc = ageing(config)
    as_of = date.fromisoformat(doc["as_of"])
    assert doc["by"] == "company" and doc["base_currency"] == "USD" and doc["buckets"] == [0, 30, 60, 90, 120]
    assert [c["key"] for c in doc["columns"]] == KEYS
    expected = expected_per_company(receivables, as_of)
    assert {c["company"]: c["currency"] for c in doc["companies"]} == {"1": "USD", "2": "EUR"}
    for company in doc["companies"]:
        total = company["total"]
        open_receivable = sum(i["amount_open_company"] for i in receivables if i["company_id"] == company["company"])
        assert D(total["total"]) == open_receivable  # to the cent, in the company's currency
        assert {k: v for k, v in figures(total).items() if v} == {k: v for k, v in expected[company["company"]].items()
                                                                  if v}
        assert total["items"] == sum(i["company_id"] == company["company"] for i in receivables)
        assert sum(figures(total).values()) == D(total["total"])
        assert D(total["past_due"]) == sum(v for k, v in figures(total).items() if k not in ("not_due", "credits"))
        [line] = company["lines"]
        assert line["name"] == company["name"] and figures(line) == figures(total)
    consolidated = doc["consolidated"]
    assert consolidated["currency"] == "USD" and len(consolidated["lines"]) == 2
    for key in [*KEYS, "total"]:
        pick = (lambda line: D(line["buckets"][key])) if key in KEYS else (lambda line: D(line["total"]))
        assert pick(consolidated["total"]) == sum(pick(line) for line in consolidated["lines"])
    usd = next(line for line in consolidated["lines"] if line["key"] == "1")
    assert figures(usd) == figures(next(c for c in doc["companies"] if c["company"] == "1")["total"])


def test_by_currency_and_by_group_tie_to_the_documents(synced):
    config, receivables = synced
    by_currency = ageing(config, "--by", "currency")
    for company in by_currency["companies"]:
        for line in company["lines"]:
            assert line["currency"] == line["key"]
            assert D(line["total"]) == sum(i["amount_open"] for i in receivables
                                           if (i["company_id"], i["currency"]) == (company["company"], line["key"]))
    assert {line["key"] for line in by_currency["consolidated"]["lines"]} == {i["currency"] for i in receivables}
    by_company = ageing(config)
    assert by_currency["consolidated"]["total"] == by_company["consolidated"]["total"]

    by_group = ageing(config, "--by", "group")
    for company in by_group["companies"]:
        assert company["total"] == next(c for c in by_company["companies"] if c["company"] == company["company"])["total"]
        for line in company["lines"]:
            assert D(line["total"]) == sum(i["amount_open_company"] for i in receivables if (
                i["company_id"], i["credit_group_id"]) == (company["company"], line["key"]))
            assert line["customer"] and line["name"]
    names = [line["name"].casefold() for line in by_group["companies"][0]["lines"]]
    assert names == sorted(names)


def test_filters_by_company_and_customer(synced):
    config, receivables = synced
    customers = json.loads(cli(config, "customers", "--json").stdout)["customers"]
    heads = {c["erp_id"]: c for c in customers}
    group = max({i["credit_group_id"] for i in receivables if heads[i["credit_group_id"]]["ref"]},
                key=lambda g: sum(i["credit_group_id"] == g for i in receivables))
    ref = heads[group]["ref"]
    doc = ageing(config, "--customer", ref, "--by", "group")
    mine = [i for i in receivables if i["credit_group_id"] == group]
    assert {c["company"] for c in doc["companies"]} == {i["company_id"] for i in mine}
    assert all([line["key"] for line in c["lines"]] == [group] for c in doc["companies"])
    assert doc["consolidated"]["total"]["items"] == len(mine)

    eu = ageing(config, "--company", "My EU Company")
    assert [c["company"] for c in eu["companies"]] == ["2"] and eu["companies"] == ageing(
        config, "--company", "2", "--source", "odoo")["companies"]
    both = ageing(config, "--company", "2", "--customer", ref)
    assert both["consolidated"]["total"]["items"] == sum(i["company_id"] == "2" for i in mine)


def test_an_earlier_as_of_moves_items_between_buckets_as_expected(synced):
    config, receivables = synced
    today = date.fromisoformat(ageing(config)["as_of"])
    for earlier in (today - timedelta(days=30), today - timedelta(days=61), date(2020, 1, 1)):
        doc = ageing(config, "--as-of", earlier.isoformat())
        assert doc["as_of"] == earlier.isoformat()
        expected = expected_per_company(receivables, earlier)
        for company in doc["companies"]:
            assert {k: v for k, v in figures(company["total"]).items() if v} == {
                k: v for k, v in expected[company["company"]].items() if v}
    ancient = ageing(config, "--as-of", "2020-01-01")
    for company in ancient["companies"]:  # before anything was due: all not due but the credits
        assert all(D(v) == 0 for k, v in company["total"]["buckets"].items() if k != "not_due")
    now = ageing(config)
    later = ageing(config, "--as-of", (today - timedelta(days=30)).isoformat())
    for a, b in zip(now["companies"], later["companies"]):
        assert a["total"]["total"] == b["total"]["total"]  # the same open items, aged differently
        assert D(b["total"]["past_due"]) < D(a["total"]["past_due"])


def test_csv_parses_and_matches_the_json(synced):
    config, _ = synced
    doc = ageing(config, "--by", "currency")
    result = cli(config, "ageing", "--csv", "--by", "currency")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["section", "source", "company", "row", "key", "name", "customer", "currency", *KEYS,
                             "past_due", "credits", "total", "items"]
    totals = {r["company"]: r for r in rows if r["section"] == "company" and r["row"] == "total"}
    for company in doc["companies"]:
        row = totals[company["company"]]
        assert row["currency"] == company["currency"] and row["total"] == company["total"]["total"]
        assert [row[k] for k in KEYS] == [company["total"]["buckets"][k] for k in KEYS]
        lines = [r for r in rows if r["section"] == "company" and r["company"] == company["company"]
                 and r["row"] == "line"]
        assert [(r["key"], r["total"]) for r in lines] == [(line["key"], line["total"]) for line in company["lines"]]
    [grand] = [r for r in rows if r["section"] == "consolidated" and r["row"] == "total"]
    assert grand["total"] == doc["consolidated"]["total"]["total"] and grand["currency"] == "USD"
    assert int(grand["items"]) == doc["consolidated"]["total"]["items"]


def test_xlsx_opens_with_openpyxl_and_its_totals_match_the_json(synced, tmp_path):
    from openpyxl import load_workbook

    config, _ = synced
    for by in ("company", "currency", "group"):
        doc = ageing(config, "--by", by)
        path = tmp_path / f"ageing-{by}.xlsx"
        result = cli(config, "ageing", "--by", by, "--xlsx", str(path))
        assert result.returncode == 0, result.stderr
        assert str(path) in result.stdout
        workbook = load_workbook(path)
        assert workbook.sheetnames == [c["name"] for c in doc["companies"]] + ["Consolidated"]
        for sheet, section in zip(workbook.worksheets, [*doc["companies"], doc["consolidated"]]):
            assert sheet.freeze_panes == "B3"
            header = [c.value for c in sheet[2]]
            assert all(c.font.b for c in sheet[2])
            names = header[header.index("Not due"):header.index("Over 120") + 1]
            assert names == [c["label"] for c in doc["columns"]]
            last = sheet[sheet.max_row]
            values = dict(zip(header, (c.value for c in last)))
            assert values[header[0]] == "Total" and all(c.font.b for c in last)
            currency = section["currency"]
            places = 0 if currency == "JPY" else 2
            quantum = D(1).scaleb(-places)
            for label, key in zip(names, KEYS):
                assert D(str(values[label])).quantize(quantum) == D(section["total"]["buckets"][key])
            assert D(str(values["Total"])).quantize(quantum) == D(section["total"]["total"])
            assert D(str(values["Credits"])).quantize(quantum) == D(section["total"]["credits"])
            assert values["Items"] == section["total"]["items"]
            assert last[header.index("Total")].number_format.startswith("#,##0.00")
            assert sheet.max_row == 2 + len(section["lines"]) + 1
            if by == "currency":  # a JPY line has no decimals, whatever the sheet's currency
                for row in sheet.iter_rows(min_row=3, max_row=sheet.max_row - 1):
                    if row[0].value == "JPY" and sheet.title != "Consolidated":
                        assert row[header.index("Total")].number_format.startswith("#,##0;")


def test_the_table_shows_every_company_and_the_consolidated_total(synced):
    config, _ = synced
    doc = ageing(config, "--by", "group")
    result = cli(config, "ageing", "--by", "group")
    assert result.returncode == 0, result.stderr
    for company in doc["companies"]:
        assert f"Ageing of {company['name']} ({company['currency']}" in result.stdout
    assert "Consolidated ageing (USD" in result.stdout
    total = D(doc["consolidated"]["total"]["total"])
    assert f"{total:,}" in result.stdout
    plain = cli(config, "ageing")
    assert "Ageing per company" in plain.stdout and "Over 120" in plain.stdout


@pytest.mark.parametrize("args, message", [
    (["--as-of", "2026-13-01"], "'2026-13-01' does not match the format"),
    (["--by", "customer"], "'customer' is not one of 'company', 'currency', 'group'"),
    (["--company", "Nowhere Ltd"], "unknown company 'Nowhere Ltd': give its ERP id or its name (companies in the "
                                   "store: 1 'YourCompany' (odoo, USD); 2 'My EU Company' (odoo, EUR))"),
    (["--customer", "C99999"], "no customer 'C99999' in the store"),
    (["--json", "--csv"], "choose one output: --json, --csv or --xlsx FILE"),
    (["--source", "sap"], "unknown source 'sap'; configured sources: 'odoo'"),
    (["--xlsx", "/nonexistent/dir/ageing.xlsx"], "cannot write '/nonexistent/dir/ageing.xlsx'"),
])
def test_bad_arguments_exit_2_with_a_clear_message(synced, args, message):
    config, _ = synced
    result = cli(config, "ageing", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr


def test_custom_buckets_and_the_company_time_zone(synced, tmp_path):
    config, receivables = synced
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY + "\n[ageing]\nbuckets = [0, 15, 45]\n")
    text = config.read_text()
    for tz in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):  # UTC+14 and UTC-11: never the same calendar day
        local = tmp_path / f"config-{tz.split('/')[1]}.toml"
        local.write_text(text.replace('timezone = "UTC"', f'timezone = "{tz}"').replace(
            str(config.with_name("policy.toml")), str(policy)))
        before = datetime.now(ZoneInfo(tz)).date()
        doc = ageing(local)
        after = datetime.now(ZoneInfo(tz)).date()
        assert doc["as_of"] in (before.isoformat(), after.isoformat())
        assert [c["key"] for c in doc["columns"]] == ["not_due", "1_15", "16_45", "over_45"]
        assert D(doc["consolidated"]["total"]["total"]) == D(ageing(config)["consolidated"]["total"]["total"])

    bad = tmp_path / "bad.toml"
    bad.write_text(POLICY + "\n[ageing]\nbuckets = [0, 45, 30]\n")
    local = tmp_path / "config-bad.toml"
    local.write_text(text.replace(str(config.with_name("policy.toml")), str(bad)))
    result = cli(local, "ageing")
    assert result.returncode == 2
    assert f"{bad}:6:19: ageing.buckets.2: buckets must be strictly increasing: 30 is not above 45" in result.stderr


def test_a_group_s_consolidated_line_is_its_exposure_from_open_documents(synced):
    config, _ = synced
    result = cli(config, "exposure", "--json")
    assert result.returncode == 0, result.stderr
    exposure = {g["credit_group"]: g["exposure"]["components"] for g in json.loads(result.stdout)["groups"]}
    lines = ageing(config, "--by", "group")["consolidated"]["lines"]
    assert lines
    for line in lines:
        components = exposure[line["key"]]
        documents = D(components["open_invoices"]) + D(components["credit_notes"])
        # the same documents, in the base currency at the same rates; exposure converts sums, ageing each document
        assert abs(documents - D(line["total"])) <= D("0.01") * line["items"], line["name"]
