"""The systemd unit passes `systemd-analyze verify` and declares the service contract."""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "packaging" / "creditguard.service"


def test_unit_verifies(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed (Debian package systemd)")
    # the unit names the installed binary; point it at this checkout's to verify it here
    binary = str(Path(sys.executable).with_name("creditguard"))
    unit = tmp_path / "creditguard.service"
    unit.write_text(UNIT.read_text().replace("/opt/creditguard/.venv/bin/creditguard", binary))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_unit_declares_notify_watchdog_and_hardening():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(UNIT.read_text())
    service = parser["Service"]
    assert service["Type"] == "notify" and service["Restart"] == "on-failure"
    assert "WatchdogSec" in service and service["DynamicUser"] == "yes"
    assert service["StateDirectory"] == "creditguard" and service["ProtectSystem"] == "strict"
    assert "LoadCredential" in service
    assert service["ExecStart"].endswith(" run")
