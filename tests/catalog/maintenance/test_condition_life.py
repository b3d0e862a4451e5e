"""Remaining life on operating time: stops of the line change the calendar, not the wear; an
equally supported trend with an earlier failure is the cautious reading."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest

from factory_agents.catalog.maintenance.condition_agent import ConditionMonitoringAgent
from factory_agents.catalog.maintenance.condition_data import FeatureWindow
from factory_agents.catalog.maintenance.condition_life import (
    AIC_TIE,
    Life,
    operating_clock,
    remaining_life,
)
from factory_agents.catalog.maintenance.rul import RulEstimate, estimate_rul

from .bearing_data import CFG, history, planned_stop, plant
from .conftest import NOW


def windows(values: list[float], gaps: dict[int, float] | None = None) -> list[FeatureWindow]:
    """Windows 5 s apart ending at NOW, the line standing still `gaps[k]` s before window k."""
    offsets = [0.0]
    for k in range(1, len(values)):
        offsets.append(offsets[-1] + 5.0 + (gaps or {}).get(k, 0.0))
    return [
        FeatureWindow(NOW - timedelta(seconds=offsets[-1] - o), {"v": v})
        for o, v in zip(offsets, values, strict=True)
    ]


def wearing(n: int = 80, seed: int = 2) -> list[float]:
    """An exponentially rising indicator with multiplicative noise."""
    rng = random.Random(seed)
    return [2.0 * math.exp(0.01 * k + rng.gauss(0.0, 0.03)) for k in range(n)]


def test_the_operating_clock_counts_running_windows_and_the_share_of_time_running() -> None:
    clock = operating_clock(windows([1.0] * 11, gaps={4: 30.0, 8: 20.0}))
    assert clock.window_hours == pytest.approx(5 / 3600)
    assert clock.hours == pytest.approx([k * 5 / 3600 for k in range(11)])
    assert clock.utilization == pytest.approx(50 / 100)  # 50 s of running in 100 s
    with pytest.raises(ValueError, match="two windows"):
        operating_clock(windows([1.0]))


def test_stops_of_the_line_change_the_calendar_not_the_wear() -> None:
    values = wearing()
    steady = remaining_life(windows(values), 0, "v", 7.1, confidence=0.9, now=NOW)
    stopped = remaining_life(
        windows(values, gaps={20: 60.0, 50: 100.0}), 0, "v", 7.1, confidence=0.9, now=NOW
    )
    assert isinstance(steady, Life) and isinstance(stopped, Life)
    assert stopped.rul.rul == pytest.approx(steady.rul.rul)
    assert stopped.rul.interval == pytest.approx(steady.rul.interval)
    u = 395 / 555  # 79 windows of 5 s running in 555 s
    assert stopped.utilization == pytest.approx(u)
    assert (stopped.failure_at - NOW).total_seconds() == pytest.approx(
        (steady.failure_at - NOW).total_seconds() / u
    )
    # a planned stop 10 calendar minutes away is 10 u operating minutes of wear away
    stop = NOW + timedelta(minutes=10)
    assert stopped.probability_failed_by(stop) == pytest.approx(
        stopped.rul.probability_failed_by(10 / 60 * u)
    )


def test_an_equally_supported_trend_with_an_earlier_failure_is_taken() -> None:
    # a slow rise that a line and an exponential fit about equally (AIC within 2)
    rng = random.Random(1)
    values = [(2.0 + 0.004 * k) * math.exp(rng.gauss(0.0, 0.02)) for k in range(60)]
    hours = [5 * k / 3600 for k in range(60)]
    best = estimate_rul(hours, values, 7.1)
    assert isinstance(best, RulEstimate) and best.fit.model == "linear"
    (other,) = (f for f in best.candidates if f is not best.fit)
    assert abs(other.aic - best.fit.aic) < AIC_TIE
    life = remaining_life(windows(values), 0, "v", 7.1, confidence=0.9, now=NOW)
    assert isinstance(life, Life) and life.cautious
    assert life.rul.fit.model == "exponential"
    assert life.rul.crossing == pytest.approx(other.crossing(7.1))
    assert life.rul.crossing < best.crossing
    clear = remaining_life(windows(wearing(200)), 0, "v", 7.1, confidence=0.9, now=NOW)
    assert isinstance(clear, Life) and not clear.cautious


def test_the_agent_judges_wear_by_running_time_when_the_line_stops() -> None:
    agent = ConditionMonitoringAgent(CFG)
    jams = [(k, 45.0) for k in range(160, 260, 12)]  # a 45 s jam every minute of running
    steady = agent.analyze(plant(history(onset=150), orders=(planned_stop(10),)))
    jammed = agent.analyze(plant(history(onset=150, gaps=jams), orders=(planned_stop(10),)))
    (a,), (b,) = steady.proposals, jammed.proposals
    life_a = a.estimated_saving.inputs["remaining_life_operating_hours"]
    life_b = b.estimated_saving.inputs["remaining_life_operating_hours"]
    assert life_b == pytest.approx(life_a, abs=1e-4)  # the newest window 1 s old: u x 1 s
    assert b.estimated_saving.inputs["utilization"] < 0.8
    assert (
        b.estimated_saving.inputs["predicted_failure_in_seconds"]
        > a.estimated_saving.inputs["predicted_failure_in_seconds"] * 1.2
    )
