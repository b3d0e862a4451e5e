"""The job-shop model: instances it refuses, and validate() catching each broken rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from factory_agents.catalog.scheduling.jobshop import (
    Instance,
    Job,
    Operation,
    Schedule,
    ScheduledOperation,
    dispatch_lists,
    machine_sequences,
    timetable,
)

# A valid schedule of the three-by-three instance, worked out by hand (it is the MOR schedule).
HAND_SCHEDULE = {
    ("J0", 0): ("M0", 0),
    ("J0", 1): ("M1", 4),
    ("J0", 2): ("M2", 9),
    ("J1", 0): ("M0", 3),
    ("J1", 1): ("M2", 5),
    ("J1", 2): ("M1", 6),
    ("J2", 0): ("M1", 0),
    ("J2", 1): ("M2", 6),
    ("J2", 2): ("M0", 9),
}


def hand_schedule(instance: Instance) -> Schedule:
    """The hand-made schedule with ends from the durations."""
    ops = [
        ScheduledOperation(
            job, index, machine, start, start + instance.operation((job, index)).duration
        )
        for (job, index), (machine, start) in HAND_SCHEDULE.items()
    ]
    return Schedule.build(instance, ops, "by hand")


def test_a_hand_made_schedule_is_valid_with_its_objectives(three_by_three: Instance) -> None:
    schedule = hand_schedule(three_by_three)
    schedule.validate(three_by_three)
    assert schedule.makespan == 11
    # completions 11, 11, 11 against due dates 9, 6, 12, weights 1: tardiness 2 + 5 + 0
    assert schedule.weighted_tardiness == 7


def moved(schedule: Schedule, key: tuple[str, int], **changes: int | str) -> Schedule:
    """The schedule with one operation changed and its objectives left as they were."""
    ops = tuple(replace(op, **changes) if op.key == key else op for op in schedule.operations)
    return replace(schedule, operations=ops)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: replace(s, operations=s.operations[1:]), "coverage broken: .* not scheduled"),
        (lambda s: replace(s, operations=(*s.operations, s.operations[0])), "scheduled twice"),
        (
            lambda s: replace(
                s, operations=(*s.operations, ScheduledOperation("J9", 0, "M0", 20, 21))
            ),
            "'J9' operation 0 is not in the instance",
        ),
        (lambda s: moved(s, ("J2", 2), machine="M2"), "machine broken: job 'J2' operation 2"),
        (lambda s: moved(s, ("J2", 2), end=12), "duration broken: job 'J2' operation 2 runs 3"),
        (lambda s: moved(s, ("J2", 2), start=8, end=10), "precedence broken: job 'J2' operation 2"),
        (lambda s: moved(s, ("J1", 0), start=2, end=4), "no-overlap broken on machine 'M0'"),
        (lambda s: replace(s, makespan=10), "makespan broken: the schedule says 10"),
        (lambda s: replace(s, weighted_tardiness=0), "weighted tardiness broken"),
    ],
)
def test_validate_names_the_broken_constraint(
    three_by_three: Instance, change: Callable[[Schedule], Schedule], message: str
) -> None:
    schedule = hand_schedule(three_by_three)
    broken = change(schedule)
    with pytest.raises(ValueError, match=message):
        broken.validate(three_by_three)


def test_validate_catches_a_start_before_release(three_by_three: Instance) -> None:
    late_j2 = replace(three_by_three.jobs[2], release=1)
    instance = replace(three_by_three, jobs=(*three_by_three.jobs[:2], late_j2))
    with pytest.raises(ValueError, match="release broken: job 'J2' operation 0 starts at 0"):
        hand_schedule(instance).validate(instance)


def test_validate_catches_a_skipped_or_misreported_setup(three_by_three: Instance) -> None:
    # On M0, J1 follows J0 (J0 ends at 3, J1 starts at 3): a setup of 1 between them is broken.
    instance = replace(three_by_three, setup={"M0": {"J0": {"J1": 1}}})
    schedule = hand_schedule(instance)
    with pytest.raises(ValueError, match="setup broken on machine 'M0': job 'J1' operation 0"):
        schedule.validate(instance)
    # The same order with room for the setup, but reporting none before J1.
    roomy = Instance(
        instance.jobs, instance.machines, setup={"M0": {"J0": {"J1": 0, "J2": 0}}}, name="x"
    )
    misreported = moved(hand_schedule(roomy), ("J1", 0), setup_before=2)
    with pytest.raises(ValueError, match="reports a setup of 2, the setup after job 'J0' is 0"):
        misreported.validate(roomy)


@pytest.mark.parametrize(
    ("jobs", "machines", "message"),
    [
        ((), ("M",), "has no jobs"),
        ((Job.from_route("A", [("M", 1)]), Job.from_route("A", [("M", 1)])), ("M",), "used twice"),
        ((Job.from_route("A", [("X", 1)]),), ("M",), "unknown machine 'X'"),
        ((Job.from_route("A", [("M", 0)]),), ("M",), "duration 0; durations are whole numbers"),
        ((Job.from_route("A", [("M", 1)], release=-1),), ("M",), "release -1"),
        ((Job.from_route("A", [("M", 1)], weight=-2),), ("M",), "weight -2"),
        ((Job("A", (Operation("B", 0, "M", 1),)),), ("M",), "labelled as job 'B'"),
        ((Job("A", ()),), ("M",), "has no operations"),
    ],
)
def test_instances_that_cannot_be_scheduled_are_refused(
    jobs: tuple[Job, ...], machines: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Instance(jobs, machines)


def test_setup_times_must_name_known_machines_and_jobs_and_be_non_negative() -> None:
    jobs = (Job.from_route("A", [("M", 1)]), Job.from_route("B", [("M", 1)]))
    with pytest.raises(ValueError, match="unknown machine 'N'"):
        Instance(jobs, ("M",), setup={"N": {"A": {"B": 1}}})
    with pytest.raises(ValueError, match="names a job that is not in the instance"):
        Instance(jobs, ("M",), setup={"M": {"A": {"Z": 1}}})
    with pytest.raises(ValueError, match="give a whole number >= 0"):
        Instance(jobs, ("M",), setup={"M": {"A": {"B": -1}}})


def test_dispatch_lists_give_each_machine_its_operations_in_start_order(
    three_by_three: Instance,
) -> None:
    lists = dispatch_lists(three_by_three, hand_schedule(three_by_three))
    assert list(lists) == ["M0", "M1", "M2"]
    assert [(op.job, op.start) for op in lists["M1"]] == [("J2", 0), ("J0", 4), ("J1", 6)]
    assert [(op.job, op.start) for op in lists["M2"]] == [("J1", 5), ("J2", 6), ("J0", 9)]


def test_timetable_starts_every_operation_as_early_as_its_sequences_allow(
    three_by_three: Instance,
) -> None:
    # The hand schedule leaves M0 idle from 5 to 9 and J0's last step waiting from 6 to 9; the
    # same sequences, packed left by hand: J0/2 on M2 follows J2/1 (ends 9), so nothing moves.
    packed = timetable(three_by_three, machine_sequences(hand_schedule(three_by_three)), "packed")
    assert packed.by_key()[("J0", 2)].start == 9
    assert packed.makespan == 11
    # Holding J1's first step back to 6 (by hand): J1/1 on M2 starts when J1/0 ends at 8, J2/1
    # follows it on M2 at 9, J0/2 after J2/1 at 12, J2/2 after J2/1 at 12, J1/2 after J1/1 at 9.
    later = timetable(
        three_by_three, machine_sequences(hand_schedule(three_by_three)), "held", {("J1", 0): 6}
    )
    starts = {key: op.start for key, op in later.by_key().items()}
    assert starts[("J1", 1)] == 8
    assert starts[("J2", 1)] == 9
    assert starts[("J0", 2)] == 12
    assert starts[("J1", 2)] == 9
    later.validate(three_by_three)


def test_timetable_refuses_sequences_that_contradict_the_routings(three_by_three: Instance) -> None:
    sequences = machine_sequences(hand_schedule(three_by_three))
    # J0/2 before J2/1 on M2 and J2/2 before J0/0 on M0: J0/0 waits for J2/2, which waits for
    # J2/1, which waits for J0/2, which waits for J0/0. No schedule keeps both orders.
    sequences["M2"] = [("J1", 1), ("J0", 2), ("J2", 1)]
    sequences["M0"] = [("J2", 2), ("J0", 0), ("J1", 0)]
    with pytest.raises(ValueError, match="contradict the job routings"):
        timetable(three_by_three, sequences, "cyclic")
