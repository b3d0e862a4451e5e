"""The planner's inputs per slot of the grid: per-slot kW values and each load's window."""

from __future__ import annotations

import math
from collections.abc import Sequence

from factory_agents.catalog.energy.load_shift.loads import DeferrableLoad
from factory_agents.catalog.energy.tariff import SlotGrid


def values_per_slot(value: float | Sequence[float], grid: SlotGrid, what: str) -> tuple[float, ...]:
    """One finite value >= 0 per slot of the grid, from a single number or a sequence."""
    values = [float(value)] * grid.slots if isinstance(value, int | float) else list(value)
    if len(values) != grid.slots:
        raise ValueError(f"{what} needs one value per slot ({grid.slots}), got {len(values)}")
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise ValueError(f"{what} values must be finite and >= 0 kW")
    return tuple(values)


def load_window(load: DeferrableLoad, grid: SlotGrid) -> range:
    """The whole slots of the grid inside the load's window; its deadline must lie in the grid."""
    if load.deadline > grid.end:
        raise ValueError(
            f"load {load.name!r}: its deadline {load.deadline.isoformat()} lies beyond the"
            f" grid's end {grid.end.isoformat()}; extend the grid to cover it"
        )
    return grid.slots_within(load.earliest_start, load.deadline)
