"""``creditguard sandbox odoo``: serve an Odoo sandbox until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from ...serving import stop_on_signals
from .sandbox import OdooSandbox


def serve(port: int = 8069, data: str = "demo", version: str = "17", host: str = "127.0.0.1",
          database: str = "demo", addons: Sequence[str] = (), commit_delay: float = 0.0,
          state: str | os.PathLike[str] | None = None) -> None:
    """Build the sandbox, print one line saying where it serves, serve until stopped.

    ``state``: a state file the data is loaded from (or generated into), kept up to date at every commit."""
    sandbox = OdooSandbox(version=version, data=data, host=host, port=port, database=database, addons=tuple(addons),
                          commit_delay=commit_delay, state=state)
    try:
        with stop_on_signals() as stop:
            sandbox.start()
            with_addons = f" with {', '.join(sandbox.addons)}" if sandbox.addons else ""
            kept = f", state in {os.fspath(state)}" if state is not None else ""
            print(f"Odoo {sandbox.version}.0 sandbox{with_addons} serving database {sandbox.database!r} on "
                  f"{sandbox.url} (login admin/admin){kept}", flush=True)
            sandbox.serve_forever(stop)
    finally:
        sandbox.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="creditguard sandbox odoo",
                                     description="Serve a loopback Odoo sandbox (XML-RPC, JSON-RPC, JSON-2 on 19).")
    parser.add_argument("--port", type=int, default=8069, help="TCP port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data", default="demo", help="demo, large:N or empty")
    parser.add_argument("--version", default="17", choices=["17", "19", "17.0", "19.0"])
    parser.add_argument("--database", default="demo")
    parser.add_argument("--addons", default="", help="comma-separated sandbox addons to install (credit_guard, sale_stock)")
    parser.add_argument("--commit-delay", type=float, default=0.0, metavar="SECONDS",
                        help="mass actions (writes on several records) commit this long after they start, "
                             "keeping their earlier write_date")
    parser.add_argument("--state", metavar="FILE", default=None,
                        help="keep the data in FILE across restarts: loaded from it when it exists (--data is then "
                             "ignored), else generated and written to it; every committed change is saved before "
                             "its answer is sent")
    args = parser.parse_args(argv)
    addons = [name.strip() for name in args.addons.split(",") if name.strip()]
    try:
        serve(port=args.port, data=args.data, version=args.version, host=args.host, database=args.database,
              addons=addons, commit_delay=args.commit_delay, state=args.state)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
