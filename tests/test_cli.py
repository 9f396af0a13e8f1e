"""The command line, run as a real process against the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.odoo.sandbox import OdooSandbox
from adapters.odoo.sandbox.faults import AccessError
from .support.cli import run_cli
from .support.net import free_port

CONFIG = """\
[store]
url = "{store}"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CREDITGUARD_ODOO_PASSWORD"
protocol = "{protocol}"
retry_attempts = 1
"""


def run(config: Path, *args: str, password: str = "admin") -> subprocess.CompletedProcess:
    return run_cli(config, *args, env={"CREDITGUARD_ODOO_PASSWORD": password}, columns=None)


def write_config(tmp_path: Path, url: str, store_url: str | None = None, protocol: str = "xmlrpc") -> Path:
    path = tmp_path / "config.toml"
    store_url = store_url or f"sqlite:///{tmp_path / 'cg.db'}"
    path.write_text(CONFIG.format(store=store_url, url=url, protocol=protocol))
    return path


@pytest.fixture(scope="module")
def sandbox():
    with OdooSandbox(version="17", data="demo") as sb:
        yield sb


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc"])
def test_sync_json_then_read_back(sandbox, tmp_path, protocol):
    config = write_config(tmp_path, sandbox.url, protocol=protocol)
    result = run(config, "sync", "--once", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    streams = {s["stream"]: s for s in summary["streams"]}
    assert set(streams) == {"customers", "invoices", "orders", "currency_rates", "receivables"}
    for s in streams.values():
        assert {"source", "stream", "read", "written", "quarantined", "calls", "seconds"} <= set(s)
        assert s["source"] == "odoo" and s["read"] > 0

    invoices = json.loads(run(config, "invoices", "--json").stdout)["invoices"]
    assert len(invoices) == streams["invoices"]["written"]
    first = next(i for i in invoices if i["state"] == "posted" and i["currency"] == "USD")
    assert isinstance(first["amount_open"], str) and len(first["amount_open"].split(".")[1]) == 2
    assert len(first["due_date"]) == 10 and first["changed_at"].endswith("Z")
    customers = json.loads(run(config, "customers", "--json").stdout)["customers"]
    assert len(customers) == streams["customers"]["written"]
    orders = json.loads(run(config, "orders", "--json").stdout)["orders"]
    assert {o["state"] for o in orders} >= {"draft", "sent", "confirmed", "cancelled"}
    assert json.loads(run(config, "quarantine", "--json").stdout) == {"quarantine": []}

    table = run(config, "invoices", "--open", "--limit", "5")
    assert table.returncode == 0 and "Invoices" in table.stdout


def test_sync_json_reports_every_stream_when_one_fails(tmp_path):
    """The user may not read one model: that stream fails, the others sync; the JSON lists every stream."""
    with OdooSandbox(version="17", data="demo") as sb:
        sb.fail_next("sale.order", AccessError("You are not allowed to access 'Sales Order' (sale.order) records."),
                     times=10)
        config = write_config(tmp_path, sb.url, protocol="jsonrpc")
        result = run(config, "sync", "--once", "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    streams = {s["stream"]: s for s in json.loads(result.stdout)["streams"]}
    assert list(streams) == ["customers", "invoices", "orders", "currency_rates", "receivables"]
    assert {streams[s]["status"] for s in ("customers", "invoices", "currency_rates", "receivables")} == {"ok"}
    assert streams["invoices"]["written"] > 0 and streams["invoices"]["error"] is None
    failed = streams["orders"]
    assert failed["status"] == "failed" and failed["error"].startswith("odoo: access error: You are not allowed")
    assert json.loads(result.stdout)["errors"] == [failed["error"]]


def test_sync_json_when_the_erp_is_unreachable_lists_the_streams_not_read(tmp_path):
    port = free_port()
    config = write_config(tmp_path, f"http://127.0.0.1:{port}")
    result = run(config, "sync", "--once", "--json")
    assert result.returncode == 1
    streams = json.loads(result.stdout)["streams"]
    assert [s["stream"] for s in streams] == ["customers", "invoices", "orders", "currency_rates", "receivables"]
    assert {s["status"] for s in streams} == {"failed"} and all("connection refused" in s["error"] for s in streams)


def test_wrong_password_is_one_clear_line(sandbox, tmp_path):
    config = write_config(tmp_path, sandbox.url)
    result = run(config, "sync", "--once", password="not-the-password")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("creditguard: error:")]
    assert errors == ["creditguard: error: odoo: login refused for user 'admin' on database 'demo' "
                      "(wrong user or password)"]
    assert "not-the-password" not in result.stderr + result.stdout


def test_unreachable_server_is_one_clear_line(tmp_path):
    port = free_port()
    config = write_config(tmp_path, f"http://127.0.0.1:{port}")
    result = run(config, "sync", "--once")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("creditguard: error:")]
    assert errors == [f"creditguard: error: odoo: cannot connect to http://127.0.0.1:{port}: connection refused"]


def test_missing_password_names_the_variable_not_a_value(sandbox, tmp_path):
    config = write_config(tmp_path, sandbox.url)
    env = {k: v for k, v in os.environ.items() if k != "CREDITGUARD_ODOO_PASSWORD"}
    result = subprocess.run([sys.executable, "-m", "creditguard", "--config", str(config), "sync", "--once"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "CREDITGUARD_ODOO_PASSWORD" in result.stderr and "Traceback" not in result.stderr


def test_bad_config_names_file_line_and_key(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[store]\nurl = "sqlite:///x.db"\n\n[[source]]\nname = "odoo"\nkind = "odoo"\n'
                    'url = "http://127.0.0.1:8069"\ndatabase = "demo"\nusername = "admin"\n'
                    'password_env = "X"\nprotocl = "xmlrpc"\n')
    result = run(path, "sync", "--once")
    assert result.returncode == 2
    assert f"{path}:11:" in result.stderr and "protocl" in result.stderr


def test_demo_runs_end_to_end(tmp_path):
    result = subprocess.run([sys.executable, "-m", "creditguard", "demo", "--dir", str(tmp_path / "demo")],
                            capture_output=True, text=True, timeout=300, env=dict(os.environ, COLUMNS="160"))
    assert result.returncode == 0, result.stderr
    assert "Sync of Odoo 17.0 over xmlrpc and SAP over SOAP" in result.stdout
    assert "Open receivables" in result.stdout
    assert "put on credit hold" in result.stdout and "is refused" in result.stdout
    assert "Released: " in result.stdout and "Where a user sees this in Odoo" in result.stdout
    assert "on hold is refused: A delivery of a sales order on credit hold" in " ".join(result.stdout.split())
    assert "Enforcement in SAP" in result.stdout and "0 refused)" in result.stdout
    assert "blocked by the ERP's credit management" in " ".join(result.stdout.split())
    flat = " ".join(result.stdout.split())
    assert "Traceback" not in result.stdout + result.stderr
    assert "9,000,000 USD for a buyer seen for the first time: refused" in flat
    assert "order A" in flat and "10,000 USD: confirmed" in flat
    assert "order B" in flat and "Exposure 12,000.00 USD exceeds the limit 10,000.00 USD" in flat
    assert (tmp_path / "demo" / "creditguard.db").exists()
    listed = run(tmp_path / "demo" / "config.toml", "customers", "--json")
    sources = {c["source"] for c in json.loads(listed.stdout)["customers"]}
    assert len(json.loads(listed.stdout)["customers"]) >= 50 and sources == {"odoo", "sap"}
