"""The load-shift plan: each load's energy per slot, the constraints that bind, the saving."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from factory_agents.catalog.energy.tariff import SlotGrid


@dataclass(frozen=True, slots=True)
class LoadRun:
    """One load's energy per slot (kWh) and its energy cost at the slot prices."""

    name: str
    energy_kwh: tuple[float, ...]
    cost: Decimal


@dataclass(frozen=True, slots=True)
class BindingConstraint:
    """A constraint without slack at the optimum, with its shadow price where the LP gives one.

    site_cap and max_power shadow prices are the cost saved per extra kWh allowed in that slot
    (currency/kWh); None for peak_demand and for mixed-integer plans.
    """

    kind: Literal["site_cap", "max_power", "peak_demand"]
    slot: int
    load: str | None
    shadow_price: float | None


@dataclass(frozen=True, slots=True)
class LoadShiftPlan:
    """The optimal schedule against the as-is baseline, with every number behind the saving."""

    grid: SlotGrid
    currency: str
    solver: str
    slot_prices: tuple[Decimal, ...]
    base_load_kw: tuple[float, ...]
    power_cap_kw: tuple[float, ...]
    plan: tuple[LoadRun, ...]
    baseline: tuple[LoadRun, ...]
    peak_kw: float
    baseline_peak_kw: float
    peak_so_far_kw: float
    demand_cost: Decimal
    baseline_demand_cost: Decimal
    binding: tuple[BindingConstraint, ...]
    baseline_cap_violations: tuple[int, ...]

    @property
    def energy_cost(self) -> Decimal:
        """Energy cost of the deferrable loads as planned (the base load's is left out)."""
        return sum((run.cost for run in self.plan), Decimal(0))

    @property
    def baseline_energy_cost(self) -> Decimal:
        """Energy cost of the deferrable loads as is."""
        return sum((run.cost for run in self.baseline), Decimal(0))

    @property
    def cost(self) -> Decimal:
        """Energy plus demand-charge cost as planned."""
        return self.energy_cost + self.demand_cost

    @property
    def baseline_cost(self) -> Decimal:
        """Energy plus demand-charge cost as is."""
        return self.baseline_energy_cost + self.baseline_demand_cost

    @property
    def saving(self) -> Decimal:
        """Baseline cost minus planned cost."""
        return self.baseline_cost - self.cost

    @property
    def assumptions(self) -> tuple[str, ...]:
        """What the saving rests on, in words an engineer can check."""
        charge = (
            f"demand charge on the excess of the highest slot-average demand over the"
            f" {self.peak_so_far_kw:g} kW already reached this billing period"
            if self.demand_cost or self.baseline_demand_cost
            else "no demand charge (the tariff has none, or neither schedule exceeds the peak"
            " already reached)"
        )
        return (
            "as is: every load starts at its earliest slot and runs at full power until done",
            "interruptible loads can run at any power between 0 and their maximum in any slot"
            " of their window; non-interruptible ones run at full power in one piece",
            "only whole slots inside a load's window are used; the base load per slot is the"
            " meter's profile for that time of day",
            "the tariff's price per kWh applies to each slot's energy; the base load's energy"
            " costs the same in both schedules and is left out",
            charge,
        )
