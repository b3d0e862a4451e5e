"""The SPC drift agent on crafted data: fires on a shift, quiet otherwise, never on bad data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from factory_agents.agent import AgentInput, PlantReading, VerificationWindow
from factory_agents.catalog.quality.spc_drift import SPEC, SpcDriftAgent, SpcDriftConfig
from factory_agents.errors import MeasurementNotReady
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


def window_after(
    agent: SpcDriftAgent, *, shift: float, good: int, scrap: int, minutes: float = 1.0
) -> VerificationWindow:
    """Counters and weighed units over a verification window ending at NOW."""
    weighed = fill_line(shift=shift, shift_from=0, n=600, seed=11).history[CFG.characteristic]
    start = NOW - timedelta(minutes=minutes)
    return VerificationWindow(
        before=PlantReading(values={CFG.good_counter: 1000, CFG.scrap_counter: 100}, at=start),
        after=PlantReading(
            values={CFG.good_counter: 1000 + good, CFG.scrap_counter: 100 + scrap}, at=NOW
        ),
        data=AgentInput(now=NOW, history={CFG.characteristic: weighed}),
    )


def test_realized_saving_is_scrap_avoided_times_unit_cost(agent: SpcDriftAgent) -> None:
    p = agent.analyze(fill_line(shift=2.0)).proposals[0]
    window = window_after(agent, shift=0.0, good=595, scrap=5)
    realized = agent.measure(p, window)
    assert realized.units == 600
    assert realized.metric_after < 0.01  # re-centred: almost nothing outside [497, 503]
    expected = (p.baseline.value - realized.metric_after) * 600 * float(CFG.unit_cost)
    assert float(realized.amount) == pytest.approx(expected, abs=0.01)
    assert realized.amount > 0
    assert realized.period_hours == pytest.approx(1 / 60)
    assert "baseline out-of-spec ratio" in realized.method


def test_realized_saving_is_negative_when_things_got_worse(agent: SpcDriftAgent) -> None:
    p = agent.analyze(fill_line(shift=2.0)).proposals[0]
    window = window_after(agent, shift=3.5, good=400, scrap=200)
    assert agent.measure(p, window).amount < 0


def test_a_window_without_enough_good_samples_is_not_measured(agent: SpcDriftAgent) -> None:
    p = agent.analyze(fill_line(shift=2.0)).proposals[0]
    window = window_after(agent, shift=0.0, good=600, scrap=0, minutes=0.01)
    with pytest.raises(MeasurementNotReady, match="saving needs 50"):
        agent.measure(p, window)


def test_the_baseline_is_the_out_of_spec_ratio_since_the_shift(agent: SpcDriftAgent) -> None:
    p = agent.analyze(fill_line(shift=2.0)).proposals[0]
    assert p.baseline.metric == "out_of_spec_ratio"
    assert p.baseline.units >= CFG.min_baseline_units
    assert 0.05 < p.baseline.value < 0.2  # P(x > 503) at mean 502, sigma 0.8 is 10.6 %


def test_a_fresh_shift_waits_for_enough_units_to_price_it(agent: SpcDriftAgent) -> None:
    out = agent.analyze(fill_line(shift=2.0, shift_from=560))
    assert out.proposals == []
    assert out.skipped["insufficient_baseline"] == 1


TWO_SIGMA = 1.6  # the crafted fill weights have sigma 0.8 g
DECIDING_RULE = {
    "ewma": "EWMA beyond its control limit",
    "cusum": "CUSUM C+ beyond h = 5 sigma (k = 0.5 sigma)",
    "shewhart": "WE",
}
DECIDING_SUBJECT = {"ewma": "EWMA", "cusum": "upper CUSUM", "shewhart": "individuals chart"}


@pytest.mark.parametrize("chart", ["ewma", "cusum", "shewhart"])
@pytest.mark.parametrize("seed", range(6))
def test_each_chart_fires_on_a_two_sigma_shift(chart: str, seed: int) -> None:
    agent = SpcDriftAgent(SpcDriftConfig.model_validate({"chart": chart}))
    (p,) = agent.analyze(fill_line(shift=TWO_SIGMA, seed=seed)).proposals
    assert p.action.to_value == pytest.approx(500.0 - TWO_SIGMA, abs=0.45)
    assert p.rationale.startswith(f"The {DECIDING_SUBJECT[chart]} of fill weight has been")
    latest = p.evidence.signals[len(p.evidence.values) - 1]
    assert any(rule.startswith(DECIDING_RULE[chart]) for rule in latest)
    assert p.evidence.ewma[-1] > p.evidence.ewma_ucl  # the board's EWMA, whatever decided


@pytest.mark.parametrize("chart", ["ewma", "cusum", "shewhart"])
def test_each_chart_is_quiet_on_an_in_control_process(chart: str) -> None:
    agent = SpcDriftAgent(SpcDriftConfig.model_validate({"chart": chart}))
    for seed in range(12):
        out = agent.analyze(fill_line(shift=0.0, seed=seed))
        assert (out.proposals, out.findings, out.skipped) == ([], [], {})


def test_a_downward_shift_is_decided_by_the_lower_cusum() -> None:
    agent = SpcDriftAgent(SpcDriftConfig(chart="cusum"))
    (p,) = agent.analyze(fill_line(shift=-TWO_SIGMA)).proposals
    assert p.title.startswith("Raise")
    assert "lower CUSUM" in p.rationale
    assert "CUSUM C- beyond h = 5 sigma (k = 0.5 sigma)" in p.evidence.signals[CFG.chart_points - 1]


def test_the_config_selects_the_chart_and_its_parameters() -> None:
    assert CFG.chart == "ewma"
    built = SPEC.create({"chart": "cusum", "cusum_k": 0.25, "cusum_h": 8.0})
    assert isinstance(built, SpcDriftAgent)
    (p,) = built.analyze(fill_line(shift=TWO_SIGMA)).proposals
    rules = {rule for hit in p.evidence.signals.values() for rule in hit}
    assert "CUSUM C+ beyond h = 8 sigma (k = 0.25 sigma)" in rules
    assert "EWMA beyond its control limit" not in rules


def test_an_unknown_chart_is_a_clear_validation_error() -> None:
    with pytest.raises(
        ValidationError, match=r"chart\n  Input should be 'ewma', 'cusum' or 'shewhart'"
    ):
        SPEC.create({"chart": "xbar-r"})


def test_spec_builds_the_agent_from_a_plain_dict() -> None:
    built = SPEC.create({"target": 250.0, "lsl": 245.0, "usl": 255.0})
    assert isinstance(built, SpcDriftAgent)
    assert built.config.target == 250.0


def test_the_estimate_prices_the_scrap_measured_since_the_shift(agent: SpcDriftAgent) -> None:
    p = agent.analyze(fill_line(shift=2.0)).proposals[0]
    inputs = p.estimated_saving.inputs
    assert inputs["scrap_fraction_now"] == pytest.approx(p.baseline.value, abs=1e-5)
    assert inputs["scrap_fraction_recentred"] < 0.001
    expected = (
        inputs["units_per_hour"]
        * inputs["horizon_hours"]
        * (inputs["scrap_fraction_now"] - inputs["scrap_fraction_recentred"])
        * inputs["unit_cost"]
    )
    assert float(p.estimated_saving.amount) == pytest.approx(expected, rel=1e-3)
