"""The command `make demo` prints for the dashboard, run as printed: `creditguard run` on a copy of the demo's
configuration with its sources disabled, serving /ui on the daemon's own listener."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from creditguard.demo import CONFIG, dashboard_command

from ..support.net import free_port
from .conftest import csrf_of


def wait_until_served(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)  # the daemon is starting: a bounded wait for its port, nothing else
    raise AssertionError(f"nothing served {url} within {seconds} s")


def test_the_demo_dashboard_command_serves_the_dashboard(dashboard, tmp_path):
    db = tmp_path / "creditguard.db"
    with sqlite3.connect(dashboard.config.store.url.removeprefix("sqlite:///")) as source, \
            sqlite3.connect(db) as copy:
        source.backup(copy)  # the demo's store: a copy of the synced and enforced one
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(db=db, url="http://127.0.0.1:9", env="CREDITGUARD_ODOO_PASSWORD",
                                    protocol="xmlrpc", policy=dashboard.config.policy.path,
                                    sap_url="http://127.0.0.1:9", sap_env="CREDITGUARD_SAP_PASSWORD"))
    port = free_port()
    command, url, token = dashboard_command(tmp_path, config, port)
    assert url == f"http://127.0.0.1:{port}/ui/" and f"CREDITGUARD_API_TOKEN={token} creditguard --config" in command
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITGUARD_")}  # no ERP password needed
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("NOTIFY_SOCKET", None)
    process = subprocess.Popen(["bash", "-c", command], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_until_served(f"http://127.0.0.1:{port}/healthz", process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            assert client.get("/ui/").headers["location"].startswith("/ui/login")
            form = client.get("/ui/login")
            answer = client.post("/ui/login", data={"csrf": csrf_of(form.text), "token": token})
            assert answer.status_code == 303
            overview = client.get("/ui/")
            assert overview.status_code == 200 and "<h1>Overview</h1>" in overview.text
            assert "Allianz Trade" in client.get("/ui/deadlines").text  # a disabled source's data stay on view
            assert "orders on hold" in client.get("/ui/holds").text
            assert client.get("/readyz").json() == {"status": "ready"}  # nothing to sync: ready
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    log = process.stderr.read()
    assert token not in log and "Traceback" not in log
