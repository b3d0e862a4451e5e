"""CP-SAT sequencing: published optima, brute-force optima, setups, and the dispatching fallback."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import pytest

from factory_agents.catalog.scheduling.cpsat import SolverSettings, solve, trivial_lower_bound
from factory_agents.catalog.scheduling.instances import load_known
from factory_agents.catalog.scheduling.jobshop import Instance, Job, Objective

QUICK = SolverSettings(time_limit_seconds=5.0, num_workers=2, random_seed=1)

# 4 jobs x 3 machines with releases, due dates and weights, small enough to enumerate.
FOUR_BY_THREE = Instance(
    jobs=(
        Job.from_route("J0", [("M0", 4), ("M1", 3), ("M2", 2)], due=9, weight=2),
        Job.from_route("J1", [("M1", 2), ("M0", 5), ("M2", 3)], due=9, weight=1, release=1),
        Job.from_route("J2", [("M2", 3), ("M1", 4), ("M0", 2)], due=8, weight=3),
        Job.from_route("J3", [("M0", 2), ("M2", 4), ("M1", 3)], due=10, weight=1, release=2),
    ),
    machines=("M0", "M1", "M2"),
    name="four-by-three",
)
# On M0 only J3 -> J0 -> J1 -> J2 change over in 1; every other change takes 5.
CHEAP_ON_M0 = {("J3", "J0"), ("J0", "J1"), ("J1", "J2")}
NAMES = ("J0", "J1", "J2", "J3")
ASYMMETRIC_SETUPS = {
    "M0": {a: {b: 1 if (a, b) in CHEAP_ON_M0 else 5 for b in NAMES if b != a} for a in NAMES}
}


def brute_force(instance: Instance, objective: Objective) -> int:
    """The best value over every combination of machine orders, each packed to the left.

    For a regular objective (makespan, weighted tardiness) some optimal schedule is the
    left-packed (semi-active) one of its machine orders, so enumerating all orders finds it.
    Written independently of the package: its own packing and objective arithmetic.
    """
    jobs = {job.name: job for job in instance.jobs}
    on_machine: dict[str, list[tuple[str, int]]] = {m: [] for m in instance.machines}
    for job in instance.jobs:
        for op in job.operations:
            on_machine[op.machine].append((job.name, op.index))
    best = None
    for orders in itertools.product(*(itertools.permutations(k) for k in on_machine.values())):
        ends = pack(instance, jobs, dict(zip(on_machine, orders, strict=True)))
        if ends is None:
            continue  # the orders contradict the routings
        done = {name: ends[(name, len(job.operations) - 1)] for name, job in jobs.items()}
        if objective == "makespan":
            value = max(done.values())
        else:
            value = sum(
                job.weight * max(0, done[name] - job.due)
                for name, job in jobs.items()
                if job.due is not None
            )
        best = value if best is None else min(best, value)
    assert best is not None
    return best


def pack(
    instance: Instance,
    jobs: Mapping[str, Job],
    orders: Mapping[str, Sequence[tuple[str, int]]],
) -> dict[tuple[str, int], int] | None:
    """End of each operation when each starts as early as its job and machine order allow."""
    previous = {key: (m, order[i - 1] if i else None) for m, order in orders.items()
                for i, key in enumerate(order)}  # fmt: skip
    ends: dict[tuple[str, int], int] = {}
    while len(ends) < len(previous):
        progressed = False
        for key, (machine, before) in previous.items():
            job = jobs[key[0]]
            job_before = (key[0], key[1] - 1) if key[1] else None
            if key in ends or (before and before not in ends):
                continue
            if job_before and job_before not in ends:
                continue
            start = job.release if key[1] == 0 else ends[job_before]  # type: ignore[index]
            if before:
                setup = instance.setup.get(machine, {}).get(before[0], {}).get(key[0], 0)
                start = max(start, ends[before] + setup)
            ends[key] = start + job.operations[key[1]].duration
            progressed = True
        if not progressed:
            return None
    return ends


def test_ft06_reaches_its_published_optimum(ft06: Instance) -> None:
    # ft06: optimum 55 (Fisher and Thompson 1963; OR-Library jobshop1.txt's table)
    result = solve(ft06, "makespan", QUICK)
    result.schedule.validate(ft06)
    assert (result.status, result.value, result.lower_bound, result.gap) == ("optimal", 55, 55, 0)
    assert result.schedule.method == "cp-sat optimal"
    assert result.dispatch.best.makespan >= 55


def test_the_three_by_three_reaches_the_load_of_its_busiest_machine(
    three_by_three: Instance,
) -> None:
    # M1 carries 2 + 5 + 4 = 11; the MOR schedule worked out by hand reaches 11.
    assert trivial_lower_bound(three_by_three, "makespan") == 11
    assert brute_force(three_by_three, "makespan") == 11  # the enumeration agrees with the hand
    result = solve(three_by_three, "makespan", QUICK)
    assert (result.status, result.value) == ("optimal", 11)


def test_weighted_tardiness_optimum_matches_brute_force() -> None:
    expected = brute_force(FOUR_BY_THREE, "weighted_tardiness")
    result = solve(FOUR_BY_THREE, "weighted_tardiness", QUICK)
    result.schedule.validate(FOUR_BY_THREE)
    assert result.status == "optimal"
    assert result.value == result.schedule.weighted_tardiness == expected
    assert result.lower_bound == expected
    assert result.dispatch.best.weighted_tardiness > expected  # dispatching misses it here


def test_makespan_with_asymmetric_setups_matches_brute_force() -> None:
    instance = Instance(FOUR_BY_THREE.jobs, FOUR_BY_THREE.machines, ASYMMETRIC_SETUPS, "setups")
    expected = brute_force(instance, "makespan")
    without_setups = brute_force(FOUR_BY_THREE, "makespan")
    assert expected > without_setups  # the setups matter on this instance
    result = solve(instance, "makespan", QUICK)
    result.schedule.validate(instance)
    assert (result.status, result.value) == ("optimal", expected)
    assert result.dispatch.best.makespan > expected  # dispatching misses it here


def test_setups_decide_the_order_on_one_machine(one_machine_with_setups: Instance) -> None:
    # By hand: only A->B and B->C take 1; any other order pays at least one 5-unit setup.
    # A [0, 2], B [3, 5], C [6, 8]: makespan 8 (dispatching, listed C, B, A, makes 16).
    result = solve(one_machine_with_setups, "makespan", QUICK)
    result.schedule.validate(one_machine_with_setups)
    placed = [(op.job, op.start, op.setup_before) for op in result.schedule.operations]
    assert placed == [("A", 0, 0), ("B", 3, 1), ("C", 6, 1)]
    assert (result.status, result.value, result.dispatch.best.makespan) == ("optimal", 8, 16)


def test_without_due_dates_weighted_tardiness_is_zero(three_by_three: Instance) -> None:
    jobs = tuple(Job(j.name, j.operations) for j in three_by_three.jobs)
    instance = Instance(jobs, three_by_three.machines, name="no due dates")
    result = solve(instance, "weighted_tardiness", QUICK)
    assert (result.status, result.value, result.lower_bound) == ("optimal", 0, 0)


def test_a_time_limit_too_short_to_find_anything_returns_the_dispatch_schedule() -> None:
    # 225 operations in a millisecond: CP-SAT stops before its first solution (status UNKNOWN).
    ta01 = load_known("ta01")
    result = solve(ta01, "makespan", SolverSettings(time_limit_seconds=0.001))
    assert result.status == "fallback"
    assert result.schedule == result.dispatch.best
    assert result.schedule.method == f"dispatch {result.dispatch.best_rule}"
    assert result.value == result.dispatch.best.makespan
    assert trivial_lower_bound(ta01, "makespan") <= result.lower_bound <= result.value


def test_a_short_search_is_never_worse_than_dispatching() -> None:
    la21 = load_known("la21")
    result = solve(la21, "makespan", SolverSettings(time_limit_seconds=1.0))
    result.schedule.validate(la21)
    assert result.status in ("optimal", "feasible")
    assert result.value <= result.dispatch.best.makespan
    # la21's optimum is 1046 (OR-Library; van Hoorn 2018): a proven bound cannot exceed it
    assert result.lower_bound <= 1046 <= result.value
    assert result.gap == pytest.approx((result.value - result.lower_bound) / result.value)


def test_trivial_weighted_tardiness_bound_counts_unavoidable_lateness() -> None:
    # By hand, release + work against due: J0 0 + 9 vs 9 (on time), J1 1 + 10 vs 9 (2 late,
    # weight 1), J2 0 + 9 vs 8 (1 late, weight 3), J3 2 + 9 vs 10 (1 late, weight 1): 2 + 3 + 1.
    assert trivial_lower_bound(FOUR_BY_THREE, "weighted_tardiness") == 6
    rushed = Instance(
        (Job.from_route("x", [("M0", 4), ("M1", 3)], due=5, weight=3, release=1),),
        ("M0", "M1"),
    )
    assert trivial_lower_bound(rushed, "weighted_tardiness") == 3 * (1 + 7 - 5)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"time_limit_seconds": 0.0}, "time_limit_seconds is 0.0; give a positive number"),
        ({"num_workers": 0}, "num_workers is 0; give at least 1"),
    ],
)
def test_unusable_solver_settings_are_refused(settings: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SolverSettings(**settings)  # type: ignore[arg-type]


def test_an_unknown_objective_is_refused(three_by_three: Instance) -> None:
    with pytest.raises(ValueError, match="unknown objective 'cost'"):
        solve(three_by_three, "cost", QUICK)  # type: ignore[arg-type]
