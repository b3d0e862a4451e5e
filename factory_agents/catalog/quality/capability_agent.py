"""Capability agent: Cpk below target → re-centre the setpoint, or inspect more tightly.

It judges the newest measurements of one characteristic (Cp, Cpk, Pp, Ppk with confidence
bounds, see the capability package). When the process is capable of the target but sits
off-centre it proposes moving the setpoint by the offset to the aim; when the spread itself is
too wide it advises tighter inspection (no setpoint move can fix that). The saving is
out-of-spec units avoided × what one costs (rework), priced from the normal model before and
measured after.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import fmean

from pydantic import BaseModel, ConfigDict, Field

from factory_agents.actions import Advice
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
from factory_agents.catalog.quality.capability import (
    CapabilityReport,
    SpecLimits,
    assess_individuals,
)
from factory_agents.catalog.quality.out_of_spec import (
    Characteristic,
    out_of_spec_ratio,
    realized_out_of_spec_saving,
)
from factory_agents.catalog.quality.spc import sigma_from_moving_range
from factory_agents.errors import DataQualityError
from factory_agents.evidence import Histogram
from factory_agents.plant import Sample
from factory_agents.screening import is_fresh, screen
from factory_agents.site import (
    CAP_TORQUE,
    CAP_TORQUE_SETPOINT,
    LINE,
    LINE_GOOD,
    LINE_SCRAP,
    TORQUE_LSL,
    TORQUE_TARGET,
    TORQUE_USL,
)

CENTS = Decimal("0.01")


class CapabilityConfig(BaseModel):
    """Which characteristic to judge, its specification, the target Cpk and the costs."""

    model_config = ConfigDict(frozen=True)

    line: str = LINE
    characteristic: str = CAP_TORQUE
    characteristic_name: str = "cap torque"
    unit: str = "N·m"
    setpoint: str = CAP_TORQUE_SETPOINT
    good_counter: str = LINE_GOOD
    scrap_counter: str = LINE_SCRAP
    lsl: float = TORQUE_LSL
    usl: float = TORQUE_USL
    target: float = TORQUE_TARGET
    target_cpk: float = Field(1.33, gt=0)
    min_correction: float = Field(
        0.05, gt=0, description="Offsets smaller than this are not worth moving the setpoint"
    )
    window: int = Field(300, ge=30, description="Newest measurements judged")
    min_samples: int = Field(100, ge=30)
    lookback_seconds: float = Field(60.0, gt=0)
    stale_after_seconds: float = Field(10.0, gt=0)
    unit_cost: Decimal = Field(Decimal("0.12"), description="Cost of one out-of-spec unit")
    currency: str = "EUR"
    horizon_hours: float = Field(1.0, gt=0)


class CapabilityAgent:
    """Judges capability on the newest measurements and proposes centring or inspection."""

    def __init__(self, config: CapabilityConfig) -> None:
        self.spec = SPEC
        self.config = config

    def needs(self) -> DataNeeds:
        """The characteristic's history and the setpoint's live value."""
        c = self.config
        return DataNeeds(
            current=(c.setpoint,), history=(c.characteristic,), lookback_seconds=c.lookback_seconds
        )

    def analyze(self, data: AgentInput) -> AgentOutput:
        """Propose re-centring when off-centre and capable at the aim; advise when spread is."""
        c = self.config
        out = AgentOutput(agent=SPEC.name)
        screened = screen(data.history.get(c.characteristic, []), data.now)
        out.skipped.update(screened.dropped)
        samples = screened.usable[-c.window :]
        stale_after = timedelta(seconds=c.stale_after_seconds)
        setpoint = data.current.get(c.setpoint)
        if not samples or not is_fresh(samples[-1], data.now, stale_after):
            return skip(out, "stale_characteristic", f"no fresh good {c.characteristic_name} data")
        if setpoint is None or not is_fresh(setpoint, data.now, stale_after):
            return skip(out, "stale_setpoint", "the setpoint's live value is missing or stale")
        if len(samples) < c.min_samples:
            return skip(out, "insufficient_data", f"{len(samples)} samples < {c.min_samples}")
        values = [s.value for s in samples]
        if (shift := _unstable(values)) is not None:
            return skip(
                out,
                "not_stable",
                f"the {c.characteristic_name} moved by {shift:+.3f} {c.unit} within the window;"
                " capability is judged only on a stable process (the SPC agents watch changes)",
            )
        report = assess_individuals(
            values,
            SpecLimits(lsl=c.lsl, usl=c.usl, nominal=c.target),
            characteristic=c.characteristic_name,
            target_cpk=c.target_cpk,
        )
        severity = "info" if report.verdict == "capable" else "warning"
        out.findings.append(Finding(agent=SPEC.name, severity=severity, message=report.conclusion))
        offset = report.recommended_offset
        if report.verdict == "centre" and offset is not None:
            if abs(offset) < c.min_correction:
                return skip(
                    out,
                    "correction_too_small",
                    f"the offset to the aim ({offset:+.3f} {c.unit}) is below the"
                    f" {c.min_correction:g} {c.unit} worth a setpoint change",
                )
            out.proposals.append(self._centring(data.now, samples, report, setpoint))
        elif report.verdict == "tighten_inspection":
            out.proposals.append(self._inspection(data.now, samples, report))
        return out

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """Out-of-spec units avoided after acting × unit cost (advice is not measured)."""
        c = self.config
        if not isinstance(proposal.action, SetpointChange):
            raise DataQualityError(
                "advice to inspect more tightly changes no setpoint; its effect is not measured"
            )
        characteristic = Characteristic(
            tag=c.characteristic, name=c.characteristic_name, lsl=c.lsl, usl=c.usl,
            good_counter=c.good_counter, scrap_counter=c.scrap_counter, min_samples=c.min_samples,
        )  # fmt: skip
        unit_cost = c.unit_cost if proposal.unit_cost is None else proposal.unit_cost
        return realized_out_of_spec_saving(characteristic, proposal, window, unit_cost)

    def _key(self, samples: list[Sample]) -> str:
        """This judgement's id: the agent, the characteristic and the newest measurement."""
        newest = samples[-1].source_time.isoformat()
        return hashlib.sha256(
            f"{SPEC.name}|{self.config.characteristic}|{newest}".encode()
        ).hexdigest()[:20]

    def _centring(
        self, now: datetime, samples: list[Sample], report: CapabilityReport, setpoint: Sample
    ) -> Proposal:
        """Move the setpoint by the offset to the aim."""
        c = self.config
        offset = report.recommended_offset or 0.0
        to_value = round(setpoint.value + offset, 3)
        direction = "Lower" if offset < 0 else "Raise"
        return self._proposal(
            now,
            samples,
            report,
            title=f"{direction} {c.characteristic_name} setpoint {setpoint.value:.3f} →"
            f" {to_value:.3f} {c.unit} on {c.line} (Cpk {report.cpk:.2f} →"
            f" {report.cpk_at_aim:.2f})",
            action=SetpointChange(
                action_id=f"a-{self._key(samples)}",
                node_id=c.setpoint,
                from_value=setpoint.value,
                to_value=to_value,
                unit=c.unit,
            ),
            ppm_after=report.out_of_spec_at_aim.total_ppm,
            counters=(c.good_counter, c.scrap_counter),
        )

    def _inspection(
        self, now: datetime, samples: list[Sample], report: CapabilityReport
    ) -> Proposal:
        """Advise 100 % inspection until the spread is reduced."""
        c = self.config
        return self._proposal(
            now,
            samples,
            report,
            title=f"Inspect every unit's {c.characteristic_name} on {c.line}: Cp"
            f" {report.cp:.2f} is below {c.target_cpk:.2f}",
            action=Advice(
                action_id=f"a-{self._key(samples)}",
                topic=f"inspection:{c.characteristic}",
                summary=f"Check every unit's {c.characteristic_name} until its spread is reduced"
                f" (Cp {report.cp:.2f}); no setpoint move brings Cpk to {c.target_cpk:.2f}",
            ),
            ppm_after=report.out_of_spec_now.total_ppm,
            counters=(),
        )

    def _proposal(
        self,
        now: datetime,
        samples: list[Sample],
        report: CapabilityReport,
        *,
        title: str,
        action: SetpointChange | Advice,
        ppm_after: float,
        counters: tuple[str, ...],
    ) -> Proposal:
        c = self.config
        key = self._key(samples)
        observed = out_of_spec_ratio(samples, c.lsl, c.usl)
        rate = units_per_hour(samples)
        p_now, p_after = report.out_of_spec_now.total_ppm / 1e6, ppm_after / 1e6
        units = rate * c.horizon_hours
        amount = max(
            Decimal(0), (Decimal(str(units * (p_now - p_after))) * c.unit_cost).quantize(CENTS)
        )
        return Proposal(
            proposal_id=f"p-{key}",
            agent=SPEC.name,
            line=c.line,
            title=title,
            rationale=report.conclusion,
            action=action,
            evidence=Histogram(
                characteristic=c.characteristic_name,
                unit=c.unit,
                values=[s.value for s in samples],
                lsl=c.lsl,
                usl=c.usl,
                target=c.target,
            ),
            estimated_saving=EstimatedSaving(
                amount=amount,
                currency=c.currency,
                horizon_hours=c.horizon_hours,
                formula="units per hour x horizon x (out-of-spec fraction now - after) x unit cost",
                inputs={
                    "units_per_hour": round(rate, 1),
                    "horizon_hours": c.horizon_hours,
                    "out_of_spec_fraction_now": round(p_now, 6),
                    "out_of_spec_fraction_after": round(p_after, 6),
                    "unit_cost": float(c.unit_cost),
                    "cpk": round(report.cpk, 3),
                    "cpk_lower_bound": round(report.cpk_interval.lower_bound, 3),
                    "cp": round(report.cp, 3),
                },
                assumptions=[
                    f"out-of-spec fractions from the normal model: mean {report.mean:.3f}"
                    f" {c.unit}, within sigma {report.sigma_within:.4f} {c.unit} (moving range)",
                    "the line keeps its current rate over the horizon",
                    f"a unit outside [{c.lsl:g}, {c.usl:g}] {c.unit} costs {c.unit_cost}"
                    f" {c.currency} to rework",
                    *report.notes,
                ],
            ),
            baseline=Baseline(
                metric="out_of_spec_ratio",
                value=observed,
                units=len(samples),
                start=samples[0].source_time,
                end=samples[-1].source_time,
                method=f"fraction of the newest {len(samples)} measured units outside"
                f" [{c.lsl:g}, {c.usl:g}] {c.unit}",
            ),
            unit_cost=c.unit_cost,
            counters=counters,
            created_at=now,
        )


def _unstable(values: list[float]) -> float | None:
    """The shift between the window's halves if it exceeds 3 sigma of their difference."""
    half = len(values) // 2
    first, second = values[:half], values[half:]
    sigma = sigma_from_moving_range(values)
    shift = fmean(second) - fmean(first)
    limit = 3 * sigma * math.sqrt(1 / len(first) + 1 / len(second))
    return shift if abs(shift) > limit else None


SPEC = AgentSpec(
    name="capability",
    version="1.0",
    domain=Domain.QUALITY,
    description="Cp/Cpk/Ppk with confidence bounds on a characteristic; proposes re-centring its"
    " setpoint, or tighter inspection when the spread is the problem.",
    config_model=CapabilityConfig,
    factory=CapabilityAgent,
    risk=RiskClass.LOW,
    actions=("setpoint_change", "advice"),
    default_interval_seconds=30.0,
)
