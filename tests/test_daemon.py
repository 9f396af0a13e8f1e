"""`creditguard run` as a real process: READY over the notify socket, SIGHUP with a broken policy
keeps the running one, SIGTERM stops cleanly with exit 0."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from adapters.odoo.sandbox import OdooSandbox

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """\
[store]
url = "sqlite:///{db}"

[sync]
interval_seconds = 10

[logging]
format = "json"

[policy]
path = "{policy}"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CG_DAEMON_PASSWORD"
protocol = "jsonrpc"
retry_attempts = 1
"""


class Lines:
    """The daemon's stderr, line by line, waited on with a deadline (no sleeping)."""

    def __init__(self, stream):
        self.queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream):
        for line in stream:
            self.queue.put(line)

    def wait_for(self, event: str, timeout: float = 60) -> dict:
        while True:
            line = self.queue.get(timeout=timeout)
            self.seen.append(line)
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == event:
                return record


@pytest.fixture
def notify_socket(tmp_path):
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(60)
    yield path, sock
    sock.close()


def next_message(sock) -> dict[str, str]:
    data = sock.recv(4096).decode()
    return dict(line.split("=", 1) for line in data.splitlines())


def test_daemon_ready_reload_and_stop(tmp_path, notify_socket):
    path, sock = notify_socket
    policy = tmp_path / "policy.toml"
    shutil.copy(ROOT / "policy" / "examples" / "default.toml", policy)
    with OdooSandbox(version="17", data="demo", addons=("credit_guard",)) as sb:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(db=tmp_path / "cg.db", policy=policy, url=sb.url))
        env = dict(os.environ, CG_DAEMON_PASSWORD="admin", NOTIFY_SOCKET=path, WATCHDOG_USEC="2000000")
        process = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(config), "run"],
                                   stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        try:
            lines = Lines(process.stderr)
            ready = next_message(sock)
            assert ready["READY"] == "1" and "running: odoo" in ready["STATUS"]
            done = lines.wait_for("sync.source_done")
            assert done["source"] == "odoo" and done["streams"]["invoices"]["written"] > 0
            snapshot = lines.wait_for("snapshot.taken")  # the day's snapshot, after the first sync of the day
            assert snapshot["source"] == "odoo" and snapshot["groups"] > 0 and snapshot["rows"] > snapshot["groups"]

            policy.write_text(policy.read_text().replace("base_currency = \"USD\"", "base_currency = \"USX\""))
            process.send_signal(signal.SIGHUP)
            rejected = lines.wait_for("daemon.reload_rejected")
            assert "base_currency" in rejected["error"] and "USX" in rejected["error"]
            messages = [next_message(sock) for _ in range(2)]
            while "READY" not in messages[-1]:
                messages.append(next_message(sock))
            assert any(m.get("RELOADING") == "1" for m in messages)
            assert "reload rejected" in messages[-1]["STATUS"]
            assert "Default credit policy" in messages[-1]["STATUS"]  # still the old policy

            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
            lines.wait_for("daemon.stopped")
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    stops = []
    sock.settimeout(0.5)
    try:
        while True:
            stops.append(next_message(sock))
    except TimeoutError:
        pass
    assert any(m.get("STOPPING") == "1" for m in stops)
    assert sum('"snapshot.taken"' in line for line in lines.seen) == 1  # once a day, not after every sync


def test_second_daemon_on_the_same_sqlite_store_says_so(tmp_path):
    policy = tmp_path / "policy.toml"
    shutil.copy(ROOT / "policy" / "examples" / "default.toml", policy)
    with OdooSandbox(version="17", data="demo") as sb:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(db=tmp_path / "cg.db", policy=policy, url=sb.url))
        env = dict(os.environ, CG_DAEMON_PASSWORD="admin")
        env.pop("NOTIFY_SOCKET", None)
        first = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(config), "run"],
                                 stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        try:
            Lines(first.stderr).wait_for("daemon.ready")
            second = subprocess.run([sys.executable, "-m", "creditguard", "--config", str(config), "run"],
                                    capture_output=True, text=True, env=env, timeout=60)
            assert second.returncode == 1 and "Traceback" not in second.stderr
            assert f"pid {first.pid}" in second.stderr and "single-instance" in second.stderr
        finally:
            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=60) == 0
