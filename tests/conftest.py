"""Shared fixtures: stores on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from .support.postgres import PostgresServer, find_bin

# property tests check what holds, not how fast: no per-example deadline (a shared CI machine can take longer
# than Hypothesis's default 200 ms for one example, e.g. the first one, which loads locale data)
settings.register_profile("creditguard", deadline=None)
settings.load_profile("creditguard")


@pytest.fixture(scope="session")
def postgres_server():
    if not find_bin("initdb"):
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries missing in CI: .ci/run must install postgresql")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A fresh, empty database URL: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'creditguard.db'}"
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def store(store_url):
    from connector.store import Store

    s = Store.open(store_url)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _quiet_logs():
    """Library code logs through structlog; tests keep warnings and errors only."""
    from connector.logs import configure_logging

    configure_logging("warning", "json")
