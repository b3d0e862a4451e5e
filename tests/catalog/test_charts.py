"""The control schemes' verdicts on hand-made series: how long each has been signalling."""

from __future__ import annotations

import pytest

from factory_agents.catalog.quality import charts

HAND_SERIES = [12.0, 14.0, 8.0, 6.0, 7.0]  # C+ = 1, 4, 1, 0, 0 and C- = 0, 0, 1, 4, 6


@pytest.mark.parametrize(("h", "run"), [(2.5, 1), (1.5, 2), (2.0, 1), (3.5, 0)])
def test_cusum_run_counts_the_latest_sums_beyond_h_sigma(h: float, run: int) -> None:
    verdict = charts.cusum_verdict(HAND_SERIES, center=10.0, sigma=2.0, k=0.5, h=h)
    assert verdict.run == run  # h 2.0: C- = 4 is not beyond 4, only the last point counts


def test_cusum_names_the_side_that_decided() -> None:
    verdict = charts.cusum_verdict(HAND_SERIES, center=10.0, sigma=2.0, k=0.5, h=1.5)
    assert verdict.subject == "lower CUSUM"
    assert verdict.marks == {i: ["CUSUM C- beyond h = 1.5 sigma (k = 0.5 sigma)"] for i in (3, 4)}


def test_cusum_prefers_the_side_that_crossed_last_when_both_are_beyond() -> None:
    # C+ = 9.5, 6.0 (still decaying) and C- = 0, 2.5 (just crossed) with h = 1
    verdict = charts.cusum_verdict([10.0, -3.0], center=0.0, sigma=1.0, k=0.5, h=1.0)
    assert (verdict.subject, verdict.run) == ("lower CUSUM", 1)


def test_ewma_run_counts_the_latest_points_beyond_the_same_limit() -> None:
    values = [0.0] * 5 + [3.0, 4.0, 4.0]
    verdict = charts.ewma_verdict(values, center=0.0, sigma=1.0, lam=0.5, width=3)
    assert verdict.run == 2  # z = 1.5, 2.75, 3.375 against a half-width of about 1.73
    assert verdict.marks == {6: [charts.EWMA_RULE], 7: [charts.EWMA_RULE]}


QUIET = [0.2, -0.2, 0.2, -0.2, 0.2, -0.2, 0.2]  # seven points that complete no rule


@pytest.mark.parametrize(
    ("values", "run"),
    [
        ([0.5, -0.5] * 10, 0),
        ([0.0] * 5 + [3.5], 1),
        ([0.0] * 5 + [3.5, *QUIET], 8),  # still in the excursion: 7 quiet points
        ([0.0] * 5 + [3.5, *QUIET, -0.2], 0),  # 8 quiet points end it
        ([3.5, *QUIET, 3.5], 9),  # a signal after 7 quiet points continues it
        ([3.5, *QUIET, -0.2, 3.5], 1),  # one after 8 quiet points starts a new one
        ([-3.5, 3.5], 1),  # a signal on the other side starts a new one
    ],
)
def test_shewhart_run_is_the_current_same_side_excursion(values: list[float], run: int) -> None:
    assert charts.shewhart_verdict(values, center=0.0, sigma=1.0).run == run


def test_shewhart_marks_the_rules_that_fired_in_the_excursion() -> None:
    verdict = charts.shewhart_verdict([0.0, 3.5, 0.2, 3.5], center=0.0, sigma=1.0)
    assert verdict.marks == {
        1: ["WE1: beyond 3 sigma"],
        3: ["WE1: beyond 3 sigma", "WE2: 2 of 3 beyond 2 sigma"],
    }


def test_marks_join_the_charted_window_without_duplicates() -> None:
    shown = {0: ["WE1: beyond 3 sigma"]}
    marks = {4: ["WE1: beyond 3 sigma", "X"], 5: ["X"], 3: ["Y"]}
    assert charts.with_marks(shown, marks, offset=4) == {0: ["WE1: beyond 3 sigma", "X"], 1: ["X"]}
