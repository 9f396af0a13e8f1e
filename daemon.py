"""Entry point for running CreditGuard as a service: ``python daemon.py [--config FILE]``.

For now the service is the continuous sync loop of ``creditguard sync``;
scheduling of enforcement and alerts, signals and systemd notifications come
with the daemon work.
"""

from __future__ import annotations

import sys

from creditguard.cli import main


def run(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    main.main(args=args + ["sync"], prog_name="creditguard")


if __name__ == "__main__":
    run()
