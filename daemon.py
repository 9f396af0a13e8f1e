"""Entry point for running CreditGuard as a service: ``python daemon.py [--config FILE]``.

The same as ``creditguard [--config FILE] run`` (see ``creditguard/daemon_runner.py``).
"""

from __future__ import annotations

import sys

from creditguard.cli import main


def run(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    main.main(args=args + ["run"], prog_name="creditguard")


if __name__ == "__main__":
    run()
