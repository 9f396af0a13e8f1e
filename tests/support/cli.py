"""Running `creditguard` as a real process against a configuration file, as a script or a person would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# a SQLite store, a policy file and the Odoo sandbox over JSON-RPC, its password in the environment (see odoo_cli)
ODOO_SANDBOX_CONFIG = """\
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
password_env = "CREDITGUARD_ODOO_PASSWORD"
protocol = "jsonrpc"
"""


def run_cli(config: Path | str, *args: str, env: dict[str, str] | None = None, columns: int | None = 220,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """``creditguard --config CONFIG ARGS…`` in a fresh process, its output captured; ``columns``: the width
    tables are printed at (None: the environment's)."""
    environ = dict(os.environ, **({"COLUMNS": str(columns)} if columns is not None else {}), **(env or {}))
    return subprocess.run([sys.executable, "-m", "creditguard", "--config", str(config), *args],
                          capture_output=True, text=True, env=environ, timeout=timeout)


def odoo_cli(config: Path | str, *args: str, columns: int = 220) -> subprocess.CompletedProcess:
    """:func:`run_cli` with the Odoo sandbox's admin password where the configurations here look for it."""
    return run_cli(config, *args, env={"CREDITGUARD_ODOO_PASSWORD": "admin"}, columns=columns)
