"""The SPC drift agent on crafted data: fires on a shift, quiet otherwise, never on bad data."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from factory_agents.agent import CounterReading
from factory_agents.catalog.quality.spc_drift import SPEC, SpcDriftAgent, SpcDriftConfig
from factory_agents.plant import Quality

from .conftest import NOW, fill_line, with_quality

CFG = SpcDriftConfig()


@pytest.fixture
def agent() -> SpcDriftAgent:
    return SpcDriftAgent(CFG)


def test_a_shift_of_two_grams_yields_one_correcting_proposal(agent: SpcDriftAgent) -> None:
    out = agent.analyze(fill_line(shift=2.0))
    assert len(out.proposals) == 1
    p = out.proposals[0]
    assert p.action.node_id == CFG.setpoint
    assert p.action.from_value == 500.0
    assert p.action.to_value == pytest.approx(498.0, abs=0.45)
    assert p.estimated_saving.amount > 0
    assert p.estimated_saving.currency == "EUR"
    assert p.estimated_saving.assumptions
    assert 0.03 < p.baseline.value < 0.25  # ~10% scrap expected at +2 g, sigma 0.8
    assert p.evidence.ewma[-1] > p.evidence.ewma_ucl
    assert any("EWMA beyond its control limit" in r for r in p.evidence.signals.values())
    assert "beyond its control limit" in p.rationale


def test_a_downward_shift_raises_the_setpoint(agent: SpcDriftAgent) -> None:
    (p,) = agent.analyze(fill_line(shift=-2.0)).proposals
    assert p.action.to_value > 501.0
    assert p.title.startswith("Raise")


def test_an_in_control_process_gets_no_proposal(agent: SpcDriftAgent) -> None:
    for seed in range(20):
        assert agent.analyze(fill_line(shift=0.0, seed=seed)).proposals == []


def test_the_same_data_gives_the_same_proposal(agent: SpcDriftAgent) -> None:
    a = agent.analyze(fill_line(shift=2.0)).proposals[0]
    b = agent.analyze(fill_line(shift=2.0)).proposals[0]
    assert a.proposal_id == b.proposal_id
    assert a.content_hash() == b.content_hash()


def test_stale_data_is_never_acted_on(agent: SpcDriftAgent) -> None:
    out = agent.analyze(fill_line(shift=2.0, age=CFG.stale_after_seconds + 5))
    assert out.proposals == []
    assert out.skipped["stale_characteristic"] == 1


def test_bad_and_uncertain_samples_are_dropped_and_counted(agent: SpcDriftAgent) -> None:
    data = with_quality(fill_line(shift=2.0), CFG.characteristic, Quality.BAD, every=7)
    data = with_quality(data, CFG.characteristic, Quality.UNCERTAIN, every=11)
    out = agent.analyze(data)
    assert out.skipped["bad"] > 0
    assert out.skipped["uncertain"] > 0
    chart = out.proposals[0].evidence
    assert len(chart.values) == CFG.chart_points  # only good samples are charted


def test_a_bad_setpoint_reading_blocks_the_proposal(agent: SpcDriftAgent) -> None:
    data = fill_line(shift=2.0)
    bad = data.current[CFG.setpoint].model_copy(update={"quality": Quality.BAD})
    out = agent.analyze(data.model_copy(update={"current": {**data.current, CFG.setpoint: bad}}))
    assert out.proposals == []
    assert out.skipped["stale_setpoint"] == 1


def test_too_little_data_is_not_judged(agent: SpcDriftAgent) -> None:
    out = agent.analyze(fill_line(shift=2.0, n=30, shift_from=0))
    assert out.proposals == []
    assert out.skipped["insufficient_data"] == 1


def test_realized_saving_is_scrap_avoided_times_unit_cost(agent: SpcDriftAgent) -> None:
    p = agent.analyze(fill_line(shift=2.0)).proposals[0]
    before = CounterReading(good=1000, scrap=100, at=NOW)
    after = CounterReading(good=1595, scrap=105, at=NOW + timedelta(minutes=1))
    realized = agent.measure(p, before, after)
    assert realized.units == 600
    expected = (Decimal(str((p.baseline.value - 5 / 600) * 600)) * CFG.unit_cost).quantize(
        Decimal("0.01")
    )
    assert realized.amount == expected
    assert realized.period_hours == pytest.approx(1 / 60)
    assert "baseline scrap ratio" in realized.method


def test_realized_saving_can_be_negative_when_things_got_worse(agent: SpcDriftAgent) -> None:
    p = agent.analyze(fill_line(shift=2.0)).proposals[0]
    before = CounterReading(good=0, scrap=0, at=NOW)
    after = CounterReading(good=50, scrap=50, at=NOW + timedelta(minutes=1))
    assert agent.measure(p, before, after).amount < 0


def test_spec_builds_the_agent_from_a_plain_dict() -> None:
    built = SPEC.create({"target": 250.0, "lsl": 245.0, "usl": 255.0})
    assert isinstance(built, SpcDriftAgent)
    assert built.config.target == 250.0
