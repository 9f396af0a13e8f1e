"""Engines and migrations: SQLite files in WAL mode, PostgreSQL through psycopg 3."""

from __future__ import annotations

import time
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from ..errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).with_name("migrations")
SCHEMA_HEAD = "0019"  # the newest revision under migrations/versions (a test keeps the two equal)


def create_store_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their directory created and WAL mode."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError
        raise ConfigError(f"store url is not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", ""):
            raise ConfigError("store url: use postgresql+psycopg:// (psycopg 3)")
        # READ COMMITTED whatever the server's default: a decision taken under a credit group's lock reads, in the
        # transaction its reads began, what other decisions committed before the lock was granted
        engine = create_engine(parsed.set(drivername="postgresql+psycopg"), isolation_level="READ COMMITTED")
        _ping_when_idle(engine)
        return engine
    raise ConfigError(f"store url: unsupported database {backend!r} (sqlite or postgresql)")


PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled PostgreSQL connection idle this long is pinged before it is used again (a round trip)."""


def _ping_when_idle(engine: Engine) -> None:
    """A connection that waited in the pool is checked before it is handed out (else a server restart or a dropped
    connection would fail the next statement on it); one used a moment ago is not: under load every check would
    otherwise pay a round trip for the ping.  A dead connection is replaced (SQLAlchemy's pool takes another)."""

    @event.listens_for(engine, "checkin")
    def returned(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the driver's error for a connection the server closed
            raise DisconnectionError(f"pooled connection lost: {exc.__class__.__name__}") from exc
        if not alive:
            raise DisconnectionError("pooled connection lost")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def database_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None: a new database)."""
    with engine.connect() as connection:  # an unreachable database raises
        if not connection.dialect.has_table(connection, "alembic_version"):
            return None
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: Engine) -> None:
    """Apply every pending migration (Alembic is not even imported when the schema is up to date)."""
    if database_revision(engine) == SCHEMA_HEAD:
        return
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def schema_status(engine: Engine) -> tuple[str | None, str]:
    """(current revision of the database, latest revision shipped)."""
    return database_revision(engine), SCHEMA_HEAD


def shipped_head() -> str:
    """The newest revision among the migration scripts, as Alembic reads them (what SCHEMA_HEAD says)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head() or ""
