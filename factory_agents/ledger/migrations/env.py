"""Alembic environment: migrates the connection handed over in config.attributes["connection"]."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from factory_agents.errors import LedgerError
from factory_agents.ledger.models import Base
from factory_agents.ledger.session import create_ledger_engine


def _run(connection: Connection) -> None:
    """Run the pending migrations on `connection` inside its transaction."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    """Use the caller's connection, or open one from sqlalchemy.url (alembic command line)."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise LedgerError(
            "no connection to migrate: call factory_agents.ledger.session.migrate(engine), "
            "or pass -x/sqlalchemy.url to alembic"
        )
    engine = create_ledger_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise LedgerError("offline (--sql) migrations are not supported; run them against a database")
_run_online()
