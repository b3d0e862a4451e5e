"""Dispatching rules on Giffler–Thompson active schedule generation, the baseline CP-SAT must beat.

Giffler and Thompson (1960): among the next operations of all jobs, take the one that could
finish first (earliest completion, setups included); its machine is the one to load next.
The operations waiting for that machine that could start before that completion are in
conflict, and the dispatching rule picks which of them runs next, as early as it can.
Without setup times every schedule built so is active; with sequence-dependent setups it is
still feasible, and honours every setup, but need not be active.

Rules (ties go to the job listed first in the instance):

- SPT: shortest processing time of the operation first
- LPT: longest processing time of the operation first
- MWKR: most work remaining in the job (this operation included) first
- MOR: most operations remaining in the job (this operation included) first
- FIFO: first come, first served: the job that has waited longest for the machine first
- EDD: earliest due date of the job first (jobs without a due date last)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from factory_agents.catalog.scheduling.jobshop import (
    Instance,
    Objective,
    Operation,
    Schedule,
    ScheduledOperation,
)

RuleName = Literal["SPT", "LPT", "MWKR", "MOR", "FIFO", "EDD"]
RULES: tuple[RuleName, ...] = ("SPT", "LPT", "MWKR", "MOR", "FIFO", "EDD")


@dataclass(frozen=True)
class _Candidate:
    """The next operation of a job, with when it could start and end on its machine."""

    operation: Operation
    job_position: int
    ready: int  # when the job arrived at the machine's queue
    start: int
    end: int


Priority = Callable[[_Candidate], float]


@dataclass(frozen=True)
class DispatchResult:
    """Every rule's schedule, and the best of them on the objective."""

    objective: Objective
    best_rule: RuleName
    best: Schedule
    by_rule: dict[RuleName, Schedule]


def dispatch(instance: Instance, rule: RuleName) -> Schedule:
    """A Giffler–Thompson schedule whose conflicts `rule` settles; method is 'dispatch RULE'."""
    priority = _priority(instance, rule)
    machine_position = {machine: i for i, machine in enumerate(instance.machines)}
    next_index = [0] * len(instance.jobs)
    job_ready = [job.release for job in instance.jobs]
    machine_ready = dict.fromkeys(instance.machines, 0)
    machine_last: dict[str, str | None] = dict.fromkeys(instance.machines, None)
    placed: list[ScheduledOperation] = []
    remaining = sum(len(job.operations) for job in instance.jobs)
    while remaining:
        candidates: list[_Candidate] = []
        for position, job in enumerate(instance.jobs):
            if next_index[position] == len(job.operations):
                continue
            op = job.operations[next_index[position]]
            last = machine_last[op.machine]
            setup = 0 if last is None else instance.setup_time(op.machine, last, job.name)
            start = max(job_ready[position], machine_ready[op.machine] + setup)
            candidates.append(
                _Candidate(op, position, job_ready[position], start, start + op.duration)
            )
        first = min(
            candidates, key=lambda c: (c.end, machine_position[c.operation.machine], c.job_position)
        )
        machine = first.operation.machine
        conflict = [c for c in candidates if c.operation.machine == machine and c.start < first.end]
        chosen = min(conflict, key=lambda c: (priority(c), c.job_position))
        op = chosen.operation
        placed.append(ScheduledOperation(op.job, op.index, machine, chosen.start, chosen.end))
        next_index[chosen.job_position] += 1
        job_ready[chosen.job_position] = chosen.end
        machine_ready[machine] = chosen.end
        machine_last[machine] = op.job
        remaining -= 1
    return Schedule.build(instance, placed, f"dispatch {rule}")


def best_dispatch(instance: Instance, objective: Objective = "makespan") -> DispatchResult:
    """Run every rule; the best is lowest on the objective, then on the other one, then by rule."""
    by_rule = {rule: dispatch(instance, rule) for rule in RULES}
    other: Objective = "weighted_tardiness" if objective == "makespan" else "makespan"
    best_rule = min(
        RULES, key=lambda r: (by_rule[r].value(objective), by_rule[r].value(other), RULES.index(r))
    )
    return DispatchResult(objective, best_rule, by_rule[best_rule], by_rule)


def _priority(instance: Instance, rule: RuleName) -> Priority:
    """The rule as a key: the candidate with the smallest key runs first."""
    work_left: dict[tuple[str, int], int] = {}
    for job in instance.jobs:
        left = 0
        for op in reversed(job.operations):
            left += op.duration
            work_left[(job.name, op.index)] = left
    due = {job.name: job.due for job in instance.jobs}
    ops_in_job = {job.name: len(job.operations) for job in instance.jobs}

    def edd(c: _Candidate) -> float:
        job_due = due[c.operation.job]
        return float("inf") if job_due is None else job_due

    priorities: dict[RuleName, Priority] = {
        "SPT": lambda c: c.operation.duration,
        "LPT": lambda c: -c.operation.duration,
        "MWKR": lambda c: -work_left[(c.operation.job, c.operation.index)],
        "MOR": lambda c: -(ops_in_job[c.operation.job] - c.operation.index),
        "FIFO": lambda c: c.ready,
        "EDD": edd,
    }
    if rule not in priorities:
        raise ValueError(f"unknown dispatching rule {rule!r}; use one of {', '.join(RULES)}")
    return priorities[rule]
