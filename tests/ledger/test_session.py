"""The ledger engine: SQLite pragmas, URL handling, and migrations that match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from factory_agents.agent import SetpointChange
from factory_agents.errors import LedgerError
from factory_agents.ledger import Ledger
from factory_agents.ledger.models import Base
from factory_agents.ledger.session import alembic_config, create_ledger_engine, migrate
from factory_agents.sqltypes import UtcDateTime
from tests.factories import T0, build_proposal


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


def test_upgrading_a_first_version_ledger_keeps_its_setpoint_actions(ledger_url: str) -> None:
    """A ledger written by 0001 (setpoint actions only) keeps every action when upgraded."""
    proposal = build_proposal("p-old")
    engine = create_ledger_engine(ledger_url)
    utc = UtcDateTime()
    proposals = sa.table(
        "proposals",
        *(sa.column(name) for name in ("id", "agent", "line", "node_id", "title", "rationale")),
        *(sa.column(name) for name in ("content_hash", "status")),
        sa.column("body", sa.JSON()),
        *(sa.column(name, utc) for name in ("created_at", "expires_at", "updated_at")),
    )
    actions = sa.table(
        "actions",
        *(sa.column(name) for name in ("id", "proposal_id", "kind", "node_id", "status")),
        *(sa.column(name) for name in ("from_value", "to_value", "read_back", "message")),
        sa.column("executed_at", utc),
    )
    savings = sa.table(
        "savings",
        *(sa.column(name) for name in ("proposal_id", "kind", "agent", "line", "currency")),
        *(sa.column(name) for name in ("amount", "period_hours", "method")),
        sa.column("baseline", sa.JSON()),
        sa.column("recorded_at", utc),
    )
    action = proposal.action
    assert isinstance(action, SetpointChange)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0001")
        with engine.begin() as conn:
            conn.execute(
                proposals.insert().values(
                    id="p-old", agent="spc_drift", line="line1", node_id=action.node_id,
                    title="t", rationale="r", content_hash=proposal.content_hash(),
                    status="executed", body=proposal.model_dump(mode="json"),
                    created_at=T0, expires_at=T0, updated_at=T0,
                )
            )  # fmt: skip
            conn.execute(
                actions.insert().values(
                    id=action.action_id, proposal_id="p-old", kind="setpoint_change",
                    node_id=action.node_id, status="executed", from_value=action.from_value,
                    to_value=action.to_value, read_back=action.to_value, message="",
                    executed_at=T0,
                )
            )  # fmt: skip
            conn.execute(
                savings.insert().values(
                    proposal_id="p-old", kind="estimated", agent="spc_drift", line="line1",
                    currency="EUR", amount=12540, period_hours=8.0, method="m",
                    baseline=proposal.baseline.model_dump(mode="json"), recorded_at=T0,
                )
            )  # fmt: skip
        migrate(engine)
        ledger = Ledger(engine)
        upgraded = ledger.get_proposal("p-old")
        recorded = ledger.get_action(action.action_id)
        assert upgraded is not None and upgraded.subject == action.node_id
        assert recorded is not None
        assert recorded.subject == action.node_id
        assert recorded.details == action.model_dump(mode="json")
        assert (recorded.from_value, recorded.to_value, recorded.reference) == (
            action.from_value,
            action.to_value,
            None,
        )
        assert ledger.open_proposal_for(action.node_id) == "p-old"
    finally:
        engine.dispose()
