"""The cases in the HTTP API of a running `creditguard run` synced from the Odoo sandbox, over real sockets: the
daemon's daily dunning run opens the cases; the API lists and works them; bad input is a 4xx naming the field,
never a 5xx."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.odoo.sandbox import OdooSandbox
from tests.support.net import free_port
from tests.test_daemon import Lines

TOKEN = "cases-token-51b2"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
POLICY = """\
version = 1
name = "cases api"
base_currency = "USD"

[dunning]
send = "auto"

[[dunning.levels]]
days = 1
channel = "email"
template = "reminder"

[[dunning.levels]]
days = 3000
channel = "letter"
template = "demand"
approval = true
"""
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

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CG_DAEMON_PASSWORD"
protocol = "jsonrpc"
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cases")
    with OdooSandbox(version="17", data="demo") as sb:
        (tmp / "policy.toml").write_text(POLICY)
        port = free_port()
        config = tmp / "config.toml"
        config.write_text(CONFIG.format(db=tmp / "cg.db", policy=tmp / "policy.toml", port=port, url=sb.url))
        env = dict(os.environ, CG_DAEMON_PASSWORD="admin", CG_API_TOKEN=TOKEN)
        env.pop("NOTIFY_SOCKET", None)
        process = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(config), "run"],
                                   stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        try:
            lines = Lines(process.stderr)
            done = lines.wait_for("dunning.done", timeout=120)
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
            yield client, sb, done
            client.close()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def test_the_daemon_runs_dunning_and_the_api_lists_the_cases(api):
    client, sb, done = api
    assert done["actions"].get("send", 0) >= 1
    assert client.get("/v1/cases").status_code == 401
    cases = client.get("/v1/cases", headers=AUTH).json()["cases"]
    assert cases and all(c["state"] == "open" for c in cases)
    group = cases[0]["credit_group"]
    assert [s["state"] for s in cases[0]["dunning"]] == ["queued"]
    detail = client.get(f"/v1/cases/odoo:{group}", headers=AUTH).json()
    assert [e["event"] for e in detail["cases"][0]["history"]] == ["opened", "dunning_sent"]
    # the reminder is in the customer's chatter (the daemon pushed its outbox)
    assert sb.search_count("mail.message", [("model", "=", "res.partner"), ("res_id", "=", int(group)),
                                            ("body", "ilike", "creditguard")]) == 1


def _post_json(client, path, body):
    return client.post(path, headers={**AUTH, "Content-Type": "application/json"}, content=json.dumps(body))


def test_actions_and_their_bad_input(api):
    client, _sb, _ = api
    group = client.get("/v1/cases", headers=AUTH).json()["cases"][-1]["credit_group"]
    path = f"/v1/cases/odoo:{group}"
    r = _post_json(client, f"{path}/promise", {"amount": "abc", "date": "2099-01-01"})
    assert r.status_code == 400 and "amount" in r.json()["error"]["message"]
    r = _post_json(client, f"{path}/promise", {"amount": "-5", "date": "2099-01-01"})
    assert r.status_code == 422 and "amount" in r.json()["error"]["message"]
    r = _post_json(client, f"{path}/promise", {"amount": "10", "date": "2000-01-01"})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("date:")
    r = _post_json(client, f"{path}/promise", {"amount": "10", "date": "2099-02-30"})
    assert r.status_code == 400 and "date" in r.json()["error"]["message"]
    r = _post_json(client, f"{path}/promise", {"amount": "10", "date": "2099-01-01", "colour": "red"})
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("colour:")
    r = _post_json(client, f"{path}/dispute", {"amount": "10"})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("reason:")
    r = _post_json(client, f"{path}/fly", {})
    assert r.status_code == 404
    r = _post_json(client, "/v1/cases/nobody-here/note", {"text": "x"})
    assert r.status_code == 404
    assert client.get("/v1/cases?state=bogus", headers=AUTH).status_code == 400
    assert client.post(f"{path}/note", headers=AUTH, content=b"{}").status_code == 415
    r = _post_json(client, f"{path}/promise", {"amount": "10.00", "date": "2099-01-01", "by": "carla"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["state"] == "promise_to_pay" and doc["promise"] == {"date": "2099-01-01", "amount": "10.00",
                                                                   "overdue_when_given": doc["promise"][
                                                                       "overdue_when_given"]}
    assert doc["history"][-1]["actor"] == "api:carla"
    r = _post_json(client, f"{path}/resolve", {})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("action:")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from(["promise", "dispute", "note", "contact", "approve", "close", "x"]),
       body=st.dictionaries(st.sampled_from(["amount", "date", "text", "reason", "by", "source", "level"]),
                            st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                      st.text(max_size=30), st.lists(st.integers(), max_size=2)), max_size=4))
def test_random_action_bodies_never_a_5xx(api, action, body):
    client, _sb, _ = api
    group = client.get("/v1/cases?all=1", headers=AUTH).json()["cases"][0]["credit_group"]
    r = _post_json(client, f"/v1/cases/odoo:{group}/{action}", body)
    assert r.status_code < 500, r.text
