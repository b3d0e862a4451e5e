"""A deferrable load: its energy, maximum power and window, and its run at full power."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from factory_agents.catalog.energy.tariff import SlotGrid

TOLERANCE = 1e-7


@dataclass(frozen=True, slots=True)
class DeferrableLoad:
    """A load whose energy may be moved within [earliest_start, deadline]."""

    name: str
    energy_kwh: float
    max_power_kw: float
    earliest_start: datetime
    deadline: datetime
    interruptible: bool = True

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a deferrable load needs a name")
        if not (self.energy_kwh > 0 and math.isfinite(self.energy_kwh)):
            raise ValueError(f"load {self.name!r}: energy_kwh must be > 0, got {self.energy_kwh}")
        if not (self.max_power_kw > 0 and math.isfinite(self.max_power_kw)):
            raise ValueError(
                f"load {self.name!r}: max_power_kw must be > 0, got {self.max_power_kw}"
            )
        if self.earliest_start.tzinfo is None or self.deadline.tzinfo is None:
            raise ValueError(f"load {self.name!r}: earliest_start and deadline must be aware")
        if not self.deadline > self.earliest_start:
            raise ValueError(f"load {self.name!r}: the deadline must come after the earliest start")


def full_power_run(load: DeferrableLoad, grid: SlotGrid) -> list[float]:
    """Energy per slot of a run at full power from the start of a slot until done."""
    per_slot = load.max_power_kw * grid.hours_per_slot
    full = int(load.energy_kwh / per_slot * (1 + TOLERANCE))
    rest = load.energy_kwh - full * per_slot
    return [per_slot] * full + ([rest] if rest > TOLERANCE * per_slot else [])
