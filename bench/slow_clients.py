"""Slow clients against the HTTP API: /healthz latency and /v1/check throughput while 1,000 connections
dribble partial headers.

    python bench/slow_clients.py [--connections 1000] [--seconds 30] [--interval 3] [--checkers 4]
    python bench/slow_clients.py --url http://127.0.0.1:8765 --token TOKEN     # against a running API
    python bench/slow_clients.py --source-tree DIR   # the daemon from another checkout (before/after)

Without --url it starts `creditguard run` on a fresh SQLite store (its ERP unreachable: checks by facts need
no sync) with the configuration's defaults.  Two phases of --seconds each: a baseline, then with
--connections slow clients, each of which sends a request line and partial headers and then one more header
byte every --interval seconds (reconnecting when the server drops it), plus a tenth as many silent
connections.  Meanwhile one prober sends GET /healthz on a new connection every 50 ms (timeout 10 s) and
--checkers keep-alive clients send POST /v1/check with the facts of a new order.  Prints, per phase,
/healthz p50/p99/max latency and timeouts, checks per second with their p50/p99, and the slow connections'
drops; the daemon's RSS.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from common import free_port, wait_for  # noqa: E402

CONFIG = """\
[store]
url = "sqlite:///{db}"

[sync]
interval_seconds = 86400

[logging]
format = "json"
level = "warning"

[policy]
path = "{policy}"

[http]
listen = "127.0.0.1:{port}"
token_env = "CG_API_TOKEN"

[[source]]
name = "odoo"
kind = "odoo"
url = "http://127.0.0.1:{erp_port}"
database = "bench"
username = "bench"
password_env = "CG_ODOO_PASSWORD"
protocol = "xmlrpc"
retry_attempts = 1
"""
PARTIAL = b"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow: "


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


class SlowClients:
    """Connections that never finish their headers: one byte each every ``interval`` seconds."""

    def __init__(self, host: str, port: int, count: int, interval: float) -> None:
        self.host, self.port, self.count, self.interval = host, port, count, interval
        self.socks: list[socket.socket | None] = []
        self.silent: list[socket.socket] = []
        self.drops = self.refused = 0
        self.stop = threading.Event()

    def _open(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=5)
            sock.sendall(PARTIAL)
            return sock
        except OSError:
            self.refused += 1
            return None

    def start(self) -> float:
        t = time.perf_counter()
        self.socks = [self._open() for _ in range(self.count)]
        for _ in range(self.count // 10):
            try:
                self.silent.append(socket.create_connection((self.host, self.port), timeout=5))
            except OSError:
                self.refused += 1
        threading.Thread(target=self._dribble, daemon=True).start()
        return time.perf_counter() - t

    def _dribble(self) -> None:
        n = 0
        while not self.stop.is_set():
            i = n % self.count
            sock = self.socks[i]
            try:
                if sock is None:
                    raise OSError
                sock.sendall(b"a")
            except OSError:
                if sock is not None:
                    self.drops += 1
                    sock.close()
                self.socks[i] = self._open()
            n += 1
            self.stop.wait(self.interval / self.count)

    def close(self) -> None:
        self.stop.set()
        for sock in [*self.socks, *self.silent]:
            if sock is not None:
                sock.close()


def probe_health(host: str, port: int, stop: threading.Event, out: dict) -> None:
    while not stop.is_set():
        t = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
        except OSError:
            ok = False
        if ok:
            out["latencies"].append((time.perf_counter() - t) * 1000)
        else:
            out["failures"] += 1
        stop.wait(0.05)


def check_load(host: str, port: int, token: str, n: int, stop: threading.Event, out: dict) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    sequence = 0
    while not stop.is_set():
        sequence += 1
        body = json.dumps({"source": "odoo", "event": "check",
                           "order": {"erp_id": f"{n}-{sequence}", "reference": f"SLOW{n}-{sequence}",
                                     "state": "draft", "currency": "USD", "amount_total": "1250.00"},
                           "customer": {"erp_id": str(1000 + n), "name": f"Buyer {n}"}})
        t = time.perf_counter()
        try:
            conn.request("POST", "/v1/check", body, headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            ok = False
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
        if ok:
            out["latencies"].append((time.perf_counter() - t) * 1000)
        else:
            out["errors"] += 1


def phase(host: str, port: int, token: str, seconds: float, checkers: int) -> dict:
    stop = threading.Event()
    health: dict = {"latencies": [], "failures": 0}
    checks: list[dict] = [{"latencies": [], "errors": 0} for _ in range(checkers)]
    threads = [threading.Thread(target=probe_health, args=(host, port, stop, health))]
    threads += [threading.Thread(target=check_load, args=(host, port, token, n, stop, checks[n]))
                for n in range(checkers)]
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    done = [x for c in checks for x in c["latencies"]]
    return {"health": health, "checks": len(done), "check_errors": sum(c["errors"] for c in checks),
            "per_s": len(done) / seconds, "check_p50": percentile(done, 0.5), "check_p99": percentile(done, 0.99)}


def rss_mib(pid: int | None) -> str:
    if pid is None:
        return "n/a"
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return f"{int(line.split()[1]) / 1024:.1f} MiB"
    return "n/a"


def report(label: str, r: dict) -> None:
    h = r["health"]["latencies"]
    print(f"  {label:<26} /healthz: {len(h):>4} answered, {r['health']['failures']} failed/timed out, "
          f"p50 {percentile(h, 0.5):.1f} ms, p99 {percentile(h, 0.99):.1f} ms, max {max(h, default=float('nan')):.1f} ms"
          f" | /v1/check: {r['checks']:,} ({r['check_errors']} errors), {r['per_s']:.0f}/s, "
          f"p50 {r['check_p50']:.1f} ms, p99 {r['check_p99']:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between a slow client's bytes")
    parser.add_argument("--checkers", type=int, default=4)
    parser.add_argument("--url", help="a running API (default: start one)")
    parser.add_argument("--token", default="bench")
    parser.add_argument("--source-tree", type=Path, default=ROOT, help="run the daemon from this checkout")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 2 * args.connections + 512)), hard))
    with tempfile.TemporaryDirectory() as tmp:
        daemon = None
        if args.url:
            parts = urlsplit(args.url)
            host, port = parts.hostname or "127.0.0.1", parts.port or 80
        else:
            host, port = "127.0.0.1", free_port()
            config = Path(tmp) / "config.toml"
            config.write_text(CONFIG.format(db=Path(tmp) / "cg.db", port=port, erp_port=free_port(),
                                            policy=ROOT / "policy" / "examples" / "default.toml"))
            env = dict(os.environ, CG_API_TOKEN=args.token, CG_ODOO_PASSWORD="bench",
                       PYTHONPATH=str(args.source_tree.resolve()))
            env.pop("NOTIFY_SOCKET", None)
            daemon = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(config), "run"],
                                      cwd=args.source_tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      env=env)
        try:
            if daemon is not None:
                wait_for(port, daemon, 120)
            pid = daemon.pid if daemon is not None else None
            phase(host, port, args.token, 3, args.checkers)  # warm-up
            print(f"{args.connections} slow clients (a byte every {args.interval:g} s) + "
                  f"{args.connections // 10} silent connections; {args.checkers} check clients; "
                  f"{args.seconds:g} s per phase; daemon from {args.source_tree}")
            print(f"  daemon RSS before: {rss_mib(pid)}")
            report("baseline", phase(host, port, args.token, args.seconds, args.checkers))
            slow = SlowClients(host, port, args.connections, args.interval)
            opened = slow.start()
            try:
                loaded = phase(host, port, args.token, args.seconds, args.checkers)
                print(f"  slow connections opened in {opened:.1f} s ({slow.refused} refused); "
                      f"daemon RSS with them: {rss_mib(pid)}")
                report(f"with {args.connections} slow", loaded)
                print(f"  slow connections dropped by the server (and reopened): {slow.drops}")
            finally:
                slow.close()
        finally:
            if daemon is not None:
                daemon.send_signal(signal.SIGTERM)
                try:
                    daemon.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    daemon.kill()


if __name__ == "__main__":
    main()
