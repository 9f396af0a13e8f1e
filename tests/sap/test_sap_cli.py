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
username = "CGUSER"
password_env = "CG_SAP_PASSWORD"
client = "100"
company_codes = ["1000"]
sales_organization = "1000"
company_currencies = {{ "1000" = "EUR" }}
credit_control_area = "1000"
timezone = "Europe/Berlin"
retry_attempts = 1
"""


def cli(config, *args, password="secret"):
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
        assert set(streams) == {"customers", "invoices", "orders"}
        assert streams["invoices"]["written"] > 0 and streams["customers"]["written"] > 0
        again = {s["stream"]: s for s in json.loads(cli(config, "sync", "--once", "--json").stdout)["streams"]}
        assert all(s["written"] == 0 and s["deleted"] == 0 for s in again.values())
        invoices = json.loads(cli(config, "invoices", "--json").stdout)["invoices"]
        mine = [i for i in invoices if i["customer_id"] == "0000100001"]
        assert mine and {i["kind"] for i in mine} == {"invoice", "credit_note"}
        wrong = cli(config, "sync", "--once", password="nope")
        assert wrong.returncode == 1 and "Traceback" not in wrong.stderr and "nope" not in wrong.stderr
