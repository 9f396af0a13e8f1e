"""Two daemons on one real PostgreSQL store: one works the source; kill it and the other takes over."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from adapters.odoo.sandbox import OdooSandbox

from .test_daemon import CONFIG, ROOT, Lines

pytestmark = pytest.mark.postgres


def start(config, env):
    process = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(config), "run"],
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    return process, Lines(process.stderr)


def test_one_leader_per_source_and_takeover(tmp_path, postgres_server):
    url = postgres_server.create_database()
    policy = tmp_path / "policy.toml"
    shutil.copy(ROOT / "policy" / "examples" / "default.toml", policy)
    with OdooSandbox(version="17", data="demo") as sb:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(db="x", policy=policy, url=sb.url).replace('"sqlite:///x"', f'"{url}"'))
        env = dict(os.environ, CG_DAEMON_PASSWORD="admin")
        env.pop("NOTIFY_SOCKET", None)
        first, first_log = start(config, env)
        try:
            first_log.wait_for("leader.acquired")
            first_log.wait_for("sync.source_done")
            second, second_log = start(config, env)
            try:
                standby = second_log.wait_for("leader.standby")
                assert standby["source"] == "odoo"
                first.send_signal(signal.SIGKILL)  # dies mid-work: PostgreSQL frees its lock
                first.wait(timeout=30)
                taken = second_log.wait_for("leader.acquired", timeout=60)  # within one interval (10 s)
                assert taken["source"] == "odoo"
                assert second_log.wait_for("sync.source_done", timeout=60)["source"] == "odoo"
            finally:
                second.send_signal(signal.SIGTERM)
                assert second.wait(timeout=60) == 0
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
