"""The dashboard's fixtures: a store filled by syncing the Odoo sandbox and enforcing the default policy, and
the API (with the dashboard under /ui) serving it on 127.0.0.1."""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
API_TOKEN = "ui-test-api-token-5d1e9f"
UI_TOKEN = "ui-test-dashboard-token-77ab02"
CONFIG = """\
[store]
url = "sqlite:///{db}"

[policy]
path = "{policy}"

[http]
listen = "127.0.0.1:8765"  # not listened on: the tests serve on port 0
token_env = "CG_UI_TEST_API_TOKEN"
ui_token_env = "CG_UI_TEST_UI_TOKEN"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CG_UI_TEST_ODOO_PASSWORD"
protocol = "jsonrpc"
"""


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory):
    """The synced, enforced store and the API serving it: ``url`` (http://127.0.0.1:PORT), ``store``,
    ``config``, ``config_path``, ``policy``, ``as_of``, ``daemon``."""
    from adapters.odoo.sandbox import OdooSandbox
    from connector.checks import CreditChecker
    from connector.config import load_config
    from connector.enforce import Enforcer
    from connector.logs import configure_logging
    from connector.store import Store
    from creditguard.enforce_commands import make_outbox
    from creditguard.http_api import Api, serve
    from creditguard.sources import build_source
    from creditguard.sync_command import sync_engine
    from policy.loader import load_policy

    configure_logging("warning", "json")  # (the per-test fixture that quiets the logs comes after this one)
    saved = {k: os.environ.get(k) for k in ("CG_UI_TEST_API_TOKEN", "CG_UI_TEST_UI_TOKEN", "CG_UI_TEST_ODOO_PASSWORD")}
    os.environ.update(CG_UI_TEST_API_TOKEN=API_TOKEN, CG_UI_TEST_UI_TOKEN=UI_TOKEN, CG_UI_TEST_ODOO_PASSWORD="admin")
    tmp = tmp_path_factory.mktemp("ui")
    policy_path = tmp / "policy.toml"
    shutil.copy(ROOT / "policy" / "examples" / "default.toml", policy_path)
    config_path = tmp / "config.toml"
    with OdooSandbox(version="17", data="demo", addons=("credit_guard",)) as sb:
        config_path.write_text(CONFIG.format(db=tmp / "cg.db", policy=policy_path, url=sb.url))
        config = load_config(config_path)
        store = Store.open(config.store.url_with_password())
        source = build_source(config.sources[0])
        try:
            sync_engine(config, store).sync_source(source)
        finally:
            source.close()
    policy = load_policy(policy_path)
    as_of = datetime.now(config.sync.tzinfo).date()
    Enforcer(store, policy, as_of, make_outbox(config, store)).run("odoo")  # holds, flags, decisions (no push)
    checker = CreditChecker(store, policy, as_of)
    open_order = next(o for o in store.iter_orders("odoo") if o.state.value in ("draft", "sent"))
    checker.check(open_order.number, "odoo", trigger="check")  # one decision taken by a person's check
    daemon = SimpleNamespace(store=store, config=config, policy=policy, breakers={})
    server = serve(Api(daemon, config.http.token), "127.0.0.1", 0)
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.effective_port}", store=store, config=config,
                              config_path=config_path, policy=policy, as_of=as_of, daemon=daemon,
                              checked_order=open_order.number)
    finally:
        server.close()
        store.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def login(client: httpx.Client, token: str = API_TOKEN) -> httpx.Response:
    """Log in as a browser does: the login form (its CSRF value and cookie), then the token."""
    form = client.get("/ui/login")
    assert form.status_code == 200
    return client.post("/ui/login", data={"csrf": csrf_of(form.text), "token": token, "next": "/ui/"})


@pytest.fixture
def client(dashboard):
    """A logged-in client (the API token)."""
    with httpx.Client(base_url=dashboard.url, timeout=60) as c:
        answer = login(c)
        assert answer.status_code == 303, answer.text
        yield c


@pytest.fixture
def anonymous(dashboard):
    with httpx.Client(base_url=dashboard.url, timeout=60) as c:
        yield c
