"""A kind = "sap_soap" source through the command line, against the SAP sandbox."""

import json
import os
import subprocess
import sys

from adapters.sap_soap.sandbox import SapSandbox

CONFIG = """\
[store]
url = "sqlite:///{db}"

[[source]]
name = "sap"
kind = "sap_soap"
url = "{url}"
username = "admin"
password_env = "CG_SAP_PASSWORD"
client = "100"
company_codes = ["1000"]
sales_organization = "1000"
company_currencies = {{ "1000" = "EUR" }}
credit_control_area = "1000"
timezone = "Europe/Berlin"
retry_attempts = 1
"""


def cli(config, *args, password="admin"):
    env = dict(os.environ, CG_SAP_PASSWORD=password)
    return subprocess.run([sys.executable, "-m", "creditguard", "--config", str(config), *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_sync_twice_and_read_back(tmp_path):
    with SapSandbox() as sb:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(db=tmp_path / "cg.db", url=sb.url))
        first = cli(config, "sync", "--once", "--json")
        assert first.returncode == 0, first.stderr
        streams = {s["stream"]: s for s in json.loads(first.stdout)["streams"]}
        assert set(streams) == {"customers", "invoices", "orders", "currency_rates", "receivables"}
        assert streams["invoices"]["written"] > 0 and streams["customers"]["written"] > 0
        # the open items as receivable items: mapped from what the invoices read brought, without asking SAP again
        assert streams["receivables"]["written"] == streams["invoices"]["written"]
        assert streams["receivables"]["calls"] == 0
        assert streams["currency_rates"]["written"] > 0 and not streams["currency_rates"]["full"]
        again = {s["stream"]: s for s in json.loads(cli(config, "sync", "--once", "--json").stdout)["streams"]}
        assert all(s["written"] == 0 and s["deleted"] == 0 for s in again.values())
        assert (again["currency_rates"]["read"], again["currency_rates"]["calls"]) == (0, 1)
        invoices = json.loads(cli(config, "invoices", "--json").stdout)["invoices"]
        mine = [i for i in invoices if i["customer_id"] == "0000100001"]
        assert mine and {i["kind"] for i in mine} == {"invoice", "credit_note"}
        wrong = cli(config, "sync", "--once", password="nope")
        assert wrong.returncode == 1 and "Traceback" not in wrong.stderr and "nope" not in wrong.stderr


MINIMAL_SOURCE = """\
[[source]]
name = "sap"
kind = "sap_soap"
url = "http://127.0.0.1:8000"          # base of the SOAP endpoints
username = "admin"
password_env = "CREDITGUARD_SAP_PASSWORD"
client = "100"
company_codes = ["1000"]
"""

ERP_GRADES_POLICY = """\
version = 1
name = "grades from the SAP credit master"
base_currency = "EUR"

[limits]
precedence = ["grade"]

[limits.grades]
1 = 500000
5 = 50000
9 = 1000

[risk_categories]
"A01" = 1
"B02" = 5
"C03" = 9

[rules.overdue]
enabled = false
"""


def test_the_minimal_source_of_the_documentation_works_as_written(tmp_path):
    """The issue's minimal source, only the port changed; the sandbox's login is admin/admin."""
    with SapSandbox() as sb:
        config = tmp_path / "config.toml"
        policy = tmp_path / "policy.toml"
        policy.write_text(ERP_GRADES_POLICY)
        config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "cg.db"}"\n\n[policy]\npath = "{policy}"\n\n'
                          + MINIMAL_SOURCE.replace("127.0.0.1:8000", f"127.0.0.1:{sb.port}"))
        env = dict(os.environ, CREDITGUARD_SAP_PASSWORD="admin")

        def run(*args):
            result = subprocess.run([sys.executable, "-m", "creditguard", "--config", str(config), *args],
                                    capture_output=True, text=True, env=env, timeout=120)
            assert result.returncode == 0, result.stderr
            return json.loads(result.stdout) if "--json" in args else result.stdout

        streams = {s["stream"]: s for s in run("sync", "--once", "--json")["streams"]}
        assert streams["orders"]["written"] > 0  # sales organization 1000 = company code 1000 by default
        customers = {c["erp_id"]: c for c in run("customers", "--json")["customers"]}
        blocked = customers["0000100003"]
        assert blocked["credit_blocked"] is True and blocked["risk_category"] == "C03"
        assert customers["0000100001"]["risk_category"] == "A01" and not customers["0000100001"]["credit_blocked"]
        orders = run("orders", "--json")["orders"]
        assert {o["customer_id"] for o in orders} >= {"0000100001", "0000100003"}

        held = run("check", next(o["number"] for o in orders if o["customer_id"] == "0000100003"), "--json")
        assert held["decision"] == "hold" and [r["code"] for r in held["reasons"]] == ["erp_blocked"]
        assert held["erp_blocked"] is True and held["erp_risk_category"] == "C03"
        good = run("check", next(o["number"] for o in orders if o["customer_id"] == "0000100001"), "--json")
        assert good["grade"] == 1 and good["grade_source"] == "ERP risk category A01"
        assert good["limit"]["detail"] == "policy limit for grade 1 (ERP risk category A01)"

        explained = run("policy", "explain", "100003")
        assert "Grade: 9 (ERP risk category C03)" in explained
        assert "Blocked by the ERP's credit management: every order is held." in explained
        assert "erp_blocked: on" in explained


def test_an_item_cleared_between_two_syncs_is_kept_settled_on_its_clearing_date(tmp_path):
    """`creditguard sync` gives the SAP source the store's items: a cleared open item is looked up at a past key
    date and kept, settled on its clearing date (the payment figures read it), instead of being swept."""
    import datetime as dt

    from connector.store import Store

    with SapSandbox() as sb:
        config = tmp_path / "config.toml"
        db = tmp_path / "cg.db"
        config.write_text(CONFIG.format(db=db, url=sb.url))
        raw = sb.set_open_item("0000100003", "450.00", posted=dt.date.today() - dt.timedelta(days=40), netterms=30)
        assert cli(config, "sync", "--once").returncode == 0
        cleared_on = dt.date.today() - dt.timedelta(days=3)
        sb.clear_item(raw["DocNo"], company_code="1000", clear_date=cleared_on)
        again = cli(config, "sync", "--once", "--json")
        assert again.returncode == 0, again.stderr
        with Store.open(f"sqlite:///{db}") as store:
            settled = [i for i in store.iter_receivables("sap", customer="0000100003") if i.paid_on is not None]
        assert [(i.paid_on, i.amount_company, i.amount_open) for i in settled] == [
            (cleared_on, 450, 0)]


def test_dunning_writes_one_letter_file_per_group_and_level(tmp_path):
    """SAP end to end: `creditguard dunning` on a store synced from the SAP sandbox writes each letter once into
    the source's letters_dir, listing the group's overdue items; a second run writes nothing more."""
    import datetime as dt

    policy = tmp_path / "policy.toml"
    policy.write_text('version = 1\nname = "sap dunning"\nbase_currency = "EUR"\n\n[dunning]\nsend = "auto"\n\n'
                      '[[dunning.levels]]\ndays = 1\nchannel = "letter"\ntemplate = "demand"\n')
    letters = tmp_path / "letters"
    with SapSandbox() as sb:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(db=tmp_path / "cg.db", url=sb.url)
                          + f'letters_dir = "{letters}"\n\n[policy]\npath = "{policy}"\n')
        raw = sb.set_open_item("0000100003", "1234.56", posted=dt.date.today() - dt.timedelta(days=60), netterms=14)
        assert cli(config, "sync", "--once").returncode == 0
        first = cli(config, "dunning", "--json")
        assert first.returncode == 0, first.stderr
        sent = [p for s in json.loads(first.stdout)["sources"] for p in s["plans"] if p["action"] == "send"]
        files = sorted(letters.glob("*.html"))
        assert len(files) == len(sent) >= 1  # one letter per overdue group
        [mine] = [f for f in files if "0000100003" in f.name]
        number = raw.get("RefDocNo") or raw["DocNo"]
        assert number in mine.read_text(encoding="utf-8") and "1,234.56" in mine.read_text(encoding="utf-8")
        again = cli(config, "dunning", "--json")
        assert again.returncode == 0, again.stderr
        assert not [p for s in json.loads(again.stdout)["sources"] for p in s["plans"] if p["action"] == "send"]
        assert sorted(letters.glob("*.html")) == files
