"""Screening: bad, uncertain, future and stale data never reach an agent's judgement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factory_agents.plant import Quality, Sample
from factory_agents.screening import is_fresh, screen

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
