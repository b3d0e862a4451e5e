"""A stop reason's rate per hour the line was exposed to it: other stops are left out of both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factory_agents.catalog.losses.oee_losses import Stop
from factory_agents.catalog.losses.stop_rate import reason_rate

T = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """A moment `minutes` after 10:00."""
    return T + timedelta(minutes=minutes)


def stop(code: str, start: float, end: float | None, planned: bool = False) -> Stop:
    """A stop from minute `start` to `end` (None: still open)."""
    return Stop("line1.labeler", at(start), None if end is None else at(end), code, code, planned)


def test_time_under_another_stop_counts_for_neither_the_reason_nor_the_hours() -> None:
    rate = reason_rate(
        [stop("JAM", 0, 10), stop("VALVE", 5, 20), stop("JAM", 30, 32)], "JAM", at(0), at(60)
    )
    assert (rate.stops, rate.seconds, rate.exposure_seconds) == (2, 7 * 60, 45 * 60)
    assert rate.seconds_per_hour == pytest.approx(420 / 0.75)


def test_stops_are_clipped_to_the_window_and_open_ones_run_to_its_end() -> None:
    rate = reason_rate(
        [stop("JAM", -5, 2), stop("JAM", 55, None), stop("CIP", 70, 80, planned=True)],
        "JAM",
        at(0),
        at(60),
    )
    assert (rate.stops, rate.seconds, rate.exposure_seconds) == (2, 7 * 60, 3600)


def test_a_window_the_line_spent_held_by_other_stops_has_no_rate() -> None:
    rate = reason_rate([stop("CIP", -10, 70, planned=True)], "JAM", at(0), at(60))
    assert rate.exposure_seconds == 0 and rate.seconds_per_hour is None
    with pytest.raises(ValueError, match="end after it starts"):
        reason_rate([], "JAM", at(1), at(1))
