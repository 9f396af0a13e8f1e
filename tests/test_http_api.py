"""The daemon's HTTP API, against a running `creditguard run` process on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import httpx
import pytest

from adapters.odoo.sandbox import OdooSandbox

from .support.net import free_port
from .test_daemon import CONFIG, ROOT, Lines

TOKEN = "test-token-4f1b"
DAEMON: dict = {}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """A running daemon with its API; its process, policy file and log go into DAEMON."""
    tmp = tmp_path_factory.mktemp("api")
    policy = tmp / "policy.toml"
    shutil.copy(ROOT / "policy" / "examples" / "default.toml", policy)
    port = free_port()
    with OdooSandbox(version="17", data="demo", addons=("credit_guard",)) as sb:
        config = tmp / "config.toml"
        config.write_text(CONFIG.format(db=tmp / "cg.db", policy=policy, url=sb.url)
                          + f'\n[http]\nlisten = "127.0.0.1:{port}"\ntoken_env = "CG_API_TOKEN"\n'
                          + "max_body_bytes = 4096\n")
        env = dict(os.environ, CG_DAEMON_PASSWORD="admin", CG_API_TOKEN=TOKEN)
        env.pop("NOTIFY_SOCKET", None)
        process = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(config), "run"],
                                   stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        try:
            lines = Lines(process.stderr)
            lines.wait_for("http.listening")
            lines.wait_for("sync.source_done")
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                DAEMON.update(process=process, policy=policy, lines=lines)
                yield client, sb
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_health_and_readiness_need_no_token(api):
    client, _ = api
    assert client.get("/healthz").json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


def test_metrics(api):
    client, _ = api
    assert client.get("/metrics").status_code == 401
    text = client.get("/metrics", headers=AUTH).text
    assert 'creditguard_records{source="odoo",stream="invoices"}' in text
    assert "creditguard_sync_lag_seconds" in text and 'creditguard_policy_info{hash="' in text
    assert 'creditguard_outbox_entries{state="dead"}' in text


def test_insurer_deadlines_and_their_metric(api):
    client, _ = api
    assert client.get("/v1/deadlines").status_code == 401
    body = client.get("/v1/deadlines", headers=AUTH).json()
    acme = next(d for d in body["deadlines"] if d["customer"] == "C00001")
    assert acme["insurer"] == "Allianz Trade" and acme["notify_by"]["status"] in ("due_soon", "missed")
    everything = client.get("/v1/deadlines", params={"all": "1"}, headers=AUTH).json()["deadlines"]
    assert len(everything) >= len(body["deadlines"])
    assert client.get("/v1/deadlines", params={"source": "nope"}, headers=AUTH).status_code == 404
    status = acme["notify_by"]["status"]
    text = client.get("/metrics", headers=AUTH).text
    assert f'creditguard_insurer_deadlines{{kind="notify_by",source="odoo",status="{status}"}}' in text


def test_holds(api):
    client, _ = api
    assert client.get("/v1/holds").status_code == 401
    body = client.get("/v1/holds", headers=AUTH).json()
    assert isinstance(body["holds"], list)
    for hold in body["holds"]:
        assert {"source", "order_number", "state", "revision", "reasons", "release_tier", "since", "released_by",
                "released_tier", "release_reason", "updated_at"} <= set(hold)
    held = client.get("/v1/holds", params={"state": "held"}, headers=AUTH).json()["holds"]
    assert all(h["state"] == "held" for h in held)
    bad = client.get("/v1/holds", params={"state": "bogus"}, headers=AUTH)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"


def test_check_an_order_and_a_new_order(api):
    client, sb = api
    number = sb.search_read("sale.order", [("state", "=", "draft")], ["name"])[0]["name"]
    answer = client.post("/v1/check", json={"order": number, "source": "odoo"}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["order"] == number and body["decision"] in ("approve", "hold")
    assert {"customer", "credit_group", "reasons", "exposure", "limit", "headroom", "currency",
            "release_tier"} <= set(body)
    customer = body["customer"]
    new = client.post("/v1/check", json={"customer": customer, "amount": "1250.00", "currency": "USD"},
                      headers=AUTH)
    assert new.status_code == 200, new.text
    assert new.json()["exposure"]["components"]["current_order"] == "1250.00"
    row = client.get(f"/v1/customers/{customer}", headers=AUTH)
    assert row.status_code == 200 and row.json()["customer"] == customer and "limit" in row.json()


@pytest.mark.parametrize("kwargs, status, code", [
    ({"json": {"order": "S00001"}}, 401, "unauthorized"),
    ({"json": {"order": "S00001"}, "headers": {"Authorization": "Bearer wrong"}}, 401, "unauthorized"),
    ({"content": b"{not json", "headers": {**AUTH, "Content-Type": "application/json"}}, 400, "bad_json"),
    ({"content": b"[1, 2]", "headers": {**AUTH, "Content-Type": "application/json"}}, 400, "bad_request"),
    ({"json": {"order": 42}, "headers": AUTH}, 400, "bad_request"),
    ({"json": {"customer": "C00001", "amount": True}, "headers": AUTH}, 400, "bad_request"),
    ({"json": {"customer": "C00001", "amount": "-5"}, "headers": AUTH}, 400, "bad_request"),
    ({"json": {"customer": "C00001", "amount": "5", "currency": "XXQ"}, "headers": AUTH}, 400, "bad_request"),
    ({"json": {}, "headers": AUTH}, 400, "bad_request"),
    ({"json": {"order": "S99999"}, "headers": AUTH}, 404, "not_found"),
    ({"content": b"order=S1", "headers": {**AUTH, "Content-Type": "application/x-www-form-urlencoded"}}, 415,
     "unsupported_media_type"),
    ({"content": b"{" + b" " * 10_000 + b"}", "headers": {**AUTH, "Content-Type": "application/json"}}, 413,
     "request_entity_too_large"),
])
def test_bad_requests_get_clear_4xx(api, kwargs, status, code):
    client, _ = api
    answer = client.post("/v1/check", **kwargs)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["message"] and "Traceback" not in answer.text


def test_unknown_paths_and_methods(api):
    client, _ = api
    assert client.get("/v2/nothing", headers=AUTH).status_code == 404
    assert client.get("/v1/check", headers=AUTH).status_code == 405
    assert client.get("/v1/customers/C99999", headers=AUTH).status_code == 404



def test_a_broken_policy_on_sighup_keeps_the_running_one(api):
    client, _ = api
    metrics = client.get("/metrics", headers=AUTH).text.splitlines()
    [policy_line] = [line for line in metrics if line.startswith("creditguard_policy_info")]
    policy = DAEMON["policy"]
    policy.write_text(policy.read_text().replace("[[approval_tiers]]", "[[approval_tiers]]\nrank = 1", 1))
    DAEMON["process"].send_signal(signal.SIGHUP)
    rejected = DAEMON["lines"].wait_for("daemon.reload_rejected")
    assert "rank" in rejected["error"]
    assert policy_line in client.get("/metrics", headers=AUTH).text.splitlines()  # still the old policy


def test_queued_requests_are_reported_at_most_once_a_minute():
    """waitress's per-request queue warnings, as the daemon reports them (see test_http_hostile.py for the daemon)."""
    import logging

    from structlog.testing import capture_logs

    from connector.logs import configure_logging
    from creditguard.http_api import QueuedRequests

    now = [100.0]
    queued = QueuedRequests(threads=2, clock=lambda: now[0])

    def waiting(depth: int) -> bool:
        return queued.filter(logging.LogRecord("waitress.queue", logging.WARNING, "task.py", 113,
                                               "Task queue depth is %d", (depth,), None))

    configure_logging("warning", "json")
    with capture_logs() as logs:
        assert waiting(1) is False  # never printed by logging itself
        for depth in (3, 5, 2):
            now[0] += 10
            waiting(depth)
        now[0] += 31  # a minute after the first report
        waiting(1)
    reports = [(e["requests"], e["deepest_queue"], e["seconds"]) for e in logs if e["event"] == "http.requests_queued"]
    assert reports == [(1, 1, 0.0), (4, 5, 61.0)]
