"""`creditguard sandbox sap` as a real process: the sandbox contract over real HTTP.

Every service at the path of the address in its WSDL, `?wsdl` there with the address rewritten to
the sandbox, HTTP Basic admin/admin, SAP client 100, company code 1000; a zeep client with
`strict=True` on the real open-items WSDL parses the answers; SIGTERM stops it with exit 0.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

zeep = pytest.importorskip("zeep")
requests = pytest.importorskip("requests")

from lxml import etree  # noqa: E402
from zeep.exceptions import TransportError  # noqa: E402
from zeep.transports import Transport  # noqa: E402

from adapters.sap_soap.sandbox import SERVICES, SapSandbox  # noqa: E402

from ..support.net import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# the real SOAMANAGER export of the open-items service, as the repository ships it for the adapter
REAL_WSDL = ROOT / "adapters" / "sap_soap" / "wsdl" / "z_bapi_ar_acc_getopenitems.wsdl"
REAL_WSDL_SHA256 = "f7e25228e93a6245c1163143c8bf3988d5e70d4137ceda5033820808993f1dcb"
OPEN_ITEMS = "Z_BAPI_AR_ACC_GETOPENITEMS"
# the path of the address in the real WSDL (host and port are the SAP system's)
PATH = ("/sap/bc/srt/rfc/sap/z_bapi_ar_acc_getopenitems/100/z_bapi_ar_acc_getopenitems/"
        "z_bapi_ar_acc_getopenitems")
WSDL_NS = {"wsdl": "http://schemas.xmlsoap.org/wsdl/", "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
           "wsoap12": "http://schemas.xmlsoap.org/wsdl/soap12/"}
LARGE = 60
# demo customers and their company codes (adapters/sap_soap/sandbox/README.md)
CUSTOMERS = [(f"{100000 + n:010d}", "1000" if n <= 25 else "3000") for n in range(1, 31)]


class Sandbox:
    """`python -m creditguard sandbox sap` on a free port; stdout read line by line in a thread."""

    def __init__(self, *args: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "creditguard", "sandbox", "sap", "--port", str(self.port), *args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + 15
        while not self.stdout or not self.stdout[-1].startswith("logon:"):
            try:
                self.stdout.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                self.close()
                raise AssertionError(f"sandbox did not start: {self.stdout} {self.process.stderr.read()}") from None

    def _pump(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        self.process.stdout.close()
        self.process.stderr.close()


@pytest.fixture(scope="module")
def demo():
    sandbox = Sandbox()
    yield sandbox
    sandbox.close()


def session(user="admin", password="admin") -> requests.Session:
    s = requests.Session()
    s.auth = (user, password)
    return s


def open_items_service(address: str, user="admin", password="admin"):
    """zeep, strict, on the real WSDL file; only the service address is the sandbox's."""
    transport = Transport(session=session(user, password), timeout=10, operation_timeout=10)
    client = zeep.Client(str(REAL_WSDL), transport=transport, settings=zeep.Settings(strict=True))
    binding = client.wsdl.services[OPEN_ITEMS].ports[OPEN_ITEMS].binding.name
    return client.create_service(binding, address)


def rows(table):
    """Items of a TableOf… value (zeep gives the bare list when it is the only element)."""
    if isinstance(table, list):
        return table
    return list(table.item) if table is not None and table.item else []


def test_shipped_wsdl_is_the_real_export():
    data = REAL_WSDL.read_bytes()
    assert hashlib.sha256(data).hexdigest() == REAL_WSDL_SHA256
    assert (ROOT / "adapters" / "sap_soap" / "sandbox" / "wsdl" / REAL_WSDL.name).read_bytes() == data
    addresses = re.findall(rb'location="http://[^/"]+(/[^"]*)"', data)
    assert addresses == [PATH.encode()] * 2


def test_prints_every_service_with_its_wsdl_url_and_the_logon(demo):
    out = "\n".join(demo.stdout)
    assert f"client 100 on {demo.url}" in out
    for service in SERVICES:
        s = service.lower()
        assert f"{demo.url}/sap/bc/srt/rfc/sap/{s}/100/{s}/{s}?sap-client=100&wsdl" in out
    assert demo.stdout[-1].startswith("logon: admin / admin (HTTP Basic)")


@pytest.mark.parametrize("query", ["wsdl", "sap-client=100&wsdl"])
def test_wsdl_at_the_real_path_with_the_address_rewritten(demo, query):
    r = session().get(f"{demo.url}{PATH}?{query}", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/xml")
    doc = etree.fromstring(r.content)
    locations = doc.xpath("//wsdl:service/wsdl:port/soap:address/@location"
                          " | //wsdl:service/wsdl:port/wsoap12:address/@location", namespaces=WSDL_NS)
    assert locations == [demo.url + PATH] * 2
    # nothing else changed: the real export with the address replaced
    real = REAL_WSDL.read_bytes()
    assert r.content == re.sub(rb'location="http://[^/"]+/', f'location="{demo.url}/'.encode(), real)


def test_every_service_answers_wsdl_at_the_address_of_its_wsdl(demo):
    s = session()
    for service in SERVICES:
        r = s.get(f"{demo.url}/sap/bc/srt/rfc/sap/{service.lower()}/100/{service.lower()}/{service.lower()}?wsdl",
                  timeout=10)
        assert r.status_code == 200, service
        doc = etree.fromstring(r.content)
        for location in doc.xpath("//soap:address/@location | //wsoap12:address/@location", namespaces=WSDL_NS):
            assert requests.utils.urlparse(location).netloc == f"127.0.0.1:{demo.port}"
            assert session().get(f"{location}?wsdl", timeout=10).status_code == 200


@pytest.mark.parametrize("auth", [None, ("admin", "wrong"), ("someone", "admin"), ("admin", "")])
def test_http_basic_admin_admin_only(demo, auth):
    r = requests.get(f"{demo.url}{PATH}?wsdl", auth=auth, timeout=10)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic ")
    assert "Logon failed" in r.text
    assert requests.get(f"{demo.url}{PATH}?wsdl", auth=("admin", "admin"), timeout=10).status_code == 200


def test_zeep_strict_on_the_real_wsdl_reads_open_items(demo):
    for address in (demo.url + PATH, f"{demo.url}{PATH}?sap-client=100"):
        svc = open_items_service(address)
        res = svc.ArAccGetopenitems(Companycode="1000", Customer="0000100001", Keydate=dt.date.today().isoformat(),
                                    Lineitems={})
        assert res.Return.Type not in ("E", "A")
        items = rows(res.Lineitems)
        assert len(items) == 8
        assert {(i.CompCode, i.Customer, i.LocCurrcy) for i in items} == {("1000", "0000100001", "EUR")}
        assert all(i.DbCrInd in ("S", "H") and i.LcAmount > 0 for i in items)
    # business errors are RETURN lines in an HTTP 200 answer, parsed the same way
    res = svc.ArAccGetopenitems(Companycode="1000", Customer="0000199999", Keydate=dt.date.today().isoformat(),
                                Lineitems={})
    assert (res.Return.Type, res.Return.Code) == ("E", "FN502") and rows(res.Lineitems) == []


def test_zeep_strict_with_wrong_credentials_gets_401(demo):
    svc = open_items_service(demo.url + PATH, password="nope")
    with pytest.raises(TransportError) as e:
        svc.ArAccGetopenitems(Companycode="1000", Customer="0000100001", Keydate=dt.date.today().isoformat(),
                              Lineitems={})
    assert e.value.status_code == 401


def count_open_items(url: str, more_customers: int = 0) -> int:
    svc = open_items_service(url + PATH)
    key = dt.date.today().isoformat()
    total = 0
    for customer, bukrs in CUSTOMERS + [(f"{200000 + n:010d}", "1000") for n in range(1, more_customers + 1)]:
        res = svc.ArAccGetopenitems(Companycode=bukrs, Customer=customer, Keydate=key, Lineitems={})
        assert res.Return.Type not in ("E", "A"), (customer, res.Return)
        total += len(rows(res.Lineitems))
    return total


def test_large_data_then_sigterm_exits_0():
    large = Sandbox("--data", f"large:{LARGE}")
    try:
        with SapSandbox(data="demo") as demo_data:  # the same demo data, in process, for the baseline
            baseline = count_open_items(demo_data.url)
        # large:N = demo + N generated open items, spread over the demo customers and N/20 more
        assert count_open_items(large.url, LARGE // 20) == baseline + LARGE
        started = time.monotonic()
        large.process.send_signal(signal.SIGTERM)
        assert large.process.wait(timeout=5) == 0
        assert time.monotonic() - started < 5
        assert "Traceback" not in large.process.stderr.read()
    finally:
        large.close()


@pytest.mark.parametrize("args, message", [
    (["--data", "huge"], "Invalid value for '--data'"),
    (["--data", "large:x"], "Invalid value for '--data'"),
    (["--client", "1"], "Invalid value for '--client'"),
])
def test_bad_options_are_click_errors(args, message):
    r = subprocess.run([sys.executable, "-m", "creditguard", "sandbox", "sap", "--port", "0", *args],
                       cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
