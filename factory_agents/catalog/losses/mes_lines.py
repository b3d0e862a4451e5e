"""Reading a line out of MES records for the loss analyses: its equipment, stops and PRI.

Shared by the OEE loss agent and the board's Plant page, so both read the MES the same way.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from factory_agents.catalog.losses.oee_losses import Stop
from factory_agents.isa95 import Equipment, MesData


def lines_of(equipment: Sequence[Equipment]) -> dict[str, str]:
    """Each equipment id's line (itself for a line; the line above it for cells)."""
    parents = {e.id: e.parent_id for e in equipment}
    levels = {e.id: e.level for e in equipment}
    found: dict[str, str] = {}
    for item in equipment:
        current: str | None = item.id
        seen: set[str] = set()
        while current is not None and current not in seen and levels.get(current) != "line":
            seen.add(current)
            current = parents.get(current)
        if current is not None and levels.get(current) == "line":
            found[item.id] = current
    return found


def planned_seconds_per_item(data: MesData, line: str) -> float | None:
    """PRI from the routing: per order, its longest operation over its quantity; the median."""
    orders = {o.id: o for o in data.work_orders if o.line_id == line and o.quantity > 0}
    longest: dict[str, float] = {}
    for op in data.operations:
        if op.work_order_id in orders:
            longest[op.work_order_id] = max(longest.get(op.work_order_id, 0.0), op.duration_minutes)
    per_item = [minutes * 60 / orders[order].quantity for order, minutes in longest.items()]
    return statistics.median(per_item) if per_item else None


def line_stops(data: MesData, line: str, line_of: dict[str, str]) -> tuple[Stop, ...]:
    """The MES downtime events of the line and its equipment, as the loss tree reads them."""
    return tuple(
        Stop(e.equipment_id, e.started_at, e.ended_at, e.reason_code, e.reason, e.planned)
        for e in data.downtime
        if line_of.get(e.equipment_id) == line
    )
