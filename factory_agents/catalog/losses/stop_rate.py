"""How much line time one stop reason takes per hour the line was exposed to it.

The rate compares like with like across a look-back and a verification window: time the line
was held by *other* stops (a breakdown, planned cleaning) is taken out of both the reason's
time and the hours it is divided by, so a long breakdown cannot pass for fewer jams.

    rate = seconds of the reason's stops, not during other stops
           / hours of the window, less the time other stops held the line
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from factory_agents.catalog.losses.intervals import Interval, merge, minus, total_length
from factory_agents.catalog.losses.oee_losses import Stop


@dataclass(frozen=True)
class ReasonRate:
    """One reason's stops in a window: how many, how long, and over what exposure."""

    reason_code: str
    stops: int
    seconds: float
    exposure_seconds: float

    @property
    def seconds_per_hour(self) -> float | None:
        """Stop seconds per hour of exposure; None when the line was never exposed."""
        if self.exposure_seconds <= 0:
            return None
        return self.seconds / (self.exposure_seconds / 3600)


def reason_rate(stops: Sequence[Stop], code: str, start: datetime, end: datetime) -> ReasonRate:
    """The stop time of reason `code` in [start, end) per hour not held by other stops."""
    length = (end - start).total_seconds()
    if length <= 0:
        raise ValueError(f"the window must end after it starts; got {start} to {end}")
    mine: list[Interval] = []
    others: list[Interval] = []
    for stop in stops:
        a = max((stop.start - start).total_seconds(), 0.0)
        b = min(((stop.end or end) - start).total_seconds(), length)
        if b > a:
            (mine if stop.reason_code == code else others).append((a, b))
    other_time = merge(others)
    own = minus(merge(mine), other_time)
    return ReasonRate(
        reason_code=code,
        stops=len(mine),
        seconds=total_length(own),
        exposure_seconds=length - total_length(other_time),
    )
