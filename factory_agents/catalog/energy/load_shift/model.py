"""The optimisation: the LP (GLOP) or MILP (SCIP) of one instance, its solution and duals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ortools.linear_solver import pywraplp

from factory_agents.catalog.energy.load_shift.loads import TOLERANCE, DeferrableLoad, full_power_run
from factory_agents.catalog.energy.load_shift.result import BindingConstraint
from factory_agents.catalog.energy.tariff import SlotGrid, TimeOfUseTariff


class Model:
    """The LP (GLOP) or MILP (SCIP) of one instance, and what its solution says."""

    def __init__(
        self,
        loads: Sequence[DeferrableLoad],
        windows: Mapping[str, range],
        grid: SlotGrid,
        prices: Sequence[Decimal],
        base: Sequence[float],
        cap: Sequence[float],
        tariff: TimeOfUseTariff,
        peak_so_far_kw: float,
    ) -> None:
        self.loads, self.grid, self.base, self.cap = loads, grid, base, cap
        self.integer = any(not load.interruptible for load in loads)
        self.solver_name = "SCIP (MILP)" if self.integer else "GLOP (LP)"
        solver = pywraplp.Solver.CreateSolver("SCIP" if self.integer else "GLOP")
        if solver is None:
            raise ValueError(f"OR-Tools lacks the {self.solver_name} solver; reinstall ortools")
        self.solver = solver
        h = grid.hours_per_slot
        self.continuous: dict[tuple[str, int], Any] = {}
        self.starts: dict[str, dict[int, Any]] = {}
        self.profiles: dict[str, list[float]] = {}
        terms: list[list[tuple[float, Any]]] = [[] for _ in range(grid.slots)]
        for i, load in enumerate(loads):
            window = windows[load.name]
            if load.interruptible:
                for t in window:
                    var = solver.NumVar(0.0, load.max_power_kw * h, f"e_{i}_{t}")
                    self.continuous[load.name, t] = var
                    terms[t].append((1.0, var))
                solver.Add(sum(self.continuous[load.name, t] for t in window) == load.energy_kwh)
            else:
                profile = full_power_run(load, grid)
                self.profiles[load.name] = profile
                starts = range(window.start, window.stop - len(profile) + 1)
                self.starts[load.name] = {s: solver.BoolVar(f"start_{i}_{s}") for s in starts}
                solver.Add(sum(self.starts[load.name].values()) == 1)
                for s, var in self.starts[load.name].items():
                    for offset, kwh in enumerate(profile):
                        terms[s + offset].append((kwh, var))
        self.cap_rows: dict[int, Any] = {}
        for t, slot_terms in enumerate(terms):
            if slot_terms:
                headroom = (cap[t] - base[t]) * h
                self.cap_rows[t] = solver.Add(sum(k * v for k, v in slot_terms) <= headroom)
        cost = sum(float(prices[t]) * k * v for t in range(grid.slots) for k, v in terms[t])
        charge = float(tariff.demand_charge_per_kw)
        self.peak: Any = None
        self.peak_rows: dict[int, Any] = {}
        if charge > 0:
            self.peak = solver.NumVar(peak_so_far_kw, solver.infinity(), "peak_kw")
            for t, slot_terms in enumerate(terms):
                demand = base[t] + sum(k / h * v for k, v in slot_terms)
                self.peak_rows[t] = solver.Add(self.peak >= demand)
            cost += charge * self.peak
        solver.Minimize(cost)

    def solve(self) -> int:
        """Solve to optimality (zero relative gap for the MILP); the solver's status."""
        params = pywraplp.MPSolverParameters()
        params.SetDoubleParam(params.RELATIVE_MIP_GAP, 0.0)
        return int(self.solver.Solve(params))

    def energy(self, load: DeferrableLoad) -> list[float]:
        """The load's energy per slot in the solution (kWh)."""
        energy = [0.0] * self.grid.slots
        if load.interruptible:
            for (name, t), var in self.continuous.items():
                if name == load.name:
                    energy[t] = max(0.0, var.solution_value())
        else:
            start = max(self.starts[load.name].items(), key=lambda kv: kv[1].solution_value())[0]
            for offset, kwh in enumerate(self.profiles[load.name]):
                energy[start + offset] = kwh
        return energy

    def binding(self) -> tuple[BindingConstraint, ...]:
        """Constraints without slack: site cap per slot, max power per load and slot, peak."""
        h = self.grid.hours_per_slot
        lp = not self.integer
        energies = [self.energy(load) for load in self.loads]
        found: list[BindingConstraint] = []
        for t, row in self.cap_rows.items():
            used = sum(e[t] for e in energies)
            if used >= (self.cap[t] - self.base[t]) * h - TOLERANCE * max(1.0, used):
                found.append(
                    BindingConstraint("site_cap", t, None, 0.0 - row.dual_value() if lp else None)
                )
        for (name, t), var in sorted(self.continuous.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            if var.solution_value() >= var.ub() - TOLERANCE * max(1.0, var.ub()):
                found.append(
                    BindingConstraint(
                        "max_power", t, name, 0.0 - var.reduced_cost() if lp else None
                    )
                )
        if self.peak is not None and self.peak.solution_value() > self.peak.lb() + TOLERANCE:
            peak = self.peak.solution_value()
            for t in self.peak_rows:
                demand = self.base[t] + sum(e[t] for e in energies) / h
                if demand >= peak - TOLERANCE * max(1.0, peak):
                    found.append(BindingConstraint("peak_demand", t, None, None))
        return tuple(sorted(found, key=lambda b: (b.slot, b.kind, b.load or "")))
