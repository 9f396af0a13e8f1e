"""SAP sync benchmark: the SAP SOAP sandbox serving N open items, synced into SQLite.

    python bench/sync_sap.py [--sizes 2000,10000] [--credit-list]

Per size: starts `python -m adapters.sap_soap.sandbox --data large:N` in its own process, runs a
first sync of customers, open items, orders (SAP has no change times: every sync reads them whole and
writes only what changed) and currency rates (walked back over their history once, then read from
the cursor), then an unchanged second sync, and prints open items per second, calls per 1,000 items,
and the unchanged cycle's seconds, calls (the rates' share in brackets: 1), writes and customers kept
without reading their items (credit-master fingerprints), then the calls of the same cycle with
--full (no change detection). The first column says how the credit masters were read: `detail`, one
ZFI_CREDIT_DETAIL call per customer and credit area; with --credit-list a second row per size, `list`,
one ZCG_CREDIT_LIST call per page of customers and credit area (credit_list_service = true).  large:N
also has N/20 more customers (a list longer than a page); each size runs in a fresh process, whose
peak resident set is printed, to show that memory does not grow with the number of customers and items.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import free_port, wait_for  # noqa: E402

from adapters.sap_soap.client import SapClient  # noqa: E402
from adapters.sap_soap.source import SapSoapSource  # noqa: E402
from connector.logs import configure_logging  # noqa: E402
from connector.store import Store  # noqa: E402
from connector.sync import SyncEngine  # noqa: E402




def bench_size(n: int, credit_list: bool = False, batch: int = 100) -> dict:
    port = free_port()
    sandbox = subprocess.Popen([sys.executable, "-m", "adapters.sap_soap.sandbox", "--port", str(port),
                                "--data", f"large:{n}"], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_for(port, sandbox)
        with tempfile.TemporaryDirectory() as tmp, Store.open(f"sqlite:///{tmp}/bench.db") as store:
            client = SapClient(source="sap", base_url=f"http://127.0.0.1:{port}", client="100", username="admin",
                               secret=lambda: "admin", timeout=120)
            source = SapSoapSource("sap", client, ["1000", "3000"], {"1000": "1000", "3000": "3000"}, None,
                                   "Europe/Berlin", company_currencies={"1000": "EUR", "3000": "JPY"},
                                   credit_list=credit_list)
            engine = SyncEngine(store, batch_size=batch)
            t0, c0 = time.perf_counter(), source.calls
            first = engine.sync_source(source)
            first_s, first_calls = time.perf_counter() - t0, source.calls - c0
            items = next(s for s in first.streams if s.stream == "invoices").written
            customers = next(s for s in first.streams if s.stream == "customers").written
            t1, c1 = time.perf_counter(), source.calls
            second = engine.sync_source(source)
            second_s, second_calls = time.perf_counter() - t1, source.calls - c1
            c2 = source.calls
            engine.sync_source(source, full=True)  # the same cycle without change detection
            full_calls = source.calls - c2
            source.close()
        rates_calls = next(s for s in second.streams if s.stream == "currency_rates").calls
        return {"items": items, "customers": customers, "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "first_s": first_s, "per_s": items / first_s,
                "calls_per_1000": first_calls / max(items, 1) * 1000, "second_s": second_s,
                "second_calls": second_calls, "second_rates_calls": rates_calls,
                "second_written": sum(s.written for s in second.streams),
                "second_kept": next(s for s in second.streams if s.stream == "invoices").kept,
                "full_calls": full_calls}
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--batch", type=int, default=100, help="customers per page")
    parser.add_argument("--credit-list", action="store_true",
                        help="a second row per size: credit masters through ZCG_CREDIT_LIST, a page per call")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_logging("warning")
    if args.worker:
        print(json.dumps(bench_size(args.worker, args.credit_list, args.batch)))
        return
    modes = (False, True) if args.credit_list else (False,)
    print(f"{'credit':>6} {'customers':>9} {'open items':>10} {'first s':>8} {'items/s':>8} {'calls/1k':>9} "
          f"{'unchanged s':>12} {'calls (rates)':>14} {'written':>8} {'kept':>5} {'--full calls':>13} {'RSS peak':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        for credit_list in modes:
            command = [sys.executable, __file__, "--worker", str(size), "--batch", str(args.batch)]
            out = subprocess.run(command + (["--credit-list"] if credit_list else []), capture_output=True,
                                 text=True, check=True).stdout
            print_row("list" if credit_list else "detail", json.loads(out.strip().splitlines()[-1]))


def print_row(mode: str, r: dict) -> None:
    calls = f"{r['second_calls']} ({r['second_rates_calls']})"
    print(f"{mode:>6} {r['customers']:>9} {r['items']:>10} {r['first_s']:>8.1f} {r['per_s']:>8.0f} {r['calls_per_1000']:>9.1f} "
          f"{r['second_s']:>12.1f} {calls:>14} {r['second_written']:>8} {r['second_kept']:>5} "
          f"{r['full_calls']:>13} {r['rss_peak']:>5.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
