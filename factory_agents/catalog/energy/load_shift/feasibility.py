"""Refusing an instance no schedule can serve, with the reason: a load alone, or all together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ortools.linear_solver import pywraplp

from factory_agents.catalog.energy.load_shift.loads import TOLERANCE, DeferrableLoad
from factory_agents.catalog.energy.tariff import SlotGrid


def check_each_load_fits(
    loads: Sequence[DeferrableLoad],
    windows: Mapping[str, range],
    grid: SlotGrid,
    base: Sequence[float],
    cap: Sequence[float],
) -> None:
    """Refuse a load that cannot deliver its energy in its window, alone, at full power."""
    h = grid.hours_per_slot
    for load in loads:
        window = windows[load.name]
        at_full_power = load.max_power_kw * h * len(window)
        if load.energy_kwh > at_full_power * (1 + TOLERANCE):
            span = (
                f"between {grid.slot_start(window.start).isoformat()} and"
                f" {grid.slot_start(window.stop).isoformat()} ({len(window)} whole slots of"
                f" {grid.slot_minutes} min)"
                if window
                else "(no whole slot of the grid lies in its window)"
            )
            raise ValueError(
                f"load {load.name!r} needs {load.energy_kwh:g} kWh but at its maximum"
                f" {load.max_power_kw:g} kW it can take at most {at_full_power:g} kWh {span};"
                " move its deadline later, its earliest start sooner, or raise its max power"
            )
        under_cap = sum(min(load.max_power_kw, cap[t] - base[t]) * h for t in window)
        if load.energy_kwh > under_cap * (1 + TOLERANCE):
            raise ValueError(
                f"load {load.name!r} needs {load.energy_kwh:g} kWh but the site cap leaves room"
                f" for at most {under_cap:g} kWh in its window, even alone; widen its window"
                " or raise the cap"
            )


def explain_infeasible(
    loads: Sequence[DeferrableLoad],
    windows: Mapping[str, range],
    grid: SlotGrid,
    base: Sequence[float],
    cap: Sequence[float],
) -> str:
    """Which loads the cap cannot serve together: the most energy the relaxed LP can place."""
    h = grid.hours_per_slot
    solver = pywraplp.Solver.CreateSolver("GLOP")
    placed: dict[str, list[Any]] = {}
    per_slot: list[list[Any]] = [[] for _ in range(grid.slots)]
    for i, load in enumerate(loads):
        placed[load.name] = []
        for t in windows[load.name]:
            var = solver.NumVar(0.0, load.max_power_kw * h, f"e_{i}_{t}")
            placed[load.name].append(var)
            per_slot[t].append(var)
        solver.Add(sum(placed[load.name]) <= load.energy_kwh)
    for t, slot_vars in enumerate(per_slot):
        if slot_vars:
            solver.Add(sum(slot_vars) <= (cap[t] - base[t]) * h)
    solver.Maximize(sum(v for vs in placed.values() for v in vs))
    solver.Solve()
    short = {
        load.name: load.energy_kwh - sum(v.solution_value() for v in placed[load.name])
        for load in loads
    }
    short = {name: gap for name, gap in short.items() if gap > TOLERANCE * 100}
    if short:
        total = sum(short.values())
        return (
            f"the loads {sorted(short)} cannot all be served under the site cap within their"
            f" windows: {total:.3f} kWh find no room (e.g. {short}); widen their windows, raise"
            " the cap, or drop a load"
        )
    rigid = sorted(load.name for load in loads if not load.interruptible)
    return (
        f"the non-interruptible loads {rigid} cannot each run in one piece at full power under"
        " the site cap within their windows (they would fit if they could be interrupted);"
        " allow interruption, widen their windows or raise the cap"
    )
