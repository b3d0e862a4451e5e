"""Reading cumulative energy registers (kWh): values between readings, energy per slot, demand.

A register is a meter's cumulative kWh as its Good readings over time; between two readings
the energy is taken to flow evenly (linear interpolation), which is how a slot's energy is
read off readings that do not fall exactly on its boundaries.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from factory_agents.plant import Quality, Sample

EDGE_TOLERANCE = timedelta(seconds=2)
"""A moment this close outside the readings takes the nearest reading's value."""
MAX_GAP = timedelta(seconds=30)
"""A register that rose over a longer silence cannot say when: that span is not interpolated."""


class RegisterError(ValueError):
    """A register that cannot answer: no reading around the moment, or a counter that fell."""


def good(samples: Sequence[Sample]) -> list[Sample]:
    """The Good readings, oldest first, one per time stamp."""
    by_time = {s.source_time: s for s in samples if s.quality is Quality.GOOD}
    return [by_time[t] for t in sorted(by_time)]


def value_at(readings: Sequence[Sample], moment: datetime, max_gap: timedelta = MAX_GAP) -> float:
    """The register at `moment`, interpolated between the Good readings around it.

    A register that did not move between two readings held its value however far apart they
    are; one that rose between readings more than `max_gap` apart is refused (the energy could
    have come at any time in between, e.g. a historian that stores values on change only).
    """
    if not readings:
        raise RegisterError("the register has no Good reading")
    times = [r.source_time for r in readings]
    i = bisect.bisect_left(times, moment)
    if i < len(times) and times[i] == moment:
        return readings[i].value
    if i == 0 or i == len(times):
        nearest = readings[0] if i == 0 else readings[-1]
        if abs(nearest.source_time - moment) <= EDGE_TOLERANCE:
            return nearest.value
        raise RegisterError(
            f"{readings[0].tag} has no reading around {moment.isoformat()} (its readings run"
            f" from {times[0].isoformat()} to {times[-1].isoformat()})"
        )
    before, after = readings[i - 1], readings[i]
    if after.source_time - before.source_time > max_gap and after.value != before.value:
        raise RegisterError(
            f"{before.tag} rose by {after.value - before.value:.4f} kWh between readings"
            f" {(after.source_time - before.source_time).total_seconds():.0f} s apart"
            f" ({before.source_time.isoformat()} to {after.source_time.isoformat()}); it cannot"
            f" say how much of that came before {moment.isoformat()}"
        )
    share = (moment - before.source_time) / (after.source_time - before.source_time)
    return before.value + share * (after.value - before.value)


def energy_between(readings: Sequence[Sample], start: datetime, end: datetime) -> float:
    """kWh the register counted from `start` to `end`; a counter that fell is refused."""
    kwh = value_at(readings, end) - value_at(readings, start)
    if kwh < -1e-9:
        raise RegisterError(
            f"{readings[0].tag} fell by {-kwh:.4f} kWh between {start.isoformat()} and"
            f" {end.isoformat()} (a reset or a replaced meter); that span cannot be measured"
        )
    return max(0.0, kwh)


def remainder(
    total: Sequence[Sample], parts: Mapping[str, Sequence[Sample]], tag: str
) -> list[Sample]:
    """A register of what `total` counted beyond its `parts` (e.g. site minus sub-meters)."""
    out = []
    for reading in total:
        try:
            rest = reading.value - sum(value_at(p, reading.source_time) for p in parts.values())
        except RegisterError:
            continue  # a part has no reading around this moment: leave the moment out
        out.append(Sample(tag=tag, value=rest, source_time=reading.source_time))
    return out


def highest_slot_demand(readings: Sequence[Sample], slot_minutes: int) -> float | None:
    """The highest average kW over a whole slot (aligned to midnight UTC) the readings span."""
    if len(readings) < 2:
        return None
    step = timedelta(minutes=slot_minutes)
    first, last = readings[0].source_time, readings[-1].source_time
    midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight + -((midnight - first) // step) * step  # the first boundary at or after
    best: float | None = None
    while start + step <= last:
        try:
            kw = energy_between(readings, start, start + step) / (slot_minutes / 60)
        except RegisterError:
            kw = None  # a gap or a reset: that slot's demand is unknown
        if kw is not None:
            best = kw if best is None else max(best, kw)
        start += step
    return best
