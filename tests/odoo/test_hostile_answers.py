"""Hostile answers over XML-RPC, JSON-RPC and JSON-2 end in one clear error naming the source and the URL,
never in a traceback, an unbounded read or a call that outlives its deadline.

A loopback server forwards every call to the Odoo sandbox except the one under test, which it answers with
an XML bomb, an HTML page, invalid UTF-8, half an answer, nesting ten thousand deep, the wrong shape, an
endless body or one byte a second.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path

import pytest

from adapters.odoo.client import OdooClient
from adapters.odoo.sandbox import OdooSandbox
from adapters.odoo.source import OdooSource
from connector.errors import FatalError, RetryableError, SourceError
from connector.ports import Stream

from ..support.hostile import Action, HostileServer, answer, cut_short, drip, endless

PROTOCOLS = ["xmlrpc", "jsonrpc", "json2"]
ENDPOINT = {"xmlrpc": "/xmlrpc/2/object", "jsonrpc": "/jsonrpc", "json2": "/json/2/res.partner/search_read"}
CONTENT_TYPE = {"xmlrpc": "text/xml", "jsonrpc": "application/json", "json2": "application/json"}
LABEL = {"xmlrpc": "XML-RPC", "jsonrpc": "JSON-RPC", "json2": "a JSON-2 answer"}

BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b"]><methodResponse><params><param><value><string>&lol9;</string></value></param></params>"
                    b"</methodResponse>")
HTML = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>...</form></body></html>"


@pytest.fixture(scope="module")
def sandbox17():
    with OdooSandbox(version="17", data="demo") as sb:
        yield sb


@pytest.fixture(scope="module")
def sandbox19():
    with OdooSandbox(version="19", data="demo") as sb:
        yield sb


def upstream(protocol, sandbox17, sandbox19) -> tuple[str, str]:
    sb = sandbox19 if protocol == "json2" else sandbox17
    return sb.url, (sb.api_key if protocol == "json2" else "admin")


def make_source(url: str, protocol: str, password: str, **kw) -> OdooSource:
    client = OdooClient(source="odoo", url=url, database="demo", username="admin", secret=lambda: password,
                        protocol=protocol, timeout=10, retry_attempts=2, retry_wait_max=0.1, **kw)
    return OdooSource("odoo", client)


def ok(protocol: str, value) -> bytes:
    """``value`` as a successful answer of ``protocol``."""
    if protocol == "xmlrpc":
        return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode()
    if protocol == "jsonrpc":
        return json.dumps({"jsonrpc": "2.0", "id": 1, "result": value}, ensure_ascii=False).encode()
    return json.dumps(value, ensure_ascii=False).encode()


def nested(protocol: str, depth: int) -> bytes:
    if protocol == "xmlrpc":
        return (b"<?xml version='1.0'?><methodResponse><params><param>" + b"<value><array><data>" * depth
                + b"</data></array></value>" * depth + b"</param></params></methodResponse>")
    deep = b"[" * depth + b"]" * depth
    return b'{"jsonrpc": "2.0", "id": 1, "result": ' + deep + b"}" if protocol == "jsonrpc" else deep


def invalid_utf8(protocol: str) -> bytes:
    return ok(protocol, [{"id": 1, "name": "caf\u00e9"}]).replace("\u00e9".encode(), b"\xff\xfe")


def partners_search_read(protocol: str):
    """A rule: the search_read of res.partner (the customers stream)."""
    def matches(method: str, path: str, body: bytes) -> bool:
        if protocol == "json2":
            return path == "/json/2/res.partner/search_read"
        return b"res.partner" in body and b"search_read" in body
    return matches


def read_customers(source: OdooSource) -> None:
    source.open()
    for _ in source.read_all(Stream.CUSTOMERS, 0, 100):
        pass


def sync_error(protocol, sandbox17, sandbox19, action: Action, **kw) -> tuple[SourceError, str, HostileServer]:
    url, password = upstream(protocol, sandbox17, sandbox19)
    matches = partners_search_read(protocol)
    with HostileServer(url, lambda m, p, b: action if matches(m, p, b) else None) as server:
        source = make_source(server.url, protocol, password, **kw)
        try:
            with pytest.raises(SourceError) as raised:
                read_customers(source)
        finally:
            source.close()
    error = raised.value
    assert "\n" not in str(error) and "Traceback" not in str(error)
    return error, f"odoo: unreadable answer from {server.url}{ENDPOINT[protocol]}: ", server


# ---------------------------------------------------------------------------------------------- the answers


def test_xml_bomb_is_refused_not_expanded(sandbox17, sandbox19):
    error, prefix, _ = sync_error("xmlrpc", sandbox17, sandbox19, answer(BILLION_LAUGHS))
    assert isinstance(error, FatalError)
    assert str(error) == prefix + "XML with a DTD or entity declarations, refused (DTDForbidden)"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_html_page_with_status_200(sandbox17, sandbox19, protocol):
    error, prefix, _ = sync_error(protocol, sandbox17, sandbox19, answer(HTML, "text/html; charset=utf-8"))
    assert isinstance(error, FatalError)
    assert str(error) == prefix + f"not {LABEL[protocol]} (text/html page)"


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc"])
def test_html_page_without_its_content_type(sandbox17, sandbox19, protocol):
    page = HTML.replace(b"<!DOCTYPE html>", b"") + b"<p>unclosed"
    error, prefix, _ = sync_error(protocol, sandbox17, sandbox19, answer(page, CONTENT_TYPE[protocol]))
    assert isinstance(error, FatalError) and str(error).startswith(prefix + f"not {LABEL[protocol]} (malformed")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_invalid_utf8(sandbox17, sandbox19, protocol):
    body = invalid_utf8(protocol)
    error, prefix, _ = sync_error(protocol, sandbox17, sandbox19, answer(body, CONTENT_TYPE[protocol]))
    assert isinstance(error, FatalError)
    bad = body.index(b"\xff")
    assert str(error) == prefix + f"invalid UTF-8 at byte {bad}"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_connection_dropped_mid_answer_is_retried_then_reported(sandbox17, sandbox19, protocol):
    body = ok(protocol, [{"id": i, "name": f"Partner {i}"} for i in range(200)])
    error, prefix, server = sync_error(protocol, sandbox17, sandbox19, cut_short(body, CONTENT_TYPE[protocol]))
    assert isinstance(error, RetryableError)
    assert str(error) == prefix + "connection dropped mid-answer"
    assert server.hits == 2  # retry_attempts = 2


def test_answer_ending_early_without_a_length(sandbox17, sandbox19):
    """No Content-Length: the end of the connection looks like the end of the answer; the XML does not."""
    body = ok("xmlrpc", [{"id": i, "name": f"Partner {i}"} for i in range(200)])
    action = Action(body=body[: len(body) // 2], declared_length=None)
    error, prefix, _ = sync_error("xmlrpc", sandbox17, sandbox19, action)
    assert isinstance(error, RetryableError)
    assert str(error) == prefix + "answer ends early (connection dropped mid-answer)"


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("depth", [300, 100_000])
def test_deep_nesting(sandbox17, sandbox19, protocol, depth):
    error, prefix, _ = sync_error(protocol, sandbox17, sandbox19, answer(nested(protocol, depth),
                                                                         CONTENT_TYPE[protocol]))
    assert isinstance(error, FatalError)
    assert str(error) == prefix + "nested deeper than 200 levels"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_answer_over_the_cap_is_not_read_whole(sandbox17, sandbox19, protocol):
    """An endless answer (no Content-Length) is given up at the cap, well before it ends."""
    row = ok(protocol, [{"id": 1, "name": "x" * 1000}])
    error, prefix, _ = sync_error(protocol, sandbox17, sandbox19,
                                  endless(b" " * 65536, CONTENT_TYPE[protocol], prefix=row[:-1]), max_answer_mb=1)
    assert isinstance(error, FatalError)
    assert str(error) == prefix + "answer larger than 1 MB"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_declared_length_over_the_cap_is_refused_before_reading(sandbox17, sandbox19, protocol):
    action = Action(content_type=CONTENT_TYPE[protocol], body=b"[", declared_length=200 * 1024 * 1024)
    error, prefix, _ = sync_error(protocol, sandbox17, sandbox19, action)
    assert str(error) == prefix + "answer larger than 64 MB"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_slow_drip_ends_at_the_call_deadline(sandbox17, sandbox19, protocol):
    body = ok(protocol, [{"id": 1, "name": "x"}])
    started = time.monotonic()
    error, _, server = sync_error(protocol, sandbox17, sandbox19, drip(body, 0.5, CONTENT_TYPE[protocol]),
                                  call_deadline=2)
    assert time.monotonic() - started < 10
    assert isinstance(error, RetryableError)
    assert str(error) == f"odoo: timed out: no complete answer from {server.url}{ENDPOINT[protocol]} within 2 s"
    assert server.hits == 1  # the deadline covers the retries: none could finish in time


# --------------------------------------------------------------------------------------------- wrong shapes


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("value, says", [
    ("oops", "a string where a list of records was expected"),
    ({"id": 1}, "a dict where a list of records was expected"),
    (["oops"], "a string where a record (a JSON object / XML-RPC struct) was expected"),
    ([{"name": "no id"}], "a record without an integer id (id: null"),
])
def test_search_read_of_the_wrong_shape(sandbox17, sandbox19, protocol, value, says):
    error, _, server = sync_error(protocol, sandbox17, sandbox19, answer(ok(protocol, value), CONTENT_TYPE[protocol]))
    assert isinstance(error, FatalError)
    assert str(error).startswith(f"odoo: res.partner.search_read answered {says}")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_record_missing_fields_is_quarantined_not_fatal(sandbox17, sandbox19, protocol):
    url, password = upstream(protocol, sandbox17, sandbox19)
    matches = partners_search_read(protocol)
    records = [{"id": 7, "write_date": "2026-01-01 00:00:00"}]  # every other field missing
    rule = (lambda m, p, b: answer(ok(protocol, records), CONTENT_TYPE[protocol]) if matches(m, p, b) else None)
    with HostileServer(url, rule) as server:
        source = make_source(server.url, protocol, password)
        source.open()
        pages = list(source.read_all(Stream.CUSTOMERS, 0, 100))
        source.close()
    (entry,) = pages[0].entries
    assert entry.item.erp_id == "7" and entry.item.reason.startswith("missing field ")


def version_call(protocol: str):
    def matches(method: str, path: str, body: bytes) -> bool:
        if protocol == "json2":
            return path == "/json/version"
        return path.endswith("/common") or path == "/jsonrpc" and b'"version"' in body
    return matches


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("value", ["17.0", ["17.0"], None])
def test_version_of_the_wrong_shape(sandbox17, sandbox19, protocol, value):
    url, password = upstream(protocol, sandbox17, sandbox19)
    matches = version_call(protocol)
    with HostileServer(url, lambda m, p, b: answer(ok(protocol, value), CONTENT_TYPE[protocol])
                       if matches(m, p, b) else None) as server:
        source = make_source(server.url, protocol, password)
        with pytest.raises(FatalError) as raised:
            source.open()
        source.close()
    where = "GET /json/version" if protocol == "json2" else "common.version"
    assert str(raised.value).startswith(f"odoo: {where} answered ")
    assert "was expected" in str(raised.value) and server.url in str(raised.value)


def test_version_info_of_the_wrong_shape_is_an_unknown_version(sandbox17, sandbox19):
    """A dict whose server_version_info is not a list: version unknown (warned), the sync goes on."""
    matches = version_call("xmlrpc")
    value = {"server_version": "17.0", "server_version_info": {"major": 17}}
    with HostileServer(sandbox17.url, lambda m, p, b: answer(ok("xmlrpc", value))
                       if matches(m, p, b) and b"<methodName>version" in b else None) as server:
        source = make_source(server.url, "xmlrpc", "admin")
        info = source.open()
        source.close()
    assert info.server_version == "17.0" and source.version.major == 0


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc"])
@pytest.mark.parametrize("value", ["2", [2], {"uid": 2}])
def test_login_of_the_wrong_shape(sandbox17, protocol, value):
    def rule(method: str, path: str, body: bytes):
        return answer(ok(protocol, value), CONTENT_TYPE[protocol]) if b"authenticate" in body else None
    with HostileServer(sandbox17.url, rule) as server:
        client = make_source(server.url, protocol, "admin").client
        with pytest.raises(FatalError) as raised:
            client.login()
        client.close()
    assert str(raised.value).startswith("odoo: common.authenticate answered a ")
    assert str(raised.value).endswith(f"where a user id or false was expected (from {server.url})")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_read_of_the_wrong_shape(sandbox17, sandbox19, protocol):
    url, password = upstream(protocol, sandbox17, sandbox19)

    def rule(method: str, path: str, body: bytes):
        hit = path == "/json/2/res.partner/read" if protocol == "json2" else b"res.partner" in body and (
            b"<string>read</string>" in body or b'"read"' in body)
        return answer(ok(protocol, "denied"), CONTENT_TYPE[protocol]) if hit else None
    with HostileServer(url, rule) as server:
        client = make_source(server.url, protocol, password).client
        client.login()
        with pytest.raises(FatalError, match=r"^odoo: res.partner.read answered a string where a list of records"):
            client.read("res.partner", [1], ["name"])
        client.close()


# ------------------------------------------------------------------------------------------------ the CLI

CONFIG = """\
[store]
url = "sqlite:///{store}"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CREDITGUARD_ODOO_PASSWORD"
protocol = "{protocol}"
retry_attempts = 1
call_deadline_seconds = 2
max_answer_mb = 1
"""


@pytest.mark.parametrize("protocol, action, says", [
    ("xmlrpc", answer(BILLION_LAUGHS), "XML with a DTD or entity declarations, refused"),
    ("jsonrpc", answer(HTML, "text/html"), "not JSON-RPC (text/html page)"),
    ("json2", answer(nested("json2", 100_000), "application/json"), "nested deeper than 200 levels"),
    ("jsonrpc", endless(b" " * 65536, "application/json", prefix=b'{"result": [1'), "answer larger than 1 MB"),
    ("xmlrpc", drip(ok("xmlrpc", [1]), 1.0), "timed out: no complete answer"),
], ids=["xml-bomb", "html", "deep-json", "over-cap", "drip"])
def test_cli_prints_one_line_and_exits_1(sandbox17, sandbox19, tmp_path: Path, protocol, action, says):
    url, password = upstream(protocol, sandbox17, sandbox19)
    # the first call of a sync: the server version
    matches = version_call(protocol)
    with HostileServer(url, lambda m, p, b: action if matches(m, p, b) else None) as server:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(store=tmp_path / "cg.db", url=server.url, protocol=protocol))
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "creditguard", "--config", str(config), "sync", "--once"],
                                capture_output=True, text=True, timeout=120,
                                env=dict(os.environ, CREDITGUARD_ODOO_PASSWORD=password))
    assert time.monotonic() - started < 60
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("creditguard: error:")]
    assert len(errors) == 1 and says in errors[0] and server.url in errors[0], result.stderr
    assert password not in result.stderr + result.stdout
