"""Sync benchmark against the Odoo sandbox serving a large data set.

    python bench/sync.py [--invoices 100000] [--sizes 20000,100000] [--protocol xmlrpc] [--batch 1000]

For each size: starts `creditguard sandbox odoo --data large:N` in its own process, runs a first
full sync into a fresh SQLite store in this process, changes 0.1 % of the invoices over XML-RPC,
runs an incremental sync, and prints records per second, calls per 1,000 records, the
incremental cycle's seconds and calls, and this process's peak memory (Python heap peak during
the sync, from tracemalloc, and the resident-set high-water mark).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import free_port, wait_for  # noqa: E402

from adapters.odoo.client import OdooClient  # noqa: E402
from adapters.odoo.source import OdooSource  # noqa: E402
from connector.logs import configure_logging  # noqa: E402
from connector.store import Store  # noqa: E402
from connector.sync import SyncEngine  # noqa: E402




def rss_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_size(n: int, protocol: str, batch: int) -> dict:
    port = free_port()
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "creditguard", "sandbox", "odoo", "--port", str(port), "--data", f"large:{n}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        started = time.perf_counter()
        wait_for(port, sandbox)
        generate_s = time.perf_counter() - started
        url = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as tmp, Store.open(f"sqlite:///{tmp}/bench.db") as store:
            client = OdooClient(source="bench", url=url, database="demo", username="admin",
                                secret=lambda: "admin", protocol=protocol, timeout=120)
            source = OdooSource("bench", client)
            engine = SyncEngine(store, batch_size=batch, overlap_seconds=5)
            source.open()
            baseline = rss_peak_mib()
            t0, c0 = time.perf_counter(), source.calls
            invoices = engine.sync_stream(source, _stream("invoices"))
            full_s, full_calls = time.perf_counter() - t0, source.calls - c0
            sync_rss = rss_peak_mib()

            proxy = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)
            changed = max(1, n // 1000)
            ids = proxy.execute_kw("demo", 2, "admin", "account.move", "search",
                                   [[("move_type", "in", ["out_invoice", "out_refund"])]],
                                   {"limit": changed, "order": "id"})
            for chunk in range(0, len(ids), 100):
                proxy.execute_kw("demo", 2, "admin", "account.move", "write",
                                 [ids[chunk:chunk + 100], {"ref": "bench-change"}])
            t1, c1 = time.perf_counter(), source.calls
            incremental = engine.sync_stream(source, _stream("invoices"))
            inc_s, inc_calls = time.perf_counter() - t1, source.calls - c1
            source.close()
        return {
            "invoices": invoices.written,
            "sandbox_start_s": generate_s,
            "full_s": full_s,
            "records_per_s": invoices.written / full_s,
            "calls_per_1000": full_calls / invoices.written * 1000,
            "changed": changed,
            "incremental_read": incremental.read,
            "incremental_s": inc_s,
            "incremental_calls": inc_calls,
            "rss_before_mib": baseline,
            "rss_peak_mib": sync_rss,
        }
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)


def _stream(name: str):
    from connector.ports import Stream

    return Stream(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20000,100000", help="comma-separated invoice counts")
    parser.add_argument("--protocol", default="xmlrpc", choices=["xmlrpc", "jsonrpc"])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--erp", choices=["odoo", "sap"], default="odoo",
                        help="sap: the SAP SOAP sandbox (sizes are open items; see bench/sync_sap.py)")
    args = parser.parse_args()
    configure_logging("warning")
    if args.erp == "sap":
        import sync_sap

        sys.argv = [sys.argv[0], "--sizes", args.sizes]
        sync_sap.main()
        return
    if args.worker:
        print(json.dumps(bench_size(args.worker, args.protocol, args.batch)))
        return
    print(f"CreditGuard sync benchmark — protocol {args.protocol}, batch {args.batch}, "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    header = (f"{'invoices':>9} {'full s':>8} {'rec/s':>8} {'calls/1k':>9} {'changed':>8} "
              f"{'incr read':>9} {'incr s':>7} {'incr calls':>10} {'RSS before':>10} {'RSS peak':>9}")
    print(header)
    for size in (int(s) for s in args.sizes.split(",")):
        # a fresh process per size, so that each peak-memory figure is its own
        out = subprocess.run([sys.executable, __file__, "--worker", str(size), "--protocol", args.protocol,
                              "--batch", str(args.batch)], capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"{r['invoices']:>9} {r['full_s']:>8.1f} {r['records_per_s']:>8.0f} {r['calls_per_1000']:>9.2f} "
              f"{r['changed']:>8} {r['incremental_read']:>9} {r['incremental_s']:>7.2f} "
              f"{r['incremental_calls']:>10} {r['rss_before_mib']:>7.1f} MiB {r['rss_peak_mib']:>5.1f} MiB",
              flush=True)


if __name__ == "__main__":
    main()
