"""Screening samples: bad, uncertain, non-finite, future or stale data never drive a proposal."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from factory_agents.plant import Quality, Sample

FUTURE_TOLERANCE = timedelta(seconds=2)


@dataclass
class Screened:
    """The usable samples of a series, and how many were dropped for which reason."""

    usable: list[Sample]
    dropped: Counter[str] = field(default_factory=Counter)

    def newest_age(self, now: datetime) -> timedelta | None:
        """Age of the newest usable sample, or None when there is none."""
        return self.usable[-1].age(now) if self.usable else None


def screen(samples: list[Sample], now: datetime) -> Screened:
    """Keep good, finite samples stamped no later than `now`; count the rest by reason."""
    result = Screened(usable=[])
    for sample in sorted(samples, key=lambda s: s.source_time):
        if sample.quality is Quality.BAD:
            result.dropped["bad"] += 1
        elif sample.quality is Quality.UNCERTAIN:
            result.dropped["uncertain"] += 1
        elif not math.isfinite(sample.value):
            result.dropped["not_finite"] += 1
        elif sample.source_time > now + FUTURE_TOLERANCE:
            result.dropped["future_timestamp"] += 1
        else:
            result.usable.append(sample)
    return result


def frozen_run(samples: Sequence[Sample]) -> int:
    """How many of the newest samples repeat the newest value exactly (a stuck sensor's sign)."""
    run = 0
    for sample in reversed(samples):
        if sample.value != samples[-1].value:
            break
        run += 1
    return run


def is_fresh(sample: Sample | None, now: datetime, stale_after: timedelta) -> bool:
    """True when the sample is good, finite, not from the future and younger than `stale_after`."""
    if sample is None or sample.quality is not Quality.GOOD or not math.isfinite(sample.value):
        return False
    age = sample.age(now)
    return -FUTURE_TOLERANCE <= age <= stale_after
