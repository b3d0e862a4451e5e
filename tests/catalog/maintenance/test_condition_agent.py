"""The condition-monitoring agent on crafted feature windows: quiet on a healthy capper at its
stated false-alarm rate, a work order due by the next planned stop when the bearing wears out,
never on stale, bad or reset data, never a second order; the saving measured from the MES."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from scipy import stats

from factory_agents.actions import MaintenanceWorkOrder
from factory_agents.agent import AgentInput, PlantReading, Proposal, VerificationWindow
from factory_agents.catalog.maintenance.anomaly import in_control_run_length
from factory_agents.catalog.maintenance.condition_agent import SPEC, ConditionMonitoringAgent
from factory_agents.catalog.maintenance.condition_config import ConditionConfig
from factory_agents.catalog.maintenance.saving import planned_work_saving
from factory_agents.errors import MeasurementNotReady
from factory_agents.evidence import TrendChart
from factory_agents.isa95 import DowntimeEvent, MesData
from factory_agents.plant import Quality, Sample
from factory_agents.site import (
    BEARING_FAILURE_CODE,
    CAPPER_EQUIPMENT,
    CAPPER_VIBRATION_RMS,
    PLANNED_MAINTENANCE_CODE,
)

from .bearing_data import (
    CFG,
    capper_order,
    history,
    planned_stop,
    plant,
    stop,
)
from .conftest import NOW

ONSET = 150
"""Wear from window 150 of 260: the newest window is 110 windows (9 minutes) into it."""


@pytest.fixture
def agent() -> ConditionMonitoringAgent:
    return ConditionMonitoringAgent(CFG)


def proposal_for(agent: ConditionMonitoringAgent) -> Proposal:
    """The single proposal the agent makes on a worn bearing with a stop in 10 minutes."""
    out = agent.analyze(plant(history(onset=ONSET), orders=(planned_stop(10),)))
    (proposal,) = out.proposals
    return proposal


# Healthy


def test_a_healthy_capper_gets_no_proposal_and_is_told_its_false_alarm_rate(
    agent: ConditionMonitoringAgent,
) -> None:
    for seed in range(20):
        out = agent.analyze(plant(history(seed=seed)))
        assert out.proposals == [], f"seed {seed}"
        assert out.skipped == {}
    (finding,) = out.findings
    assert finding.severity == "info" and "healthy" in finding.message
    arl0 = in_control_run_length(CFG.alpha, CFG.rule)
    hours = arl0 * 5 / 3600  # a window per 5 s of running
    assert f"one false alarm every {arl0:,.0f} windows ({hours:.3g} h of running" in finding.message


def test_healthy_windows_alarm_at_the_stated_per_window_rate() -> None:
    # With an alarm on every window beyond the limit (k = n = 1) an alarm now is one healthy
    # window exceeding the Phase II limit: probability alpha, whatever the reference drawn.
    alpha, runs = 0.2, 300
    loose = ConditionMonitoringAgent(ConditionConfig(alpha=alpha, persistence_k=1, persistence_n=1))
    alarms = 0
    for seed in range(runs):
        out = loose.analyze(plant(history(n=105, seed=1000 + seed)))
        assert out.proposals == [], "an alarm on one window is no trend to act on"
        alarms += any(f.severity == "alarm" for f in out.findings)
    low, high = stats.binom.ppf([0.0005, 0.9995], runs, alpha)
    assert low <= alarms <= high


# Worn bearing


def test_a_worn_bearing_gets_a_work_order_due_by_the_next_planned_stop(
    agent: ConditionMonitoringAgent,
) -> None:
    later = planned_stop(40, order="PS-2")
    out = agent.analyze(plant(history(onset=ONSET), orders=(later, planned_stop(10))))
    (proposal,) = out.proposals
    action = proposal.action
    assert isinstance(action, MaintenanceWorkOrder)
    assert action.equipment_id == CAPPER_EQUIPMENT
    assert action.due_by == NOW + timedelta(minutes=10), "the next stop, not a later one"
    assert action.priority == 2 and "PS-1" in action.description
    assert action.subject == f"maintenance:{CAPPER_EQUIPMENT}"
    assert any(f.severity == "alarm" and "anomaly" in f.message for f in out.findings)
    # the noise-free v-RMS reaches 7.1 mm/s 290 windows (24 min) after the newest one
    truth = NOW - timedelta(seconds=1) + timedelta(seconds=5 * 290)
    low = NOW + timedelta(
        hours=proposal.estimated_saving.inputs["remaining_life_low_operating_hours"]
    )
    high = NOW + timedelta(
        hours=proposal.estimated_saving.inputs["remaining_life_high_operating_hours"]
    )
    assert low <= truth + timedelta(seconds=30) and truth - timedelta(seconds=30) <= high


def test_the_evidence_is_the_health_indicator_with_threshold_stop_and_predicted_failure(
    agent: ConditionMonitoringAgent,
) -> None:
    proposal = proposal_for(agent)
    chart = proposal.evidence
    assert isinstance(chart, TrendChart) and chart.unit == "mm/s"
    measured, trend = chart.series
    assert len(measured.values) == 260 and measured.values[-1] > 2.2
    assert trend.values[-1] == pytest.approx(CFG.failure_threshold, rel=0.02)
    assert [t.value for t in chart.thresholds] == [7.1]
    markers = {m.name: m.at for m in chart.markers}
    assert markers["planned stop PS-1"] == NOW + timedelta(minutes=10)
    failure = markers["predicted failure"]
    inputs = proposal.estimated_saving.inputs
    assert failure == pytest.approx(
        NOW + timedelta(seconds=inputs["predicted_failure_in_seconds"]), abs=timedelta(seconds=1)
    )
    assert markers["anomaly onset"] < NOW - timedelta(minutes=5) < failure


def test_the_estimate_is_the_saving_formula_on_its_listed_inputs(
    agent: ConditionMonitoringAgent,
) -> None:
    saving = proposal_for(agent).estimated_saving
    i = saving.inputs
    again = planned_work_saving(
        i["probability_failure_before_stop"],
        i["probability_failure_within_horizon"],
        CFG.costs,
        stop_in_hours=i["stop_in_hours"],
        horizon_hours=i["horizon_hours"],
    )
    assert saving.amount == again.amount
    # a failure 24 min away, the stop in 10: (1 - 0) x (0.5 h x 1200 + 800) - 1 x 250
    assert saving.amount == Decimal("1150.00")
    assert i["stop_in_hours"] == pytest.approx(10 / 60)
    for name in ("unplanned_downtime_hours", "downtime_cost_per_hour", "collateral_damage_cost",
                 "planned_work_cost", "failure_threshold", "utilization",
                 "mean_hours_between_false_alarms"):  # fmt: skip
        assert name in i
    assert any("reference: the first 100" in a for a in saving.assumptions)
    assert any("operating time" in a for a in saving.assumptions)


def test_the_same_stop_gives_the_same_proposal_id_and_another_stop_a_new_one(
    agent: ConditionMonitoringAgent,
) -> None:
    first = proposal_for(agent)
    again = agent.analyze(plant(history(onset=ONSET, seed=9), orders=(planned_stop(10),)))
    other = agent.analyze(plant(history(onset=ONSET), orders=(planned_stop(12, order="PS-2"),)))
    assert again.proposals[0].proposal_id == first.proposal_id
    assert other.proposals[0].proposal_id != first.proposal_id


def test_a_failure_likely_before_the_stop_is_priced_as_residual_risk(
    agent: ConditionMonitoringAgent,
) -> None:
    # the stop in 28 min comes after the failure predicted in about 27: the order saves little
    (late,) = agent.analyze(plant(history(onset=ONSET), orders=(planned_stop(28),))).proposals
    early = proposal_for(agent)
    p_stop = late.estimated_saving.inputs["probability_failure_before_stop"]
    assert 0.5 < p_stop < 0.95
    assert early.estimated_saving.inputs["probability_failure_before_stop"] < 0.001
    # (P_H - P_s) x 1400 - (1 - P_s) x 250 with P_H = 1
    expected = Decimal(repr(1 - p_stop)) * (Decimal(1400) - Decimal(250))
    assert late.estimated_saving.amount == pytest.approx(expected, abs=Decimal("0.05"))
    assert late.estimated_saving.amount < early.estimated_saving.amount
    assert isinstance(late.action, MaintenanceWorkOrder) and late.action.priority == 1
    assert "consider stopping the machine for the job earlier" in late.rationale
    assert "earlier" not in early.rationale


# Not acting


def test_stale_features_are_not_judged(agent: ConditionMonitoringAgent) -> None:
    out = agent.analyze(plant(history(onset=ONSET, age=CFG.stale_after_seconds + 5)))
    assert out.proposals == [] and out.skipped == {"stale_features": 1}


def test_bad_and_uncertain_windows_are_refused_and_counted(
    agent: ConditionMonitoringAgent,
) -> None:
    flags = {k: Quality.BAD for k in range(200, 210)} | {230: Quality.UNCERTAIN}
    out = agent.analyze(plant(history(onset=ONSET, quality=flags), orders=(planned_stop(10),)))
    assert out.skipped == {"window_not_good": 11}
    (proposal,) = out.proposals
    chart = proposal.evidence
    assert isinstance(chart, TrendChart) and len(chart.series[0].values) == 249
    # the newest windows Bad: the newest Good one is too old to act on
    newest_bad = {k: Quality.BAD for k in range(250, 260)}
    out = agent.analyze(plant(history(onset=ONSET, quality=newest_bad, age=25)))
    assert out.proposals == []
    assert out.skipped == {"window_not_good": 10, "stale_features": 1}


def test_windows_missing_a_feature_are_refused(agent: ConditionMonitoringAgent) -> None:
    series = history()
    series[CAPPER_VIBRATION_RMS] = series[CAPPER_VIBRATION_RMS][:-3]
    out = agent.analyze(plant(series))
    assert out.skipped == {"window_incomplete": 3}


def test_no_second_order_while_one_is_open(agent: ConditionMonitoringAgent) -> None:
    for status in ("open", "planned", "in_progress"):
        out = agent.analyze(
            plant(history(onset=ONSET), orders=(planned_stop(10), capper_order(status)))
        )
        assert out.proposals == [] and out.skipped == {"order_open": 1}
    done = agent.analyze(
        plant(history(onset=ONSET), orders=(planned_stop(10), capper_order("done")))
    )
    assert len(done.proposals) == 1, "a finished order is no reason to wait"


def test_no_proposal_without_a_planned_stop_ahead(agent: ConditionMonitoringAgent) -> None:
    past = planned_stop(-5)
    out = agent.analyze(plant(history(onset=ONSET), orders=(past,)))
    assert out.proposals == [] and out.skipped == {"no_planned_stop": 1}


def test_a_capper_under_repair_is_not_judged(agent: ConditionMonitoringAgent) -> None:
    repair = stop(BEARING_FAILURE_CODE, NOW - timedelta(minutes=2), None, planned=False)
    out = agent.analyze(plant(history(onset=ONSET), downtime=(repair,)))
    assert out.skipped == {"equipment_down": 1}


def test_the_reference_starts_again_after_work_on_the_capper(
    agent: ConditionMonitoringAgent,
) -> None:
    # the bearing was replaced 12 min ago (144 windows): the worn windows before are not used
    job_end = NOW - timedelta(seconds=1 + 5 * 143.5)
    job = stop(PLANNED_MAINTENANCE_CODE, job_end - timedelta(minutes=5), job_end, planned=True)
    series = history(n=400, onset=20)
    for tag, samples in series.items():
        fresh = history(n=144, seed=3)[tag]
        series[tag] = [s for s in samples if s.source_time < job_end - timedelta(minutes=5)]
        series[tag] += fresh
    out = agent.analyze(plant(series, downtime=(job,)))
    assert out.proposals == [] and out.skipped == {}
    assert "capper healthy" in out.findings[0].message and "(44 windows judged)" in (
        out.findings[0].message
    )
    soon = agent.analyze(plant({t: s[-60:] for t, s in series.items()}, downtime=(job,)))
    assert soon.skipped == {"insufficient_reference": 1}
    assert "since the last work" in soon.findings[0].message


def test_a_reference_that_already_wears_is_refused(agent: ConditionMonitoringAgent) -> None:
    out = agent.analyze(plant(history(onset=0, n=200)))
    assert out.proposals == [] and out.skipped == {"reference_not_healthy": 1}


def test_a_young_anomaly_waits_for_its_trend(agent: ConditionMonitoringAgent) -> None:
    out = agent.analyze(plant(history(onset=215, n=260)))
    assert out.proposals == []
    assert set(out.skipped) <= {"trend_too_short", "no_trend"} and out.skipped


def test_the_config_is_checked() -> None:
    with pytest.raises(ValueError, match="health_indicator"):
        ConditionConfig(health_indicator="envelope")
    with pytest.raises(ValueError, match="persistence_k"):
        ConditionConfig(persistence_k=4, persistence_n=3)
    agent = SPEC.create({})
    assert agent.needs().mes == ("maintenance_orders", "downtime")
    assert set(agent.needs().history) == set(CFG.features.values())


# Realized saving


def window_after(
    proposal: Proposal,
    *,
    seconds: float,
    downtime: tuple[DowntimeEvent, ...] = (),
    worn_rms: float = 3.0,
) -> VerificationWindow:
    """The window from acting (at proposal time) for `seconds`: a feature window every 5 s,
    v-RMS `worn_rms` until a planned job in `downtime`, a new bearing's 1.8 mm/s after it."""
    start = proposal.created_at
    end = start + timedelta(seconds=seconds)
    jobs = [e for e in downtime if e.planned]
    series: dict[str, list[Sample]] = {tag: [] for tag in CFG.features.values()}
    at = start + timedelta(seconds=5)
    while at <= end:
        if jobs and jobs[0].started_at <= at <= (jobs[0].ended_at or end):
            at += timedelta(seconds=5)
            continue
        replaced = bool(jobs) and at > jobs[0].started_at
        values = {"v_rms": 1.8 if replaced else worn_rms, "kurtosis": 3.0, "crest_factor": 3.5,
                  "bearing_temperature": 41.0}  # fmt: skip
        for name, tag in CFG.features.items():
            series[tag].append(Sample(tag=tag, value=values[name], source_time=at))
        at += timedelta(seconds=5)
    return VerificationWindow(
        before=PlantReading(values={}, at=start),
        after=PlantReading(values={}, at=end),
        data=AgentInput(now=end, history=series, mes=MesData(downtime=downtime)),
    )


def job_stop(proposal: Proposal) -> DowntimeEvent:
    """The bearing replaced in the planned stop 10 minutes after acting."""
    at = proposal.created_at + timedelta(minutes=10)
    return stop(PLANNED_MAINTENANCE_CODE, at, at + timedelta(minutes=5), planned=True, number=7)


def test_the_job_before_the_failure_realizes_the_failure_cost_less_the_job(
    agent: ConditionMonitoringAgent,
) -> None:
    proposal = proposal_for(agent)
    window = window_after(proposal, seconds=1800, downtime=(job_stop(proposal),))
    realized = agent.measure(proposal, window)
    # modelled failure 0.5 h x 1200 + 800 = 1400, less the job's 250
    assert realized.amount == Decimal("1150.00")
    assert realized.units == 1 and realized.metric_after == 0.0
    assert "the job came first" in realized.method and "counterfactual" in realized.method
    assert "3.00 mm/s before the job, 1.80 after it" in realized.method
    assert realized.period_hours == pytest.approx(0.5)


def test_a_window_that_ends_before_the_predicted_failure_is_not_measured(
    agent: ConditionMonitoringAgent,
) -> None:
    proposal = proposal_for(agent)
    needed = proposal.estimated_saving.inputs["predicted_failure_in_seconds"]
    window = window_after(proposal, seconds=needed - 60, downtime=(job_stop(proposal),))
    with pytest.raises(MeasurementNotReady, match=rf"at least {needed:.0f} s after acting"):
        agent.measure(proposal, window)
    # so the proposal asks to be measured until the MES has confirmed the job or the failure
    assert proposal.measure_until is not None
    own = (proposal.measure_until - proposal.created_at).total_seconds()
    assert own == pytest.approx(needed + CFG.confirm_seconds, abs=0.1)
    long_enough = window_after(proposal, seconds=own, downtime=(job_stop(proposal),))
    assert agent.measure(proposal, long_enough).amount > 0


def test_a_failure_before_the_job_avoided_nothing(agent: ConditionMonitoringAgent) -> None:
    proposal = proposal_for(agent)
    at = proposal.created_at + timedelta(minutes=8)
    failure = stop(BEARING_FAILURE_CODE, at, at + timedelta(minutes=30), planned=False, number=3)
    realized = agent.measure(proposal, window_after(proposal, seconds=2700, downtime=(failure,)))
    assert realized.amount == Decimal("0.00") and realized.units == 0
    assert realized.metric_after == pytest.approx(0.5)
    assert "before the job" in realized.method


def test_neither_job_nor_failure_realizes_nothing(agent: ConditionMonitoringAgent) -> None:
    proposal = proposal_for(agent)
    realized = agent.measure(proposal, window_after(proposal, seconds=1800))
    assert realized.amount == Decimal("0.00") and realized.units == 0
    assert "neither failed nor had the job done" in realized.method


def test_a_job_on_a_bearing_that_stopped_wearing_is_not_counted_as_a_failure_avoided(
    agent: ConditionMonitoringAgent,
) -> None:
    proposal = proposal_for(agent)
    trend_then = proposal.estimated_saving.inputs["health_indicator_trend_now"]
    window = window_after(
        proposal, seconds=1800, downtime=(job_stop(proposal),), worn_rms=0.8 * trend_then
    )
    realized = agent.measure(proposal, window)
    assert realized.amount == Decimal("-250.00") and realized.units == 0
    assert "did not go on" in realized.method
