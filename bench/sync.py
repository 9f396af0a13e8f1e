"""Sync benchmark: CreditGuard's first sync against the ERP's own read rate, on the same data in the same run.

    python bench/sync.py [--invoices 22009] [--protocols xmlrpc,jsonrpc,json2] [--stores sqlite,postgresql]
                         [--batch 1000] [--repeat 3] [--memory-sizes 22009,100000]
    python bench/sync.py --erp sap ...      (the SAP SOAP sandbox: bench/sync_sap.py)

Starts `creditguard sandbox odoo --version 19 --data large:N` (one process; Odoo 19 speaks XML-RPC,
JSON-RPC and JSON-2; the book filled by imports and mass actions: groups of 1,000 to 5,000 invoices
share one write_date) and, for the PostgreSQL rows, a throw-away PostgreSQL server (initdb/pg_ctl).
Per protocol, alternately and `--repeat` times (the median is printed):

* raw: a minimal client (xmlrpc.client, or httpx for JSON-RPC and JSON-2) reading the invoices with
  `search_read` paged by id, the same fields, domain and page size as CreditGuard;
* CreditGuard: the first sync of the invoices stream into a fresh store (SQLite file or PostgreSQL
  database), each run in a fresh process, so that its peak resident set is its own.

The ratio is CreditGuard's records per second over the raw client's run just before it (the machine's
speed drifts; pairs drift together): the median of the pairs, and their range.  Then, per protocol and store:
a sync of every stream, and an unchanged sync right after it: records read and calls per stream.
Last, CreditGuard's peak memory at other sizes (SQLite, JSON-RPC), to show it stays flat.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import free_port, wait_for  # noqa: E402

DB, LOGIN, PASSWORD = "demo", "admin", "admin"
API_KEY = "cgsandbox-0000-admin-api-key"  # the sandbox's admin API key (OdooSandbox.DEFAULT_API_KEY)
INVOICE_DOMAIN = [["move_type", "in", ["out_invoice", "out_refund"]]]
CONTEXT = {"active_test": False}


PIN_SANDBOX = ["taskset", "-c", os.environ["CG_BENCH_SANDBOX_CPU"]] if os.environ.get("CG_BENCH_SANDBOX_CPU") else []


def rss_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------- workers (fresh processes)

def raw_read(url: str, protocol: str, batch: int) -> dict:
    """The ERP's own read rate: search_read paged by id, nothing else."""
    import httpx

    from adapters.odoo.versions import MOVE_FIELDS

    fields = list(MOVE_FIELDS)
    if protocol == "xmlrpc":
        uid = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").authenticate(DB, LOGIN, PASSWORD, {})
        proxy = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

        def page(last: int) -> list:
            return proxy.execute_kw(DB, uid, PASSWORD, "account.move", "search_read",
                                    [INVOICE_DOMAIN + [["id", ">", last]]],
                                    {"fields": fields, "limit": batch, "order": "id asc", "context": CONTEXT})
    elif protocol == "jsonrpc":
        http = httpx.Client(timeout=120)
        uid = http.post(f"{url}/jsonrpc", json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "common", "method": "authenticate", "args": [DB, LOGIN, PASSWORD, {}]}}).json()["result"]

        def page(last: int) -> list:
            return http.post(f"{url}/jsonrpc", json={"jsonrpc": "2.0", "method": "call", "id": 2, "params": {
                "service": "object", "method": "execute_kw", "args": [
                    DB, uid, PASSWORD, "account.move", "search_read", [INVOICE_DOMAIN + [["id", ">", last]]],
                    {"fields": fields, "limit": batch, "order": "id asc", "context": CONTEXT}]}}).json()["result"]
    else:
        http = httpx.Client(timeout=120, headers={"Authorization": f"bearer {API_KEY}", "X-Odoo-Database": DB})

        def page(last: int) -> list:
            return http.post(f"{url}/json/2/account.move/search_read", json={
                "domain": INVOICE_DOMAIN + [["id", ">", last]], "fields": fields, "limit": batch,
                "order": "id asc", "context": CONTEXT}).json()

    started, last, count = time.perf_counter(), 0, 0
    while True:
        records = page(last)
        count += len(records)
        if len(records) < batch:
            break
        last = records[-1]["id"]
    seconds = time.perf_counter() - started
    return {"records": count, "seconds": seconds, "rate": count / seconds}


def creditguard_sync(url: str, protocol: str, batch: int, store_url: str, cycles: bool) -> dict:
    """CreditGuard's first sync of the invoices stream; with ``cycles``, then every stream, then again."""
    from adapters.odoo.client import OdooClient
    from adapters.odoo.source import OdooSource
    from connector.logs import configure_logging
    from connector.ports import Stream
    from connector.store import Store
    from connector.sync import SyncEngine

    configure_logging("warning")
    secret = API_KEY if protocol == "json2" else PASSWORD
    with Store.open(store_url) as store:
        client = OdooClient(source="bench", url=url, database=DB, username=LOGIN, secret=lambda: secret,
                            protocol=protocol, timeout=120)
        source = OdooSource("bench", client)
        engine = SyncEngine(store, batch_size=batch)
        source.open()
        rss_before = rss_peak_mib()
        started, calls = time.perf_counter(), source.calls
        stats = engine.sync_stream(source, Stream.INVOICES)
        seconds = time.perf_counter() - started
        result = {"records": stats.written, "seconds": seconds, "rate": stats.written / seconds,
                  "calls": source.calls - calls, "rss_before": rss_before, "rss_peak": rss_peak_mib()}
        if cycles:
            engine.sync_source(source)  # the other streams' first read (and nothing new for invoices)
            unchanged = engine.sync_source(source)
            result["unchanged"] = {s.stream: {"read": s.read, "reread": s.reread, "calls": s.calls,
                                              "scanned": s.scanned, "seconds": s.seconds}
                                   for s in unchanged.streams}
        source.close()
    return result


# ---------------------------------------------------------------------------- the run

class Sandbox:
    def __init__(self, invoices: int, version: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [*PIN_SANDBOX, sys.executable, "-m", "creditguard", "sandbox", "odoo", "--port", str(self.port), "--version", version,
             "--data", f"large:{invoices}"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.port, self.process)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def worker(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def store_urls(stores: list[str], postgres) -> dict[str, callable]:
    urls = {}
    for store in stores:
        if store == "sqlite":
            urls["sqlite"] = lambda: f"sqlite:///{tempfile.mkdtemp(prefix='cg-bench-')}/bench.db"
        else:
            urls["postgresql"] = postgres.create_database
    return urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=22009)
    parser.add_argument("--protocols", default="xmlrpc,jsonrpc,json2")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--version", default="19", choices=["17", "19"])
    parser.add_argument("--memory-sizes", default="", help="comma-separated invoice counts for the memory rows")
    parser.add_argument("--erp", choices=["odoo", "sap"], default="odoo",
                        help="sap: the SAP SOAP sandbox (see bench/sync_sap.py)")
    parser.add_argument("--sizes", default=None, help=argparse.SUPPRESS)  # bench/sync_sap.py's option
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if os.environ.get("CG_BENCH_CPU"):
            os.sched_setaffinity(0, {int(os.environ["CG_BENCH_CPU"])})
        kind, url, protocol, batch, *rest = args.worker
        if kind == "raw":
            print(json.dumps(raw_read(url, protocol, int(batch))))
        else:
            print(json.dumps(creditguard_sync(url, protocol, int(batch), rest[0], rest[1] == "cycles")))
        return
    if args.erp == "sap":
        import sync_sap

        sys.argv = [sys.argv[0]] + (["--sizes", args.sizes] if args.sizes else [])
        sync_sap.main()
        return

    protocols = args.protocols.split(",")
    stores = args.stores.split(",")
    if "json2" in protocols and args.version != "19":
        raise SystemExit("json2 needs --version 19")
    postgres = None
    if "postgresql" in stores:
        from tests.support.postgres import PostgresServer

        postgres = PostgresServer().start()
    urls = store_urls(stores, postgres)
    print(f"CreditGuard sync benchmark: Odoo {args.version} sandbox large:{args.invoices}, batch {args.batch}, "
          f"median of {args.repeat}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs", flush=True)
    sandbox = Sandbox(args.invoices, args.version)
    try:
        print(f"{'protocol':<9} {'store':<11} {'raw rec/s':>10} {'CG rec/s':>9} {'ratio':>6} {'range':>10} {'calls':>6} "
              f"{'RSS before → peak':>19}   unchanged cycle: read / calls per stream", flush=True)
        for protocol in protocols:
            raw, ours, ratios = [], {store: [] for store in stores}, {store: [] for store in stores}
            for _ in range(args.repeat):  # each CreditGuard run is compared with the raw run just before it
                for store in stores:
                    raw.append(worker("raw", sandbox.url, protocol, str(args.batch)))
                    ours[store].append(worker("cg", sandbox.url, protocol, str(args.batch), urls[store](), "-"))
                    ratios[store].append(ours[store][-1]["rate"] / raw[-1]["rate"])
            raw_rate = statistics.median(r["rate"] for r in raw)
            for store in stores:
                runs = ours[store]
                rate = statistics.median(r["rate"] for r in runs)
                cycle = worker("cg", sandbox.url, protocol, str(args.batch), urls[store](), "cycles")["unchanged"]
                unchanged = ", ".join(f"{name} {c['read']}/{c['calls']}" for name, c in cycle.items())
                spread = f"{min(ratios[store]):.2f}–{max(ratios[store]):.2f}"
                print(f"{protocol:<9} {store:<11} {raw_rate:>10.0f} {rate:>9.0f} {statistics.median(ratios[store]):>6.2f} "
                      f"{spread:>10} {runs[0]['calls']:>6} {statistics.median(r['rss_before'] for r in runs):>7.1f} → "
                      f"{max(r['rss_peak'] for r in runs):>5.1f} MiB   {unchanged}", flush=True)
    finally:
        sandbox.stop()
    for size in [int(s) for s in args.memory_sizes.split(",") if s]:
        sandbox = Sandbox(size, args.version)
        try:
            run = worker("cg", sandbox.url, "jsonrpc", str(args.batch), urls[stores[0]](), "-")
            print(f"memory: {size} invoices, {stores[0]}, jsonrpc: {run['records']} records at {run['rate']:.0f}/s, "
                  f"RSS {run['rss_before']:.1f} → {run['rss_peak']:.1f} MiB", flush=True)
        finally:
            sandbox.stop()
    if postgres is not None:
        postgres.stop()


if __name__ == "__main__":
    main()
