"""`creditguard doctor` against the sandbox, as a real process."""

import os
import subprocess
import sys

import pytest

from adapters.odoo.sandbox import OdooSandbox
from .support.net import free_port

CONFIG = """\
[store]
url = "sqlite:///{db}"

[policy]
path = "{policy}"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CG_DOCTOR_PASSWORD"
protocol = "xmlrpc"
retry_attempts = 1
"""

POLICY = os.path.join(os.path.dirname(__file__), "..", "policy", "examples", "default.toml")


def doctor(tmp_path, url, password="admin"):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(db=tmp_path / "cg.db", policy=os.path.abspath(POLICY), url=url))
    env = dict(os.environ, CG_DOCTOR_PASSWORD=password, COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "creditguard", "--config", str(config), "doctor"],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("addons", [(), ("credit_guard",)])
def test_healthy_installation(tmp_path, addons):
    with OdooSandbox(version="17", data="demo", addons=addons) as sb:
        result = doctor(tmp_path, sb.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "connected to Odoo 17.0 over xmlrpc" in result.stdout
    assert "can read account.move" in result.stdout and "7/7 test cases pass" in result.stdout
    assert "can read account.partial.reconcile (payment dates" in result.stdout
    if addons:
        assert "credit_guard addon installed" in result.stdout
    else:
        assert "holds are advisory" in result.stdout and "install adapters/odoo/addon/credit_guard" in result.stdout


def test_an_addon_older_than_the_tiered_release_is_named(tmp_path):
    with OdooSandbox(version="17", data="demo", addons=("credit_guard",), credit_guard_tiers=False) as sb:
        result = doctor(tmp_path, sb.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "credit_guard addon installed" in result.stdout
    assert "older than the tiered release" in result.stdout and "credit_released_tier" in result.stdout
    assert "update the credit_guard module" in result.stdout


def test_wrong_password_and_unreachable_server_say_how_to_fix(tmp_path):
    with OdooSandbox(version="17", data="demo") as sb:
        result = doctor(tmp_path, sb.url, password="nope")
    assert result.returncode == 1 and "login refused" in result.stdout and "check username" in result.stdout
    assert "nope" not in result.stdout
    port = free_port()
    result = doctor(tmp_path, f"http://127.0.0.1:{port}")
    assert result.returncode == 1 and "connection refused" in result.stdout and "is Odoo running" in result.stdout
