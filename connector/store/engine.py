"""Engines and migrations: SQLite files in WAL mode, PostgreSQL through psycopg 3."""

from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

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
        return create_engine(parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True)
    raise ConfigError(f"store url: unsupported database {backend!r} (sqlite or postgresql)")


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
