"""Load shifting: schedule deferrable loads into cheap slots within their windows and the site cap.

Variables are the energy e[l, t] (kWh) of load l in slot t, for the slots lying wholly inside
the load's window [earliest start, deadline]. Interruptible loads are divisible: any power
from 0 to their maximum in any slot, so the problem is a linear program, solved exactly
(to floating-point tolerance) by GLOP:

    minimise   sum_t price_t sum_l e[l, t]  (+ demand charge x (peak - peak so far))
    subject to sum_t e[l, t] = E_l                          every load
               0 <= e[l, t] <= P_l x slot hours             max power
               sum_l e[l, t] <= (cap_t - base_t) x slot hours  site cap
               peak >= base_t + sum_l e[l, t] / slot hours, peak >= peak so far

A non-interruptible load runs at its maximum power from one start slot until done; choosing
that slot is a discrete decision, so when any load is non-interruptible the problem becomes
a mixed-integer program (one binary per possible start), solved exactly (zero relative gap)
by SCIP. The baseline is the "as is" behaviour: every load starts at its earliest slot and
runs at full power until done, whatever the tariff or the cap. The cap and the demand
charge apply to each slot's average power (as a meter's demand interval does); energy costs
cover the deferrable loads only, since the base load costs the same in both schedules.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ortools.linear_solver import pywraplp

from factory_agents.catalog.energy.tariff import SlotGrid, TimeOfUseTariff
from factory_agents.plant import Quality, Sample

CENTS = Decimal("0.01")
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
    base = _per_slot(base_load_kw, grid, "base_load_kw")
    cap = _per_slot(power_cap_kw, grid, "power_cap_kw")
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
    windows = {load.name: _window(load, grid) for load in loads}
    _check_each_load_fits(loads, windows, grid, base, cap)
    model = _Model(loads, windows, grid, prices, base, cap, tariff, peak_so_far_kw)
    status = model.solve()
    if status != pywraplp.Solver.OPTIMAL:
        if status == pywraplp.Solver.INFEASIBLE:
            raise ValueError(_explain_infeasible(loads, windows, grid, base, cap))
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


def _per_slot(value: float | Sequence[float], grid: SlotGrid, what: str) -> tuple[float, ...]:
    values = [float(value)] * grid.slots if isinstance(value, int | float) else list(value)
    if len(values) != grid.slots:
        raise ValueError(f"{what} needs one value per slot ({grid.slots}), got {len(values)}")
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise ValueError(f"{what} values must be finite and >= 0 kW")
    return tuple(values)


def _window(load: DeferrableLoad, grid: SlotGrid) -> range:
    if load.deadline > grid.end:
        raise ValueError(
            f"load {load.name!r}: its deadline {load.deadline.isoformat()} lies beyond the"
            f" grid's end {grid.end.isoformat()}; extend the grid to cover it"
        )
    return grid.slots_within(load.earliest_start, load.deadline)


def _check_each_load_fits(
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


def _full_power_run(load: DeferrableLoad, grid: SlotGrid) -> list[float]:
    """Energy per slot of a run at full power from the start of a slot until done."""
    per_slot = load.max_power_kw * grid.hours_per_slot
    full = int(load.energy_kwh / per_slot * (1 + TOLERANCE))
    rest = load.energy_kwh - full * per_slot
    return [per_slot] * full + ([rest] if rest > TOLERANCE * per_slot else [])


def _as_soon_as_possible(load: DeferrableLoad, window: range, grid: SlotGrid) -> list[float]:
    """The as-is run: full power from the first slot of the window until done."""
    energy = [0.0] * grid.slots
    for offset, kwh in enumerate(_full_power_run(load, grid)):
        energy[window.start + offset] = kwh
    return energy


class _Model:
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
                profile = _full_power_run(load, grid)
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


def _explain_infeasible(
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


@dataclass(frozen=True, slots=True)
class DailyLoadProfile:
    """Mean power per time-of-day slot (kW), local time, from an energy meter's history."""

    slot_minutes: int
    timezone: str
    kw: tuple[float, ...]
    hours_observed: tuple[float, ...]

    def on(self, grid: SlotGrid) -> tuple[float, ...]:
        """The profile's power for every slot of the grid, by local time of day."""
        if grid.slot_minutes != self.slot_minutes:
            raise ValueError(
                f"the profile has {self.slot_minutes}-min slots, the grid {grid.slot_minutes}-min"
            )
        out = []
        zone = ZoneInfo(self.timezone)
        for i in range(grid.slots):
            local = grid.slot_start(i).astimezone(zone)
            minute = local.hour * 60 + local.minute
            if minute % self.slot_minutes or local.second or local.microsecond:
                raise ValueError(
                    f"grid slot {i} starts at {local:%H:%M:%S} local time, not on a profile slot"
                    f" boundary; start the grid on a multiple of {self.slot_minutes} min"
                )
            out.append(self.kw[minute // self.slot_minutes])
        return tuple(out)


def base_load_profile(
    register: Sequence[Sample],
    *,
    slot_minutes: int,
    timezone: str,
    max_gap: timedelta = timedelta(minutes=30),
    min_hours_per_slot: float | None = None,
) -> DailyLoadProfile:
    """Mean non-deferrable power per time-of-day slot from a cumulative energy register (kWh).

    The energy between two consecutive Good readings is spread evenly over the time between
    them and shared out among the time-of-day slots it spans; a slot's power is its energy
    over the hours observed. Steps longer than `max_gap` and counter decreases (resets) are
    left out. Every slot must be observed at least `min_hours_per_slot` (default: one slot).
    """
    if not 0 < slot_minutes <= 1440 or 1440 % slot_minutes:
        raise ValueError(f"slot_minutes must divide the day, got {slot_minutes}")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {timezone!r}; use an IANA name") from err
    slots_per_day = 1440 // slot_minutes
    slot_length = timedelta(minutes=slot_minutes)
    energy = [0.0] * slots_per_day
    hours = [0.0] * slots_per_day
    good = sorted((s for s in register if s.quality is Quality.GOOD), key=lambda s: s.source_time)
    for before, after in itertools.pairwise(good):
        span = after.source_time - before.source_time
        delta = after.value - before.value
        if span <= timedelta(0) or span > max_gap or delta < 0:
            continue
        kw = delta / (span.total_seconds() / 3600)
        cursor = before.source_time
        while cursor < after.source_time:
            local = cursor.astimezone(zone)
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            slot = (local - midnight) // slot_length
            to_boundary = midnight + (slot + 1) * slot_length - local
            step_end = min(after.source_time, cursor + to_boundary)
            step_hours = (step_end - cursor).total_seconds() / 3600
            energy[slot] += kw * step_hours
            hours[slot] += step_hours
            cursor = step_end
    needed = slot_minutes / 60 if min_hours_per_slot is None else min_hours_per_slot
    thin = [i for i in range(slots_per_day) if hours[i] < needed - 1e-9]
    if thin:
        first = thin[0] * slot_minutes
        raise ValueError(
            f"{len(thin)} time-of-day slots have less than {needed:g} h of usable meter data,"
            f" the first at {first // 60:02d}:{first % 60:02d} {timezone}; give a longer"
            " history or fewer gaps"
        )
    return DailyLoadProfile(
        slot_minutes=slot_minutes,
        timezone=timezone,
        kw=tuple(e / h for e, h in zip(energy, hours, strict=True)),
        hours_observed=tuple(hours),
    )
