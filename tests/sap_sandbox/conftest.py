"""Fixtures: a SAP sandbox on a real loopback socket and zeep clients for its services."""

from __future__ import annotations

import datetime as dt

import pytest

zeep = pytest.importorskip("zeep")
requests = pytest.importorskip("requests")

from adapters.sap_soap.sandbox import SERVICES, WSDL_DIR, SapSandbox  # noqa: E402

TODAY = dt.date(2024, 6, 30)


@pytest.fixture
def sb():
    with SapSandbox(clock=lambda: TODAY) as sandbox:
        yield sandbox


def make_session(user="admin", password="admin"):
    s = requests.Session()
    s.auth = requests.auth.HTTPBasicAuth(user, password)
    return s


@pytest.fixture
def client(sb):
    """client(service, session=None, timeout=5) -> zeep service proxy on the local WSDL copy, real endpoint."""
    from zeep.transports import Transport

    def make(service, session=None, timeout=5, soap12=False, strict=False):
        transport = Transport(session=session or make_session(), timeout=timeout, operation_timeout=timeout)
        c = zeep.Client(str(WSDL_DIR / SERVICES[service]), transport=transport,
                        settings=zeep.Settings(strict=strict))
        port = service + ("_soap12" if soap12 else "")
        binding = c.wsdl.services[service].ports[port].binding.name
        return c, c.create_service(binding, sb.endpoint(service))

    return make
