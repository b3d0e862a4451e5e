"""Remaining life on operating time, read on the calendar at the machine's utilization.

A bearing wears while the machine runs, not while the line stands still (jams, empty
feeders, breaks). The sensor publishes a window per few seconds of running, so the windows
themselves are the operating clock: window i is at i x (the median spacing of consecutive
windows) operating hours. The trend to failure is fitted on that clock (rul.py), free of the
stops' randomness; remaining life and the next planned stop are converted between operating
and calendar hours with the utilization u, the share of the look-back the machine ran
(operating hours spanned / calendar hours spanned).

Trend form: rul.py picks the linear or the exponential trend by AIC. Early in a wear-out the
two fit about equally well (AIC within 2) while their extrapolations differ widely; then the
form with the earlier failure is taken, the cautious reading for a maintenance decision.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from factory_agents.catalog.maintenance.condition_data import FeatureWindow
from factory_agents.catalog.maintenance.rul import NoTrend, RulEstimate, estimate_rul

HOUR = 3600.0
AIC_TIE = 2.0
"""Candidate trends closer than this in AIC are equally supported by the data."""


@dataclass(frozen=True, slots=True)
class OperatingClock:
    """Operating hours of each window, the hours one window stands for, and the utilization."""

    hours: list[float]
    window_hours: float
    utilization: float


def operating_clock(windows: Sequence[FeatureWindow]) -> OperatingClock:
    """The operating clock of time-ordered windows (at least two)."""
    if len(windows) < 2:
        raise ValueError(f"need at least two windows for an operating clock, got {len(windows)}")
    spacing = statistics.median((b.at - a.at).total_seconds() / HOUR for a, b in pairwise(windows))
    span = (windows[-1].at - windows[0].at).total_seconds() / HOUR
    running = (len(windows) - 1) * spacing
    return OperatingClock(
        hours=[i * spacing for i in range(len(windows))],
        window_hours=spacing,
        utilization=min(1.0, running / span) if span > 0 else 1.0,
    )


@dataclass(frozen=True, slots=True)
class Life:
    """A remaining-life estimate on operating hours, with its calendar reading from `now`."""

    rul: RulEstimate
    now: datetime
    utilization: float
    window_hours: float
    cautious: bool = False
    """True when an equally supported trend with an earlier failure was taken over AIC's best."""

    def calendar(self, operating_hours: float) -> datetime:
        """When `operating_hours` from now will have run, at the utilization so far."""
        return self.now + timedelta(hours=operating_hours / self.utilization)

    def operating(self, when: datetime) -> float:
        """Operating hours from now until `when` (0 if it has passed)."""
        return max(0.0, (when - self.now).total_seconds() / HOUR) * self.utilization

    @property
    def failure_at(self) -> datetime:
        """The predicted failure on the calendar."""
        return self.calendar(self.rul.rul)

    @property
    def interval(self) -> tuple[datetime, datetime]:
        """The failure's interval on the calendar."""
        low, high = self.rul.rul_interval
        return self.calendar(low), self.calendar(high)

    def probability_failed_by(self, when: datetime) -> float:
        """P(the trend has reached the threshold by `when`)."""
        return self.rul.probability_failed_by(self.operating(when))


def remaining_life(
    windows: Sequence[FeatureWindow],
    onset: int,
    indicator: str,
    threshold: float,
    *,
    confidence: float,
    now: datetime,
) -> Life | NoTrend:
    """Trend of `indicator` on operating time from window `onset` on, to the threshold."""
    clock = operating_clock(windows)
    start = clock.hours[onset]
    hours = [h - start for h in clock.hours[onset:]]
    since_newest = (now - windows[-1].at).total_seconds() / HOUR * clock.utilization
    rul = estimate_rul(
        hours,
        [w.values[indicator] for w in windows[onset:]],
        threshold,
        confidence=confidence,
        now=hours[-1] + max(0.0, since_newest),
    )
    if isinstance(rul, NoTrend):
        return rul
    earlier = _earlier_equally_supported(rul)
    return Life(
        rul=earlier or rul,
        now=now,
        utilization=clock.utilization,
        window_hours=clock.window_hours,
        cautious=earlier is not None,
    )


def _earlier_equally_supported(rul: RulEstimate) -> RulEstimate | None:
    """The other candidate trend if the data support it as well and it fails earlier."""
    level = (1 - rul.confidence) / 2
    for fit in rul.candidates:
        if fit is rul.fit or fit.aic - rul.fit.aic >= AIC_TIE or fit.slope_p_value >= level:
            continue
        crossing = fit.crossing(rul.threshold)
        if crossing < rul.crossing:
            return RulEstimate(
                fit=fit,
                candidates=rul.candidates,
                threshold=rul.threshold,
                now=rul.now,
                confidence=rul.confidence,
                crossing=crossing,
                interval=fit.crossing_interval(rul.threshold, rul.confidence),
            )
    return None
