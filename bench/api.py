"""HTTP API benchmark: POST /v1/check throughput and latency under concurrent load.

    python bench/api.py [--seconds 20] [--clients 8]

Starts the Odoo sandbox (demo data, credit_guard addon) and a `creditguard run` daemon with its
HTTP API on loopback, waits for the first sync, then a second process sends /v1/check requests
for random open orders from --clients threads for --seconds, and prints requests per second and
the p50/p99 latency seen by the clients.  Each check is a full decision with its decision-log entry.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import free_port  # noqa: E402

LOAD = r'''
import json, random, statistics, sys, threading, time
import httpx
url, token, seconds, clients, orders = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
latencies, errors, lock = [], [0], threading.Lock()
deadline = time.monotonic() + seconds
def worker(seed):
    rng = random.Random(seed)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        while time.monotonic() < deadline:
            t = time.perf_counter()
            r = client.post("/v1/check", json={"order": rng.choice(orders)})
            elapsed = (time.perf_counter() - t) * 1000
            with lock:
                if r.status_code == 200:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1
threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
start = time.monotonic()
[t.start() for t in threads]; [t.join() for t in threads]
wall = time.monotonic() - start
latencies.sort()
print(json.dumps({"requests": len(latencies), "errors": errors[0], "per_s": len(latencies) / wall,
                  "p50": statistics.median(latencies), "p99": latencies[int(len(latencies) * 0.99) - 1]}))
'''

CONFIG = """\
[store]
url = "sqlite:///{db}"

[sync]
interval_seconds = 600

[logging]
format = "json"

[policy]
path = "{policy}"

[http]
listen = "127.0.0.1:{port}"
token_env = "CG_API_TOKEN"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CG_ODOO_PASSWORD"
protocol = "jsonrpc"
"""



def main() -> None:
    from adapters.odoo.sandbox import OdooSandbox

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, OdooSandbox(version="17", data="demo") as sb:
        tmp_path = Path(tmp)
        shutil.copy(ROOT / "policy" / "examples" / "default.toml", tmp_path / "policy.toml")
        port = free_port()
        (tmp_path / "config.toml").write_text(CONFIG.format(db=tmp_path / "cg.db", policy=tmp_path / "policy.toml",
                                                            port=port, url=sb.url))
        env = dict(os.environ, CG_API_TOKEN="bench", CG_ODOO_PASSWORD="admin")
        env.pop("NOTIFY_SOCKET", None)
        daemon = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(tmp_path / "config.toml"),
                                   "run"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        try:
            for line in daemon.stderr:  # wait for the first sync to finish
                if '"sync.source_done"' in line:
                    break
            # keep reading the daemon's log so that a full pipe never blocks it
            threading.Thread(target=lambda: [None for _ in daemon.stderr], daemon=True).start()
            orders = [o["name"] for o in sb.search_read("sale.order", [("state", "in", ["draft", "sent", "sale"])],
                                                        ["name"])]
            out = subprocess.run([sys.executable, "-c", LOAD, f"http://127.0.0.1:{port}", "bench", str(args.seconds),
                                  str(args.clients), *orders], capture_output=True, text=True, check=True).stdout
            r = json.loads(out)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=60)
    print(f"POST /v1/check, {args.clients} concurrent clients in a second process, {args.seconds:.0f} s, "
          f"{len(orders)} orders, SQLite store")
    print(f"{r['requests']} requests ({r['errors']} errors): {r['per_s']:.0f} requests/s, "
          f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms")


if __name__ == "__main__":
    main()
