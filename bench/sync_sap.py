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
one ZCG_CREDIT_LIST call per page of customers and credit area (credit_list_service = true).
"""

from __future__ import annotations

import argparse
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




def bench_size(n: int, credit_list: bool = False) -> dict:
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
            engine = SyncEngine(store, batch_size=100)
            t0, c0 = time.perf_counter(), source.calls
            first = engine.sync_source(source)
            first_s, first_calls = time.perf_counter() - t0, source.calls - c0
            items = next(s for s in first.streams if s.stream == "invoices").written
            t1, c1 = time.perf_counter(), source.calls
            second = engine.sync_source(source)
            second_s, second_calls = time.perf_counter() - t1, source.calls - c1
            c2 = source.calls
            engine.sync_source(source, full=True)  # the same cycle without change detection
            full_calls = source.calls - c2
            source.close()
        rates_calls = next(s for s in second.streams if s.stream == "currency_rates").calls
        return {"items": items, "first_s": first_s, "per_s": items / first_s,
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
    parser.add_argument("--credit-list", action="store_true",
                        help="a second row per size: credit masters through ZCG_CREDIT_LIST, a page per call")
    args = parser.parse_args()
    configure_logging("warning")
    modes = (False, True) if args.credit_list else (False,)
    print(f"{'credit':>6} {'open items':>10} {'first s':>8} {'items/s':>8} {'calls/1k':>9} {'unchanged s':>12} "
          f"{'calls (rates)':>14} {'written':>8} {'kept':>5} {'--full calls':>13}")
    for size in (int(s) for s in args.sizes.split(",")):
        for credit_list in modes:
            print_row("list" if credit_list else "detail", bench_size(size, credit_list))


def print_row(mode: str, r: dict) -> None:
    calls = f"{r['second_calls']} ({r['second_rates_calls']})"
    print(f"{mode:>6} {r['items']:>10} {r['first_s']:>8.1f} {r['per_s']:>8.0f} {r['calls_per_1000']:>9.1f} "
          f"{r['second_s']:>12.1f} {calls:>14} {r['second_written']:>8} {r['second_kept']:>5} "
          f"{r['full_calls']:>13}", flush=True)


if __name__ == "__main__":
    main()
