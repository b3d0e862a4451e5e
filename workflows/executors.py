"""Carrying out an approved action through the connector that owns its subject."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from connectors.base import MesWriter, MesWriteResult, TagWriter
from factory_agents.actions import (
    Action,
    Advice,
    DispatchList,
    LoadShift,
    LotHold,
    MaintenanceWorkOrder,
    PurchaseRequisition,
    SetpointChange,
)
from workflows.contracts import ExecuteResult

PlantSession = Callable[[], AbstractAsyncContextManager[TagWriter]]
"""Opens a connection to the plant's tag server for one write."""


async def execute(
    action: Action,
    *,
    plant: PlantSession,
    mes: MesWriter,
    last_write_at: datetime | None = None,
) -> ExecuteResult:
    """Apply `action` once (idempotent on its action id) and say what the plant or MES did."""
    if isinstance(action, SetpointChange):
        async with plant() as writer:
            written = await writer.write_setpoint(action, last_write_at=last_write_at)
        return ExecuteResult(
            read_back=written.read_back,
            already_applied=written.already_applied,
            summary=f"{action.describe()}, read back {written.read_back:g} {action.unit}",
        )
    if isinstance(action, Advice):
        return ExecuteResult(
            already_applied=False,
            summary="advice acknowledged; nothing was written to the plant or the MES",
        )
    return _from_mes(await _write_to_mes(action, mes))


async def _write_to_mes(
    action: LotHold | PurchaseRequisition | DispatchList | MaintenanceWorkOrder | LoadShift,
    mes: MesWriter,
) -> MesWriteResult:
    """The MES call that carries out `action`."""
    if isinstance(action, LotHold):
        return await mes.hold_lots(action)
    if isinstance(action, PurchaseRequisition):
        return await mes.create_purchase_requisition(action)
    if isinstance(action, DispatchList):
        return await mes.publish_dispatch_list(action)
    if isinstance(action, MaintenanceWorkOrder):
        return await mes.create_maintenance_order(action)
    return await mes.publish_load_plan(action)


def _from_mes(result: MesWriteResult) -> ExecuteResult:
    """The MES's answer as an execution result."""
    return ExecuteResult(
        reference=result.reference,
        already_applied=result.already_applied,
        summary=f"MES {result.reference}: {result.summary}",
    )
