"""Counting units and scrap from the history of monotonic good and scrap counters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from factory_agents.plant import Sample


@dataclass(frozen=True)
class CountWindow:
    """Units and scrap counted between two moments."""

    units: int
    scrap: int
    start: datetime
    end: datetime


def _first_at_or_after(series: list[Sample], since: datetime) -> Sample | None:
    return next((s for s in series if s.source_time >= since), None)


def scrap_between(good: list[Sample], scrap: list[Sample], since: datetime) -> CountWindow | None:
    """Units and scrap from `since` to the newest reading; None on missing data or a reset."""
    g0, s0 = _first_at_or_after(good, since), _first_at_or_after(scrap, since)
    if g0 is None or s0 is None:
        return None
    d_good, d_scrap = good[-1].value - g0.value, scrap[-1].value - s0.value
    if d_good < 0 or d_scrap < 0:
        return None
    return CountWindow(
        units=int(d_good + d_scrap),
        scrap=int(d_scrap),
        start=max(g0.source_time, s0.source_time),
        end=min(good[-1].source_time, scrap[-1].source_time),
    )


def units_per_hour(series: tuple[list[Sample], list[Sample]]) -> float | None:
    """Production rate over the whole good+scrap history; None if it is too short or reset."""
    good, scrap = series
    if len(good) < 2 or len(scrap) < 2:
        return None
    window = scrap_between(good, scrap, max(good[0].source_time, scrap[0].source_time))
    if window is None:
        return None
    hours = (window.end - window.start).total_seconds() / 3600
    return window.units / hours if hours > 0 else None
