"""Credit-check benchmark: latency of a check as the credit group's history grows.

    python bench/check.py [--customers 100000] [--invoices 1000000] [--backends sqlite,postgresql]

Fills a fresh store (SQLite file, and a throw-away PostgreSQL server started with initdb/pg_ctl)
through the store's own page writes: --invoices invoices in two currencies over --customers
customers (a quarter overdue, credit notes, orders), and three probe credit groups with a history of
10, 1,000 and 10,000 invoices spread over three years (the last four months' invoices still open,
the rest paid; one order in five per invoice, most of them invoiced).  Then, per probe group, times
the in-process check of an order (decision with its decision-log entry) under
policy/examples/default.toml: `check` of a stored order, and a check on the order's facts as the
ERP sends them (`check_live`, the path of POST /v1/check) — the groups in turn, one check of each at
a time — and prints p50/p99 and the growth from 10 to 10,000 invoices; finally the time of `exposure`
over every credit group.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connector.checks import CreditChecker  # noqa: E402
from connector.domain import (  # noqa: E402
    Company, CurrencyRate, Customer, Invoice, InvoiceKind, InvoiceState, OrderState, PaymentState, SalesOrder,
)
from connector.live_checks import LiveCustomer, LiveOrder  # noqa: E402
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


PROBES = (10, 1_000, 10_000)  # invoices in the history of each probe credit group


def probe_group(store: Store, size: int) -> list[str]:
    """A credit group with ``size`` invoices over three years, the last four months' still open, and one
    order in five (invoiced but the last few); the numbers of its open orders."""
    group = f"P{size}"
    store.save_page("odoo", Stream.CUSTOMERS, "res.partner", [Customer(
        "odoo", group, group, f"Probe customer with {size} invoices", group, None, "DE", None, True, None,
        Decimal(10_000_000), "USD", True, T)], [], None)
    rng = random.Random(size)
    page: list = []
    for i in range(size):
        day = AS_OF - timedelta(days=int(1095 * (size - i) / size))
        currency = "EUR" if i % 3 == 0 else "USD"
        total = Decimal(rng.randint(100, 50000))
        open_ = total if (AS_OF - day).days < 120 else Decimal(0)
        company = (total / Decimal("0.92")).quantize(Decimal("0.01")) if currency == "EUR" else total
        page.append(Invoice("odoo", f"{group}-{i}", f"{group}/INV/{i:06d}", group, group, InvoiceKind.INVOICE,
                            InvoiceState.POSTED, PaymentState.NOT_PAID if open_ else PaymentState.PAID, day,
                            day + timedelta(days=30), currency, total, open_, "1", "USD", company,
                            company if open_ else Decimal(0), T))
        if len(page) == BATCH:
            store.save_page("odoo", Stream.INVOICES, "account.move", page, [], None)
            page = []
    if page:
        store.save_page("odoo", Stream.INVOICES, "account.move", page, [], None)
    orders = [SalesOrder("odoo", f"{group}-O{i}", f"{group}/S{i:06d}", group,
                         OrderState.CONFIRMED if i >= size // 5 - 3 else OrderState.DONE, False,
                         datetime.combine(AS_OF - timedelta(days=int(1095 * (size // 5 - i) / max(size // 5, 1))),
                                          datetime.min.time(), UTC),
                         "USD", Decimal(rng.randint(100, 20000)), Decimal(0), "1", T) for i in range(max(size // 5, 3))]
    orders = [o if o.state is OrderState.DONE else replace(o, amount_uninvoiced=o.amount_total) for o in orders]
    for start in range(0, len(orders), BATCH):
        store.save_page("odoo", Stream.ORDERS, "sale.order", orders[start:start + BATCH], [], None)
    return [o.number for o in orders if o.state is OrderState.CONFIRMED]


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    latencies.sort()
    return statistics.median(latencies), latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]


def time_checks(checker: CreditChecker, numbers: dict[int, list[str]], checks: int,
                tag: str = "new") -> dict[int, dict[str, tuple]]:
    """Per probe group, p50/p99 of `check` on the group's stored orders and of `check_live` on facts as the ERP sends
    them.  The groups take turns, one check of each at a time, so that the machine's drift during the run (another
    process, the database's own maintenance after the load) falls on all of them alike."""
    stored: dict[int, list[float]] = {size: [] for size in numbers}
    live: dict[int, list[float]] = {size: [] for size in numbers}
    for n in range(checks):
        for size, group_numbers in numbers.items():
            group = f"P{size}"
            t = time.perf_counter()
            checker.check(group_numbers[n % len(group_numbers)], "odoo")
            stored[size].append((time.perf_counter() - t) * 1000)
            order = LiveOrder("odoo", f"{group}-{tag}-{n}", f"{group}/{tag.upper()}/{n}", OrderState.DRAFT, "USD",
                              Decimal(1500), Decimal(1500), "1", AS_OF)
            t = time.perf_counter()
            checker.check_live(order, LiveCustomer(group, group, group, group))
            live[size].append((time.perf_counter() - t) * 1000)
    return {size: {"check": _percentiles(stored[size]), "check_live": _percentiles(live[size])} for size in numbers}


def bench(url: str, label: str, customers: int, invoices: int, checks: int) -> None:
    with Store.open(url) as store:
        t0 = time.perf_counter()
        generate(store, customers, invoices - sum(PROBES))
        numbers = {size: probe_group(store, size) for size in PROBES}
        store.analyze()
        load_s = time.perf_counter() - t0
        policy = load_policy(ROOT / "policy" / "examples" / "default.toml")
        store.checkpoint_in_background()  # as the processes serving the API do
        checker = CreditChecker(store, policy, AS_OF)
        time_checks(checker, numbers, 20, tag="warm")  # warm-up: rates, statement caches
        figures = time_checks(checker, numbers, checks)
        t = time.perf_counter()
        groups = checker.exposures.compute("odoo", None, overdue_days=policy.rules.overdue.days)
        exposure_s = time.perf_counter() - t
    print(f"\n{label}: {invoices:,} invoices, {customers:,} customers, loaded in {load_s:.0f} s; "
          f"exposure of all {len(groups):,} groups in {exposure_s:.1f} s", flush=True)
    print(f"  {'invoices in the group':<22} {'check p50':>10} {'check p99':>10} {'live p50':>10} {'live p99':>10}")
    for size in PROBES:
        (p50, p99), (l50, l99) = figures[size]["check"], figures[size]["check_live"]
        print(f"  {size:<22,} {p50:>7.2f} ms {p99:>7.2f} ms {l50:>7.2f} ms {l99:>7.2f} ms")
    for kind in ("check", "check_live"):
        low, high = figures[PROBES[0]][kind][1], figures[PROBES[-1]][kind][1]
        print(f"  {kind} p99 growth from {PROBES[0]} to {PROBES[-1]:,} invoices: {100 * (high - low) / low:+.0f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    configure_logging("warning")
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
