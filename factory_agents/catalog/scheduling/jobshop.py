"""The job-shop problem and its schedules: jobs routed over machines, and a check of any schedule.

Times are whole numbers of one time unit (minutes, say) counted from the start of the horizon.
A job's operations run in routing order, each on one machine, without preemption. A machine
runs one operation at a time; where the instance gives sequence-dependent setup times,
``setup[machine][from_job][to_job]`` time units must pass between the end of ``from_job``'s
operation and the start of ``to_job``'s next operation on that machine (missing pairs are 0,
and the first operation on a machine needs no setup). A job cannot start before its release.
Its tardiness is ``max(0, completion - due)`` (0 without a due date), weighted by its weight.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

Objective = Literal["makespan", "weighted_tardiness"]
OBJECTIVES: tuple[Objective, ...] = ("makespan", "weighted_tardiness")
OpKey = tuple[str, int]  # (job name, operation index in routing order)
SetupTimes = Mapping[str, Mapping[str, Mapping[str, int]]]


@dataclass(frozen=True)
class Operation:
    """One step of a job's routing: `duration` time units on `machine`."""

    job: str
    index: int
    machine: str
    duration: int


@dataclass(frozen=True)
class Job:
    """A job: its operations in routing order, and optional due date, weight and release."""

    name: str
    operations: tuple[Operation, ...]
    due: int | None = None
    weight: int = 1
    release: int = 0

    @classmethod
    def from_route(
        cls,
        name: str,
        route: Iterable[tuple[str, int]],
        *,
        due: int | None = None,
        weight: int = 1,
        release: int = 0,
    ) -> Job:
        """A job from its (machine, duration) steps in routing order."""
        operations = tuple(
            Operation(name, index, machine, duration)
            for index, (machine, duration) in enumerate(route)
        )
        return cls(name, operations, due=due, weight=weight, release=release)

    @property
    def work(self) -> int:
        """Total processing time of the job's operations."""
        return sum(op.duration for op in self.operations)


@dataclass(frozen=True)
class Instance:
    """A job-shop instance: jobs, machines and optional sequence-dependent setup times."""

    jobs: tuple[Job, ...]
    machines: tuple[str, ...]
    setup: SetupTimes = field(default_factory=dict)
    name: str = "instance"

    def __post_init__(self) -> None:
        _check_instance(self)

    @cached_property
    def _jobs_by_name(self) -> dict[str, Job]:
        return {job.name: job for job in self.jobs}

    def job(self, name: str) -> Job:
        """The job with this name."""
        try:
            return self._jobs_by_name[name]
        except KeyError:
            raise ValueError(f"no job {name!r} in instance {self.name!r}") from None

    def operation(self, key: OpKey) -> Operation:
        """The operation with this (job, index) key."""
        return self.job(key[0]).operations[key[1]]

    def operations(self) -> list[Operation]:
        """Every operation, job by job in routing order."""
        return [op for job in self.jobs for op in job.operations]

    def setup_time(self, machine: str, from_job: str, to_job: str) -> int:
        """Setup time on `machine` between an operation of `from_job` and one of `to_job`."""
        return self.setup.get(machine, {}).get(from_job, {}).get(to_job, 0)

    @property
    def has_setups(self) -> bool:
        """Whether any setup time is positive."""
        return any(
            t > 0 for rows in self.setup.values() for row in rows.values() for t in row.values()
        )

    @property
    def total_work(self) -> int:
        """Sum of all processing times."""
        return sum(job.work for job in self.jobs)


@dataclass(frozen=True)
class ScheduledOperation:
    """An operation placed in time: it runs on `machine` from `start` to `end`."""

    job: str
    index: int
    machine: str
    start: int
    end: int
    setup_before: int = 0

    @property
    def key(self) -> OpKey:
        """The (job, index) key of the operation."""
        return (self.job, self.index)


@dataclass(frozen=True)
class Schedule:
    """Start and end of every operation, with its makespan, weighted tardiness and method."""

    operations: tuple[ScheduledOperation, ...]
    makespan: int
    weighted_tardiness: int
    method: str

    @classmethod
    def build(
        cls, instance: Instance, operations: Iterable[ScheduledOperation], method: str
    ) -> Schedule:
        """A schedule from placed operations: setups filled in, objectives computed."""
        ops = with_setups(instance, operations)
        ends = job_completions(ops)
        return cls(
            operations=tuple(sorted(ops, key=lambda o: (o.start, o.machine, o.job, o.index))),
            makespan=max(ends.values(), default=0),
            weighted_tardiness=weighted_tardiness(instance, ends),
            method=method,
        )

    def value(self, objective: Objective) -> int:
        """The schedule's value on an objective."""
        return self.makespan if objective == "makespan" else self.weighted_tardiness

    def by_key(self) -> dict[OpKey, ScheduledOperation]:
        """Placed operations by their (job, index) key."""
        return {op.key: op for op in self.operations}

    def validate(self, instance: Instance) -> None:
        """Raise ValueError naming the first broken constraint; return quietly if none is."""
        validate(instance, self)


def with_setups(
    instance: Instance, operations: Iterable[ScheduledOperation]
) -> list[ScheduledOperation]:
    """The operations with `setup_before` set from their predecessor on the same machine."""
    placed: list[ScheduledOperation] = []
    for ops in _by_machine(operations).values():
        previous: ScheduledOperation | None = None
        for op in ops:
            setup = 0 if previous is None else instance.setup_time(op.machine, previous.job, op.job)
            placed.append(ScheduledOperation(op.job, op.index, op.machine, op.start, op.end, setup))
            previous = op
    return placed


def job_completions(operations: Iterable[ScheduledOperation]) -> dict[str, int]:
    """Completion time of each job: the latest end of its operations."""
    ends: dict[str, int] = {}
    for op in operations:
        ends[op.job] = max(ends.get(op.job, 0), op.end)
    return ends


def weighted_tardiness(instance: Instance, completions: Mapping[str, int]) -> int:
    """Sum over jobs with a due date of weight × max(0, completion − due)."""
    return sum(
        job.weight * max(0, completions.get(job.name, 0) - job.due)
        for job in instance.jobs
        if job.due is not None
    )


def dispatch_lists(instance: Instance, schedule: Schedule) -> dict[str, list[ScheduledOperation]]:
    """Each machine's operations in the order it runs them, machines in instance order."""
    lists: dict[str, list[ScheduledOperation]] = {machine: [] for machine in instance.machines}
    for machine, ops in _by_machine(schedule.operations).items():
        lists.setdefault(machine, []).extend(ops)
    return lists


def machine_sequences(schedule: Schedule) -> dict[str, list[OpKey]]:
    """Each machine's operation keys in the order the schedule runs them."""
    return {m: [op.key for op in ops] for m, ops in _by_machine(schedule.operations).items()}


def timetable(
    instance: Instance,
    sequences: Mapping[str, Sequence[OpKey]],
    method: str,
    earliest: Mapping[OpKey, int] | None = None,
) -> Schedule:
    """The earliest start times that keep the given machine sequences (a semi-active schedule).

    Each operation starts as soon as its job predecessor has ended, its machine predecessor has
    ended plus the setup between them, its job is released, and not before `earliest[key]`.
    """
    lower = earliest or {}
    keys = [(op.job, op.index) for op in instance.operations()]
    known = set(keys)
    machine_before: dict[OpKey, OpKey] = {}
    seen: set[OpKey] = set()
    for machine, sequence in sequences.items():
        for position, key in enumerate(sequence):
            if key not in known:
                raise ValueError(
                    f"machine sequences hold job {key[0]!r} operation {key[1]}, "
                    "which is not in the instance"
                )
            if key in seen:
                raise ValueError(f"machine sequences place job {key[0]!r} operation {key[1]} twice")
            if instance.operation(key).machine != machine:
                raise ValueError(
                    f"machine sequence of {machine!r} holds job {key[0]!r} operation {key[1]}, "
                    f"which runs on {instance.operation(key).machine!r}"
                )
            seen.add(key)
            if position:
                machine_before[key] = sequence[position - 1]
    if len(seen) != len(keys):
        raise ValueError(
            f"machine sequences hold {len(seen)} operations, the instance has {len(keys)}; "
            "give every operation a place on its machine"
        )
    ends: dict[OpKey, int] = {}
    placed: list[ScheduledOperation] = []
    pending = list(keys)
    while pending:
        waiting: list[OpKey] = []
        for key in pending:
            job_before = (key[0], key[1] - 1) if key[1] else None
            before = machine_before.get(key)
            if (job_before and job_before not in ends) or (before and before not in ends):
                waiting.append(key)
                continue
            op = instance.operation(key)
            start = max(lower.get(key, 0), instance.job(key[0]).release)
            if job_before:
                start = max(start, ends[job_before])
            if before:
                start = max(
                    start, ends[before] + instance.setup_time(op.machine, before[0], key[0])
                )
            ends[key] = start + op.duration
            placed.append(ScheduledOperation(key[0], key[1], op.machine, start, ends[key]))
        if len(waiting) == len(pending):
            job, index = waiting[0]
            raise ValueError(
                "the machine sequences contradict the job routings (they wait on each other "
                f"in a cycle through job {job!r} operation {index}); no schedule keeps them"
            )
        pending = waiting
    return Schedule.build(instance, placed, method)


def validate(instance: Instance, schedule: Schedule) -> None:
    """Raise ValueError naming the first broken constraint of `schedule` for `instance`."""
    placed = _check_coverage(instance, schedule.operations)
    for job in instance.jobs:
        previous_end = job.release
        for op in job.operations:
            got = placed[(job.name, op.index)]
            where = f"job {job.name!r} operation {op.index}"
            if got.machine != op.machine:
                raise ValueError(
                    f"machine broken: {where} runs on {got.machine!r}, "
                    f"its routing says {op.machine!r}"
                )
            if got.end - got.start != op.duration:
                raise ValueError(
                    f"duration broken: {where} runs {got.end - got.start} time units "
                    f"({got.start}..{got.end}), its duration is {op.duration}"
                )
            if op.index == 0 and got.start < job.release:
                raise ValueError(
                    f"release broken: {where} starts at {got.start}, "
                    f"before the job's release at {job.release}"
                )
            if got.start < previous_end:
                raise ValueError(
                    f"precedence broken: {where} starts at {got.start}, "
                    f"before operation {op.index - 1} of the job ends at {previous_end}"
                )
            previous_end = got.end
    _check_machines(instance, schedule.operations)
    ends = job_completions(schedule.operations)
    makespan = max(ends.values(), default=0)
    if schedule.makespan != makespan:
        raise ValueError(
            f"makespan broken: the schedule says {schedule.makespan}, "
            f"its operations end at {makespan}"
        )
    tardiness = weighted_tardiness(instance, ends)
    if schedule.weighted_tardiness != tardiness:
        raise ValueError(
            f"weighted tardiness broken: the schedule says {schedule.weighted_tardiness}, "
            f"its completions give {tardiness}"
        )


def _check_coverage(
    instance: Instance, operations: Sequence[ScheduledOperation]
) -> dict[OpKey, ScheduledOperation]:
    """Each operation of the instance placed exactly once, and nothing else placed."""
    placed: dict[OpKey, ScheduledOperation] = {}
    expected = {(op.job, op.index) for op in instance.operations()}
    for op in operations:
        if op.key not in expected:
            raise ValueError(
                f"coverage broken: job {op.job!r} operation {op.index} is not in the instance"
            )
        if op.key in placed:
            raise ValueError(
                f"coverage broken: job {op.job!r} operation {op.index} is scheduled twice"
            )
        if op.end < op.start:
            raise ValueError(
                f"duration broken: job {op.job!r} operation {op.index} ends at {op.end}, "
                f"before it starts at {op.start}"
            )
        placed[op.key] = op
    missing = sorted(expected - placed.keys())
    if missing:
        job, index = missing[0]
        raise ValueError(
            f"coverage broken: job {job!r} operation {index} is not scheduled "
            f"({len(missing)} operation(s) missing)"
        )
    return placed


def _check_machines(instance: Instance, operations: Sequence[ScheduledOperation]) -> None:
    """No two operations overlap on a machine, setups are honoured and reported as they are."""
    for machine, ops in _by_machine(operations).items():
        for before, after in itertools.pairwise(ops):
            if after.start < before.end:
                raise ValueError(
                    f"no-overlap broken on machine {machine!r}: job {after.job!r} operation "
                    f"{after.index} starts at {after.start} while job {before.job!r} operation "
                    f"{before.index} runs until {before.end}"
                )
            setup = instance.setup_time(machine, before.job, after.job)
            if after.start < before.end + setup:
                raise ValueError(
                    f"setup broken on machine {machine!r}: job {after.job!r} operation "
                    f"{after.index} starts at {after.start}, but the setup of {setup} after job "
                    f"{before.job!r} (ending at {before.end}) needs it to wait until "
                    f"{before.end + setup}"
                )
            if after.setup_before != setup:
                raise ValueError(
                    f"setup broken on machine {machine!r}: job {after.job!r} operation "
                    f"{after.index} reports a setup of {after.setup_before}, the setup after job "
                    f"{before.job!r} is {setup}"
                )
        if ops and ops[0].setup_before != 0:
            first = ops[0]
            raise ValueError(
                f"setup broken on machine {machine!r}: job {first.job!r} operation {first.index} "
                f"runs first and needs no setup, but reports {first.setup_before}"
            )


def _by_machine(
    operations: Iterable[ScheduledOperation],
) -> dict[str, list[ScheduledOperation]]:
    """Operations grouped by machine, each group ordered by start (then end)."""
    groups: dict[str, list[ScheduledOperation]] = {}
    for op in sorted(operations, key=lambda o: (o.start, o.end, o.job, o.index)):
        groups.setdefault(op.machine, []).append(op)
    return groups


def _check_instance(instance: Instance) -> None:
    """Raise ValueError if the instance cannot be scheduled as given."""
    if not instance.jobs:
        raise ValueError(f"instance {instance.name!r} has no jobs; give at least one job")
    if len(set(instance.machines)) != len(instance.machines):
        raise ValueError(f"instance {instance.name!r} lists a machine twice: {instance.machines}")
    machines = set(instance.machines)
    names: set[str] = set()
    for job in instance.jobs:
        if job.name in names:
            raise ValueError(f"job name {job.name!r} is used twice; job names must be unique")
        names.add(job.name)
        _check_job(job, machines)
    for machine, rows in instance.setup.items():
        if machine not in machines:
            raise ValueError(f"setup times given for unknown machine {machine!r}")
        for from_job, row in rows.items():
            for to_job, time in row.items():
                where = f"setup on {machine!r} from job {from_job!r} to job {to_job!r}"
                if from_job not in names or to_job not in names:
                    raise ValueError(f"{where} names a job that is not in the instance")
                if not _is_int(time) or time < 0:
                    raise ValueError(f"{where} is {time!r}; give a whole number >= 0")


def _check_job(job: Job, machines: set[str]) -> None:
    """Raise ValueError if a job's routing, release, due date or weight is unusable."""
    if not job.operations:
        raise ValueError(f"job {job.name!r} has no operations; give at least one")
    for position, op in enumerate(job.operations):
        where = f"job {job.name!r} operation {position}"
        if op.job != job.name or op.index != position:
            raise ValueError(
                f"{where} is labelled as job {op.job!r} operation {op.index}; "
                "label operations with their job and their position in the routing"
            )
        if op.machine not in machines:
            raise ValueError(f"{where} runs on unknown machine {op.machine!r}")
        if not _is_int(op.duration) or op.duration < 1:
            raise ValueError(
                f"{where} has duration {op.duration!r}; durations are whole numbers of time "
                "units, at least 1"
            )
    if not _is_int(job.release) or job.release < 0:
        raise ValueError(f"job {job.name!r} has release {job.release!r}; give a whole number >= 0")
    if job.due is not None and not _is_int(job.due):
        raise ValueError(f"job {job.name!r} has due date {job.due!r}; give a whole number")
    if not _is_int(job.weight) or job.weight < 0:
        raise ValueError(f"job {job.name!r} has weight {job.weight!r}; give a whole number >= 0")


def _is_int(value: object) -> bool:
    """Whether a value is an int (and not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)
