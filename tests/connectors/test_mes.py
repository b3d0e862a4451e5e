"""The simulated MES database: plausible ISA-95 rows, deterministic and idempotent seeding."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from connectors.mes.schema import (
    DowntimeEvent,
    Equipment,
    InventoryPosition,
    Lot,
    MesBase,
    QualityResult,
    WorkOrder,
)
from connectors.simulator.mes import seed_mes
from connectors.simulator.mes_data import MES_ANCHOR
from factory_agents.errors import ConfigurationError
from factory_agents.site import LINE

STARTS_EMPTY = {
    # Documents agents create once an engineer approves.
    "dispatch_lists",
    "load_plans",
    "lot_status_changes",
    "maintenance_orders",
    # Not seeded yet: the supply-chain agents' scenarios will fill them.
    "purchase_orders",
    "production_counts",
    "material_consumption",
}


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: sorted(tuple(row) for row in connection.execute(select(table)))
                for table in MesBase.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def _url(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}"


def test_same_seed_gives_identical_databases(tmp_path: Path) -> None:
    seed_mes(_url(tmp_path, "a.db"), seed=7)
    seed_mes(_url(tmp_path, "b.db"), seed=7)
    seed_mes(_url(tmp_path, "c.db"), seed=8)
    first, second, other = (_dump(_url(tmp_path, n)) for n in ("a.db", "b.db", "c.db"))
    assert first == second
    assert first != other
    empty = {table for table, rows in first.items() if not rows}
    assert empty == STARTS_EMPTY, "every other table gets rows"


def test_seeding_twice_does_not_duplicate(tmp_path: Path) -> None:
    url = _url(tmp_path, "mes.db")
    seed_mes(url, seed=3)
    once = _dump(url)
    seed_mes(url, seed=3)
    assert _dump(url) == once


def test_seeding_with_another_seed_is_refused(tmp_path: Path) -> None:
    url = _url(tmp_path, "mes.db")
    seed_mes(url, seed=3)
    with pytest.raises(ConfigurationError, match="seeded with seed 3"):
        seed_mes(url, seed=4)


def test_an_unusable_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="MES database URL"):
        seed_mes("not-a-database-url", seed=1)


def test_rows_are_plausible(tmp_path: Path) -> None:
    url = _url(tmp_path, "mes.db")
    seed_mes(url, seed=5)
    engine = create_engine(url)
    with Session(engine) as session:
        equipment = {row.id: row for row in session.scalars(select(Equipment))}
        assert [equipment[LINE].level, equipment[LINE].opcua_path] == ["line", "Line1"]
        cells = [row for row in equipment.values() if row.level == "cell"]
        assert {cell.opcua_path for cell in cells} == {
            "Line1.Filler",
            "Line1.Capper",
            "Line1.Labeler",
        }
        for row in equipment.values():
            assert row.parent_id is None or row.parent_id in equipment

        orders = list(session.scalars(select(WorkOrder)))
        statuses = [order.status for order in orders]
        assert statuses.count("running") == 1
        assert {"completed", "released", "planned"} <= set(statuses)
        running = next(order for order in orders if order.status == "running")
        assert running.release_at <= MES_ANCHOR < running.due_at
        for order in orders:
            assert order.release_at < order.due_at
            assert order.release_at.tzinfo == UTC
            assert 0 <= order.quantity_done <= order.quantity

        lots = {lot.id: lot for lot in session.scalars(select(Lot))}
        assert {lot.status for lot in lots.values()} <= {
            "released",
            "quarantine",
            "consumed",
            "blocked",
        }
        for position in session.scalars(select(InventoryPosition)):
            assert lots[position.lot_id].status != "consumed"
            assert position.quantity > 0

        for result in session.scalars(select(QualityResult)):
            assert result.passed == (result.lsl <= result.value <= result.usl)
            assert result.sampled_at <= MES_ANCHOR

        for event in session.scalars(select(DowntimeEvent)):
            assert event.ended_at is not None
            assert event.started_at < event.ended_at <= MES_ANCHOR
            assert event.equipment_id in equipment
    engine.dispose()
