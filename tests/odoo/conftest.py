"""Fixtures: the Odoo sandbox on a loopback port and sources connected to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.odoo.client import OdooClient
from adapters.odoo.sandbox import OdooSandbox
from adapters.odoo.source import OdooSource


class Clock:
    """A settable clock for the sandbox: write_date comes from here."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 28, 9, 0, 0, tzinfo=UTC))


@pytest.fixture
def sandbox(clock):
    with OdooSandbox(version="17", data="demo", clock=clock) as sb:
        yield sb


@pytest.fixture
def sandbox19(clock):
    with OdooSandbox(version="19", data="demo", clock=clock) as sb:
        yield sb


def make_source(sb: OdooSandbox, protocol: str = "xmlrpc", password: str = "admin", **kwargs) -> OdooSource:
    client = OdooClient(
        source="odoo", url=sb.url, database="demo", username="admin", secret=lambda: password,
        protocol=protocol, timeout=10, retry_attempts=kwargs.pop("retry_attempts", 2), retry_wait_max=0.1,
    )
    return OdooSource("odoo", client, **kwargs)
