"""Seed the simulated MES's master data for planning: suppliers, bills of materials, routings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from connectors.mes.schema import BomLine, MesBase, Operation, Supplier, WorkOrder
from connectors.simulator.mes_data import BOM, INPUT_MATERIALS, LINE_RATE_PER_HOUR, SETUP_MINUTES
from factory_agents.site import LINE, MACHINES


def supplier_id(name: str) -> str:
    """The supplier id the simulated MES gives a supplier name, e.g. 'CCL Label' → 'ccl-label'."""
    return name.lower().replace(" ", "-")


def suppliers() -> list[MesBase]:
    """One supplier row per supplier of the input materials."""
    names = sorted({supplier for *_rest, supplier in INPUT_MATERIALS})
    return [Supplier(id=supplier_id(name), name=name) for name in names]


def bill_of_materials() -> list[MesBase]:
    """What one unit of each finished good consumes."""
    return [
        BomLine(product_id=product, material_id=material, quantity_per_unit=quantity, unit=unit)
        for product, material, quantity, unit in BOM
    ]


def routings(orders: Sequence[WorkOrder]) -> list[MesBase]:
    """Filler, capper and labeler operations of each order, planned back to back on the line."""
    rows: list[MesBase] = []
    previous_product: str | None = None
    for order in sorted(orders, key=lambda o: o.release_at):
        minutes = order.quantity / LINE_RATE_PER_HOUR * 60
        setup = SETUP_MINUTES if previous_product not in (None, order.product_id) else 0.0
        previous_product = order.product_id
        start = order.release_at
        for sequence, machine in enumerate(MACHINES):
            # The machines run in a pipeline: each starts a few minutes after the one before.
            offset = timedelta(minutes=5 * sequence)
            rows.append(
                Operation(
                    work_order_id=order.id,
                    sequence=sequence,
                    equipment_id=f"{LINE}.{machine.lower()}",
                    duration_minutes=round(minutes, 1),
                    setup_minutes=setup if sequence == 0 else 0.0,
                    planned_start=start + offset,
                    planned_end=start + offset + timedelta(minutes=minutes + setup),
                    status=_operation_status(order.status),
                )
            )
    return rows


def _operation_status(order_status: str) -> str:
    """An operation's status from its order's (the simulated MES tracks orders, not steps)."""
    return {"completed": "completed", "running": "running"}.get(order_status, "planned")
