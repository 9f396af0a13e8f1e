"""Hostile input against the daemon's HTTP API, over real sockets to a running `creditguard run`.

Amounts and bodies that used to answer 500 (or be accepted silently) answer a 4xx naming the field; random
JSON and random bytes never produce a 5xx or a traceback; a real internal failure is a JSON 500 with an error
id, logged once; hundreds of slow and idle connections do not keep /healthz from answering, and a request
dribbled a byte at a time is dropped."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .support.net import free_port
from .test_daemon import ROOT, Lines

TOKEN = "hostile-token-3d7a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON_AUTH = {**AUTH, "Content-Type": "application/json"}
# The ERP is unreachable (its sync fails and is retried): checks by facts need no sync.
CONFIG = """\
[store]
url = "sqlite:///{db}"

[sync]
interval_seconds = 3600

[logging]
format = "json"

[policy]
path = "{policy}"

[http]
listen = "127.0.0.1:{port}"
token_env = "CG_API_TOKEN"
max_body_bytes = 1048576
request_timeout_seconds = {request_timeout}
idle_timeout_seconds = {request_timeout}

[[source]]
name = "odoo"
kind = "odoo"
url = "http://127.0.0.1:{erp_port}"
database = "demo"
username = "admin"
password_env = "CG_DAEMON_PASSWORD"
protocol = "jsonrpc"
retry_attempts = 1
"""


class Daemon:
    def __init__(self, tmp: Path, request_timeout: int) -> None:
        self.db = tmp / "cg.db"
        self.port = free_port()
        config = tmp / "config.toml"
        config.write_text(CONFIG.format(db=self.db, policy=ROOT / "policy" / "examples" / "default.toml",
                                        port=self.port, erp_port=free_port(), request_timeout=request_timeout))
        env = dict(os.environ, CG_DAEMON_PASSWORD="admin", CG_API_TOKEN=TOKEN)
        env.pop("NOTIFY_SOCKET", None)
        self.process = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(config), "run"],
                                        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        self.lines = Lines(self.process.stderr)
        self.lines.wait_for("http.listening")
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)

    def stop(self) -> None:
        self.client.close()
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=60) == 0


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    running = Daemon(tmp_path_factory.mktemp("hostile"), request_timeout=600)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def strict_daemon(tmp_path):
    """A daemon of its own (its store gets broken, its timeouts are short)."""
    running = Daemon(tmp_path, request_timeout=2)
    try:
        yield running
    finally:
        running.stop()


def facts(amount: object = "100.00", currency: str = "USD", **customer: object) -> dict:
    return {"source": "odoo", "event": "check",
            "order": {"erp_id": "41", "reference": "S-HOSTILE", "state": "draft", "currency": currency,
                      "amount_total": amount},
            "customer": {"erp_id": "57", "name": "Hostile Buyer", **customer}}


def raw_amount(literal: str, template: dict | None = None) -> bytes:
    """A body whose amount_total is ``literal`` as written (a JSON number json.dumps cannot produce)."""
    body = json.dumps(template or facts(amount=12345))
    assert body.count("12345") == 1
    return body.replace("12345", literal).encode()


def post(daemon: Daemon, content: bytes, path: str = "/v1/check") -> httpx.Response:
    answer = daemon.client.post(path, content=content, headers=JSON_AUTH)
    assert "Traceback" not in answer.text and answer.status_code < 500, answer.text
    return answer


def assert_error(answer: httpx.Response, status: int, message_start: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["message"].startswith(message_start), answer.text


NOT_AN_AMOUNT = "order.amount_total: not a decimal amount"
OUT_OF_RANGE = "order.amount_total: out of range"


@pytest.mark.parametrize("content, status, message", [
    (json.dumps(facts("1e30")).encode(), 400, NOT_AN_AMOUNT),
    (raw_amount("1e30"), 422, OUT_OF_RANGE),
    (raw_amount("1e308"), 422, OUT_OF_RANGE),
    (json.dumps(facts("1e999999")).encode(), 400, NOT_AN_AMOUNT),
    (raw_amount("1e999999"), 422, OUT_OF_RANGE),
    (raw_amount("1e99999999999999999999999"), 400, NOT_AN_AMOUNT),  # beyond even Decimal's exponents
    (raw_amount("9" * 4000), 422, OUT_OF_RANGE),
    (raw_amount("9" * 5000), 422, OUT_OF_RANGE),  # past Python's int-from-string limit
    (json.dumps(facts("9" * 4000)).encode(), 400, NOT_AN_AMOUNT),
    (raw_amount("1000000000000000"), 422, OUT_OF_RANGE),
    (raw_amount("-1"), 422, "order.amount_total: must not be negative"),
    (json.dumps(facts("1_000")).encode(), 400, NOT_AN_AMOUNT),
    (json.dumps(facts("١٠٠"), ensure_ascii=False).encode(), 400, NOT_AN_AMOUNT),  # Arabic-Indic 100
    (json.dumps(facts("１００")).encode(), 400, NOT_AN_AMOUNT),  # full-width 100
    (json.dumps(facts("NaN")).encode(), 400, NOT_AN_AMOUNT),
    (json.dumps(facts("Infinity")).encode(), 400, NOT_AN_AMOUNT),
    (json.dumps(facts("0x10")).encode(), 400, NOT_AN_AMOUNT),
    (json.dumps(facts("+5")).encode(), 400, NOT_AN_AMOUNT),
    (json.dumps(facts("")).encode(), 400, NOT_AN_AMOUNT),
    (json.dumps(facts([1])).encode(), 400, NOT_AN_AMOUNT),
    (json.dumps(facts(True)).encode(), 400, NOT_AN_AMOUNT),
    (json.dumps(facts("1.001")).encode(), 400, "order.amount_total: not a decimal amount: more than 2 decimals"),
    (json.dumps(facts("1.5", currency="JPY")).encode(), 400, NOT_AN_AMOUNT),
    (raw_amount("0.001"), 400, NOT_AN_AMOUNT),
    (json.dumps(facts(credit_limit="1e30", credit_limit_currency="USD")).encode(), 400,
     "customer.credit_limit: not a decimal amount"),
    (json.dumps(facts(credit_limit=10 ** 20, credit_limit_currency="USD")).encode(), 422,
     "customer.credit_limit: out of range"),
    (json.dumps(facts(credit_limit="5.5", credit_limit_currency="JPY")).encode(), 400,
     "customer.credit_limit: not a decimal amount: more than 0 decimals (JPY has 0)"),
])
def test_bad_amounts_are_a_4xx_naming_the_field(daemon, content, status, message):
    assert_error(post(daemon, content), status, message)


@pytest.mark.parametrize("body", [
    {"customer": "C00001", "amount": "1e30"},
    {"customer": "C00001", "amount": "1_000"},
    {"customer": "C00001", "amount": "١٠٠"},
    {"customer": "C00001", "amount": "1.001", "currency": "USD"},
    {"customer": "C00001", "amount": "NaN"},
    {"customer": "C00001", "amount": 10 ** 20},
])
def test_bad_amounts_in_the_old_form_too(daemon, body):
    assert_error(post(daemon, json.dumps(body, ensure_ascii=False).encode()), 400, "amount: ")
    old = json.dumps({"customer": "C00001", "amount": 12345}).encode()
    for literal in ("1e308", "9" * 5000, "1e99999999999999999999999"):
        assert_error(post(daemon, old.replace(b"12345", literal.encode())), 400, "amount: ")


@pytest.mark.parametrize("amount, currency", [("100.00", "USD"), ("1250.000", "USD"), ("150", "JPY"),
                                              ("1.5e2", "USD"), ("999999999999999.99", "USD")])
def test_good_amounts_are_decided(daemon, amount, currency):
    answer = post(daemon, raw_amount(amount, facts(amount=12345, currency=currency)))
    if currency != "USD":  # read as an amount; the store has no JPY rate to decide with (nothing synced)
        assert_error(answer, 422, "order.currency: no JPY rate")
        return
    assert answer.status_code == 200 and answer.json()["decision"] in ("approve", "hold"), answer.text


@pytest.mark.parametrize("content, message", [
    (b'{"source": "odoo", "order": "S\xff\xfe"}', "body is not UTF-8 JSON"),
    (b"\xef\xbb\xbf{}", "the body is not valid JSON"),  # a byte-order mark
    (b"[" * 1_000_000, "the body is nested more than 32 deep"),
    (b"[" * 2000 + b"]" * 2000, "the body is nested more than 32 deep"),
    (b'{"a":' * 20_000 + b"1" + b"}" * 20_000, "the body is nested more than 32 deep"),
    (b"[" * 33 + b"]" * 33, "the body is nested more than 32 deep"),
    (b"9" * 5000, "the body must be a JSON object"),
    (b'{"customer": "C1", "amount": NaN}', "the body is not valid JSON: NaN"),
    (b'{"customer": "C1", "amount": -Infinity}', "the body is not valid JSON: -Infinity"),
    (b'{"order": "S1"', "the body is not valid JSON"),
])
def test_bad_bodies_are_a_400(daemon, content, message):
    assert_error(post(daemon, content), 400, message)


def test_nesting_up_to_the_limit_is_read(daemon):
    body = facts()
    body["order"]["project"] = "x"
    nested = json.dumps(body).replace('"x"', "[" * 30 + "]" * 30)  # 32 deep in all
    assert_error(post(daemon, nested.encode()), 400, "order.project: ")


def test_a_body_over_the_cap_is_a_413(daemon):
    answer = post(daemon, b"[" * 1_100_000)
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "request_entity_too_large"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.decimals(allow_nan=False, allow_infinity=False).map(str),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30)
AMOUNTS = (st.integers() | st.decimals(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
           | st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{0,8})?([eE][-+]?[0-9]{1,4})?", fullmatch=True) | JSON)


def _dump(value: object) -> str:
    """JSON text, numbers written as the strategy made them (Decimals as JSON numbers)."""
    return json.dumps(value, default=lambda d: f"<<{d}>>", ensure_ascii=False).replace('"<<', "").replace('>>"', "")


@st.composite
def fact_bodies(draw) -> bytes:
    """Bodies shaped like the facts form, with any value in any field (and sometimes extra keys)."""
    body = facts()
    for part, keys in (("order", ("erp_id", "reference", "state", "date", "type", "company_id", "currency",
                                  "amount_total", "amount_uninvoiced", "project")),
                       ("customer", ("erp_id", "name", "commercial_erp_id", "commercial_name", "commercial_ref",
                                     "credit_limit", "credit_limit_currency"))):
        for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
            body[part][key] = draw(AMOUNTS if key in ("amount_total", "amount_uninvoiced", "credit_limit")
                                   else JSON)
    if draw(st.booleans()):
        body["event"] = draw(st.sampled_from(["check", "confirm"]) | JSON)
    return _dump(body).encode()


BODIES = (JSON.map(lambda v: _dump(v).encode())
          | st.dictionaries(st.sampled_from(["customer", "amount", "currency", "order", "source"]), JSON)
          .map(lambda v: _dump(v).encode())
          | fact_bodies() | st.binary(max_size=200))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(content=BODIES)
def test_random_bodies_never_a_5xx(daemon, content):
    answer = post(daemon, content)
    assert answer.status_code in (200, 400, 404, 413, 415, 422), answer.text
    if answer.status_code != 200:
        error = answer.json()["error"]
        assert error["code"] and error["message"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ref=st.text(min_size=1, max_size=40), source=st.none() | st.text(max_size=10), raw=st.binary(max_size=60))
def test_random_paths_and_queries_never_a_5xx(daemon, ref, source, raw):
    params = {"source": source} if source is not None else {}
    for answer in (daemon.client.get(f"/v1/customers/{quote(ref, safe='')}", params=params, headers=AUTH),
                   daemon.client.get("/v1/deadlines", params=params, headers=AUTH),
                   daemon.client.post("/v1/customers/x", content=raw, headers=JSON_AUTH),
                   daemon.client.post("/v1/check", content=raw, headers={**AUTH, "Content-Type": "text/plain"})):
        assert answer.status_code < 500 and "Traceback" not in answer.text, answer.text


def test_an_internal_failure_is_a_json_500_with_an_error_id_logged_once(strict_daemon):
    with sqlite3.connect(strict_daemon.db) as db:  # the store breaks under the running daemon
        db.execute("DROP TABLE decisions")
    answer = strict_daemon.client.post("/v1/check", json=facts(), headers=AUTH)
    assert answer.status_code == 500, answer.text
    error = answer.json()["error"]
    assert error["code"] == "internal_error" and error["message"] == "internal error" and error["error_id"]
    assert "Traceback" not in answer.text and "decisions" not in answer.text and "sqlite" not in answer.text.lower()
    logged = strict_daemon.lines.wait_for("http.internal_error")
    assert logged["error_id"] == error["error_id"] and logged["path"] == "/v1/check"
    assert "Traceback" in logged["exception"]
    assert strict_daemon.client.get("/healthz").status_code == 200
    strict_daemon.client.post("/v1/check", json=facts(), headers=AUTH)
    second = strict_daemon.lines.wait_for("http.internal_error")
    assert second["error_id"] != error["error_id"]  # one log line per failure, each with its own id


def test_a_burst_of_requests_leaves_the_log_in_its_format(strict_daemon):
    """More requests at once than threads: waitress would print a line of its own ("Task queue depth is N") for
    each one that waits; the daemon reports them as one structured warning instead."""
    from concurrent.futures import ThreadPoolExecutor

    def one(_: int) -> int:
        with httpx.Client(base_url=f"http://127.0.0.1:{strict_daemon.port}", timeout=60) as client:
            return client.post("/v1/check", json=facts(), headers=AUTH).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(one, range(200)))
    assert set(statuses) == {200}
    report = strict_daemon.lines.wait_for("http.requests_queued")
    assert report["requests"] >= 1 and report["deepest_queue"] >= 1 and report["threads"] == 4
    assert report["level"] == "warning"
    assert not [line for line in strict_daemon.lines.seen if "queue depth" in line.lower()]


PARTIAL = b"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow: "


def _connect(port: int, first: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    if first:
        sock.sendall(first)
    return sock


def test_slow_and_idle_connections_leave_the_api_answering(daemon):
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
    held = []
    try:
        held += [_connect(daemon.port, PARTIAL) for _ in range(400)]  # partial headers, never finished
        held += [_connect(daemon.port, b"") for _ in range(200)]  # connected, silent
        for sock in held[::7]:
            sock.sendall(b"a")  # still dribbling
        health = daemon.client.get("/healthz", timeout=60)
        assert health.status_code == 200 and health.json() == {"status": "alive"}
        ready = daemon.client.get("/readyz", timeout=60)
        assert ready.status_code in (200, 503) and "status" in ready.json()  # answered (not synced: 503)
        check = daemon.client.post("/v1/check", json=facts(), headers=AUTH, timeout=60)
        assert check.status_code == 200, check.text
    finally:
        for sock in held:
            sock.close()


def test_a_request_dribbled_a_byte_at_a_time_is_dropped(strict_daemon):
    sock = _connect(strict_daemon.port, PARTIAL)
    sock.settimeout(1)
    give_up = time.monotonic() + 120  # "does not hang": the daemon drops it after about 2-3 s
    closed = False
    try:
        while not closed and time.monotonic() < give_up:
            try:
                sock.sendall(b"a")  # active all the time: the idle timeout alone would never close it
                closed = sock.recv(4096) == b""
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                closed = True
    finally:
        sock.close()
    assert closed
    assert strict_daemon.client.get("/healthz").status_code == 200
