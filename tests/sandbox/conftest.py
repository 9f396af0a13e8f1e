"""Fixtures for the Odoo sandbox tests: real servers on 127.0.0.1, ephemeral ports."""

from __future__ import annotations

import sys
import xmlrpc.client
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adapters.odoo.sandbox import OdooSandbox  # noqa: E402

DB = "demo"
START = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)


class Clock:
    """An injectable clock: starts at ``START``, moves only when told."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class Client:
    """The three classic endpoints of one sandbox, as a test talks to them."""

    def __init__(self, sb: OdooSandbox) -> None:
        self.sb = sb
        self.common = xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/common")
        self.object = xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/object")
        self.legacy_common = xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/common")
        self.legacy_object = xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/object")
        self.http = httpx.Client(base_url=sb.url, timeout=30)

    def execute(self, model: str, method: str, *args: Any, uid: int = 2, password: str = "admin",
                **kwargs: Any) -> Any:
        return self.object.execute_kw(DB, uid, password, model, method, list(args), kwargs)

    def jsonrpc(self, service: str, method: str, *args: Any) -> httpx.Response:
        return self.http.post("/jsonrpc", json={"jsonrpc": "2.0", "method": "call", "id": 7,
                                                "params": {"service": service, "method": method, "args": list(args)}})

    def json2(self, model: str, method: str, body: dict | None = None, key: str | None = None,
              headers: dict | None = None) -> httpx.Response:
        hdrs = {"Authorization": f"bearer {key or self.sb.DEFAULT_API_KEY}"} if headers is None else headers
        return self.http.post(f"/json/2/{model}/{method}", json=body if body is not None else {}, headers=hdrs)


@pytest.fixture(scope="session")
def sb17() -> Iterator[OdooSandbox]:
    """A shared, read-only Odoo 17 sandbox (tests that write use ``fresh``)."""
    with OdooSandbox(version="17", data="demo", clock=Clock()) as sb:
        yield sb


@pytest.fixture(scope="session")
def sb19() -> Iterator[OdooSandbox]:
    with OdooSandbox(version="19", data="demo", clock=Clock()) as sb:
        yield sb


@pytest.fixture(scope="session")
def c17(sb17: OdooSandbox) -> Client:
    return Client(sb17)


@pytest.fixture(scope="session")
def c19(sb19: OdooSandbox) -> Client:
    return Client(sb19)


@pytest.fixture
def fresh() -> Iterator[Callable[..., tuple[OdooSandbox, Client, Clock]]]:
    """Factory of private sandboxes (for tests that write), stopped at teardown."""
    started: list[OdooSandbox] = []

    def make(version: str = "17", data: str = "demo", addons: tuple[str, ...] = (),
             start: datetime = START, **options: Any) -> tuple[OdooSandbox, Client, Clock]:
        clock = Clock(start)
        sb = OdooSandbox(version=version, data=data, clock=clock, addons=addons, **options).start()
        started.append(sb)
        return sb, Client(sb), clock

    yield make
    for sb in started:
        sb.stop()
