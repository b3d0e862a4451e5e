"""Crafted plant data for agent tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from factory_agents.agent import AgentInput
from factory_agents.catalog.quality.spc_drift import SpcDriftConfig
from factory_agents.plant import Quality, Sample

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def fill_line(
    *,
    shift: float = 0.0,
    shift_from: int = 300,
    n: int = 600,
    seed: int = 3,
    spacing: float = 0.1,
    setpoint: float = 500.0,
    age: float = 0.0,
) -> AgentInput:
    """A line's recent fill weights, one per unit, shifted from index `shift_from`."""
    cfg = SpcDriftConfig()
    rng = random.Random(seed)
    end = NOW - timedelta(seconds=age)
    weights = []
    for i in range(n):
        t = end - timedelta(seconds=spacing * (n - 1 - i))
        w = setpoint + (shift if i >= shift_from else 0.0) + rng.gauss(0, 0.8)
        weights.append(Sample(tag=cfg.characteristic, value=w, source_time=t))
    current = {cfg.setpoint: Sample(tag=cfg.setpoint, value=setpoint, source_time=end)}
    return AgentInput(now=NOW, current=current, history={cfg.characteristic: weights})


def with_quality(data: AgentInput, tag: str, quality: Quality, every: int) -> AgentInput:
    """A copy of `data` where every n-th sample of `tag` has the given quality."""
    series = [
        s.model_copy(update={"quality": quality}) if i % every == 0 else s
        for i, s in enumerate(data.history[tag])
    ]
    return data.model_copy(update={"history": {**data.history, tag: series}})
