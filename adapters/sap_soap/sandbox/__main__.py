"""python -m adapters.sap_soap.sandbox [--port 8000] [--data demo|large:N] [--user U --password P]"""

from __future__ import annotations

import argparse

from .server import SERVICES, SapSandbox


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m adapters.sap_soap.sandbox")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--data", default="demo")
    ap.add_argument("--client", default="100")
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password", default="admin")
    a = ap.parse_args(argv)
    sb = SapSandbox(host=a.host, port=a.port, data=a.data, client=a.client, username=a.user, password=a.password)
    for s in SERVICES:
        print(f"{s:30} {sb.wsdl_url(s)}")
    print(f"logon: {a.user} / {a.password}  (HTTP Basic)  Ctrl-C stops", flush=True)
    try:
        sb.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
