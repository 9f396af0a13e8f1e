"""python -m adapters.sap_soap.sandbox [--port 8000] [--data demo|large:N] [--user U --password P] [--state FILE]"""

from __future__ import annotations

import argparse
import sys

from .cli import DATA_HELP, STATE_HELP, serve


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m adapters.sap_soap.sandbox")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--data", default="demo", help=DATA_HELP)
    ap.add_argument("--client", default="100")
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password", default="admin")
    ap.add_argument("--state", metavar="FILE", default=None, help=STATE_HELP)
    a = ap.parse_args(argv)
    try:
        serve(port=a.port, data=a.data, host=a.host, client=a.client, username=a.user, password=a.password, state=a.state)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
