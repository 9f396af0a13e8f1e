"""Stopping the daemon: what waits in the outbox is pushed on the way out, and a job stuck in an
ERP call does not hold the stop beyond [sync].stop_timeout_seconds."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from adapters.odoo.sandbox import OdooSandbox
from connector.outbox import Outbox
from connector.store import Store

from .test_daemon import CONFIG, ROOT, Lines


def daemon(config, env):
    process = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(config), "run"],
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    return process, Lines(process.stderr)


def environment():
    env = dict(os.environ, CG_DAEMON_PASSWORD="admin")
    env.pop("NOTIFY_SOCKET", None)
    return env


def test_outbox_is_flushed_on_sigterm(tmp_path):
    policy = tmp_path / "policy.toml"
    shutil.copy(ROOT / "policy" / "examples" / "default.toml", policy)
    db = tmp_path / "cg.db"
    with OdooSandbox(version="17", data="demo", addons=("credit_guard",)) as sb:
        [order] = sb.search_read("sale.order", [("state", "=", "draft")], ["id", "name"])[:1]
        with Store.open(f"sqlite:///{db}") as store:  # a hold queued while the ERP was unreachable
            Outbox(store).enqueue(source="odoo", kind="place_hold", target_model="sale.order",
                                  target_id=str(order["id"]), key=f"odoo:hold:{order['id']}:r1", payload={
                                      "order": order["name"], "held": True, "revision": 1,
                                      "reasons": [{"code": "over_limit", "message": "Exposure above the limit."}],
                                      "codes": ["over_limit"], "release_tier": "credit_manager",
                                      "since": "2026-11-28T09:00:00+00:00", "customer": "x",
                                      "exposure": "10.00", "currency": "USD"})
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(db=db, policy=policy, url=sb.url).replace("interval_seconds = 10",
                                                                                  "interval_seconds = 3600"))
        process, lines = daemon(config, environment())
        lines.wait_for("sync.source_done")
        process.send_signal(signal.SIGTERM)
        flushed = lines.wait_for("daemon.outbox_flushed")
        assert flushed["result"]["applied"] == 1
        assert process.wait(timeout=60) == 0
        assert sb.search_read("sale.order", [("id", "=", order["id"])], ["credit_hold"])[0]["credit_hold"] is True


def test_a_stuck_job_does_not_hold_the_stop(tmp_path):
    policy = tmp_path / "policy.toml"
    shutil.copy(ROOT / "policy" / "examples" / "default.toml", policy)
    with socket.socket() as silent:  # an "ERP" that accepts connections and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(db=tmp_path / "cg.db", policy=policy,
                                        url=f"http://127.0.0.1:{silent.getsockname()[1]}")
                          .replace("interval_seconds = 10", "interval_seconds = 10\nstop_timeout_seconds = 1")
                          .replace("retry_attempts = 1", "retry_attempts = 1\ntimeout = 120"))
        process, lines = daemon(config, environment())
        lines.wait_for("daemon.ready")
        waiting, _ = silent.accept()  # the sync job is now waiting for an answer that never comes
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        lines.wait_for("daemon.stop_timeout")
        assert process.wait(timeout=30) == 0
        assert time.monotonic() - started < 20
        waiting.close()
