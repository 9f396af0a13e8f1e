"""Fixtures: the SAP sandbox on a loopback socket, an adapter client and source bound to it."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.sap_soap.client import SapClient
from adapters.sap_soap.sandbox import SapSandbox
from adapters.sap_soap.source import SapSoapSource

TODAY = dt.date(2024, 6, 30)


@pytest.fixture
def sb():
    with SapSandbox(clock=lambda: TODAY) as sandbox:
        yield sandbox


def make_client(sb, password="admin", **kw):
    kw.setdefault("retry_attempts", 1)
    kw.setdefault("retry_wait_max", 0.1)
    return SapClient(source="sap", base_url=sb.url, client="100", username="admin", secret=lambda: password, **kw)


@pytest.fixture
def client(sb):
    c = make_client(sb)
    yield c
    c.close()


def make_source(client, **kw):
    kw.setdefault("company_currencies", {"1000": "EUR", "3000": "JPY"})
    return SapSoapSource("sap", client, ["1000", "3000"], {"1000": "1000", "3000": "3000"}, None,
                         "Europe/Berlin", **kw)


@pytest.fixture
def source(client):
    return make_source(client)
