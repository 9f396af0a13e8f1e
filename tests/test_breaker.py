"""The ERP down at start: the daemon keeps running, reports not-ready with the reason, stops
hammering the ERP, and catches up once it is back."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import httpx

from adapters.odoo.sandbox import OdooSandbox

from .test_daemon import CONFIG, ROOT, Lines
from .support.net import free_port


def test_erp_down_then_back(tmp_path):
    policy = tmp_path / "policy.toml"
    shutil.copy(ROOT / "policy" / "examples" / "default.toml", policy)
    erp_port, api_port = free_port(), free_port()
    sandbox = OdooSandbox(version="17", data="demo", port=erp_port)  # not serving yet: the ERP is down
    config = tmp_path / "config.toml"
    config.write_text(
        CONFIG.format(db=tmp_path / "cg.db", policy=policy, url=f"http://127.0.0.1:{erp_port}")
        .replace("interval_seconds = 10", "interval_seconds = 10\nbreaker_failures = 1\nbreaker_cooldown_seconds = 1")
        + f'\n[http]\nlisten = "127.0.0.1:{api_port}"\ntoken_env = "CG_API_TOKEN"\n')
    env = dict(os.environ, CG_DAEMON_PASSWORD="admin", CG_API_TOKEN="t")
    env.pop("NOTIFY_SOCKET", None)
    process = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(config), "run"],
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    try:
        lines = Lines(process.stderr)
        opened = lines.wait_for("breaker.opened")
        assert "connection refused" in opened["error"]
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=10) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert any("circuit open" in reason for reason in ready.json()["reasons"])
            metrics = client.get("/metrics", headers={"Authorization": "Bearer t"}).text
            assert 'creditguard_circuit_open{source="odoo"} 1.0' in metrics
            assert 'creditguard_errors_total{kind="RetryableError",source="odoo"}' in metrics
            sandbox.start()  # the ERP is back
            lines.wait_for("breaker.closed", timeout=60)
            done = lines.wait_for("sync.source_done", timeout=60)
            assert done["streams"]["invoices"]["written"] > 0
            assert client.get("/readyz").status_code == 200
        assert process.poll() is None  # it never stopped running
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        sandbox.stop()


def test_erp_goes_down_mid_sync_then_comes_back(tmp_path):
    from connector.ports import Stream
    from connector.store import Store

    policy = tmp_path / "policy.toml"
    shutil.copy(ROOT / "policy" / "examples" / "default.toml", policy)
    api_port = free_port()
    with OdooSandbox(version="17", data="large:20000") as sandbox:
        config = tmp_path / "config.toml"
        config.write_text(
            CONFIG.format(db=tmp_path / "cg.db", policy=policy, url=sandbox.url)
            .replace("interval_seconds = 10", "interval_seconds = 10\nbatch_size = 500\nbreaker_failures = 1\n"
                                              "breaker_cooldown_seconds = 1")
            .replace('format = "json"', 'format = "json"\nlevel = "debug"')
            + f'\n[http]\nlisten = "127.0.0.1:{api_port}"\ntoken_env = "CG_API_TOKEN"\n')
        env = dict(os.environ, CG_DAEMON_PASSWORD="admin", CG_API_TOKEN="t")
        env.pop("NOTIFY_SOCKET", None)
        process = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(config), "run"],
                                   stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        try:
            lines = Lines(process.stderr)
            while True:  # pull the ERP's plug in the middle of the invoices
                page = lines.wait_for("sync.page_committed")
                if page.get("stream") == "invoices":
                    sandbox.stop()
                    break
            failed = lines.wait_for("sync.source_failed")
            assert failed["error_kind"] == "RetryableError"  # transient: the daemon keeps going
            with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=10) as client:
                assert client.get("/readyz").status_code == 503
                sandbox.start()
                lines.wait_for("breaker.closed", timeout=60)
                lines.wait_for("sync.source_done", timeout=120)
                assert client.get("/readyz").status_code == 200
            assert process.poll() is None
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        with Store.open(f"sqlite:///{tmp_path / 'cg.db'}") as store:  # nothing lost
            assert store.count(Stream.INVOICES, "odoo") == sandbox.search_count(
                "account.move", [("move_type", "in", ["out_invoice", "out_refund"])])
