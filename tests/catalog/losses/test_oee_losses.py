"""OEE loss tree against Nakajima's worked example and hand-built shifts."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from factory_agents.catalog.losses.oee_losses import LinePeriod, Stop, analyze_oee_losses

START = datetime(2025, 1, 7, 6, 0, tzinfo=UTC)
END = START + timedelta(minutes=480)
MIN = 60.0


def stop(
    code: str,
    at_minute: float,
    minutes: float | None,
    *,
    planned: bool = False,
    equipment: str = "filler",
) -> Stop:
    """A stop starting `at_minute` minutes into the shift (None minutes: still open)."""
    begin = START + timedelta(minutes=at_minute)
    end = None if minutes is None else begin + timedelta(minutes=minutes)
    return Stop(equipment, begin, end, code, f"reason {code}", planned)


def nakajima(**changes: Any) -> LinePeriod:
    """Nakajima, Introduction to TPM (1988), pp. 22-28: a 480 min shift with 20 min planned
    downtime, 20 min setup, 20 min breakdowns and 20 min adjustments; 400 units at an ideal
    cycle of 0.5 min, 98 % good."""
    period = LinePeriod(
        line="line1",
        start=START,
        end=END,
        pri_seconds=30.0,
        produced=400,
        scrap=8,
        stops=(
            stop("DT-MEET", 0, 20, planned=True),
            stop("DT-CO", 100, 20, planned=True),
            stop("DT-VALVE", 200, 20),
            stop("DT-ADJ", 300, 10),
            stop("DT-ADJ", 400, 10),
        ),
        setup_reason_codes=frozenset({"DT-CO"}),
    )
    return replace(period, **changes)


def test_nakajimas_shift() -> None:
    report = analyze_oee_losses(nakajima())
    tree, kpis = report.tree, report.kpis
    # loading time 460 min, operation time 400 min; 87 % x 50 % x 98 % = 42.6 %
    assert tree.pbt_seconds == 460 * MIN
    assert tree.planned_downtime_seconds == 20 * MIN
    assert tree.apt_seconds == 400 * MIN
    assert tree.setup_seconds == 20 * MIN
    assert tree.unplanned_downtime_seconds == 40 * MIN
    assert kpis.availability == pytest.approx(400 / 460)
    assert kpis.effectiveness == pytest.approx(0.5)
    assert kpis.quality_ratio == pytest.approx(0.98)
    assert kpis.oee_index == pytest.approx(400 / 460 * 0.5 * 0.98)
    assert "OEE 42.6 %" in report.conclusion


def test_the_loss_tree_adds_up_to_planned_busy_time() -> None:
    tree = analyze_oee_losses(nakajima()).tree
    # 60 min availability + 200 min speed (400 min running, 200 min worth of output)
    # + 4 min quality (8 scrapped x 0.5 min) + 196 min valuable (392 good x 0.5 min) = 460 min
    assert tree.availability_loss_seconds == 60 * MIN
    assert tree.performance_loss_seconds == pytest.approx(200 * MIN)
    assert tree.quality_loss_seconds == pytest.approx(4 * MIN)
    assert tree.valuable_operating_seconds == pytest.approx(196 * MIN)
    assert tree.share_of_pbt(tree.performance_loss_seconds) == pytest.approx(200 / 460)


def test_the_largest_loss_is_named_with_its_driver() -> None:
    report = analyze_oee_losses(nakajima())
    assert [loss.category for loss in report.losses] == ["performance", "availability", "quality"]
    assert report.largest is not None and report.largest.category == "performance"
    assert "400 units" in report.largest.explanation
    assert "allows 800" in report.largest.explanation  # 400 min / 0.5 min per unit
    assert "The largest loss is performance: 200.0 min (43.5 %" in report.conclusion


def test_planned_changeovers_stay_outside_pbt_unless_listed_as_setup() -> None:
    report = analyze_oee_losses(nakajima(setup_reason_codes=frozenset()))
    assert report.tree.pbt_seconds == 440 * MIN
    assert report.tree.setup_seconds == 0
    assert report.kpis.availability == pytest.approx(400 / 440)
    assert {r.reason_code for r in report.planned_downtime} == {"DT-MEET", "DT-CO"}


def test_pareto_by_time_and_by_count_with_mtbf_and_mttr() -> None:
    jams = tuple(stop("DT-JAM", 30 + 60 * i, 3, equipment="labeler") for i in range(6))
    valves = (stop("DT-VALVE", 45, 25), stop("DT-VALVE", 305, 25))
    period = LinePeriod("line1", START, END, pri_seconds=1.0, produced=24_000, stops=jams + valves)
    report = analyze_oee_losses(period)
    assert [r.reason_code for r in report.pareto_by_time] == ["DT-VALVE", "DT-JAM"]
    assert [r.reason_code for r in report.pareto_by_count] == ["DT-JAM", "DT-VALVE"]
    valve, jam = report.pareto_by_time
    assert valve.seconds == 50 * MIN and valve.stops == 2
    assert valve.mttr_minutes == pytest.approx(25.0)
    apt_hours = (480 - 50 - 18) / 60
    assert valve.mtbf_hours == pytest.approx(apt_hours / 2)
    assert jam.mtbf_hours == pytest.approx(apt_hours / 6)
    assert jam.equipment == ("labeler",)
    assert report.cumulative_time_shares == pytest.approx((50 / 68, 1.0))
    assert report.largest is not None and report.largest.category == "availability"
    assert "DT-VALVE" in report.largest.explanation
    assert "the most frequent is DT-JAM" in report.largest.explanation


def test_overlapping_stops_count_once_in_the_tree() -> None:
    both = (stop("DT-VALVE", 60, 30), stop("DT-CAPF", 80, 20, equipment="capper"))
    report = analyze_oee_losses(LinePeriod("line1", START, END, 1.0, 20_000, stops=both))
    assert report.tree.unplanned_downtime_seconds == 40 * MIN  # 60-100, not 30 + 20
    assert report.overlap_seconds == 10 * MIN
    assert sum(r.seconds for r in report.pareto_by_time) == 50 * MIN
    assert any("overlapped for 10.0 min" in note for note in report.notes)


def test_a_failure_during_planned_downtime_is_not_an_availability_loss() -> None:
    stops = (stop("DT-CIP", 60, 60, planned=True), stop("DT-VALVE", 90, 15), stop("DT-JAM", 200, 5))
    report = analyze_oee_losses(LinePeriod("line1", START, END, 1.0, 20_000, stops=stops))
    assert report.tree.pbt_seconds == 420 * MIN
    assert report.tree.unplanned_downtime_seconds == 5 * MIN
    assert [r.reason_code for r in report.pareto_by_time] == ["DT-JAM"]


def test_open_and_early_stops_are_clipped_to_the_period() -> None:
    stops = (stop("DT-STARV", -30, 40), stop("DT-VALVE", 470, None))
    report = analyze_oee_losses(LinePeriod("line1", START, END, 1.0, 20_000, stops=stops))
    assert report.tree.unplanned_downtime_seconds == 20 * MIN  # 10 min + the last 10 min
    valve = next(r for r in report.pareto_by_time if r.reason_code == "DT-VALVE")
    assert valve.ongoing == 1
    assert valve.mttr_minutes is None  # no time to restoration yet
    assert report.kpis.mttr_hours == pytest.approx(10 / 60)  # only the completed stop
    assert report.kpis.mtbf_hours == pytest.approx(460 / 60 / 2)  # both are failures
    assert any("still open" in note for note in report.notes)
    assert any("began before the period" in note for note in report.notes)


def test_a_period_of_only_planned_downtime_has_no_oee() -> None:
    stops = (stop("DT-PM", 0, 480, planned=True),)
    report = analyze_oee_losses(LinePeriod("line1", START, END, 1.0, 0, stops=stops))
    assert report.kpis.oee_index is None
    assert report.largest is None
    assert "OEE is undefined" in report.conclusion


@pytest.mark.parametrize("seed", range(25))
def test_losses_and_valuable_time_always_add_up(seed: int) -> None:
    rng = random.Random(seed)
    stops = []
    for _ in range(rng.randint(0, 12)):
        code = rng.choice(["DT-JAM", "DT-VALVE", "DT-CIP"])
        at, minutes = rng.uniform(-20, 470), rng.uniform(1, 40)
        stops.append(stop(code, at, minutes, planned=code == "DT-CIP"))
    running = analyze_oee_losses(LinePeriod("line1", START, END, 1.0, 0, stops=tuple(stops)))
    made = int(running.tree.apt_seconds / 1.5)  # two thirds of the planned rate
    period = LinePeriod(
        "line1", START, END, 1.0, made, scrap=made // 50, rework=made // 100, stops=tuple(stops)
    )
    report = analyze_oee_losses(period)
    t = report.tree
    parts = t.availability_loss_seconds + t.performance_loss_seconds + t.quality_loss_seconds
    assert parts + t.valuable_operating_seconds == pytest.approx(t.pbt_seconds)
    oee = report.kpis.oee_index
    assert oee is not None
    assert t.valuable_operating_seconds == pytest.approx(oee * t.pbt_seconds)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        LinePeriod("line1", datetime(2025, 1, 7, 6), END, 1.0, 10)
    with pytest.raises(ValueError, match="must end after it starts"):
        LinePeriod("line1", END, START, 1.0, 10)
    with pytest.raises(ValueError, match="before it starts"):
        Stop("filler", END, START, "DT-JAM", "jam", False)
    with pytest.raises(ValueError, match="check PRI"):
        analyze_oee_losses(LinePeriod("line1", START, END, pri_seconds=2.0, produced=20_000))
