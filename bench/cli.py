"""Command-line start-up benchmark: how long a script waits for `creditguard`.

    python bench/cli.py [--runs 15]

Syncs the Odoo sandbox's demo data once into a SQLite store (`creditguard sync --once`), then runs, each
`--runs` times as a fresh process: `creditguard --help`, `creditguard --version`, and
`creditguard check ORDER --json --no-log` on an open order (a full credit decision: configuration, store,
policy, exposure).  Prints the median and the slowest run of each, and the modules that take longest to
import for `check` (`python -X importtime`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
password_env = "CG_BENCH_PASSWORD"
protocol = "jsonrpc"
"""


def timed(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return times


def slowest_imports(args: list[str], env: dict[str, str], count: int = 8) -> list[tuple[int, str]]:
    done = subprocess.run([sys.executable, "-X", "importtime", *args], env=env, capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self [us]" not in line:
            _self, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|"))
            if not name.startswith(" "):
                rows.append((int(cumulative), name.strip()))
    top_level = [row for row in rows if row[1].split(".")[0] == row[1]]
    return sorted(top_level, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    from adapters.odoo.sandbox import OdooSandbox

    cli = [sys.executable, "-m", "creditguard"]
    with OdooSandbox(version="17", data="demo") as sandbox, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(CONFIG.format(db=Path(tmp) / "cg.db", url=sandbox.url,
                                        policy=ROOT / "policy" / "examples" / "default.toml"))
        env = dict(os.environ, CG_BENCH_PASSWORD="admin", CREDITGUARD_CONFIG=str(config))
        subprocess.run([*cli, "sync", "--once"], env=env, check=True, capture_output=True)
        order = sandbox.search_read("sale.order", [("state", "=", "sale")], ["name"], order="id")[0]["name"]
        print(f"CreditGuard command-line start-up, {args.runs} runs each, python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPUs")
        print(f"{'command':<42} {'median':>8} {'slowest':>8}")
        commands = {"creditguard --help": ["--help"], "creditguard --version": ["--version"],
                    f"creditguard check {order} --json --no-log": ["check", order, "--json", "--no-log"]}
        for label, extra in commands.items():
            times = timed([*cli, *extra], env, args.runs)
            print(f"{label:<42} {statistics.median(times):>7.3f}s {max(times):>7.3f}s", flush=True)
        print("slowest imports of check (cumulative):")
        for micros, name in slowest_imports(["-m", "creditguard", "check", order, "--json", "--no-log"], env):
            print(f"  {micros / 1000:>7.1f} ms  {name}")


if __name__ == "__main__":
    main()
