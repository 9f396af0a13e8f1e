"""Hostile answers benchmark: memory against a 200 MB answer, time to give up against a drip-feed server.

    python bench/hostile_answers.py [--protocols xmlrpc,jsonrpc,json2,sap] [--answer-mb 200] [--drip 5]

For each protocol a loopback server in front of the bundled sandbox answers the first call of a sync
with a body of ``--answer-mb`` megabytes of well-formed records (no Content-Length: the size is only
known by reading), and ``creditguard sync --once`` runs in its own process with the default settings
(max_answer_mb = 64, call_deadline_seconds = timeout = 30).  Printed per protocol: the exit code, the
peak resident set of that process (wait4), the seconds it took, and its one error line.  Then the same
with a server that sends one byte every ``--drip`` seconds: the seconds until the sync gives up.
A baseline row (a refused HTML page) shows the resident set of the CLI itself.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.odoo.sandbox import OdooSandbox  # noqa: E402
from adapters.sap_soap.sandbox import SapSandbox  # noqa: E402
from tests.support.hostile import Action, HostileServer, drip  # noqa: E402

ODOO = """\
[store]
url = "sqlite:///{db}"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CG_PASSWORD"
protocol = "{protocol}"
retry_attempts = 1
"""
SAP = """\
[store]
url = "sqlite:///{db}"

[[source]]
name = "sap"
kind = "sap_soap"
url = "{url}"
username = "admin"
password_env = "CG_PASSWORD"
client = "100"
company_codes = ["1000"]
sales_organization = "1000"
company_currencies = {{ "1000" = "EUR" }}
credit_control_area = "1000"
timezone = "Europe/Berlin"
retry_attempts = 1
"""
RECORD = {"id": 1, "name": "Müller Maschinenbau GmbH", "ref": "C00042", "credit_limit": 50000.0,
          "write_date": "2026-01-01 00:00:00"}
SAP_ROW = ("<item><Customer>0000100001</Customer><Sort1>MUELLER</Sort1><Name>Müller Maschinenbau GmbH</Name>"
           "<Country>DE</Country><City>Stuttgart</City><PostlCod1>70173</PostlCod1></item>")


def flood(protocol: str, total: int) -> Action:
    """``total`` bytes of records, the document never closed (it is refused before its end)."""
    if protocol == "sap":
        prefix = ('<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Body>'
                  '<n0:CustomerGetlistResponse xmlns:n0="urn:sap-com:document:sap:soap:functions:mc-style">'
                  "<Addressdata>").encode()
        return Action(content_type="text/xml; charset=utf-8", body=prefix, repeat=SAP_ROW.encode() * 200,
                      endless=True, total=total)
    if protocol == "xmlrpc":
        import xmlrpc.client

        one = xmlrpc.client.dumps(([RECORD],), methodresponse=True).encode()
        start = one.index(b"<value><struct>")
        end = one.index(b"</struct></value>") + len(b"</struct></value>")
        return Action(content_type="text/xml", body=one[:start], repeat=one[start:end] * 200, endless=True,
                      total=total)
    record = json.dumps(RECORD, ensure_ascii=False).encode() + b","
    prefix = b'{"jsonrpc": "2.0", "id": 1, "result": [' if protocol == "jsonrpc" else b"["
    return Action(content_type="application/json", body=prefix, repeat=record * 200, endless=True, total=total)


def html() -> Action:
    return Action(content_type="text/html", body=b"<html><body>Sign in</body></html>")


def first_call(protocol: str):
    if protocol == "sap":
        return lambda m, p, b: "/z_bapi_customer_getlist/" in p
    if protocol == "json2":
        return lambda m, p, b: p == "/json/version"
    return lambda m, p, b: p.endswith("/common") or (p == "/jsonrpc" and b'"version"' in b)


def run_cli(protocol: str, upstream: str, password: str, action: Action) -> tuple[int, float, float, str]:
    matches = first_call(protocol)
    with HostileServer(upstream, lambda m, p, b: action if matches(m, p, b) else None) as server, \
            tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        template = SAP if protocol == "sap" else ODOO
        config.write_text(template.format(db=Path(tmp) / "cg.db", url=server.url, protocol=protocol))
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(config), "sync", "--once"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
                                   env=dict(os.environ, CG_PASSWORD=password))
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
    errors = [line for line in stderr.splitlines() if line.startswith("creditguard: error:")]
    code = os.waitstatus_to_exitcode(status)
    if "Traceback" in stderr:
        errors = ["TRACEBACK: " + stderr.strip().splitlines()[-1]]
    return code, usage.ru_maxrss / 1024, seconds, (errors[0] if errors else "(no error line)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocols", default="xmlrpc,jsonrpc,json2,sap")
    parser.add_argument("--answer-mb", type=int, default=200)
    parser.add_argument("--drip", type=float, default=5.0, help="seconds between two bytes of the drip server")
    parser.add_argument("--no-drip", action="store_true")
    args = parser.parse_args()
    protocols = args.protocols.split(",")

    with OdooSandbox(version="17", data="demo") as odoo17, OdooSandbox(version="19", data="demo") as odoo19, \
            SapSandbox() as sap:
        upstreams = {"xmlrpc": (odoo17.url, "admin"), "jsonrpc": (odoo17.url, "admin"),
                     "json2": (odoo19.url, odoo19.api_key), "sap": (sap.url, "admin")}
        print(f"{'protocol':9} {'answer':>10} {'exit':>4} {'peak RSS':>9} {'seconds':>8}  error line")
        for protocol in protocols:
            url, password = upstreams[protocol]
            for label, action in (("baseline", html()),
                                  (f"{args.answer_mb} MB", flood(protocol, args.answer_mb * 1024 * 1024))):
                code, rss, seconds, line = run_cli(protocol, url, password, action)
                print(f"{protocol:9} {label:>10} {code:>4} {rss:>6.0f} MB {seconds:>8.1f}  {line}", flush=True)
        if args.no_drip:
            return
        print(f"\none byte every {args.drip:g} s (defaults: timeout = call_deadline_seconds = 30 s)")
        for protocol in protocols:
            url, password = upstreams[protocol]
            body = b"<?xml version='1.0'?><methodResponse>" + b" " * 4096
            code, rss, seconds, line = run_cli(protocol, url, password, drip(body, args.drip))
            print(f"{protocol:9} {'drip':>10} {code:>4} {rss:>6.0f} MB {seconds:>8.1f}  {line}", flush=True)


if __name__ == "__main__":
    main()
