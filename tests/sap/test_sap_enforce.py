"""`creditguard enforce` on a SAP source: a credit hold becomes the configured delivery block."""

import json
import os
import subprocess
import sys

from adapters.sap_soap.sandbox import SapSandbox

from .test_sap_cli import CONFIG

POLICY = """\
version = 1
name = "SAP test policy"
base_currency = "EUR"

[limits.grades]
5 = 1

[customers."sap:0000100001"]
grade = 5

[rules.overdue]
enabled = false
[rules.no_limit]
enabled = false
"""


def cli(config, *args):
    env = dict(os.environ, CG_SAP_PASSWORD="admin")
    return subprocess.run([sys.executable, "-m", "creditguard", "--config", str(config), *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_hold_is_a_delivery_block_set_once(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    with SapSandbox() as sb:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(db=tmp_path / "cg.db", url=sb.url)
                          .replace("[[source]]", f'[policy]\npath = "{policy}"\n\n[[source]]', 1))
        assert cli(config, "sync", "--once").returncode == 0
        first = cli(config, "enforce", "--json")
        assert first.returncode == 0, first.stderr
        [result] = json.loads(first.stdout)["sources"]
        held = [c["order"] for c in result["changes"] if c["action"] == "place_hold"]
        assert held and result["outbox"]["dead"] == 0
        blocked = [sb.order(number.zfill(10)) for number in held]
        # our block is set, or the order already carried someone else's and is left alone
        assert all(order.dlv_block for order in blocked)
        assert any(order.dlv_block == "01" for order in blocked)
        second = json.loads(cli(config, "enforce", "--json").stdout)["sources"][0]
        assert [c for c in second["changes"] if c["action"] == "place_hold"] == []
        assert second["outbox"]["applied"] == 0
