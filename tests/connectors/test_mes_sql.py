"""The SQL MES connector on the seeded reference schema, on SQLite and PostgreSQL: reads,
and writes that are checked, idempotent and reversible where the MES allows it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import MesSource, MesWriter
from connectors.mes import SqlMes
from connectors.simulator.mes import seed_mes
from connectors.simulator.mes_data import MES_ANCHOR
from factory_agents.actions import (
    DispatchEntry,
    DispatchList,
    LoadPlan,
    LoadShift,
    LoadSlot,
    LotHold,
    MaintenanceWorkOrder,
    PurchaseRequisition,
)
from factory_agents.errors import ConfigurationError, ConnectorError, WriteRejected
from factory_agents.isa95 import LotStatus, MesData
from factory_agents.site import LINE
from tests.conftest import _postgres_schema_url

NOW = MES_ANCHOR + timedelta(hours=1)
WEEK = timedelta(days=7)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def mes_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A seeded MES database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'mes.db'}"
        seed_mes(url, seed=7)
        yield url
    else:
        for url in _postgres_schema_url():
            seed_mes(url, seed=7)
            yield url


@pytest.fixture
async def mes(mes_url: str) -> AsyncIterator[SqlMes]:
    """The connector on the seeded MES, its clock fixed an hour after the seed's anchor."""
    connector = SqlMes(mes_url, clock=lambda: NOW)
    try:
        yield connector
    finally:
        connector.close()


async def everything(mes: SqlMes) -> MesData:
    """Every kind of record the MES holds, over the week before NOW."""
    kinds = (
        "equipment", "materials", "lots", "inventory", "work_orders", "operations", "bom",
        "suppliers", "purchase_orders", "quality_results", "downtime", "production_counts",
        "consumption", "maintenance_orders",
    )  # fmt: skip
    return await mes.fetch(kinds, NOW - WEEK, NOW)


async def lots_in(mes: SqlMes, status: LotStatus) -> list[str]:
    """Ids of the lots that have `status` now."""
    data = await mes.fetch(["lots"], NOW - WEEK, NOW)
    return [lot.id for lot in data.lots if lot.status is status]


async def test_it_is_a_source_and_a_writer_and_reads_the_seeded_plant(mes: SqlMes) -> None:
    assert isinstance(mes, MesSource)
    assert isinstance(mes, MesWriter)
    data = await everything(mes)
    assert {e.level for e in data.equipment} == {"site", "area", "line", "cell"}
    assert any(e.id == LINE for e in data.equipment)
    assert data.materials and data.lots and data.inventory and data.suppliers and data.bom
    routed = {op.work_order_id for op in data.operations}
    assert routed and routed <= {order.id for order in data.work_orders}
    assert all(op.planned_start is not None for op in data.operations)
    for result in data.quality_results:
        assert NOW - WEEK <= result.sampled_at <= NOW
        assert result.passed == (result.lsl <= result.value <= result.usl)
    for stop in data.downtime:
        assert stop.started_at <= NOW


async def test_only_asked_kinds_are_read_and_unknown_kinds_are_refused(mes: SqlMes) -> None:
    data = await mes.fetch(["suppliers"], NOW - WEEK, NOW)
    assert data.suppliers and not data.lots and not data.quality_results
    with pytest.raises(ConnectorError, match="cannot read \\['recipes'\\]"):
        await mes.fetch(["recipes"], NOW - WEEK, NOW)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="timezone-aware"):
        await mes.fetch(["lots"], datetime(2025, 1, 1), NOW)


async def test_holding_lots_is_idempotent_and_release_restores_their_status(mes: SqlMes) -> None:
    released = (await lots_in(mes, LotStatus.RELEASED))[:2]
    quarantined = (await lots_in(mes, LotStatus.QUARANTINE))[:1]
    hold = LotHold(action_id="a-hold-1", lot_ids=(*released, *quarantined), reason="burst")

    first = await mes.hold_lots(hold)
    again = await mes.hold_lots(hold)
    assert (first.already_applied, again.already_applied) == (False, True)
    assert first.reference == again.reference == "HOLD-a-hold-1"
    assert set(await lots_in(mes, LotStatus.HOLD)) == set(hold.lot_ids)

    undone = await mes.release_lots(hold, reason="lab cleared them")
    assert not undone.already_applied
    assert set(released) <= set(await lots_in(mes, LotStatus.RELEASED))
    assert set(quarantined) <= set(await lots_in(mes, LotStatus.QUARANTINE))
    assert (await mes.release_lots(hold, reason="twice")).already_applied
    assert await lots_in(mes, LotStatus.HOLD) == []


async def test_inconsistent_holds_are_refused_and_change_nothing(mes: SqlMes) -> None:
    released = (await lots_in(mes, LotStatus.RELEASED))[:1]
    consumed = (await lots_in(mes, LotStatus.CONSUMED))[:1]
    assert released and consumed, "the seeded MES has released and consumed lots"
    with pytest.raises(WriteRejected, match="knows no lot L-NOPE"):
        await mes.hold_lots(LotHold(action_id="a-2", lot_ids=(*released, "L-NOPE"), reason="x"))
    with pytest.raises(WriteRejected, match="cannot be put on hold"):
        await mes.hold_lots(LotHold(action_id="a-3", lot_ids=(*released, *consumed), reason="x"))
    assert await lots_in(mes, LotStatus.HOLD) == []
    with pytest.raises(WriteRejected, match="held no lots"):
        await mes.release_lots(LotHold(action_id="a-4", lot_ids=("L1",), reason="x"), "x")


async def test_a_purchase_requisition_is_created_once_and_checked(mes: SqlMes) -> None:
    request = PurchaseRequisition(
        action_id="a-pr-1", material_id="RM-CAP-28", quantity=40_000, unit="pcs",
        supplier="bericap", need_by=NOW + timedelta(days=5),
    )  # fmt: skip
    first = await mes.create_purchase_requisition(request)
    again = await mes.create_purchase_requisition(request)
    assert (first.already_applied, again.already_applied) == (False, True)
    assert first.reference == again.reference
    orders = (await mes.fetch(["purchase_orders"], NOW - WEEK, NOW)).purchase_orders
    (created,) = [o for o in orders if o.id == first.reference]
    assert (created.status, created.quantity, created.supplier_id) == (
        "requested",
        40_000,
        "bericap",
    )

    wrong = {
        "knows no material": {"material_id": "RM-NOPE"},
        "kept in kg": {"material_id": "RM-CO2"},
        "knows no supplier": {"supplier": "acme"},
        "has passed": {"need_by": NOW - timedelta(hours=1)},
    }
    for says, change in wrong.items():
        with pytest.raises(WriteRejected, match=says):
            await mes.create_purchase_requisition(
                request.model_copy(update={"action_id": f"a-{says}", **change})
            )
    orders_after = (await mes.fetch(["purchase_orders"], NOW - WEEK, NOW)).purchase_orders
    assert len(orders_after) == len(orders)


async def test_a_dispatch_list_supersedes_the_last_and_moves_the_plan(mes: SqlMes) -> None:
    data = await mes.fetch(["operations"], NOW - WEEK, NOW)
    operation = next(op for op in data.operations if op.status == "planned")
    start = NOW + timedelta(hours=3)
    entry = DispatchEntry(
        work_order_id=operation.work_order_id, operation=operation.sequence,
        equipment_id=operation.equipment_id, start=start, end=start + timedelta(hours=1),
    )  # fmt: skip
    first = await mes.publish_dispatch_list(
        DispatchList(action_id="a-dl-1", line_id=LINE, entries=(entry,))
    )
    second = await mes.publish_dispatch_list(
        DispatchList(action_id="a-dl-2", line_id=LINE, entries=(entry,), replaces=first.reference)
    )
    assert not first.already_applied and not second.already_applied
    assert (await mes.publish_dispatch_list(
        DispatchList(action_id="a-dl-2", line_id=LINE, entries=(entry,))
    )).already_applied  # fmt: skip
    moved = await mes.fetch(["operations"], NOW - WEEK, NOW)
    (now_planned,) = [
        op
        for op in moved.operations
        if (op.work_order_id, op.sequence) == (operation.work_order_id, operation.sequence)
    ]
    assert now_planned.planned_start == start

    elsewhere = entry.model_copy(update={"equipment_id": f"{LINE}.labeler", "operation": 0})
    with pytest.raises(WriteRejected, match="runs on"):
        await mes.publish_dispatch_list(
            DispatchList(action_id="a-dl-3", line_id=LINE, entries=(elsewhere,))
        )
    with pytest.raises(WriteRejected, match="knows no work order WO-0"):
        await mes.publish_dispatch_list(
            DispatchList(
                action_id="a-dl-4",
                line_id=LINE,
                entries=(entry.model_copy(update={"work_order_id": "WO-0"}),),
            )
        )


async def test_maintenance_orders_and_load_plans_are_created_once(mes: SqlMes) -> None:
    order = MaintenanceWorkOrder(
        action_id="a-mwo-1", equipment_id=f"{LINE}.capper", description="replace bearing",
        due_by=NOW + timedelta(days=2),
    )  # fmt: skip
    created = await mes.create_maintenance_order(order)
    assert (await mes.create_maintenance_order(order)).reference == created.reference
    (listed,) = (await mes.fetch(["maintenance_orders"], NOW - WEEK, NOW)).maintenance_orders
    assert (listed.id, listed.equipment_id, listed.status) == (
        created.reference,
        f"{LINE}.capper",
        "open",
    )
    with pytest.raises(WriteRejected, match="knows no equipment"):
        await mes.create_maintenance_order(
            order.model_copy(update={"action_id": "a-mwo-2", "equipment_id": "line9.robot"})
        )

    slot = LoadSlot(start=NOW, end=NOW + timedelta(hours=1), energy_kwh=40.0)
    plan = LoadShift(
        action_id="a-lp-1", site_id="site1", plans=(LoadPlan(load="chiller", slots=(slot,)),)
    )
    published = await mes.publish_load_plan(plan)
    assert not published.already_applied
    assert (await mes.publish_load_plan(plan)).already_applied


def test_a_bad_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="cannot use MES database URL"):
        SqlMes("not a url")


async def test_an_unreachable_database_is_a_retryable_connector_error(tmp_path: Path) -> None:
    missing = SqlMes(f"sqlite:///{tmp_path / 'absent' / 'mes.db'}")
    try:
        with pytest.raises(ConnectorError, match="can be retried safely"):
            await missing.fetch(["lots"], NOW - WEEK, NOW)
    finally:
        missing.close()
