"""``creditguard sandbox sap`` / ``python -m adapters.sap_soap.sandbox``: serve the SAP sandbox until stopped."""

from __future__ import annotations

import os
import re
import sys
from typing import TextIO

from ...serving import stop_on_signals
from .server import SERVICES, SapSandbox

DATA_HELP = "demo, or large:N for the demo data plus N generated open items."
STATE_HELP = ("keep the data in FILE across restarts: loaded from FILE when it exists (--data is then ignored), "
              "else built and written to it; every committed change is saved before its answer is sent")


def check_data(value: str) -> str:
    """``demo`` or ``large:N`` (N ≥ 0); a ValueError names what is accepted."""
    if value == "demo" or re.fullmatch(r"large:\d+", value):
        return value
    raise ValueError(f"unknown data set {value!r}: expected 'demo' or 'large:N' with N a whole number ≥ 0")


def check_client(value: str) -> str:
    """An SAP client number: three digits (``100``)."""
    if re.fullmatch(r"\d{3}", value):
        return value
    raise ValueError(f"SAP client {value!r}: expected three digits, e.g. 100")


def serve(port: int = 8000, data: str = "demo", host: str = "127.0.0.1", client: str = "100",
          username: str = "admin", password: str = "admin", out: TextIO | None = None,
          state: str | os.PathLike[str] | None = None) -> None:
    """Build the sandbox, print its services' WSDL URLs and the logon, serve until SIGTERM / Ctrl-C.

    ``state``: a state file the data is loaded from (or written to), kept up to date at every commit.
    Returns normally when stopped (the caller exits 0); raises ValueError for bad options or a state
    file that is not one, and OSError when the address cannot be bound.
    """
    out = out or sys.stdout
    sandbox = SapSandbox(host=host, port=port, data=check_data(data), client=check_client(client),
                         username=username, password=password, state=state)
    with stop_on_signals() as stop:
        try:
            sandbox.start()
            _announce(sandbox, username, password, out)
            while not stop.wait(0.2):
                pass
        except KeyboardInterrupt:  # a SIGINT before the handler was installed
            pass
        finally:
            sandbox.close()


def _announce(sandbox: SapSandbox, username: str, password: str, out: TextIO) -> None:
    width = max(len(s) for s in SERVICES)
    print(f"SAP SOAP sandbox serving client {sandbox.client} on {sandbox.url}; services and their WSDLs:", file=out)
    for service in SERVICES:
        print(f"  {service:{width}}  {sandbox.wsdl_url(service)}", file=out)
    print(f"logon: {username} / {password} (HTTP Basic), SAP client {sandbox.client}; Ctrl-C or SIGTERM stops",
          file=out, flush=True)
