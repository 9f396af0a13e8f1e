"""HTTP API benchmark: POST /v1/check with the order's facts, under concurrent load.

    python bench/api.py [--seconds 20] [--clients 8] [--backends sqlite,postgresql] [--workers 2] [--threads 2]

Fills a fresh store (SQLite file, and a throw-away PostgreSQL server started with initdb/pg_ctl) with
bench/check.py's book (--invoices invoices over --customers customers, and the probe credit groups of
10, 1,000 and 10,000 invoices) and --confirmed decisions at confirmation taken on it in-process (a store
in use: reservations, holds and the decision log hold rows when the API's connections plan their
statements), starts `creditguard run` on it with its HTTP API on loopback, then load processes send /v1/check
requests from --clients concurrent keep-alive connections for --seconds:
the facts of a new order (as the Odoo addon sends them) of a random synced customer, first as a
check (`"event": "check"`: decided and logged), then at confirmation (`"event": "confirm"`: decided
one at a time per credit group, approvals reserve their amount).  Prints checks per second and the
p50/p99 latency the clients saw, and the CPU time an answer cost the API's processes, the database server's and
the load processes' (the machine's speed drifts from minute to minute: the CPU per check drifts less than the
rate, and shows where a change saved).  Every check is a full decision with its decision-log entry; an answer
counts only if it is a 200 carrying a decision.  The load processes speak HTTP/1.1 on plain sockets (like
wrk), so that they take as little as possible of the cores they share with the server under test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import free_port, wait_for  # noqa: E402

LOAD = r'''
import json, random, re, socket, sys, threading, time
port, token, seconds, clients, event, first, customers, seed = (int(sys.argv[1]), sys.argv[2], float(sys.argv[3]),
    int(sys.argv[4]), sys.argv[5], int(sys.argv[6]), sys.argv[7].split(","), int(sys.argv[8]))
latencies, errors, lock = [], [], threading.Lock()
start_at = time.monotonic() + 0.5
deadline = start_at + seconds
LENGTH = re.compile(rb"(?im)^content-length: *(\d+)\r$")
HEAD = (f"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nContent-Length: ").encode()

class Connection:
    # a keep-alive HTTP/1.1 connection that sends a request and reads the answer by its Content-Length, like
    # wrk: http.client parses every answer's headers with the email package, which on two shared cores takes
    # CPU from the server under test
    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def _more(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buffer += chunk

    def post(self, body):
        self.sock.sendall(HEAD + str(len(body)).encode() + b"\r\n\r\n" + body)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._more()
        head = self.buffer[:end + 2]
        length = int(LENGTH.search(head).group(1))
        while len(self.buffer) < end + 4 + length:
            self._more()
        answer, self.buffer = self.buffer[end + 4:end + 4 + length], self.buffer[end + 4 + length:]
        return int(head[9:12]), answer

def worker(n):
    rng = random.Random(seed * 100 + n)
    conn = Connection()
    mine, bad, sequence = [], [], 0
    while time.monotonic() < start_at:
        time.sleep(0.01)
    while time.monotonic() < deadline:
        sequence += 1
        customer = rng.choice(customers)
        order_id = f"{seed}-{n}-{sequence}"
        amount = f"{rng.randint(100, 5000)}.00"
        body = json.dumps({"source": "odoo", "event": event,
            "order": {"erp_id": order_id, "reference": f"SB{order_id}", "state": "draft", "date": "2026-11-28",
                      "company_id": "1", "currency": "USD", "amount_total": amount, "amount_uninvoiced": amount},
            "customer": {"erp_id": customer, "name": customer, "commercial_erp_id": customer,
                         "commercial_name": customer}}).encode()
        t = time.perf_counter()
        try:
            status, answer = conn.post(body)
        except (OSError, ConnectionError) as exc:
            bad.append(str(exc).encode()); conn = Connection(); continue
        elapsed = (time.perf_counter() - t) * 1000
        decided = status == 200 and b'"decision":' in answer  # a decision, not only a 200
        (mine if decided else bad).append(elapsed if decided else answer[:200])
    with lock:
        latencies.extend(mine); errors.extend(bad)
threads = [threading.Thread(target=worker, args=(n,)) for n in range(first, first + clients)]
[t.start() for t in threads]; [t.join() for t in threads]
print(json.dumps({"latencies": latencies, "errors": [e.decode(errors="replace") for e in errors[:3]],
                  "error_count": len(errors), "seconds": seconds, "cpu": time.process_time()}))
'''

CONFIG = """\
[store]
url = "{store}"

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
workers = {workers}
threads = {threads}

[[source]]
name = "odoo"
kind = "odoo"
url = "http://127.0.0.1:{erp_port}"
database = "bench"
username = "bench"
password_env = "CG_ODOO_PASSWORD"
protocol = "xmlrpc"
"""


def fill(url: str, customers: int, invoices: int, confirmed: int) -> list[str]:
    """bench/check.py's book, and ``confirmed`` decisions at confirmation taken on it before (as in a store
    in use: its decision log, reservations, holds, outbox and decision counts hold rows, and the planner's
    statistics know it); the commercial entities a check may name."""
    import check as book

    from connector.checks import CreditChecker
    from connector.domain import OrderState
    from connector.live_checks import LiveCustomer, LiveOrder
    from connector.store import Store
    from policy.loader import load_policy

    names = [str(i) for i in range(1, customers + 1)] + [f"P{size}" for size in book.PROBES]
    with Store.open(url) as store:
        book.generate(store, customers, invoices - sum(book.PROBES))
        for size in book.PROBES:
            book.probe_group(store, size)
        checker = CreditChecker(store, load_policy(ROOT / "policy" / "examples" / "default.toml"), book.AS_OF)
        rng = random.Random(3)
        for n in range(confirmed):
            customer, amount = rng.choice(names), Decimal(rng.randint(100, 5000))
            order = LiveOrder("odoo", f"day-{n}", f"SBDAY{n}", OrderState.DRAFT, "USD", amount, amount, "1", book.AS_OF)
            checker.check_live(order, LiveCustomer(customer, customer, customer, customer), confirm=True)
        store.analyze()
    return names


def cpu_seconds(api_pid: int) -> dict[str, float]:
    """The CPU time the processes under test have used so far: the API's (the daemon and its worker processes) and
    the database server's (every PostgreSQL process: this benchmark's server is the only one it starts)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"api": 0.0, "database": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            program = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        role = ("api" if api_pid in (int(pid), int(fields[1]))
                else "database" if program.startswith(b"postgres:") or program.endswith(b"/postgres") else None)
        if role is not None:
            used[role] += (int(fields[11]) + int(fields[12])) / tick
    return used


def load(port: int, seconds: float, clients: int, event: str, customers: list[str], seed: int,
         api_pid: int) -> dict:
    """--clients connections spread over two load processes (one per core); their merged figures, and the CPU
    time each answer cost the API, the database and the load processes."""
    before = cpu_seconds(api_pid)
    per_process = [clients // 2 + clients % 2, clients // 2] if clients > 1 else [clients]
    processes, first = [], 0
    for n, count in enumerate(c for c in per_process if c):
        processes.append(subprocess.Popen(
            [sys.executable, "-c", LOAD, str(port), "bench", str(seconds), str(count), event, str(first),
             ",".join(customers), str(seed * 10 + n)], stdout=subprocess.PIPE, text=True))
        first += count
    results = [json.loads(p.communicate()[0]) for p in processes]
    after = cpu_seconds(api_pid)
    latencies = sorted(x for r in results for x in r["latencies"])
    errors = sum(r["error_count"] for r in results)
    samples = [e for r in results for e in r["errors"]]
    if not latencies:
        raise SystemExit(f"no check answered: {samples}")
    cpu_ms = {role: (after[role] - before[role]) * 1000 / len(latencies) for role in after}
    cpu_ms["load"] = sum(r["cpu"] for r in results) * 1000 / len(latencies)
    return {"checks": len(latencies), "errors": errors, "samples": samples, "per_s": len(latencies) / seconds,
            "cpu_ms": cpu_ms,
            "p50": latencies[len(latencies) // 2], "p99": latencies[min(len(latencies) - 1,
                                                                         int(len(latencies) * 0.99))]}


def bench(store_url: str, label: str, args: argparse.Namespace, tmp: Path) -> None:
    t0 = time.perf_counter()
    customers = fill(store_url, args.customers, args.invoices, args.confirmed)
    load_s = time.perf_counter() - t0
    port = free_port()
    config = tmp / f"config-{label}.toml"
    config.write_text(CONFIG.format(store=store_url, policy=ROOT / "policy" / "examples" / "default.toml",
                                    port=port, workers=args.workers, threads=args.threads,
                                    erp_port=free_port()))
    env = dict(os.environ, CG_API_TOKEN="bench", CG_ODOO_PASSWORD="bench")
    env.pop("NOTIFY_SOCKET", None)
    daemon = subprocess.Popen([sys.executable, "-m", "creditguard", "--config", str(config), "run"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_for(port, daemon, 120)  # the API listens once the daemon has started
        load(port, 3, args.clients, "check", customers, 0, daemon.pid)  # warm-up: every process, its caches
        figures = {event: load(port, args.seconds, args.clients, event, customers, n + 1, daemon.pid)
                   for n, event in enumerate(("check", "confirm"))}
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    print(f"\n{label}: {args.invoices:,} invoices, {args.customers:,} customers, {args.confirmed:,} decisions at "
          f"confirmation before (loaded in {load_s:.0f} s); "
          f"{args.clients} concurrent clients, {args.workers} API process(es) × {args.threads} threads, "
          f"{args.seconds:.0f} s each")
    for event, r in figures.items():
        cpu = r["cpu_ms"]
        database = f", database {cpu['database']:.2f}" if label == "PostgreSQL" else ""
        print(f"  event {event:<8} {r['checks']:>7,} checks ({r['errors']} errors): {r['per_s']:>6.0f} checks/s, "
              f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms; CPU per check: API {cpu['api']:.2f}{database}, "
              f"load {cpu['load']:.2f} ms")
        for sample in r["samples"]:
            print(f"    error: {sample}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--confirmed", type=int, default=2000,
                        help="decisions at confirmation taken on the book before the run (a store in use)")
    args = parser.parse_args()
    from connector.logs import configure_logging

    configure_logging("warning")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                bench(f"sqlite:///{tmp}/bench.db", "SQLite", args, Path(tmp))
            elif backend == "postgresql":
                from tests.support.postgres import PostgresServer

                server = PostgresServer().start()
                try:
                    bench(server.create_database(), "PostgreSQL", args, Path(tmp))
                finally:
                    server.stop()


if __name__ == "__main__":
    main()
