"""Job-shop sequencing with OR-Tools CP-SAT, warm-started and backed up by dispatching rules.

The model: one fixed-size interval per operation, NoOverlap per machine, routing precedences
(each operation starts after the previous one of its job ends), release dates as lower bounds
on the first operation. Where a machine has sequence-dependent setup times, a circuit over its
operations plus a dummy node (AddCircuit) chooses the order, and each arc i -> j taken forces
start(j) >= end(i) + setup(i, j): the setup depends on the direct predecessor only.

Objectives: ``makespan`` (the latest end) or ``weighted_tardiness`` (sum over jobs with a due
date of weight x max(0, end - due)). The best dispatching schedule is given to CP-SAT as a
complete solution hint (AddHint) and is returned, with status ``fallback``, when CP-SAT finds
nothing (or nothing better) within the time limit. A CP-SAT solution is compacted to its
semi-active form (every operation as early as its machine sequence allows), which never makes
either objective worse.

Repeatability: ``random_seed`` fixes the solver's choices, but a parallel search
(``num_workers`` > 1) stopped by a wall-clock limit depends on thread timing, so two runs can
stop at different solutions. Optimal results are the same every time; for bit-for-bit
repeatable intermediate results use ``num_workers=1``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ortools.sat.python import cp_model

from factory_agents.catalog.scheduling.dispatch import DispatchResult, best_dispatch
from factory_agents.catalog.scheduling.jobshop import (
    OBJECTIVES,
    Instance,
    Objective,
    OpKey,
    Schedule,
    ScheduledOperation,
    machine_sequences,
    timetable,
)

Status = Literal["optimal", "feasible", "fallback"]
DUMMY = 0  # circuit node standing for "before the first / after the last operation"


@dataclass(frozen=True)
class CpSatResult:
    """The schedule, how it was found, its value, a proven lower bound and the baseline."""

    schedule: Schedule
    status: Status
    objective: Objective
    value: int
    lower_bound: int
    dispatch: DispatchResult

    @property
    def gap(self) -> float:
        """Relative distance to the lower bound, (value - bound) / value; 0 when value is 0."""
        return (self.value - self.lower_bound) / self.value if self.value else 0.0


@dataclass(frozen=True)
class SolverSettings:
    """How long and how CP-SAT searches."""

    time_limit_seconds: float = 10.0
    num_workers: int = 2
    random_seed: int = 0

    def __post_init__(self) -> None:
        if not self.time_limit_seconds > 0:
            raise ValueError(
                f"time_limit_seconds is {self.time_limit_seconds}; "
                "give a positive number of seconds"
            )
        if self.num_workers < 1:
            raise ValueError(f"num_workers is {self.num_workers}; give at least 1")

    def solver(self) -> Any:
        """A CP-SAT solver with these parameters."""
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = self.time_limit_seconds
        solver.parameters.num_workers = self.num_workers
        solver.parameters.random_seed = self.random_seed
        return solver


class JobShopModel:
    """A CP-SAT model of an instance, with handles on its variables for hints and read-back."""

    def __init__(
        self,
        instance: Instance,
        *,
        earliest: Mapping[OpKey, int] | None = None,
        fixed: Mapping[OpKey, int] | None = None,
        planned: Mapping[OpKey, int] | None = None,
    ) -> None:
        """Build the model; `earliest` bounds starts from below, `fixed` pins them.

        `planned` starts (of a plan being repaired) only widen the horizon, so that keeping an
        operation where it was planned stays possible however late that was.
        """
        self.instance = instance
        self.model = cp_model.CpModel()
        lower = dict(earliest or {})
        pinned = dict(fixed or {})
        bounds = [*lower.values(), *pinned.values(), *(planned or {}).values()]
        self.horizon = _horizon(instance, bounds)
        self.starts: dict[OpKey, Any] = {}
        self.arcs: dict[str, dict[tuple[OpKey | None, OpKey | None], Any]] = {}
        intervals: dict[str, list[Any]] = {machine: [] for machine in instance.machines}
        for job in instance.jobs:
            for op in job.operations:
                key = (job.name, op.index)
                low = max(lower.get(key, 0), job.release if op.index == 0 else 0)
                low, high = (pinned[key], pinned[key]) if key in pinned else (low, self.horizon)
                start = self.model.new_int_var(low, high, f"start {job.name}/{op.index}")
                self.starts[key] = start
                intervals[op.machine].append(
                    self.model.new_fixed_size_interval_var(start, op.duration, f"op {key}")
                )
                if op.index:
                    self.model.add(start >= self.end((job.name, op.index - 1)))
        for machine, machine_intervals in intervals.items():
            self.model.add_no_overlap(machine_intervals)
            if instance.setup.get(machine):
                self._add_setup_circuit(machine)
        self.makespan = self.model.new_int_var(0, self.horizon, "makespan")
        self.tardiness: dict[str, Any] = {}
        for job in instance.jobs:
            last = self.end((job.name, len(job.operations) - 1))
            self.model.add(self.makespan >= last)
            if job.due is not None:
                late = self.model.new_int_var(0, self.horizon, f"tardiness {job.name}")
                self.model.add(late >= last - job.due)
                self.tardiness[job.name] = late

    def end(self, key: OpKey) -> Any:
        """The end of an operation, as an expression."""
        return self.starts[key] + self.instance.operation(key).duration

    def objective(self, objective: Objective) -> Any:
        """The objective as an expression to minimise."""
        if objective == "makespan":
            return self.makespan
        weights = {job.name: job.weight for job in self.instance.jobs}
        return sum(weights[name] * late for name, late in self.tardiness.items())

    def hint(self, schedule: Schedule) -> None:
        """Give CP-SAT the whole schedule as a starting point."""
        for op in schedule.operations:
            self.model.add_hint(self.starts[op.key], op.start)
        self.model.add_hint(self.makespan, schedule.makespan)
        ends: dict[str, int] = {}
        for op in schedule.operations:
            ends[op.job] = max(ends.get(op.job, 0), op.end)
        for job in self.instance.jobs:
            if job.name in self.tardiness and job.due is not None:
                self.model.add_hint(self.tardiness[job.name], max(0, ends[job.name] - job.due))
        sequences = machine_sequences(schedule)
        for machine, arcs in self.arcs.items():
            order: list[OpKey | None] = [None, *sequences.get(machine, []), None]
            taken = set(itertools.pairwise(order))
            for arc, literal in arcs.items():
                self.model.add_hint(literal, arc in taken)

    def read(self, solver: Any, method: str) -> Schedule:
        """The schedule in the solver's current solution."""
        placed = []
        for key, start in self.starts.items():
            op = self.instance.operation(key)
            begin = int(solver.value(start))
            placed.append(
                ScheduledOperation(key[0], key[1], op.machine, begin, begin + op.duration)
            )
        return Schedule.build(self.instance, placed, method)

    def _add_setup_circuit(self, machine: str) -> None:
        """Order the machine's operations by a circuit whose arcs carry the setup times."""
        keys = [(op.job, op.index) for op in self.instance.operations() if op.machine == machine]
        node = {key: position + 1 for position, key in enumerate(keys)}
        arcs: dict[tuple[OpKey | None, OpKey | None], Any] = {}
        circuit = []
        for key in keys:
            first = self.model.new_bool_var(f"{key} first on {machine}")
            last = self.model.new_bool_var(f"{key} last on {machine}")
            arcs[(None, key)], arcs[(key, None)] = first, last
            circuit += [(DUMMY, node[key], first), (node[key], DUMMY, last)]
            for after in keys:
                if after == key:
                    continue
                literal = self.model.new_bool_var(f"{after} after {key} on {machine}")
                setup = self.instance.setup_time(machine, key[0], after[0])
                self.model.add(self.starts[after] >= self.end(key) + setup).only_enforce_if(literal)
                arcs[(key, after)] = literal
                circuit.append((node[key], node[after], literal))
        self.model.add_circuit(circuit)
        self.arcs[machine] = arcs


def solve(
    instance: Instance,
    objective: Objective = "makespan",
    settings: SolverSettings | None = None,
) -> CpSatResult:
    """Sequence the instance with CP-SAT from the best dispatching schedule; never worse than it."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    settings = settings or SolverSettings()
    baseline = best_dispatch(instance, objective)
    model = JobShopModel(instance)
    model.model.minimize(model.objective(objective))
    model.hint(baseline.best)
    solver = settings.solver()
    code = solver.solve(model.model)
    floor = trivial_lower_bound(instance, objective)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise_if_broken(code, solver, model)
        bound = max(floor, _solver_bound(solver))
        return _fallback(baseline, objective, bound)
    optimal = code == cp_model.OPTIMAL
    method = "cp-sat optimal" if optimal else "cp-sat feasible (time limit)"
    found = model.read(solver, method)
    schedule = timetable(instance, machine_sequences(found), method)
    value = schedule.value(objective)
    bound = value if optimal else min(value, max(floor, _solver_bound(solver)))
    if value > baseline.best.value(objective):
        return _fallback(baseline, objective, bound)
    return CpSatResult(
        schedule, "optimal" if optimal else "feasible", objective, value, bound, baseline
    )


def trivial_lower_bound(instance: Instance, objective: Objective) -> int:
    """A bound no schedule beats: longest job or busiest machine; least unavoidable tardiness."""
    if objective == "makespan":
        load = dict.fromkeys(instance.machines, 0)
        for op in instance.operations():
            load[op.machine] += op.duration
        longest_job = max(job.release + job.work for job in instance.jobs)
        return max(longest_job, *load.values())
    return sum(
        job.weight * max(0, job.release + job.work - job.due)
        for job in instance.jobs
        if job.due is not None
    )


def _fallback(baseline: DispatchResult, objective: Objective, bound: int) -> CpSatResult:
    """The best dispatching schedule, as returned when CP-SAT does not beat it in time."""
    value = baseline.best.value(objective)
    return CpSatResult(baseline.best, "fallback", objective, value, min(bound, value), baseline)


def _solver_bound(solver: Any) -> int:
    """CP-SAT's best objective bound, rounded up (objectives are whole numbers)."""
    bound = float(solver.best_objective_bound)
    return max(0, math.ceil(bound - 1e-9)) if math.isfinite(bound) else 0


def raise_if_broken(code: Any, solver: Any, model: JobShopModel) -> None:
    """Raise RuntimeError if CP-SAT calls the model invalid or infeasible (a bug, not a limit)."""
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"CP-SAT refused the job-shop model: {model.model.validate()}")
    if code == cp_model.INFEASIBLE:
        raise RuntimeError(
            f"CP-SAT found the model infeasible ({solver.status_name(code)}); the horizon "
            f"{model.horizon} is too short, which is a bug in the model builder"
        )


def _horizon(instance: Instance, bounds: list[int]) -> int:
    """A time by which some optimal schedule has ended: latest bound plus all work and setups."""
    setups = 0
    for op in instance.operations():
        rows = instance.setup.get(op.machine, {})
        setups += max((row.get(op.job, 0) for row in rows.values()), default=0)
    start = max([job.release for job in instance.jobs] + bounds)
    return start + instance.total_work + setups
