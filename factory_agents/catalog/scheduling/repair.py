"""Rescheduling on a breakdown: right-shift repair against CP-SAT re-optimisation with stability.

At time ``now`` a machine stops; it is expected back at ``up_at`` (an estimate). What happened
before ``now`` stays as it is: every operation that started before ``now`` keeps its start and
end, except the one running on the broken machine. That operation is interrupted and must be
redone from scratch, its full duration, once the machine is back (at ``up_at`` or later); the
part already done is lost. No other operation may start before ``now``, and nothing may start
on the broken machine before ``up_at``.

Two candidates:

- right-shift: keep every machine's sequence and push operations later, just as far as the
  breakdown forces them (no operation starts earlier than planned);
- re-optimise: CP-SAT may reorder whatever has not started, minimising the objective plus a
  stability penalty, ``stability_weight`` x the sum over operations of |new start - old start|
  (operations that stay put add nothing). It starts from the right-shift schedule and falls
  back to it, so its score is never worse.

Score of a candidate: objective value + stability_weight x total start shift (the weight is
used in steps of 0.001). The recommendation re-optimises only when that lowers the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ortools.sat.python import cp_model

from factory_agents.catalog.scheduling.cpsat import (
    JobShopModel,
    SolverSettings,
    raise_if_broken,
)
from factory_agents.catalog.scheduling.jobshop import (
    OBJECTIVES,
    Instance,
    Objective,
    OpKey,
    Schedule,
    machine_sequences,
    timetable,
)

CandidateName = Literal["right-shift", "re-optimise"]
WEIGHT_STEPS = 1000  # the stability weight is used in steps of 1 / WEIGHT_STEPS
RULE = (
    "re-optimise only when its score (objective + stability weight x total start shift) is "
    "strictly lower than right-shift's; otherwise keep right-shift, which keeps every machine's "
    "sequence and so changes least on the shop floor"
)


@dataclass(frozen=True)
class Breakdown:
    """A machine down from `now` until `up_at` (an estimate)."""

    machine: str
    now: int
    up_at: int


@dataclass(frozen=True)
class RepairCandidate:
    """A repaired schedule with what it costs: objectives, start shifts and its score."""

    name: CandidateName
    schedule: Schedule
    makespan: int
    weighted_tardiness: int
    total_shift: int
    operations_moved: int
    score: float
    found_by: str


@dataclass(frozen=True)
class RepairResult:
    """Both candidates, what was frozen or interrupted, and the recommendation with its rule."""

    breakdown: Breakdown
    objective: Objective
    stability_weight: float
    frozen: tuple[OpKey, ...]
    interrupted: OpKey | None
    right_shift: RepairCandidate
    reoptimised: RepairCandidate
    recommended: CandidateName
    recommendation: str

    @property
    def chosen(self) -> RepairCandidate:
        """The recommended candidate."""
        return self.reoptimised if self.recommended == "re-optimise" else self.right_shift


def repair(
    instance: Instance,
    schedule: Schedule,
    breakdown: Breakdown,
    objective: Objective = "makespan",
    stability_weight: float = 0.1,
    settings: SolverSettings | None = None,
) -> RepairResult:
    """Right-shift and re-optimised repairs around a breakdown, and which to take (module doc).

    Operations begun before `now` stay; the one running on the broken machine is interrupted
    and redone from scratch, its full duration, from `up_at` on.
    """
    _check(instance, schedule, breakdown, objective, stability_weight)
    weight = round(stability_weight * WEIGHT_STEPS)
    old = {op.key: op.start for op in schedule.operations}
    frozen, interrupted = _frozen_and_interrupted(schedule, breakdown)
    earliest = _earliest_starts(schedule, breakdown, frozen)
    shifted_earliest = {key: max(old[key], start) for key, start in earliest.items()}
    shifted = timetable(
        instance, machine_sequences(schedule), "right-shift", {**shifted_earliest, **frozen}
    )
    if any(shifted.by_key()[key].start != start for key, start in frozen.items()):
        raise RuntimeError("right-shift moved an operation that had already started; a bug")
    right_shift = _candidate("right-shift", shifted, old, objective, weight, "right-shift")
    reoptimised = _reoptimise(instance, old, earliest, frozen, shifted, objective, weight, settings)
    better = reoptimised.score < right_shift.score
    recommended: CandidateName = "re-optimise" if better else "right-shift"
    return RepairResult(
        breakdown=breakdown,
        objective=objective,
        stability_weight=weight / WEIGHT_STEPS,
        frozen=tuple(sorted(frozen)),
        interrupted=interrupted,
        right_shift=right_shift,
        reoptimised=reoptimised,
        recommended=recommended,
        recommendation=_explain(recommended, right_shift, reoptimised, objective, weight),
    )


def _reoptimise(
    instance: Instance,
    old: dict[OpKey, int],
    earliest: dict[OpKey, int],
    frozen: dict[OpKey, int],
    right_shift: Schedule,
    objective: Objective,
    weight: int,
    settings: SolverSettings | None,
) -> RepairCandidate:
    """CP-SAT over the operations not started, from the right-shift schedule; never worse."""
    model = JobShopModel(instance, earliest=earliest, fixed=frozen, planned=old)
    shifts = []
    hinted = right_shift.by_key()
    for key in earliest:
        shift = model.model.new_int_var(0, model.horizon, f"shift {key}")
        model.model.add(shift >= model.starts[key] - old[key])
        model.model.add(shift >= old[key] - model.starts[key])
        model.model.add_hint(shift, abs(hinted[key].start - old[key]))
        shifts.append(shift)
    model.model.minimize(WEIGHT_STEPS * model.objective(objective) + weight * sum(shifts))
    model.hint(right_shift)
    solver = (settings or SolverSettings()).solver()
    code = solver.solve(model.model)
    fallback = _candidate(
        "re-optimise", right_shift, old, objective, weight, "fallback: right-shift"
    )
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise_if_broken(code, solver, model)
        return fallback
    found_by = "cp-sat optimal" if code == cp_model.OPTIMAL else "cp-sat feasible (time limit)"
    found = _candidate(
        "re-optimise", model.read(solver, found_by), old, objective, weight, found_by
    )
    return found if found.score <= fallback.score else fallback


def _frozen_and_interrupted(
    schedule: Schedule, breakdown: Breakdown
) -> tuple[dict[OpKey, int], OpKey | None]:
    """Starts of the operations begun before `now`, and the one cut short on the broken machine."""
    frozen: dict[OpKey, int] = {}
    interrupted: OpKey | None = None
    for op in schedule.operations:
        if op.start >= breakdown.now:
            continue
        if op.machine == breakdown.machine and op.end > breakdown.now:
            interrupted = op.key
        else:
            frozen[op.key] = op.start
    return frozen, interrupted


def _earliest_starts(
    schedule: Schedule, breakdown: Breakdown, frozen: dict[OpKey, int]
) -> dict[OpKey, int]:
    """Earliest start of each operation not frozen: `now`, or `up_at` on the broken machine."""
    return {
        op.key: breakdown.up_at if op.machine == breakdown.machine else breakdown.now
        for op in schedule.operations
        if op.key not in frozen
    }


def _candidate(
    name: CandidateName,
    schedule: Schedule,
    old: dict[OpKey, int],
    objective: Objective,
    weight: int,
    found_by: str,
) -> RepairCandidate:
    """A candidate with its start shifts against the old schedule, and its score."""
    shifts = [abs(op.start - old[op.key]) for op in schedule.operations]
    total = sum(shifts)
    return RepairCandidate(
        name=name,
        schedule=schedule,
        makespan=schedule.makespan,
        weighted_tardiness=schedule.weighted_tardiness,
        total_shift=total,
        operations_moved=sum(1 for shift in shifts if shift),
        score=schedule.value(objective) + weight * total / WEIGHT_STEPS,
        found_by=found_by,
    )


def _explain(
    recommended: CandidateName,
    right_shift: RepairCandidate,
    reoptimised: RepairCandidate,
    objective: Objective,
    weight: int,
) -> str:
    """The recommendation in words: the figures of both candidates and the rule applied."""
    label = objective.replace("_", " ")
    figures = (
        f"{label} {reoptimised.schedule.value(objective)} re-optimised vs "
        f"{right_shift.schedule.value(objective)} right-shifted, total start shift "
        f"{reoptimised.total_shift} vs {right_shift.total_shift}, score "
        f"{reoptimised.score:g} vs {right_shift.score:g} "
        f"(stability weight {weight / WEIGHT_STEPS:g})"
    )
    verdict = "Re-optimise" if recommended == "re-optimise" else "Keep the right-shift repair"
    return f"{verdict}: {figures}. Rule: {RULE}."


def _check(
    instance: Instance,
    schedule: Schedule,
    breakdown: Breakdown,
    objective: Objective,
    stability_weight: float,
) -> None:
    """Raise ValueError for a breakdown or setting the repair cannot work with."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    if breakdown.machine not in instance.machines:
        raise ValueError(
            f"machine {breakdown.machine!r} is not in the instance; "
            f"choose one of {', '.join(instance.machines)}"
        )
    if breakdown.now < 0 or breakdown.up_at <= breakdown.now:
        raise ValueError(
            f"the breakdown runs from {breakdown.now} to {breakdown.up_at}; give 0 <= now < up_at"
        )
    if stability_weight < 0:
        raise ValueError(f"stability_weight is {stability_weight}; give a number >= 0")
    schedule.validate(instance)
