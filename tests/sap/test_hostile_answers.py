"""Hostile SOAP answers end in one clear error naming the source, the operation and the URL — never in a
traceback, an unbounded read or a call that outlives its deadline.  A loopback server forwards every call to
the SAP sandbox except the customer list (the first call of a sync), which it answers badly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.sap_soap.client import SapClient
from connector.errors import FatalError, RetryableError, SourceError

from ..support.hostile import Action, HostileServer, answer, cut_short, drip, endless

SERVICE = "z_bapi_customer_getlist"
WHAT = "Z_BAPI_CUSTOMER_GETLIST.CustomerGetlist"
ENVELOPE = ('<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Body>'
            '<n0:CustomerGetlistResponse xmlns:n0="urn:sap-com:document:sap:soap:functions:mc-style">'
            "<Addressdata>{rows}</Addressdata><Return><Type/><Id/><Number>000</Number><Message/></Return>"
            "</n0:CustomerGetlistResponse></soap-env:Body></soap-env:Envelope>")
ROW = "<item><Customer>0000100001</Customer><Name>Müller Maschinenbau GmbH</Name><City>Stuttgart</City></item>"
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">' for i in range(1, 10))
                  + "]>" + ENVELOPE.format(rows="<item><Name>&lol9;</Name></item>")).encode()


def envelope(rows: str = ROW * 3) -> bytes:
    return ENVELOPE.format(rows=rows).encode()


def customer_list(path: str) -> bool:
    return f"/{SERVICE}/" in path


def call_error(sb, action: Action, **kw) -> tuple[SourceError, str, HostileServer]:
    with HostileServer(sb.url, lambda m, p, b: action if customer_list(p) else None) as server:
        client = SapClient(source="sap", base_url=server.url, client="100", username="admin",
                           secret=lambda: "admin", retry_attempts=kw.pop("retry_attempts", 2), retry_wait_max=0.1,
                           **kw)
        try:
            with pytest.raises(SourceError) as raised:
                client.customer_list(max_rows=5)
        finally:
            client.close()
    error = raised.value
    assert "\n" not in str(error) and "Traceback" not in str(error)
    return error, f"sap: {WHAT}: unreadable answer from {client.endpoint('Z_BAPI_CUSTOMER_GETLIST')}: ", server


def test_a_good_answer_through_the_server_is_read(sb):
    with HostileServer(sb.url, lambda m, p, b: answer(envelope()) if customer_list(p) else None) as server:
        client = SapClient(source="sap", base_url=server.url, client="100", username="admin", secret=lambda: "admin")
        rows = client.customer_list(max_rows=5)
        client.close()
    assert [r["City"] for r in rows] == ["Stuttgart"] * 3


def test_xml_bomb_is_refused_not_expanded(sb):
    error, prefix, _ = call_error(sb, answer(BILLION_LAUGHS))
    assert isinstance(error, FatalError)
    assert str(error) == prefix + "XML with a DTD or entity declarations, refused (DTDForbidden)"


def test_html_page_with_status_200(sb):
    page = b"<html><body><h1>SAP NetWeaver Application Server: Logon</h1></body></html>"
    error, prefix, _ = call_error(sb, answer(page, "text/html; charset=utf-8"))
    assert isinstance(error, FatalError)
    assert str(error) == prefix + "not a SOAP answer (text/html page)"


def test_invalid_utf8(sb):
    body = envelope().replace("ü".encode(), b"\xfc", 1)  # Latin-1 bytes in a UTF-8 answer
    error, prefix, _ = call_error(sb, answer(body, "text/xml; charset=utf-8"))
    assert isinstance(error, FatalError)
    bad = body.index(bytes([0xfc]))
    assert str(error) == prefix + f"invalid UTF-8 at byte {bad}"


def test_malformed_xml(sb):
    error, prefix, _ = call_error(sb, answer(envelope()[:-30] + b"<oops>"))
    assert isinstance(error, FatalError)
    assert str(error).startswith(prefix + "not a SOAP answer (malformed XML at line 1 column ")


def test_connection_dropped_mid_answer_is_retried_then_reported(sb):
    error, prefix, server = call_error(sb, cut_short(envelope(ROW * 200)))
    assert isinstance(error, RetryableError)
    assert str(error) == prefix + "connection dropped mid-answer"
    assert server.hits == 2


def test_answer_ending_early_without_a_length(sb):
    body = envelope(ROW * 200)
    error, prefix, _ = call_error(sb, Action(body=body[: len(body) // 2], declared_length=None))
    assert isinstance(error, RetryableError)
    assert str(error) == prefix + "answer ends early (connection dropped mid-answer)"


@pytest.mark.parametrize("depth", [300, 100_000])
def test_deep_nesting(sb, depth):
    error, prefix, _ = call_error(sb, answer(envelope("<item>" * depth + "</item>" * depth)))
    assert isinstance(error, FatalError)
    assert str(error) == prefix + "nested deeper than 200 levels"


def test_answer_over_the_cap_is_not_read_whole(sb):
    error, prefix, _ = call_error(sb, endless(ROW.encode() * 100, prefix=envelope()[:300]), max_answer_mb=1)
    assert isinstance(error, FatalError)
    assert str(error) == prefix + "answer larger than 1 MB"


def test_declared_length_over_the_cap_is_refused_before_reading(sb):
    error, prefix, _ = call_error(sb, Action(body=b"<", declared_length=200 * 1024 * 1024))
    assert str(error) == prefix + "answer larger than 64 MB"


def test_slow_drip_ends_at_the_call_deadline(sb):
    started = time.monotonic()
    error, _, server = call_error(sb, drip(envelope(), 0.5), call_deadline=2)
    assert time.monotonic() - started < 10
    assert isinstance(error, RetryableError)
    url = f"{server.url}/sap/bc/srt/rfc/sap/{SERVICE}/100/{SERVICE}/{SERVICE}"
    assert str(error) == f"sap: {WHAT}: timed out: no complete answer from {url} within 2 s"
    assert server.hits == 1


@pytest.mark.parametrize("rows", ["<item><Customer><x>1</x></Customer></item>"])
def test_rows_of_the_wrong_shape_read_as_rows_without_values(sb, rows):
    """zeep reads SOAP against the WSDL: an element where text is expected gives an empty value (which the
    mapping refuses, record by record)."""
    with HostileServer(sb.url, lambda m, p, b: answer(envelope(rows)) if customer_list(p) else None) as server:
        client = SapClient(source="sap", base_url=server.url, client="100", username="admin", secret=lambda: "admin")
        found = client.customer_list(max_rows=5)
        client.close()
    assert found and all(row.get("Customer") is None for row in found)


@pytest.mark.parametrize("rows, says", [
    ("oops", "the table Addressdata holds text or other elements instead of rows"),
    (ROW + "<Customer>0000100001</Customer>", "the table Addressdata holds text or other elements instead of rows"),
    (ROW + "<item>oops</item>", "a row of the table Addressdata holds text instead of fields"),
])
def test_a_table_holding_text_is_refused_not_read_as_no_rows(sb, rows, says):
    """zeep would read text where a table or a row belongs as no rows — for a snapshot read, "everything was
    deleted"."""
    error, prefix, _ = call_error(sb, answer(envelope(rows)))
    assert isinstance(error, FatalError)
    assert str(error) == prefix + says


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
call_deadline_seconds = 2
max_answer_mb = 1
"""


@pytest.mark.parametrize("action, says", [
    (answer(BILLION_LAUGHS), "XML with a DTD or entity declarations, refused"),
    (answer(b"<html><body>Logon</body></html>", "text/html"), "not a SOAP answer (text/html page)"),
    (endless(ROW.encode() * 100, prefix=envelope()[:300]), "answer larger than 1 MB"),
    (drip(envelope(), 1.0), "timed out: no complete answer"),
], ids=["xml-bomb", "html", "over-cap", "drip"])
def test_cli_prints_one_line_and_exits_1(sb, tmp_path: Path, action, says):
    with HostileServer(sb.url, lambda m, p, b: action if customer_list(p) else None) as server:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(db=tmp_path / "cg.db", url=server.url))
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "creditguard", "--config", str(config), "sync", "--once"],
                                capture_output=True, text=True, timeout=120,
                                env=dict(os.environ, CG_SAP_PASSWORD="admin"))
    assert time.monotonic() - started < 60
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("creditguard: error:")]
    assert len(errors) == 1 and says in errors[0] and server.url in errors[0], result.stderr
    assert re.search(r"creditguard: error: sap: ", errors[0])
