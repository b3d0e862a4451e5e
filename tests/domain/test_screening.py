"""Screening: bad, uncertain, future and stale data never reach an agent's judgement."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from factory_agents.plant import Quality, Sample
from factory_agents.screening import frozen_run, is_fresh, screen

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def sample(seconds_ago: float, quality: Quality = Quality.GOOD) -> Sample:
    return Sample(
        tag="t", value=1.0, source_time=NOW - timedelta(seconds=seconds_ago), quality=quality
    )


def test_screen_keeps_good_samples_in_time_order_and_counts_the_rest() -> None:
    samples = [
        sample(1),
        sample(3),
        sample(2, Quality.BAD),
        sample(4, Quality.UNCERTAIN),
        sample(-60),  # a minute in the future: a clock problem at the source
    ]
    result = screen(samples, NOW)
    assert [s.source_time for s in result.usable] == [
        NOW - timedelta(seconds=3),
        NOW - timedelta(seconds=1),
    ]
    assert result.dropped == {"bad": 1, "uncertain": 1, "future_timestamp": 1}
    assert result.newest_age(NOW) == timedelta(seconds=1)


def test_freshness_needs_good_quality_and_a_recent_source_time() -> None:
    limit = timedelta(seconds=10)
    assert is_fresh(sample(5), NOW, limit)
    assert not is_fresh(sample(11), NOW, limit)
    assert not is_fresh(sample(1, Quality.UNCERTAIN), NOW, limit)
    assert not is_fresh(sample(-30), NOW, limit)
    assert not is_fresh(None, NOW, limit)


def test_non_finite_values_are_dropped_and_never_fresh() -> None:
    nan = sample(1).model_copy(update={"value": math.nan})
    inf = sample(2).model_copy(update={"value": math.inf})
    result = screen([nan, inf, sample(3)], NOW)
    assert len(result.usable) == 1 and result.dropped == {"not_finite": 2}
    assert not is_fresh(nan, NOW, timedelta(seconds=10))


def test_a_frozen_run_counts_the_newest_identical_values() -> None:
    values = [1.0, 2.0, 3.0, 3.0, 3.0]
    series = [sample(len(values) - i).model_copy(update={"value": v}) for i, v in enumerate(values)]
    assert frozen_run(series) == 3
    assert frozen_run(series[:2]) == 1
    assert frozen_run([]) == 0
