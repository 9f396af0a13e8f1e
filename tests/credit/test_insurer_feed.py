"""The insurer limit feed through the command line (issue 15): ``creditguard insurer import`` of a portal
export in the documented shape (docs/insurer-feed.md) changes the limit ``check`` and ``exposure`` use;
ambiguous and unmatched buyers are reported and not applied; a bad file changes nothing; the history is
kept and shown by ``policy explain``; ``insurer request`` writes a cover request in the mapping's columns."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy.exc import IntegrityError

from connector.deadlines import list_deadlines
from connector.domain import Customer, Invoice, InvoiceKind, InvoiceState, OrderState, PaymentState, SalesOrder
from connector.ports import Stream
from connector.store import Store
from connector.store.insurer_decisions import ImportedDecision
from creditguard.cli import main

ROOT = Path(__file__).resolve().parents[2]
COFACE = ROOT / "policy" / "examples" / "insurers" / "coface.toml"
T = datetime(2026, 11, 1, tzinfo=UTC)
HEADER = ("Buyer name,Registration number,VAT number,Country,Decision,Decision date,Amount,Currency,Expiry date,"
          "Grade\n")
ACME_50K = "Acme GmbH,,DE 123 456 789,DE,approved,2026-01-15,50000,EUR,,4\n"

POLICY = """\
version = 1
name = "Feed"
base_currency = "EUR"

[limits.grades]
6 = 10000

[customers."C00001"]
grade = 6

[rules.over_limit]
tolerance_percent = 0

[insurers."Atradius"]
overdue_notification_days = 60
"""

CONFIG = """\
[store]
url = "{url}"

[policy]
path = "{policy}"

[[source]]
name = "odoo"
kind = "odoo"
url = "http://127.0.0.1:9"
database = "demo"
username = "admin"
password_env = "CREDITGUARD_ODOO_PASSWORD"
protocol = "jsonrpc"
"""


def cust(erp_id, ref, name, vat, country="DE", group=None):
    return Customer("odoo", erp_id, ref, name, group or erp_id, None, country, vat, True, None, None, None, True, T)


CUSTOMERS = [
    cust("10", "C00001", "Acme GmbH", "DE123456789"),
    cust("11", None, "Acme GmbH, Berlin site", "DE 123 456 789", group="10"),  # same group: not ambiguous
    cust("20", "C00002", "Beta BV", "NL8001.23.456.B01", "NL"),
    cust("30", "C00003", "Gamma SA", "BE0477472701", "BE"),
    cust("40", "C00004", "Gamma SA (duplicate)", "0477 472 701", "BE"),  # the same VAT in another group
    replace(cust("50", "C00005", "Delta SARL", None, "FR"), registry="552 100 554"),  # Odoo's Company ID only
]


@pytest.fixture
def env(tmp_path):
    """A store with customers and an order of 30,000 EUR for Acme (limit 10,000 by its grade), a
    policy and a configuration; returns (run, tmp_path, store_url)."""
    url = f"sqlite:///{tmp_path / 'cg.db'}"
    store = Store.open(url)
    store.save_page("odoo", Stream.CUSTOMERS, "res.partner", CUSTOMERS, [], None)
    store.save_page("odoo", Stream.ORDERS, "sale.order", [SalesOrder(
        "odoo", "900", "S00900", "10", OrderState.DRAFT, False, None, "EUR", Decimal(30000), Decimal(30000), "1",
        T)], [], None)
    store.close()
    (tmp_path / "policy.toml").write_text(POLICY)
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(url=url, policy=tmp_path / "policy.toml"))
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(main, ["--config", str(config), *args],
                               env={"CREDITGUARD_ODOO_PASSWORD": "x", "COLUMNS": "200"})
        assert result.exit_code == code, (result.output, result.stderr if hasattr(result, "stderr") else "")
        assert "Traceback" not in result.output
        return result

    return run, tmp_path, url


def stored(url):
    store = Store.open(url)
    try:
        return store.insurer_decisions()
    finally:
        store.close()


def check(run) -> dict:
    return json.loads(run("check", "S00900", "--json", "--no-log").stdout)


def limit_of(run, ref="C00001") -> dict:
    [group] = json.loads(run("exposure", ref, "--json").stdout)["groups"]
    return group["limit"]


def write_csv(tmp_path, *rows: str, name="export.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def test_a_csv_import_sets_the_limit_check_uses(env):
    run, tmp, url = env
    assert check(run)["decision"] == "hold" and limit_of(run)["source"] == "grade"
    export = write_csv(tmp, ACME_50K)
    result = json.loads(run("insurer", "import", str(export), "--insurer", "Atradius", "--json").stdout)
    assert (result["added"], result["not_applied"]) == (1, [])
    [applied] = result["applied"]
    assert applied | {"buyer_id": None} == {
        "line": 2, "buyer_name": "Acme GmbH", "buyer_id": None, "source": "odoo", "credit_group": "10",
        "customer": "C00001", "customer_name": "Acme GmbH", "decision": "approved", "code": "approved",
        "decided": "2026-01-15", "amount": "50000.00", "currency": "EUR", "expires": None, "grade": 4,
        "insurer_grade": "4"}
    assert limit_of(run) == {"amount": "50000.00", "source": "insurer",
                             "detail": "Atradius limit of 50,000.00 EUR decided 2026-01-15 plus discretionary "
                                       "0.00 EUR"}
    decision = check(run)
    assert decision["decision"] == "approve" and decision["limit"]["source"] == "insurer"


def test_an_xlsx_export_in_the_documented_shape(env):
    run, tmp, url = env
    book = Workbook()
    book.active.append(HEADER.strip().split(","))
    book.active.append(["Acme GmbH", None, "DE123456789", "DE", "approved", date(2026, 1, 15), 50000, "EUR", None,
                        4])
    book.active.append(["Beta", None, "NL800123456B01", "NL", "REDUCED", "2026-02-01", "7500.505", "EUR",
                        "2027-01-31", None])
    book.save(tmp / "export.xlsx")
    result = json.loads(run("insurer", "import", str(tmp / "export.xlsx"), "--insurer", "Atradius", "--json").stdout)
    assert [(a["line"], a["customer"], a["decision"], a["amount"]) for a in result["applied"]] == [
        (2, "C00001", "approved", "50000.00"), (3, "C00002", "reduced", "7500.51")]  # rounded half-up
    assert check(run)["decision"] == "approve" and limit_of(run, "C00002")["amount"] == "7500.51"


def test_an_xlsx_export_in_the_example_mapping(env):
    """Coface-style: dates and numbers as cells, EDIFACT codes, DRA grade 0-10 reversed onto 1-10."""
    run, tmp, url = env
    book = Workbook()
    sheet = book.active
    sheet.append(["Debtor ID", "Debtor name", "Company ID", "VAT ID", "Country", "Decision code", "Decision date",
                  "Granted amount", "Currency", "Valid until", "DRA"])
    sheet.append(["X1", "ACME GMBH", None, "de123456789", "de", 5, date(2026, 2, 1), 40000.5, "EUR",
                  date(2027, 1, 31), 7])
    sheet.append(["X2", "Beta", None, "NL 800123456 B01", "NL", "8", "01.03.2026", None, "EUR", None, "2"])
    book.save(tmp / "coface.xlsx")
    ran = run("insurer", "import", str(tmp / "coface.xlsx"), "--insurer", "Coface", "--mapping", str(COFACE), "--json")
    assert "the policy 'Feed' has no [insurers.\"Coface\"] terms" in ran.stderr  # limits apply, but no deadlines
    result = json.loads(ran.stdout)
    assert [(a["customer"], a["decision"], a["amount"], a["grade"], a["decided"], a["expires"])
            for a in result["applied"]] == [
        ("C00001", "partly_approved", "40000.50", 4, "2026-02-01", "2027-01-31"),
        ("C00002", "withdrawn", None, 9, "2026-03-01", None)]
    assert limit_of(run)["amount"] == "40000.50"
    assert limit_of(run, "C00002")["source"] is None  # withdrawn: no insurer limit, no other source


def test_ambiguous_and_unmatched_buyers_are_reported_and_not_applied(env):
    run, tmp, url = env
    export = write_csv(tmp, ACME_50K,
                       "Gamma,,BE 0477.472.701,BE,approved,2026-01-15,90000,EUR,,\n",
                       "Someone,,FR12345678901,FR,approved,2026-01-15,1000,EUR,,\n",
                       "Delta SARL,,,FR,approved,2026-01-15,1000,EUR,,\n")
    result = json.loads(run("insurer", "import", str(export), "--insurer", "Atradius", "--json").stdout)
    assert [a["customer"] for a in result["applied"]] == ["C00001"]
    reasons = {n["line"]: n["reason"] for n in result["not_applied"]}
    assert set(reasons) == {3, 4, 5} and all(n["file"] == str(export) for n in result["not_applied"])
    assert reasons[3].startswith("ambiguous: VAT BE 0477.472.701 matches 2 credit groups") \
        and "Gamma SA (odoo:30)" in reasons[3] and "(odoo:40)" in reasons[3]
    assert reasons[4] == "no customer with VAT FR12345678901 in FR"
    assert reasons[5] == "no VAT or registration number to match the buyer on"
    assert limit_of(run, "C00003")["source"] is None and limit_of(run, "C00004")["source"] is None
    text = run("insurer", "import", str(export), "--insurer", "Atradius").stdout
    assert f"{export}:3: not applied: Gamma: ambiguous" in text
    assert [d.customer for d in stored(url)] == ["C00001"]


def test_a_buyer_is_matched_by_the_registration_number_the_erp_keeps(env):
    run, tmp, url = env
    export = write_csv(tmp, "Delta,FR 552.100.554,,FR,approved,2026-01-15,20000,EUR,,\n")
    result = json.loads(run("insurer", "import", str(export), "--insurer", "Atradius", "--json").stdout)
    assert result["not_applied"] == [] and [d.customer for d in stored(url)] == ["C00005"]


def test_a_buyer_is_never_matched_by_name(env):
    run, tmp, url = env
    export = write_csv(tmp, "Acme GmbH,,DE999999999,DE,approved,2026-01-15,50000,EUR,,\n")
    result = json.loads(run("insurer", "import", str(export), "--insurer", "Atradius", "--json").stdout)
    assert result["applied"] == [] and result["not_applied"][0]["reason"] == "no customer with VAT DE999999999 in DE"


@pytest.mark.parametrize("row, where, message", [
    ("Acme GmbH,,DE123456789,DE,approved,2026-01-15,50.000;00,EUR,,\n", ":3:7: Amount: not an amount", "50.000;00"),
    ("Acme GmbH,,DE123456789,DE,approved,15/01/2026,50000,EUR,,\n", ":3:6: Decision date: not a date",
     "expected a date like 2026-03-31"),
    ("Acme GmbH,,DE123456789,DE,granted,2026-01-15,50000,EUR,,\n", ":3:5: Decision: unknown decision code",
     "'granted'"),
    ("Acme GmbH,,DE123456789,DE,approved,2026-01-15,50000,EUX,,\n", ":3:8: Currency: unknown currency", "EUX"),
    ("Acme GmbH,,DE123456789,DE,approved,2026-01-15,-5,EUR,,\n", ":3:7: Amount: a negative amount", "-5"),
    ("Acme GmbH,,DE123456789,DE,approved,2026-01-15,,EUR,,\n", ":3:7: Amount: no amount", "approved"),
    ("Acme GmbH,,DE123456789,DE,approved,2026-01-15,5,EUR,2025-01-01,\n", ":3:9: Expiry date: expires 2025-01-01",
     "before"),
    ("Acme GmbH,,DE123456789,DE,approved,2026-01-15,5,EUR,,11\n", ":3:10: Grade: unknown grade", "'11'"),
    ("Acme GmbH,,DE123456789,Germany,approved,2026-01-15,5,EUR,,\n", ":3:4: Country: expected a two-letter",
     "'GERMANY'"),
])
def test_a_malformed_row_changes_nothing(env, row, where, message):
    run, tmp, url = env
    run("insurer", "import", str(write_csv(tmp, ACME_50K, name="first.csv")), "--insurer", "Atradius")
    before = stored(url)
    bad = write_csv(tmp, "Beta,,NL800123456B01,NL,approved,2026-05-01,1000,EUR,,\n", row)
    result = run("insurer", "import", str(bad), "--insurer", "Atradius", code=2)
    assert f"{bad}{where}" in result.stderr and message in result.stderr and "nothing was imported" in result.stderr
    assert stored(url) == before and limit_of(run)["amount"] == "50000.00"


@pytest.mark.parametrize("content, message", [
    (b"", "empty: no header line"),
    (b"Buyer name;VAT number;Decision\nAcme;DE1;approved\n", "the file seems to be separated by ';'"),
    (HEADER.replace("Amount", "Limit").encode() + ACME_50K.encode(), "no column 'Amount' (amount) in the header"),
    (HEADER.encode() + "Müller,,DE123456789,DE,approved,2026-01-15,1,EUR,,\n".encode("latin-1"),
     ":2:2: not valid utf-8-sig text"),
    (bytes(range(256)) * 4, "not valid utf-8-sig text"),
    (HEADER.encode() + b"Acme\x00,,DE1,DE,approved,2026-01-15,1,EUR,,\n", ":2: a NUL character"),
    (HEADER.encode() + b'"Acme,,DE1,DE,approved,2026-01-15,1,EUR,,\n', "not a readable CSV line"),
    (HEADER.encode() + ("A" * 5000 + ",,DE1,DE,approved,2026-01-15,1,EUR,,\n").encode(), "a cell of 5000 characters"),
    (b"PK\x03\x04garbage", "not a readable XLSX file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel (.xls) file"),
])
def test_hostile_files_get_a_clear_error_and_change_nothing(env, content, message):
    run, tmp, url = env
    path = tmp / "hostile.csv"
    path.write_bytes(content)
    result = run("insurer", "import", str(path), "--insurer", "Atradius", code=2)
    assert result.stderr.startswith(f"creditguard: error: {path}") and message in result.stderr
    assert stored(url) == []


def test_a_formula_cell_is_refused(env):
    run, tmp, url = env
    book = Workbook()
    book.active.append(HEADER.strip().split(","))
    book.active.append(["Acme", None, "DE123456789", "DE", "approved", "2026-01-15", "=1000*1000", "EUR"])
    book.save(tmp / "formula.xlsx")
    result = run("insurer", "import", str(tmp / "formula.xlsx"), "--insurer", "Atradius", code=2)
    assert f"{tmp / 'formula.xlsx'}:2:7: a formula (=1000*1000)" in result.stderr and stored(url) == []


def test_a_utf16_export_with_a_bom_is_read(env):
    run, tmp, url = env
    (tmp / "utf16.csv").write_bytes((HEADER + ACME_50K).encode("utf-16"))
    run("insurer", "import", str(tmp / "utf16.csv"), "--insurer", "Atradius")
    assert limit_of(run)["amount"] == "50000.00"


def test_too_large_files_are_refused(env, monkeypatch):
    import connector.insurer_feed as feed

    run, tmp, url = env
    monkeypatch.setattr(feed, "MAX_FILE_BYTES", 100)
    result = run("insurer", "import", str(write_csv(tmp, ACME_50K)), "--insurer", "Atradius", code=2)
    assert "too large for an insurer export" in result.stderr
    monkeypatch.setattr(feed, "MAX_FILE_BYTES", 10**6)
    monkeypatch.setattr(feed, "MAX_UNZIPPED_BYTES", 1000)
    book = Workbook()
    book.active.append(["x" * 2000])
    book.save(tmp / "big.xlsx")
    result = run("insurer", "import", str(tmp / "big.xlsx"), "--insurer", "Atradius", code=2)
    assert "once uncompressed: too large" in result.stderr


def test_history_is_kept_and_the_latest_decision_applies(env):
    run, tmp, url = env
    first = write_csv(tmp, ACME_50K, name="january.csv")
    run("insurer", "import", str(first), "--insurer", "Atradius")
    second = write_csv(tmp, "Acme GmbH,,DE123456789,DE,reduced,2026-06-01,20000,EUR,,5\n", name="june.csv")
    run("insurer", "import", str(second), "--insurer", "Atradius")
    again = json.loads(run("insurer", "import", str(first), "--insurer", "Atradius", "--json").stdout)
    assert (again["added"], again["unchanged"]) == (0, 1)  # a re-import adds nothing
    history = stored(url)
    assert [(d.decision, d.decided, d.amount_minor, d.file, d.line) for d in history] == [
        ("approved", date(2026, 1, 15), 5000000, "january.csv", 2),
        ("reduced", date(2026, 6, 1), 2000000, "june.csv", 2)]
    assert limit_of(run)["amount"] == "20000.00" and check(run)["decision"] == "hold"
    explained = run("policy", "explain", "C00001").stdout
    assert "Insurer decision in force: Atradius reduced 20,000.00 EUR, decided 2026-06-01 (imported)" in explained
    assert "2026-01-15 Atradius: approved (code approved) 50,000.00 EUR, grade 4 (insurer 4) — january.csv line 2" \
        in explained
    assert "2026-06-01 Atradius: reduced (code reduced) 20,000.00 EUR, grade 5 (insurer 5) — june.csv line 2" \
        in explained


def test_a_later_policy_file_entry_wins_over_an_earlier_import(env):
    run, tmp, url = env
    run("insurer", "import", str(write_csv(tmp, ACME_50K)), "--insurer", "Atradius")
    policy = tmp / "policy.toml"
    policy.write_text(POLICY + '\n[[limits.insurer]]\ncustomer = "C00001"\ninsurer = "Atradius"\namount = 35000\n'
                               "decided = 2026-03-01\n")
    assert limit_of(run)["amount"] == "35000.00"
    assert "Insurer decision in force: Atradius approved 35,000.00 EUR, decided 2026-03-01 (policy file)" \
        in run("policy", "explain", "C00001").stdout
    run("insurer", "import", str(write_csv(tmp, "Acme,,DE123456789,DE,approved,2026-04-01,60000,EUR,,\n",
                                           name="april.csv")), "--insurer", "Atradius")
    assert limit_of(run)["amount"] == "60000.00"


def test_dry_run_writes_nothing(env):
    run, tmp, url = env
    result = json.loads(run("insurer", "import", str(write_csv(tmp, ACME_50K)), "--insurer", "Atradius",
                            "--dry-run", "--json").stdout)
    assert result["dry_run"] is True and result["added"] == 1 and len(result["applied"]) == 1
    assert stored(url) == [] and limit_of(run)["source"] == "grade"
    assert "Dry run: nothing was written." in run("insurer", "import", str(tmp / "export.csv"), "--insurer",
                                                   "Atradius", "--dry-run").stdout


def test_a_mapping_for_another_insurer_is_refused(env):
    run, tmp, url = env
    result = run("insurer", "import", str(write_csv(tmp, ACME_50K)), "--insurer", "Atradius", "--mapping",
                 str(COFACE), code=2)
    assert "the mapping is for insurer 'Coface', not 'Atradius'" in result.stderr


def test_a_bad_mapping_lists_every_problem(env):
    run, tmp, url = env
    mapping = tmp / "bad.toml"
    mapping.write_text('colour = 1\n[format]\ndecimal_separator = ";"\n[columns]\nvat = "VAT"\n'
                       '[decisions]\nA = "accepted"\n[grades]\nB = 11\n')
    result = run("insurer", "import", str(write_csv(tmp, ACME_50K)), "--insurer", "Atradius", "--mapping",
                 str(mapping), code=2)
    lines = result.stderr.removeprefix("creditguard: error: ").splitlines()
    assert lines == [
        f"{mapping}:1:1: colour: unknown key (expected one of columns, decisions, format, grades, insurer, request)",
        f"{mapping}:3:1: format.decimal_separator: expected one of '.', ','",
        f"{mapping}:4:1: columns: missing required field 'decision'",
        f"{mapping}:4:1: columns: missing required field 'decided'",
        f"{mapping}:4:1: columns: missing required field 'amount'",
        f"{mapping}:4:1: columns: name the currency column, or give [format] currency",
        f"{mapping}:7:1: decisions.A: expected one of approved, partly_approved, reduced, withdrawn, refused, "
        "pending",
        f"{mapping}:9:1: grades.B: expected a grade from 1 (best) to 10 (default)"]


def test_deadlines_see_imported_decisions(env):
    """An imported decision starts the insurer's clock exactly as a [[limits.insurer]] entry does."""
    from policy.loader import load_policy

    run, tmp, url = env
    run("insurer", "import", str(write_csv(tmp, ACME_50K)), "--insurer", "Atradius")
    store = Store.open(url)
    try:
        store.save_page("odoo", Stream.INVOICES, "account.move", [Invoice(
            "odoo", "1", "INV/2026/0001", "10", "10", InvoiceKind.INVOICE, InvoiceState.POSTED, PaymentState.NOT_PAID,
            date(2026, 8, 1), date(2026, 9, 1), "EUR", Decimal(1000), Decimal(1000), "1", "EUR", Decimal(1000),
            Decimal(1000), T)], [], None)
        [found] = list_deadlines(store, load_policy(tmp / "policy.toml"), "odoo", date(2026, 10, 25))
    finally:
        store.close()
    assert (found.customer, found.insurer, found.status.value) == ("C00001", "Atradius", "due_soon")


def read_request(path: Path, delimiter=",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="cp1252" if delimiter == ";" else "utf-8")),
                           delimiter=delimiter))


def test_a_cover_request_in_the_mapping_s_columns(env):
    run, tmp, url = env
    run("insurer", "import", str(write_csv(tmp, ACME_50K)), "--insurer", "Atradius")
    out = tmp / "request.csv"
    text = run("insurer", "request", "C00001", "--amount", "80000", "--out", str(out)).stdout
    assert "an increase of the Atradius limit for Acme GmbH from 50,000.00 EUR to 80,000.00 EUR" in text
    header, row = read_request(out)
    assert header == HEADER.strip().split(",")
    assert dict(zip(header, row)) | {"Decision date": "-"} == {
        "Buyer name": "Acme GmbH", "Registration number": "", "VAT number": "DE123456789", "Country": "DE",
        "Decision": "increase", "Decision date": "-", "Amount": "80000.00", "Currency": "EUR", "Expiry date": "",
        "Grade": ""}
    result = run("insurer", "request", "C00001", "--amount", "40000", "--out", str(out), code=1)
    assert "already 50,000.00 EUR" in result.stderr and "asks for more" in result.stderr

    coface = tmp / "new.csv"
    run("insurer", "request", "C00002", "--amount", "1234.5", "--insurer", "Coface", "--mapping", str(COFACE),
        "--out", str(coface))
    header, row = read_request(coface, ";")
    values = dict(zip(header, row))
    assert (values["Decision code"], values["Granted amount"], values["VAT ID"], values["Debtor name"]) == (
        "N", "1234,50", "NL8001.23.456.B01", "Beta BV")


def test_a_cover_request_needs_an_insurer_and_a_valid_amount(env):
    run, tmp, url = env
    out = str(tmp / "r.csv")
    assert "name the insurer with --insurer" in run("insurer", "request", "C00002", "--amount", "100", "--out", out,
                                                    code=1).stderr
    assert "not an amount" in run("insurer", "request", "C00002", "--amount", "1e9", "--insurer", "Coface",
                                  "--out", out, code=2).stderr
    assert not Path(out).exists()


def test_the_store_keeps_each_decision_once_all_or_nothing(store):
    """SQLite and PostgreSQL: an import's decisions are added together; the same decision again is not."""
    def decision(decided, amount, line):
        return ImportedDecision("Atradius", "odoo", "10", "C00001", "Acme GmbH", "ACME", "DE123456789", "DE",
                                "approved", "A", decided, amount, "EUR", None, 3, "B", "x.csv", line, "d1", T)

    first = [decision(date(2026, 1, 15), 5000000, 2), decision(date(2026, 6, 1), 2000000, 3)]
    assert store.record_insurer_decisions(first, dry_run=True) == (2, 0) and store.insurer_decisions() == []
    assert store.record_insurer_decisions(first) == (2, 0)
    again = [decision(date(2026, 6, 1), 2000000, 9), decision(date(2026, 7, 1), 0, 10)]
    assert store.record_insurer_decisions(again) == (1, 1)
    kept = store.insurer_decisions("odoo", "10")
    assert [(d.decided, d.amount_minor, d.line) for d in kept] == [
        (date(2026, 1, 15), 5000000, 2), (date(2026, 6, 1), 2000000, 3), (date(2026, 7, 1), 0, 10)]
    assert kept[0].imported_at == T and all(d.id is not None for d in kept)
    with pytest.raises(IntegrityError):  # a row the database refuses: none of the import is kept
        store.record_insurer_decisions([decision(date(2026, 8, 1), 1, 11), replace(decision(date(2026, 9, 1), 1, 12),
                                                                                   decision=None)])
    assert len(store.insurer_decisions()) == 3


def test_the_insurer_s_grade_grades_a_buyer_the_policy_file_does_not(env):
    run, tmp, url = env
    (tmp / "policy.toml").write_text(POLICY.replace("[limits.grades]\n6 = 10000", '[limits]\nprecedence = ["grade"]\n'
                                                    "[limits.grades]\n4 = 7000\n6 = 10000"))
    run("insurer", "import", str(write_csv(tmp, ACME_50K, "Beta,,NL800123456B01,NL,approved,2026-01-15,9,EUR,,4\n")),
        "--insurer", "Atradius")
    assert limit_of(run, "C00002") == {"amount": "7000.00", "source": "grade",
                                       "detail": "policy limit for grade 4 (Atradius grade 4 of 2026-01-15)"}
    assert limit_of(run)["detail"] == "policy limit for grade 6"  # the policy's customer file comes first
    assert "Grade: 4 (Atradius grade 4 of 2026-01-15)" in run("policy", "explain", "C00002").stdout
