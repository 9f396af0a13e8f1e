"""Credit-check benchmark: latency of `check` and time of `exposure` for all groups.

    python bench/check.py [--customers 100000] [--invoices 1000000] [--backends sqlite,postgresql]

Fills a fresh store (SQLite file, and a throw-away PostgreSQL server started with
initdb/pg_ctl) through the store's own upserts with customers, open invoices in
two currencies (a quarter of them overdue), credit notes and orders; then times
`check` (decision with its log entry) for random orders and `exposure` over every
credit group, under policy/examples/default.toml.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connector.checks import CreditChecker  # noqa: E402
from connector.domain import (  # noqa: E402
    Company, CurrencyRate, Customer, Invoice, InvoiceKind, InvoiceState, OrderState, PaymentState, SalesOrder,
)
from connector.logs import configure_logging  # noqa: E402
from connector.ports import Stream  # noqa: E402
from connector.store import Store  # noqa: E402
from policy.loader import load_policy  # noqa: E402

AS_OF = date(2026, 11, 28)
T = datetime(2026, 11, 1, tzinfo=UTC)
BATCH = 5000


def generate(store: Store, customers: int, invoices: int) -> int:
    rng = random.Random(7)
    store.save_companies("odoo", [Company("odoo", "1", "YourCompany", "USD")])
    store.save_page("odoo", Stream.CURRENCY_RATES, "res.currency.rate",
                    [CurrencyRate("odoo", str(i), "EUR", "1", AS_OF - timedelta(days=30 * i), Decimal("0.92"), T)
                     for i in range(1, 13)], [], None)
    for start in range(0, customers, BATCH):
        page = [Customer("odoo", str(i), f"C{i:06d}", f"Customer {i}", str(i), None, "US", None, True, None,
                         Decimal(rng.choice([0, 10000, 50000, 250000])) or None, "USD", True, T)
                for i in range(start + 1, min(start + BATCH, customers) + 1)]
        store.save_page("odoo", Stream.CUSTOMERS, "res.partner", page, [], None)
    for start in range(0, invoices, BATCH):
        page = []
        for i in range(start + 1, min(start + BATCH, invoices) + 1):
            group = str(rng.randint(1, customers))
            currency = "EUR" if i % 3 == 0 else "USD"
            total = Decimal(rng.randint(100, 50000))
            due = AS_OF + timedelta(days=rng.randint(-120, 60))
            kind = InvoiceKind.CREDIT_NOTE if i % 20 == 0 else InvoiceKind.INVOICE
            company = (total / Decimal("0.92")).quantize(Decimal("0.01")) if currency == "EUR" else total
            page.append(Invoice("odoo", str(i), f"INV/{i:07d}", group, group, kind, InvoiceState.POSTED,
                                PaymentState.NOT_PAID, due - timedelta(days=30), due, currency, total, total, "1",
                                "USD", company, company, T))
        store.save_page("odoo", Stream.INVOICES, "account.move", page, [], None)
    orders = invoices // 5
    states = [OrderState.DRAFT, OrderState.SENT, OrderState.CONFIRMED, OrderState.CONFIRMED, OrderState.CANCELLED]
    for start in range(0, orders, BATCH):
        page = [SalesOrder("odoo", str(i), f"S{i:07d}", str(rng.randint(1, customers)), rng.choice(states), False,
                           T, "USD", Decimal(rng.randint(100, 20000)), Decimal(rng.randint(0, 100)), "1", T)
                for i in range(start + 1, min(start + BATCH, orders) + 1)]
        store.save_page("odoo", Stream.ORDERS, "sale.order", page, [], None)
    return orders


def bench(url: str, label: str, customers: int, invoices: int, checks: int) -> None:
    with Store.open(url) as store:
        t0 = time.perf_counter()
        orders = generate(store, customers, invoices)
        store.analyze()
        load_s = time.perf_counter() - t0
        policy = load_policy(ROOT / "policy" / "examples" / "default.toml")
        checker = CreditChecker(store, policy, AS_OF)
        rng = random.Random(11)
        checker.check("S0000001", "odoo")  # warm-up: rates, statement caches
        latencies = []
        for _ in range(checks):
            number = f"S{rng.randint(1, orders):07d}"
            t = time.perf_counter()
            checker.check(number, "odoo")
            latencies.append((time.perf_counter() - t) * 1000)
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        t = time.perf_counter()
        groups = checker.exposures.compute("odoo", None, overdue_days=policy.rules.overdue.days)
        exposure_s = time.perf_counter() - t
    print(f"{label:<11} {customers:>9} {invoices:>9} {load_s:>8.0f} s {p50:>7.2f} ms {p99:>7.2f} ms "
          f"{exposure_s:>8.1f} s ({len(groups)} groups)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    configure_logging("warning")
    print(f"{'backend':<11} {'customers':>9} {'invoices':>9} {'load':>10} {'check p50':>10} {'check p99':>10} "
          f"{'exposure (all groups)':>22}")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                bench(f"sqlite:///{tmp}/bench.db", "SQLite", args.customers, args.invoices, args.checks)
        elif backend == "postgresql":
            from tests.support.postgres import PostgresServer

            server = PostgresServer().start()
            try:
                bench(server.create_database(), "PostgreSQL", args.customers, args.invoices, args.checks)
            finally:
                server.stop()


if __name__ == "__main__":
    main()
