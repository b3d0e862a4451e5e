"""Condition-monitoring agent: a bearing wearing out → a maintenance order for the planned stop.

It reads the vibration sensor's feature windows (v-RMS, kurtosis, crest factor, bearing
temperature) over its look-back, and from the MES the equipment's maintenance orders and
stops and the line's planned stops. Then:

1. Reference rule: the healthy reference is the first `reference_windows` complete windows
   after the equipment's last work (planned maintenance or a repair, from the MES), or from
   the look-back's start when there was none in it; a reference whose health indicator
   already rises significantly is refused.
2. Anomaly: Hotelling T² of every later window against the reference, with a Phase II limit
   for a per-window false-alarm probability alpha, and an alarm when k of the last n windows
   exceed it (anomaly.py). The false-alarm rate this gives on a healthy machine is stated.
3. Remaining life: linear or exponential trend of the health indicator since the anomaly's
   onset, on operating time (the part wears while the machine runs), extrapolated to the
   failure threshold, with its interval (rul.py, condition_life.py).
4. When the failure is likely (P >= min_failure_probability) before the part would otherwise
   be replaced (the horizon), and a work order in the line's next planned stop is worth
   more than it costs (saving.py), it proposes that work order.

Realized saving (condition_realized.py), over a verification window that must reach past the
failure predicted at proposal time: measured in the MES, whether the job was done in a planned
stop and whether the failure came first; modelled, the counterfactual failure at the predicted
time, counted only when the health indicator measured before the job confirms the wear went on.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal

from factory_agents.actions import MaintenanceWorkOrder
from factory_agents.agent import (
    AgentInput,
    AgentOutput,
    AgentSpec,
    Baseline,
    DataNeeds,
    Domain,
    EstimatedSaving,
    Finding,
    Proposal,
    RealizedSaving,
    RiskClass,
    VerificationWindow,
)
from factory_agents.catalog.common import skip
from factory_agents.catalog.maintenance.anomaly import (
    AnomalyAssessment,
    FalseAlarmRate,
    assess,
    calibrate,
)
from factory_agents.catalog.maintenance.condition_config import ConditionConfig
from factory_agents.catalog.maintenance.condition_data import (
    FeatureWindow,
    feature_windows,
    next_planned_stop,
    open_orders,
    work_stops,
)
from factory_agents.catalog.maintenance.condition_life import (
    AIC_TIE,
    Life,
    operating_clock,
    remaining_life,
)
from factory_agents.catalog.maintenance.condition_realized import realized_saving
from factory_agents.catalog.maintenance.rul import NoTrend, fit_trend
from factory_agents.catalog.maintenance.saving import MaintenanceSaving, planned_work_saving
from factory_agents.evidence import Marker, Series, Threshold, TrendChart
from factory_agents.isa95 import MaintenanceOrder

CENTS = Decimal("0.01")
HOUR = 3600.0
REFERENCE_TREND_P = 0.001
"""A reference whose health indicator rises with a one-sided p below this is not healthy."""
MAX_CHART_POINTS = 600
LIKELY = 0.5
"""P(failure before the planned stop) from which the proposal warns that the stop is late."""


class ConditionMonitoringAgent:
    """Watches a machine's vibration features and orders the worn part's replacement in time."""

    def __init__(self, config: ConditionConfig) -> None:
        self.spec = SPEC
        self.config = config

    def needs(self) -> DataNeeds:
        """The features' history, and the MES's maintenance orders and stops."""
        c = self.config
        return DataNeeds(
            history=tuple(c.features.values()),
            lookback_seconds=c.lookback_seconds,
            mes=("maintenance_orders", "downtime"),
            mes_lookback_hours=c.lookback_seconds / HOUR,
        )

    def analyze(self, data: AgentInput) -> AgentOutput:
        """Judge the newest windows against the healthy reference; order the job if it pays."""
        c = self.config
        out = AgentOutput(agent=SPEC.name)
        found = feature_windows(data.history, c.features, data.now)
        for refused in found.refused:
            out.skipped[f"window_{refused.reason}"] = (
                out.skipped.get(f"window_{refused.reason}", 0) + 1
            )
        pending = open_orders(data.mes, c.equipment_id)
        if pending:
            order = pending[-1]
            return skip(
                out,
                "order_open",
                f"maintenance order {order.id} for the {c.equipment_name} is {order.status}"
                f" (due by {order.due_by:%F %H:%M} UTC); nothing more to order until it is done",
            )
        stops = work_stops(data.mes, c.equipment_id, c.work_reason_codes)
        if stops and stops[-1].ended_at is None:
            return skip(
                out,
                "equipment_down",
                f"the {c.equipment_name} is stopped for {stops[-1].reason_code}"
                f" since {stops[-1].started_at:%H:%M:%S} UTC",
            )
        windows = found.accepted
        stale_after = timedelta(seconds=c.stale_after_seconds)
        if not windows or data.now - windows[-1].at > stale_after:
            return skip(
                out,
                "stale_features",
                f"no Good feature window of the {c.equipment_name} in the last"
                f" {c.stale_after_seconds:g} s (is it running?)",
            )
        since = stops[-1].ended_at if stops else None
        if since is not None:
            windows = [w for w in windows if w.at > since]
        needed = c.reference_windows + c.persistence_n
        if len(windows) < needed:
            after = f"since the last work at {since:%H:%M:%S} UTC" if since else "in the look-back"
            return skip(
                out,
                "insufficient_reference",
                f"{len(windows)} complete windows {after}; the healthy reference and the rule"
                f" need {needed}",
            )
        return self._judge(data.now, windows, out, data)

    def _judge(
        self,
        now: datetime,
        windows: list[FeatureWindow],
        out: AgentOutput,
        data: AgentInput,
    ) -> AgentOutput:
        """Calibrate on the reference, assess the rest, estimate the life, maybe propose."""
        c = self.config
        reference, monitored = windows[: c.reference_windows], windows[c.reference_windows :]
        hi = c.health_indicator
        ref_hours = operating_clock(reference).hours
        ref_trend = fit_trend(ref_hours, [w.values[hi] for w in reference], "linear")
        if ref_trend.slope > 0 and ref_trend.slope_p_value < REFERENCE_TREND_P:
            return skip(
                out,
                "reference_not_healthy",
                f"the {c.health_name} already rises within the reference windows (one-sided"
                f" p = {ref_trend.slope_p_value:.2g}); the look-back must reach back to a healthy"
                f" {c.equipment_name}",
            )
        names = tuple(c.features)
        try:
            detector = calibrate([w.values for w in reference], names, alpha=c.alpha)
        except ValueError as err:
            return skip(out, "reference_unusable", str(err))
        interval = operating_clock(windows).window_hours
        assessment = assess(detector, [w.values for w in monitored], c.rule, interval)
        false_alarms = _false_alarm_text(
            assessment.false_alarms, detector.reference_exceedance_rate
        )
        if not assessment.alarm_now:
            newest = assessment.scores[-1]
            out.findings.append(
                Finding(
                    agent=SPEC.name,
                    severity="info",
                    message=f"{c.equipment_name} healthy: T² {newest.t2:.1f} of the newest window"
                    f" against the limit {newest.ucl:.1f} ({len(monitored)} windows judged);"
                    f" {false_alarms}",
                ),
            )
            return out
        assert assessment.onset is not None
        onset = monitored[assessment.onset :]
        drivers = ", ".join(f"{n} {v:+.1f}" for n, v in assessment.drivers[:3])
        out.findings.append(
            Finding(
                agent=SPEC.name,
                severity="alarm",
                message=f"{c.equipment_name} anomaly since {onset[0].at:%H:%M:%S} UTC: T²"
                f" {assessment.scores[-1].t2:.1f} above the limit {detector.ucl:.1f} in"
                f" {c.persistence_k} of the last {c.persistence_n} windows, driven by {drivers};"
                f" {false_alarms}",
            )
        )
        if len(onset) < c.min_trend_windows:
            return skip(
                out,
                "trend_too_short",
                f"{len(onset)} windows since the anomaly began; its trend is fitted on at least"
                f" {c.min_trend_windows}",
            )
        try:
            life = remaining_life(
                windows,
                c.reference_windows + assessment.onset,
                hi,
                c.failure_threshold,
                confidence=c.confidence,
                now=now,
            )
        except ValueError as err:
            return skip(out, "no_trend", f"no remaining life yet: {err}")
        if isinstance(life, NoTrend):
            return skip(out, "no_trend", f"no remaining life yet: {life.reason}")
        stop = next_planned_stop(data.mes, c.planned_stop_equipment, now)
        if stop is None:
            return skip(
                out,
                "no_planned_stop",
                f"the MES has no planned stop of {c.planned_stop_equipment} ahead (a maintenance"
                " order of the line with status planned); the work order needs its date",
            )
        stop_in = (stop.due_by - now).total_seconds() / HOUR
        if stop_in > c.horizon_hours:
            return skip(
                out,
                "stop_beyond_horizon",
                f"the next planned stop is in {stop_in:.1f} h, beyond the {c.horizon_hours:g} h"
                " horizon",
            )
        p_stop = life.probability_failed_by(stop.due_by)
        # Failing by the stop implies failing by the horizon (P(trend above) need not rise).
        p_horizon = max(p_stop, life.probability_failed_by(now + timedelta(hours=c.horizon_hours)))
        saving = planned_work_saving(
            p_stop, p_horizon, c.costs, stop_in_hours=stop_in, horizon_hours=c.horizon_hours
        )
        text = _life_text(life, c.health_unit)
        if p_horizon < c.min_failure_probability:
            return skip(
                out,
                "failure_unlikely",
                f"{text}; P(failure within {c.horizon_hours:g} h) = {p_horizon:.2f} <"
                f" {c.min_failure_probability:g}",
            )
        if not saving.worth_doing:
            return skip(
                out,
                "not_worth_it",
                f"{text}; an order for the stop at {stop.due_by:%H:%M:%S} UTC would save"
                f" {saving.amount} {saving.currency} (P(failure before it) = {p_stop:.2f})",
            )
        out.proposals.append(
            self._proposal(now, windows, onset, assessment, life, stop, saving, false_alarms)
        )
        return out

    def _proposal(
        self,
        now: datetime,
        windows: list[FeatureWindow],
        onset: list[FeatureWindow],
        assessment: AnomalyAssessment,
        life: Life,
        stop: MaintenanceOrder,
        saving: MaintenanceSaving,
        false_alarms: str,
    ) -> Proposal:
        c = self.config
        rul = life.rul
        start = onset[0].at
        key = hashlib.sha256(
            f"{SPEC.name}|{c.equipment_id}|{stop.id}|{stop.due_by.isoformat()}".encode()
        ).hexdigest()[:20]
        text = _life_text(life, c.health_unit)
        p_stop = saving.probability_failure_before_stop
        p_horizon = saving.probability_failure_within_horizon
        drivers = ", ".join(n for n, _v in assessment.drivers[:2])
        false_alarm_hours = assessment.false_alarms.mean_hours_between_false_alarms
        inputs = {
            **saving.inputs,
            "failure_threshold": c.failure_threshold,
            "remaining_life_operating_hours": round(rul.rul, 6),
            "remaining_life_low_operating_hours": round(rul.rul_interval[0], 6),
            "remaining_life_high_operating_hours": round(rul.rul_interval[1], 6),
            "utilization": round(life.utilization, 4),
            "predicted_failure_in_seconds": round((life.failure_at - now).total_seconds(), 1),
            "trend_slope_per_operating_hour": rul.fit.slope,
            "trend_points": rul.fit.points,
            "health_indicator_trend_now": round(rul.fit.trend_at(rul.now), 4),
            "t2_newest": round(assessment.scores[-1].t2, 3),
            "t2_limit": round(assessment.scores[-1].ucl, 3),
            "per_window_alpha": c.alpha,
            "persistence_k": c.persistence_k,
            "persistence_n": c.persistence_n,
            "reference_windows": c.reference_windows,
            "mean_hours_between_false_alarms": false_alarm_hours,
        }
        return Proposal(
            proposal_id=f"p-{key}",
            agent=SPEC.name,
            line=c.line,
            title=f"Replace the {c.equipment_name}'s {c.part} in the planned stop at"
            f" {stop.due_by:%H:%M:%S} UTC: its {c.health_name} reaches {c.failure_threshold:g}"
            f" {c.health_unit} around {life.failure_at:%H:%M:%S} UTC",
            rationale=f"The {c.equipment_name}'s vibration left its healthy reference at"
            f" {start:%H:%M:%S} UTC (driven by {drivers}); {text}. P(failure before the planned"
            f" stop {stop.id} at {stop.due_by:%H:%M:%S} UTC) = {p_stop:.2f}, within"
            f" {c.horizon_hours:g} h = {p_horizon:.2f}.{_too_late(p_stop)} {false_alarms}.",
            action=MaintenanceWorkOrder(
                action_id=f"a-{key}",
                equipment_id=c.equipment_id,
                description=f"Replace the {c.equipment_name}'s {c.part} in planned stop"
                f" {stop.id}: {c.health_name} rising since {start:%H:%M:%S} UTC; {text}",
                due_by=stop.due_by,
                priority=1 if p_stop >= 0.1 else 2,
            ),
            evidence=self._chart(windows, onset, life, stop),
            estimated_saving=EstimatedSaving(
                amount=saving.amount,
                currency=saving.currency,
                horizon_hours=saving.horizon_hours,
                formula=saving.formula,
                inputs=inputs,
                assumptions=[
                    *saving.assumptions,
                    f"failure is the {rul.fit.model} trend of the {c.health_name} (least squares"
                    f" on {rul.fit.points} windows since the anomaly began, against operating"
                    f" time: the part wears while the machine runs) reaching"
                    f" {c.failure_threshold:g} {c.health_unit}; P(failure by t) is the"
                    " probability that the trend is at or above it then (Student t,"
                    f" {rul.fit.dof} degrees of freedom); the trend's form holds until then",
                    *(
                        [
                            f"the linear and exponential trends fit equally well (AIC within"
                            f" {AIC_TIE:g}): the one with the earlier failure ({rul.fit.model}) is"
                            " taken"
                        ]
                        if life.cautious
                        else []
                    ),
                    f"calendar time = operating time / {life.utilization:.2f}, the share of the"
                    f" look-back the {c.equipment_name} ran (stops go on as they did)",
                    f"reference: the first {c.reference_windows} complete windows after the"
                    f" {c.equipment_name}'s last work (maintenance or repair in the MES), else"
                    " from the look-back's start; its health indicator does not rise",
                    *assessment.false_alarms.assumptions,
                    f"the job fits in the planned stop {stop.id} (it adds only its own cost)",
                ],
            ),
            baseline=Baseline(
                metric="expected_unplanned_downtime_hours",
                value=round(p_horizon * c.unplanned_downtime_hours, 6),
                units=len(onset),
                start=start,
                end=onset[-1].at,
                method=f"P(failure within {c.horizon_hours:g} h) = {p_horizon:.3f} from the"
                f" {rul.fit.model} trend of the {c.health_name} over {len(onset)} windows since"
                f" the anomaly began, x {c.unplanned_downtime_hours:g} h of unplanned downtime per"
                " failure",
            ),
            created_at=now,
            measure_until=life.failure_at + timedelta(seconds=c.confirm_seconds),
        )

    def _chart(
        self,
        windows: list[FeatureWindow],
        onset: list[FeatureWindow],
        life: Life,
        stop: MaintenanceOrder,
    ) -> TrendChart:
        """The health indicator, its fitted trend on to the crossing, threshold and events."""
        c = self.config
        rul = life.rul
        shown = windows[:: max(1, len(windows) // MAX_CHART_POINTS + 1)]
        picked = range(0, len(onset), max(1, len(onset) // 40))
        ahead = max(rul.rul, life.operating(stop.due_by))
        future = [ahead * i / 20 for i in range(1, 21)]
        earliest, _latest = life.interval
        return TrendChart(
            title=f"{c.equipment_name} {c.health_name}: trend to failure",
            unit=c.health_unit,
            series=[
                Series(
                    name=f"{c.health_name} (measured)",
                    times=[w.at for w in shown],
                    values=[round(w.values[c.health_indicator], 4) for w in shown],
                ),
                Series(
                    name=f"{rul.fit.model} trend since the anomaly",
                    times=[
                        *(onset[k].at for k in picked),
                        life.now,
                        *(life.calendar(h) for h in future),
                    ],
                    values=[
                        *(round(rul.fit.trend_at(k * life.window_hours), 4) for k in picked),
                        round(rul.fit.trend_at(rul.now), 4),
                        *(round(rul.fit.trend_at(rul.now + h), 4) for h in future),
                    ],
                ),
            ],
            thresholds=[Threshold(name="failure threshold", value=c.failure_threshold)],
            markers=[
                Marker(name="anomaly onset", at=onset[0].at),
                Marker(name=f"planned stop {stop.id}", at=stop.due_by),
                Marker(name="predicted failure", at=life.failure_at),
                Marker(name=f"earliest failure ({rul.confidence:.0%} interval)", at=earliest),
            ],
        )

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """Failure cost avoided if the job came first, over a window past the predicted failure."""
        return realized_saving(self.config, proposal, window)


def _false_alarm_text(rate: FalseAlarmRate, reference_exceedance: float) -> str:
    """The stated false-alarm rate of the detector on a healthy machine."""
    return (
        f"on a healthy machine one false alarm every {rate.arl0_windows:,.0f} windows"
        f" ({rate.mean_hours_between_false_alarms:.3g} h of running; alpha"
        f" {rate.per_window_alpha:g} per window, {rate.rule.k} of {rate.rule.n} windows;"
        f" reference leave-one-out exceedance {reference_exceedance:.1%})"
    )


def _too_late(p_stop: float) -> str:
    """A warning when the failure more likely comes before the planned stop than after."""
    if p_stop < LIKELY:
        return ""
    return (
        " The failure is likely to come before this stop: consider stopping the machine for the"
        " job earlier."
    )


def _life_text(life: Life, unit: str) -> str:
    """Remaining life in words: the crossing time and its interval on the calendar."""
    low, high = life.interval
    return (
        f"the {life.rul.fit.model} trend reaches {life.rul.threshold:g} {unit} around"
        f" {life.failure_at:%H:%M:%S} UTC ({life.rul.confidence:.0%} interval"
        f" {low:%H:%M:%S}-{high:%H:%M:%S}), {life.rul.rul:.3g} operating hours from now"
    )


SPEC = AgentSpec(
    name="condition_monitoring",
    version="1.0",
    domain=Domain.MAINTENANCE,
    description="Hotelling T² on a machine's vibration features against a healthy reference and"
    " the trend of its health indicator to failure; proposes a maintenance order in the next"
    " planned stop, priced as the expected unplanned downtime cost avoided.",
    config_model=ConditionConfig,
    factory=ConditionMonitoringAgent,
    risk=RiskClass.LOW,
    actions=("maintenance_work_order",),
    default_interval_seconds=30.0,
)
