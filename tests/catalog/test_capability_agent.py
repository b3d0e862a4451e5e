"""The capability agent on crafted torque data: quiet when capable, centring when off-centre,
inspection when the spread is too wide, never on stale data; the saving measured after."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from factory_agents.actions import Advice, SetpointChange
from factory_agents.agent import AgentInput, PlantReading, VerificationWindow
from factory_agents.catalog.quality.capability_agent import CapabilityAgent, CapabilityConfig
from factory_agents.evidence import Histogram
from factory_agents.plant import Sample

from .conftest import NOW

CFG = CapabilityConfig()


def torque(
    *, mean: float, sigma: float = 0.09, n: int = 300, seed: int = 5, age: float = 0.0
) -> AgentInput:
    """Cap torques one per 0.1 s around `mean`, and the setpoint at the target."""
    rng = random.Random(seed)
    end = NOW - timedelta(seconds=age)
    series = [
        Sample(
            tag=CFG.characteristic,
            value=rng.gauss(mean, sigma),
            source_time=end - timedelta(seconds=0.1 * (n - 1 - i)),
        )
        for i in range(n)
    ]
    setpoint = Sample(tag=CFG.setpoint, value=CFG.target, source_time=end)
    return AgentInput(
        now=NOW, current={CFG.setpoint: setpoint}, history={CFG.characteristic: series}
    )


@pytest.fixture
def agent() -> CapabilityAgent:
    return CapabilityAgent(CFG)


def test_a_centred_capable_process_gets_no_proposal(agent: CapabilityAgent) -> None:
    out = agent.analyze(torque(mean=1.6))
    assert out.proposals == []
    assert out.findings and out.findings[0].severity == "info"


def test_an_off_centre_process_gets_its_setpoint_moved_by_the_offset(
    agent: CapabilityAgent,
) -> None:
    out = agent.analyze(torque(mean=1.82))
    (proposal,) = out.proposals
    action = proposal.action
    assert isinstance(action, SetpointChange) and action.node_id == CFG.setpoint
    assert action.to_value == pytest.approx(1.6 - 0.22, abs=0.02)
    assert isinstance(proposal.evidence, Histogram) and len(proposal.evidence.values) == 300
    inputs = proposal.estimated_saving.inputs
    assert inputs["out_of_spec_fraction_now"] > 0.005 > inputs["out_of_spec_fraction_after"]
    assert inputs["cpk"] < 1.0 and inputs["cp"] > 1.33
    assert proposal.estimated_saving.amount > 0
    assert 0 < proposal.baseline.value < 0.06  # measured share out of spec in the window


def test_a_too_wide_spread_gets_advice_to_inspect_not_a_setpoint_move(
    agent: CapabilityAgent,
) -> None:
    (proposal,) = agent.analyze(torque(mean=1.6, sigma=0.2)).proposals
    assert isinstance(proposal.action, Advice)
    assert "no setpoint move" in proposal.action.summary


def test_stale_or_too_few_data_are_not_judged(agent: CapabilityAgent) -> None:
    stale = agent.analyze(torque(mean=1.82, age=60))
    assert stale.proposals == [] and stale.skipped == {"stale_characteristic": 1}
    few = agent.analyze(torque(mean=1.82, n=50))
    assert few.proposals == [] and few.skipped == {"insufficient_data": 1}


def test_the_realized_saving_is_rework_avoided_times_its_cost(agent: CapabilityAgent) -> None:
    (proposal,) = agent.analyze(torque(mean=1.82)).proposals
    after = torque(mean=1.6, n=600, seed=9)
    start = NOW - timedelta(seconds=60)
    window = VerificationWindow(
        before=PlantReading(values={CFG.good_counter: 0, CFG.scrap_counter: 0}, at=start),
        after=PlantReading(values={CFG.good_counter: 590, CFG.scrap_counter: 10}, at=NOW),
        data=AgentInput(now=NOW, history=after.history),
    )
    realized = agent.measure(proposal, window)
    measured = [s for s in after.history[CFG.characteristic] if start <= s.source_time]
    bad_after = sum(not CFG.lsl <= s.value <= CFG.usl for s in measured) / len(measured)
    expected = (Decimal(str((proposal.baseline.value - bad_after) * 600)) * CFG.unit_cost).quantize(
        Decimal("0.01")
    )
    assert realized.units == 600 and realized.amount == expected > 0


def test_a_correction_too_small_to_matter_is_not_proposed() -> None:
    strict = CapabilityAgent(CFG.model_copy(update={"target_cpk": 1.45}))
    out = strict.analyze(torque(mean=1.64))
    assert out.proposals == [] and out.skipped == {"correction_too_small": 1}


def test_a_process_that_moved_within_the_window_is_not_judged(agent: CapabilityAgent) -> None:
    data = torque(mean=1.6)
    moved = [
        sample.model_copy(update={"value": sample.value + 0.15}) if i >= 150 else sample
        for i, sample in enumerate(data.history[CFG.characteristic])
    ]
    out = agent.analyze(data.model_copy(update={"history": {CFG.characteristic: moved}}))
    assert out.proposals == [] and out.skipped == {"not_stable": 1}
