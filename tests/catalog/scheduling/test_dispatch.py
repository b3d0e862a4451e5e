"""Dispatching rules on Giffler–Thompson, checked against schedules worked out by hand."""

from __future__ import annotations

import pytest

from factory_agents.catalog.scheduling.dispatch import RULES, best_dispatch, dispatch
from factory_agents.catalog.scheduling.jobshop import Instance, Schedule

# Giffler–Thompson by hand on the three-by-three instance (J0: M0 3, M1 2, M2 2; J1: M0 2,
# M2 1, M1 5; J2: M1 4, M2 3, M0 2; due 9, 6, 12). At each step: the next operation that could
# end first fixes the machine; its rivals there that could start before that end are in
# conflict; the rule picks (ties to the job listed first). E.g. SPT, step 1: J1/0 could end
# first (at 2) on M0, J0/0 competes, SPT picks J1/0 (2 < 3) on [0, 2]; step 3: J2/0 could end
# at 4 on M1, J1/2 (ready at 3) competes, SPT picks J2/0 (4 < 5); and so on.
# Per rule, each job's operation starts in routing order, and the makespan.
BY_HAND: dict[str, tuple[dict[str, list[int]], int]] = {
    "SPT": ({"J0": [2, 5, 7], "J1": [0, 2, 7], "J2": [0, 4, 7]}, 12),
    "LPT": ({"J0": [0, 4, 7], "J1": [3, 9, 10], "J2": [0, 4, 7]}, 15),
    "MWKR": ({"J0": [2, 9, 11], "J1": [0, 2, 4], "J2": [0, 4, 7]}, 13),
    "MOR": ({"J0": [0, 4, 9], "J1": [3, 5, 6], "J2": [0, 6, 9]}, 11),
    "FIFO": ({"J0": [0, 4, 8], "J1": [3, 7, 8], "J2": [0, 4, 7]}, 13),
    "EDD": ({"J0": [2, 8, 10], "J1": [0, 2, 3], "J2": [10, 14, 17]}, 19),
}


def starts_by_job(schedule: Schedule) -> dict[str, list[int]]:
    """Each job's operation starts in routing order."""
    starts: dict[str, list[int]] = {}
    for op in sorted(schedule.operations, key=lambda o: (o.job, o.index)):
        starts.setdefault(op.job, []).append(op.start)
    return starts


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_builds_the_schedule_worked_out_by_hand(
    three_by_three: Instance, rule: str
) -> None:
    schedule = dispatch(three_by_three, rule)  # type: ignore[arg-type]
    schedule.validate(three_by_three)
    starts, makespan = BY_HAND[rule]
    assert starts_by_job(schedule) == starts
    assert schedule.makespan == makespan
    assert schedule.method == f"dispatch {rule}"


def test_edd_weighs_tardiness_as_worked_out_by_hand(three_by_three: Instance) -> None:
    # EDD completions 12, 8, 19 against due dates 9, 6, 12: tardiness 3 + 2 + 7 (weights 1)
    assert dispatch(three_by_three, "EDD").weighted_tardiness == 12


def test_best_dispatch_keeps_every_rule_and_picks_the_lowest_on_the_objective(
    three_by_three: Instance,
) -> None:
    result = best_dispatch(three_by_three, "makespan")
    assert {rule: s.makespan for rule, s in result.by_rule.items()} == {
        rule: makespan for rule, (_, makespan) in BY_HAND.items()
    }
    assert (result.best_rule, result.best.makespan) == ("MOR", 11)
    # On weighted tardiness (by hand: SPT 0+6+0, LPT 0+9+0, MWKR 4+3+0, MOR 2+5+0, FIFO 1+7+0,
    # EDD 3+2+7) SPT is best.
    by_tardiness = best_dispatch(three_by_three, "weighted_tardiness")
    assert {rule: s.weighted_tardiness for rule, s in by_tardiness.by_rule.items()} == {
        "SPT": 6,
        "LPT": 9,
        "MWKR": 7,
        "MOR": 7,
        "FIFO": 8,
        "EDD": 12,
    }
    assert by_tardiness.best_rule == "SPT"


def test_dispatching_waits_for_setups(one_machine_with_setups: Instance) -> None:
    # Jobs listed C, B, A, all 2 long; ties go to the first listed, so C runs first on [0, 2];
    # B and A both need a 5-unit setup after C and could start at 7: B wins the tie, [7, 9];
    # A needs 5 after B: [14, 16].
    schedule = dispatch(one_machine_with_setups, "SPT")
    schedule.validate(one_machine_with_setups)
    placed = [(op.job, op.start, op.end, op.setup_before) for op in schedule.operations]
    assert placed == [("C", 0, 2, 0), ("B", 7, 9, 5), ("A", 14, 16, 5)]
    assert schedule.makespan == 16


def test_an_unknown_rule_is_refused(three_by_three: Instance) -> None:
    with pytest.raises(ValueError, match="unknown dispatching rule 'XYZ'; use one of SPT"):
        dispatch(three_by_three, "XYZ")  # type: ignore[arg-type]
