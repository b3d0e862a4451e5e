"""The ledger's engine (SQLite or PostgreSQL) and its Alembic migrations, run in code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from factory_agents.errors import LedgerError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
WRITE_OPTION = "ledger_write"
"""Execution option marking a write transaction: SQLite then takes the write lock up front."""

_POSTGRES_LOCK = 0x4C454447
"""pg_advisory_xact_lock key serializing ledger migrations ("LEDG")."""


def create_ledger_engine(url: str) -> Engine:
    """An engine for the ledger at `url` (sqlite:///path or postgresql+psycopg://...)."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True)


def write_bind(engine: Engine) -> Engine:
    """The engine for write transactions: on SQLite they begin IMMEDIATE (no upgrade races)."""
    return engine.execution_options(**{WRITE_OPTION: True})


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's config for the ledger's migrations, bound to `connection` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the ledger's schema to the newest migration (safe to run from several processes)."""
    with write_bind(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_LOCK})
        command.upgrade(alembic_config(connection), "head")


def _parse(url: str) -> URL:
    """The URL parsed and checked; plain postgresql:// URLs are given the psycopg driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise LedgerError(
            f"cannot parse ledger URL {url!r}: {err}; "
            "use sqlite:///path/to/ledger.db or postgresql+psycopg://user@host:5432/db"
        ) from err
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if backend != "sqlite":
        raise LedgerError(
            f"ledger URL {parsed.render_as_string(hide_password=True)!r} uses {backend!r}; "
            "the ledger supports sqlite:///path/to/ledger.db or postgresql+psycopg://..."
        )
    return parsed


def _sqlite_engine(url: URL) -> Engine:
    """A SQLite engine in WAL mode with foreign keys, a busy timeout and real transactions."""
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling defers it to the first write).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
