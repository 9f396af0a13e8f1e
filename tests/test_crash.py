"""kill -9 in the middle of a sync, then a restart: the store is consistent and the sync resumes
from its cursor instead of starting over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from adapters.odoo.sandbox import OdooSandbox
from connector.ports import Stream
from connector.store import Store

from .test_daemon import Lines

CONFIG = """\
[store]
url = "sqlite:///{db}"

[sync]
batch_size = 500
interval_seconds = 600

[logging]
level = "debug"
format = "json"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CG_CRASH_PASSWORD"
protocol = "jsonrpc"
"""


def test_kill_during_sync_then_resume(tmp_path):
    db = tmp_path / "cg.db"
    with OdooSandbox(version="17", data="large:20000") as sb:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(db=db, url=sb.url))
        env = dict(os.environ, CG_CRASH_PASSWORD="admin")
        env.pop("NOTIFY_SOCKET", None)
        args = [sys.executable, "-m", "creditguard", "--config", str(config), "run"]
        first = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        lines = Lines(first.stderr)
        while True:  # a few pages of invoices committed, then the plug is pulled
            page = lines.wait_for("sync.page_committed")
            if page.get("stream") == "invoices" and int(page.get("written", 0)) > 0:
                break
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)

        with Store.open(f"sqlite:///{db}") as store:
            stored = store.count(Stream.INVOICES, "odoo")
            cursor = store.get_cursor("odoo", Stream.INVOICES)
            assert 0 < stored < 20000 and cursor is not None  # rows and their cursor, committed together

        second = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        try:
            done = Lines(second.stderr).wait_for("sync.source_done", timeout=120)
            invoices = done["streams"]["invoices"]
            assert invoices["read"] + stored >= 20000 and invoices["read"] < 20000  # resumed, not restarted
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=60) == 0
        with Store.open(f"sqlite:///{db}") as store:
            assert store.count(Stream.INVOICES, "odoo") == sb.search_count(
                "account.move", [("move_type", "in", ["out_invoice", "out_refund"])])
