"""The crash campaign: ``creditguard enforce`` killed with SIGKILL at every crash point (or many random ones),
on SQLite and PostgreSQL, then each effect counted in the ERP.  Prints kills survived, effects checked, lost
and duplicated.

    python bench/crash.py [--store sqlite|postgresql|both] [--addon] [--stride K | --random N] [--seed S]

Without ``--random``, every point: the 1st, 2nd, 3rd… store commit, ERP write call and applied entry of each
run, in turn (every K-th with ``--stride``), until runs end before their point: with the default stride of 3,
about 250 kills per store."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.odoo.sandbox import OdooSandbox  # noqa: E402
from tests.support.crash_campaign import run_campaign  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402


def campaign(kind: str, addon: bool, random_kills: int, stride: int, seed: int) -> None:
    server = PostgresServer().start() if kind == "postgresql" else None
    try:
        with tempfile.TemporaryDirectory(prefix="creditguard-crash-") as tmp:
            url = server.create_database() if server else f"sqlite:///{tmp}/cg.db"
            started = time.monotonic()
            with OdooSandbox(version="17", data="demo", addons=("credit_guard",) if addon else ()) as sb:
                effects = run_campaign(sb, url, Path(tmp), random_kills=random_kills,
                                       every_point=not random_kills, stride=stride, seed=seed)
            print(f"{kind:<10} {'addon' if addon else 'advisory':<8} {effects} in {time.monotonic() - started:.0f} s")
            for line in effects.lost + effects.duplicated:
                print(f"    {line}")
    finally:
        if server:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--random", type=int, default=0, help="this many random kills per round (default: every point)")
    parser.add_argument("--stride", type=int, default=3, help="every K-th point (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--addon", action="store_true", help="Odoo with the credit_guard addon (default: advisory)")
    args = parser.parse_args()
    for kind in ("sqlite", "postgresql") if args.store == "both" else (args.store,):
        campaign(kind, args.addon, args.random, args.stride, args.seed)


if __name__ == "__main__":
    main()
