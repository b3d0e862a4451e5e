"""How late the planned work orders really finished, from the MES, against the modelled waiting.

Measured: each work order's end is the latest end of its production counts once the MES shows
it completed; one still open at the window's end is counted as finishing then (a lower bound of
its lateness). Modelled: the hours late the same orders were projected to finish had the plant
waited for the open receipts (shortage.py's wait option at the time of the proposal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from factory_agents.errors import DataQualityError
from factory_agents.isa95 import MesData

WAIT_PREFIX = "wait_late_hours:"


@dataclass(frozen=True)
class Lateness:
    """Hours past due each work order finished (or has run past due so far, if still open)."""

    hours: dict[str, float]
    open_orders: tuple[str, ...]

    @property
    def total(self) -> float:
        """Hours late summed over the work orders."""
        return sum(self.hours.values())


def modelled_wait(inputs: dict[str, float]) -> dict[str, float]:
    """Hours late per work order had the plant waited, as estimated with the proposal."""
    return {k.removeprefix(WAIT_PREFIX): v for k, v in inputs.items() if k.startswith(WAIT_PREFIX)}


def measured_lateness(mes: MesData, work_orders: list[str], end: datetime) -> Lateness:
    """Hours past due of each work order as the MES shows it at the window's end."""
    orders = {w.id: w for w in mes.work_orders}
    hours: dict[str, float] = {}
    still_open: list[str] = []
    for name in sorted(work_orders):
        order = orders.get(name)
        if order is None:
            raise DataQualityError(
                f"work order {name} is not in the MES records of the window; its end is unknown"
            )
        ends = [p.end for p in mes.production_counts if p.work_order_id == name]
        if order.status == "completed" and ends:
            finished = max(ends)
        else:
            finished = end
            still_open.append(name)
        hours[name] = max(0.0, (finished - order.due_at).total_seconds() / 3600)
    return Lateness(hours, tuple(still_open))
