"""The ledger engine: SQLite pragmas, URL handling, and migrations that match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from factory_agents.errors import LedgerError
from factory_agents.ledger.models import Base
from factory_agents.ledger.session import alembic_config, create_ledger_engine, migrate


def test_sqlite_is_in_wal_mode_with_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "ledger.db"
    engine = create_ledger_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert path.parent.is_dir()
    finally:
        engine.dispose()


def test_plain_postgresql_url_gets_the_psycopg_driver() -> None:
    engine = create_ledger_engine("postgresql://someone@db.example:5432/ledger")
    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "says"),
    [("mysql://u@h/db", "uses 'mysql'"), ("not a url", "cannot parse ledger URL")],
)
def test_unsupported_urls_are_refused_clearly(url: str, says: str) -> None:
    with pytest.raises(LedgerError, match=says):
        create_ledger_engine(url)


def test_migrated_schema_matches_the_models_and_downgrades(ledger_url: str) -> None:
    engine = create_ledger_engine(ledger_url)
    try:
        migrate(engine)
        migrate(engine)  # a second run finds nothing to do
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert set(inspect(conn).get_table_names()) == {
                *Base.metadata.tables,
                "alembic_version",
            }
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_ship_inside_the_package() -> None:
    config = alembic_config()
    location = Path(config.get_main_option("script_location") or "")
    assert location.parts[-3:] == ("factory_agents", "ledger", "migrations")
    assert (location / "env.py").is_file()
    assert (location / "script.py.mako").is_file()
    assert (location / "versions" / "0001_initial.py").is_file()
