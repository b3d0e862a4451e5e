"""Plan the loads: check the inputs, solve the model, price the plan against the as-is run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from ortools.linear_solver import pywraplp

from factory_agents.catalog.energy.load_shift.feasibility import (
    check_each_load_fits,
    explain_infeasible,
)
from factory_agents.catalog.energy.load_shift.inputs import load_window, values_per_slot
from factory_agents.catalog.energy.load_shift.loads import TOLERANCE, DeferrableLoad, full_power_run
from factory_agents.catalog.energy.load_shift.model import Model
from factory_agents.catalog.energy.load_shift.result import LoadRun, LoadShiftPlan
from factory_agents.catalog.energy.tariff import SlotGrid, TimeOfUseTariff

CENTS = Decimal("0.01")


def plan_load_shift(
    loads: Sequence[DeferrableLoad],
    grid: SlotGrid,
    tariff: TimeOfUseTariff,
    *,
    base_load_kw: Sequence[float],
    power_cap_kw: float | Sequence[float],
    peak_so_far_kw: float = 0.0,
) -> LoadShiftPlan:
    """The cheapest schedule of the loads, against the as-is baseline, with binding constraints.

    Exact LP (GLOP) when every load is interruptible, exact MILP (SCIP) otherwise. Loads
    must finish within the grid; an earliest start before the grid means "available now".
    `peak_so_far_kw` is the billing period's highest demand already reached: the demand
    charge applies to the excess over it only.
    """
    names = [load.name for load in loads]
    if not loads or len(set(names)) != len(names):
        raise ValueError(f"need at least one load, with unique names; got {names}")
    base = values_per_slot(base_load_kw, grid, "base_load_kw")
    cap = values_per_slot(power_cap_kw, grid, "power_cap_kw")
    if not (peak_so_far_kw >= 0 and math.isfinite(peak_so_far_kw)):
        raise ValueError(f"peak_so_far_kw must be >= 0, got {peak_so_far_kw}")
    over = [t for t in range(grid.slots) if base[t] > cap[t]]
    if over:
        t = over[0]
        raise ValueError(
            f"the base load {base[t]:g} kW already exceeds the cap {cap[t]:g} kW in slot {t}"
            f" ({grid.slot_start(t).isoformat()}); the cap cannot be kept whatever is shifted"
        )
    prices = tariff.slot_prices(grid)
    windows = {load.name: load_window(load, grid) for load in loads}
    check_each_load_fits(loads, windows, grid, base, cap)
    model = Model(loads, windows, grid, prices, base, cap, tariff, peak_so_far_kw)
    status = model.solve()
    if status != pywraplp.Solver.OPTIMAL:
        if status == pywraplp.Solver.INFEASIBLE:
            raise ValueError(explain_infeasible(loads, windows, grid, base, cap))
        raise ValueError(f"the solver stopped without an optimum (status {status}); report this")
    plan = tuple(_run(load.name, model.energy(load), prices) for load in loads)
    baseline = tuple(
        _run(load.name, _as_soon_as_possible(load, windows[load.name], grid), prices)
        for load in loads
    )
    peak, baseline_peak = _peak(plan, base, grid), _peak(baseline, base, grid)
    charge = tariff.demand_charge_per_kw
    return LoadShiftPlan(
        grid=grid,
        currency=tariff.currency,
        solver=model.solver_name,
        slot_prices=prices,
        base_load_kw=base,
        power_cap_kw=cap,
        plan=plan,
        baseline=baseline,
        peak_kw=peak,
        baseline_peak_kw=baseline_peak,
        peak_so_far_kw=peak_so_far_kw,
        demand_cost=_demand_cost(charge, peak, peak_so_far_kw),
        baseline_demand_cost=_demand_cost(charge, baseline_peak, peak_so_far_kw),
        binding=model.binding(),
        baseline_cap_violations=tuple(
            t
            for t in range(grid.slots)
            if base[t] + sum(r.energy_kwh[t] for r in baseline) / grid.hours_per_slot
            > cap[t] + TOLERANCE
        ),
    )


def _as_soon_as_possible(load: DeferrableLoad, window: range, grid: SlotGrid) -> list[float]:
    """The as-is run: full power from the first slot of the window until done."""
    energy = [0.0] * grid.slots
    for offset, kwh in enumerate(full_power_run(load, grid)):
        energy[window.start + offset] = kwh
    return energy


def _run(name: str, energy: Sequence[float], prices: Sequence[Decimal]) -> LoadRun:
    kwh = tuple(round(e, 9) for e in energy)
    cost = sum((Decimal(f"{e:.6f}") * p for e, p in zip(kwh, prices, strict=True)), Decimal(0))
    return LoadRun(name=name, energy_kwh=kwh, cost=cost.quantize(CENTS))


def _peak(runs: Sequence[LoadRun], base: Sequence[float], grid: SlotGrid) -> float:
    return max(
        base[t] + sum(r.energy_kwh[t] for r in runs) / grid.hours_per_slot
        for t in range(grid.slots)
    )


def _demand_cost(charge: Decimal, peak: float, peak_so_far: float) -> Decimal:
    return (charge * Decimal(f"{max(0.0, peak - peak_so_far):.6f}")).quantize(CENTS)
