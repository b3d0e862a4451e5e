"""SPC drift agent: notices a shifted quality characteristic and proposes re-centring it."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import fmean

from pydantic import BaseModel, ConfigDict, Field

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
    SetpointChange,
    VerificationWindow,
)
from factory_agents.catalog.common import skip, units_per_hour
from factory_agents.catalog.quality import charts, spc
from factory_agents.catalog.quality.charts import ChartName, ChartVerdict
from factory_agents.catalog.quality.out_of_spec import (
    Characteristic,
    out_of_spec_ratio,
    realized_out_of_spec_saving,
)
from factory_agents.plant import Sample
from factory_agents.screening import frozen_run, is_fresh, screen

CENTS = Decimal("0.01")


class SpcDriftConfig(BaseModel):
    """Which characteristic to watch, its specification, and how to judge and price a drift."""

    model_config = ConfigDict(frozen=True)

    line: str = "line1"
    characteristic: str = "ns=2;s=Line1.Filler.FillWeight"
    characteristic_name: str = "fill weight"
    unit: str = "g"
    setpoint: str = "ns=2;s=Line1.Filler.FillWeightSetpoint"
    good_counter: str = "ns=2;s=Line1.GoodCount"
    scrap_counter: str = "ns=2;s=Line1.ScrapCount"
    target: float = 500.0
    lsl: float = 497.0
    usl: float = 503.0
    chart: ChartName = Field(
        "ewma", description="The scheme that decides: ewma, cusum (tabular) or shewhart (WE rules)"
    )
    ewma_lambda: float = Field(0.2, gt=0, le=1)
    ewma_width: float = Field(2.962, gt=0, description="L; 2.962 with lambda 0.2 gives ARL0 ~ 500")
    cusum_k: float = Field(0.5, ge=0, description="CUSUM allowance k, in sigma")
    cusum_h: float = Field(5.0, gt=0, description="CUSUM decision interval h, in sigma")
    persistence: int = Field(10, ge=1, description="Signalling points in a row before proposing")
    estimate_window: int = Field(30, ge=5, description="Recent points that estimate the shift")
    min_samples: int = Field(50, ge=10)
    frozen_samples: int = Field(
        20, ge=2, description="This many identical newest values in a row mean a stuck sensor"
    )
    min_correction: float = Field(0.3, gt=0, description="Smaller shifts are not worth a change")
    min_baseline_units: int = Field(
        100, ge=10, description="Units weighed since the shift before its scrap ratio is trusted"
    )
    chart_points: int = Field(300, ge=20)
    lookback_seconds: float = Field(60.0, gt=0)
    stale_after_seconds: float = Field(10.0, gt=0)
    unit_cost: Decimal = Field(Decimal("0.40"), description="Cost of one scrapped unit")
    currency: str = "EUR"
    horizon_hours: float = Field(1.0, gt=0, description="Horizon of the estimated saving")


class SpcDriftAgent:
    """Watches one characteristic with an EWMA, CUSUM or Shewhart chart (Western Electric rules)."""

    def __init__(self, config: SpcDriftConfig) -> None:
        self.spec = SPEC
        self.config = config

    def needs(self) -> DataNeeds:
        """The characteristic's history and the setpoint's live value."""
        c = self.config
        return DataNeeds(
            current=(c.setpoint,), history=(c.characteristic,), lookback_seconds=c.lookback_seconds
        )

    def analyze(self, data: AgentInput) -> AgentOutput:
        """Propose a setpoint correction when the configured chart keeps signalling one side."""
        c = self.config
        out = AgentOutput(agent=SPEC.name)
        stale_after = timedelta(seconds=c.stale_after_seconds)
        screened = screen(data.history.get(c.characteristic, []), data.now)
        out.skipped.update(screened.dropped)
        samples = screened.usable
        setpoint = data.current.get(c.setpoint)
        if not samples or not is_fresh(samples[-1], data.now, stale_after):
            return skip(out, "stale_characteristic", f"no fresh good {c.characteristic_name} data")
        if not is_fresh(setpoint, data.now, stale_after):
            return skip(out, "stale_setpoint", "the setpoint's live value is missing or stale")
        if len(samples) < c.min_samples:
            return skip(out, "insufficient_data", f"{len(samples)} samples < {c.min_samples}")
        assert setpoint is not None
        if (frozen := frozen_run(samples)) >= c.frozen_samples:
            return skip(
                out,
                "frozen",
                f"the last {frozen} {c.characteristic_name} values are all"
                f" {samples[-1].value:g} {c.unit}: a stuck sensor or a frozen value; nothing is"
                " judged until it moves",
            )
        values = [s.value for s in samples]
        sigma = spc.sigma_from_moving_range(values)
        if not sigma > 0:
            return skip(out, "no_variation", "the characteristic does not vary; sensor stuck?")
        verdict = charts.judge(c, values, sigma)
        run = verdict.run
        if run < c.persistence:
            return out
        shift = fmean(values[-min(run, c.estimate_window) :]) - c.target
        if abs(shift) < c.min_correction:
            out.findings.append(
                Finding(agent=SPEC.name, severity="info", message=f"shift {shift:+.2f} too small")
            )
            return out
        if run < c.min_baseline_units:
            return skip(
                out,
                "insufficient_baseline",
                f"{run} units since the shift < {c.min_baseline_units}",
            )
        baseline = self._baseline(samples[-run:])
        proposal = self._proposal(data.now, samples, sigma, verdict, shift, setpoint)
        saving = self._estimate(baseline, sigma, units_per_hour(samples))
        out.proposals.append(
            proposal.model_copy(update={"estimated_saving": saving, "baseline": baseline})
        )
        out.findings.append(
            Finding(agent=SPEC.name, severity="alarm", message=proposal.rationale.split(".")[0])
        )
        return out

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """Scrap avoided after acting: (baseline - measured out-of-spec ratio) x units x cost."""
        c = self.config
        characteristic = Characteristic(
            tag=c.characteristic, name=c.characteristic_name, lsl=c.lsl, usl=c.usl,
            good_counter=c.good_counter, scrap_counter=c.scrap_counter, min_samples=c.min_samples,
        )  # fmt: skip
        unit_cost = c.unit_cost if proposal.unit_cost is None else proposal.unit_cost
        return realized_out_of_spec_saving(characteristic, proposal, window, unit_cost)

    def _out_of_spec_ratio(self, samples: list[Sample]) -> float:
        return out_of_spec_ratio(samples, self.config.lsl, self.config.usl)

    def _baseline(self, shifted: list[Sample]) -> Baseline:
        return Baseline(
            metric="out_of_spec_ratio",
            value=self._out_of_spec_ratio(shifted),
            units=len(shifted),
            start=shifted[0].source_time,
            end=shifted[-1].source_time,
            method=f"fraction of the {len(shifted)} units weighed since the shift that lie"
            f" outside [{self.config.lsl:g}, {self.config.usl:g}] {self.config.unit}",
        )

    def _estimate(self, baseline: Baseline, sigma: float, rate: float) -> EstimatedSaving:
        """Scrap now as measured since the shift; scrap after re-centring from a normal model."""
        c = self.config
        p_now = baseline.value
        p_after = spc.out_of_spec_fraction(c.target, sigma, c.lsl, c.usl)
        units = rate * c.horizon_hours
        amount = (Decimal(str(units * (p_now - p_after))) * c.unit_cost).quantize(CENTS)
        return EstimatedSaving(
            amount=max(amount, Decimal("0.00")),
            currency=c.currency,
            horizon_hours=c.horizon_hours,
            formula="units per hour x horizon x (scrap fraction now - scrap fraction re-centred)"
            " x unit cost",
            inputs={
                "units_per_hour": round(rate, 1),
                "horizon_hours": c.horizon_hours,
                "scrap_fraction_now": round(p_now, 5),
                "scrap_fraction_recentred": round(p_after, 5),
                "unit_cost": float(c.unit_cost),
            },
            assumptions=[
                f"scrap fraction now: measured over the {baseline.units} units weighed since the"
                " shift; without action it stays there",
                f"scrap fraction re-centred: {c.characteristic_name} normally distributed around"
                f" {c.target:g} {c.unit}, sigma {sigma:.3f} {c.unit} (mean moving range / 1.128)",
                "the line keeps its current rate over the horizon; every unit is weighed",
                f"a unit outside [{c.lsl:g}, {c.usl:g}] {c.unit} is scrapped at"
                f" {c.unit_cost} {c.currency}",
            ],
        )

    def _proposal(
        self,
        now: datetime,
        samples: list[Sample],
        sigma: float,
        verdict: ChartVerdict,
        shift: float,
        setpoint: Sample,
    ) -> Proposal:
        c = self.config
        key = hashlib.sha256(
            f"{SPEC.name}|{c.characteristic}|{samples[-1].source_time.isoformat()}".encode()
        ).hexdigest()[:20]
        to_value = round(setpoint.value - shift, 2)
        direction = "Lower" if to_value < setpoint.value else "Raise"
        run = verdict.run
        chart = charts.evidence(c, samples, sigma, verdict)
        rules = sorted({r for hit in chart.signals.values() for r in hit})
        placeholder_saving = EstimatedSaving(
            amount=Decimal(0), horizon_hours=c.horizon_hours, formula="", inputs={}, assumptions=[]
        )
        placeholder_baseline = Baseline(
            metric="scrap_ratio", value=0.0, units=0, start=now, end=now, method=""
        )
        return Proposal(
            proposal_id=f"p-{key}",
            agent=SPEC.name,
            line=c.line,
            title=f"{direction} {c.characteristic_name} setpoint {setpoint.value:.2f} → "
            f"{to_value:.2f} {c.unit} on {c.line}",
            rationale=(
                f"{verdict.describe(c.characteristic_name)} for"
                f" {run} samples since {samples[-run].source_time:%H:%M:%S} UTC; the recent mean"
                f" is {c.target + shift:.2f} {c.unit} against a target of {c.target:.2f} {c.unit}"
                f" (sigma {sigma:.2f} {c.unit}). Rules signalling: {'; '.join(rules)}."
                f" Moving the setpoint by {-shift:+.2f} {c.unit} re-centres the process."
            ),
            action=SetpointChange(
                action_id=f"a-{key}",
                node_id=c.setpoint,
                from_value=setpoint.value,
                to_value=to_value,
                unit=c.unit,
            ),
            evidence=chart,
            estimated_saving=placeholder_saving,
            baseline=placeholder_baseline,
            unit_cost=c.unit_cost,
            counters=(c.good_counter, c.scrap_counter),
            created_at=now,
        )


SPEC = AgentSpec(
    name="spc_drift",
    version="1.1",
    domain=Domain.QUALITY,
    description="EWMA, tabular CUSUM or Shewhart (Western Electric rules) chart on a quality"
    " characteristic; proposes re-centring its setpoint, priced as scrap avoided x unit cost.",
    config_model=SpcDriftConfig,
    factory=SpcDriftAgent,
    risk=RiskClass.MEDIUM,
    actions=("setpoint_change",),
    default_interval_seconds=20.0,
)
