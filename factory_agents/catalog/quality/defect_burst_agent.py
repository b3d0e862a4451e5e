"""Defect-burst agent: an abnormal defect rate in the MES's checks → hold the affected lots.

It reads the quality results of one characteristic and the finished-goods lots from the MES,
takes everything before its monitoring window as the reference rate, and looks for a burst
(p-chart per lot, exact binomial tests; see the defect_burst package). It proposes to hold
the released lots the burst touched. Saving: the escapes the hold avoids × what one escape costs.

Realized: after the hold, QA re-inspects the held lots completely; the units with a defect it
finds (MES results of the re-inspection characteristic) are escapes avoided, except those the
normal sampling would have caught anyway.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from factory_agents.actions import LotHold
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
from factory_agents.catalog.quality.defect_burst import (
    DefectBurstReport,
    Inspection,
    ProducedLot,
    detect_defect_burst,
)
from factory_agents.errors import DataQualityError, MeasurementNotReady
from factory_agents.evidence import Bar, BarChart
from factory_agents.isa95 import Lot, LotStatus, MesData
from factory_agents.site import LABEL_CHARACTERISTIC, LABEL_REINSPECTION, LINE

CENTS = Decimal("0.01")


class DefectBurstConfig(BaseModel):
    """Which checks to watch, which lots they belong to, and what an escape costs."""

    model_config = ConfigDict(frozen=True)

    line: str = LINE
    characteristic: str = LABEL_CHARACTERISTIC
    reinspection: str = Field(LABEL_REINSPECTION, description="QA's full re-inspection results")
    lot_prefix: str = Field("FG-L1-", description="The finished-goods lots of the line")
    lookback_hours: float = Field(2.0, gt=0, description="Reference and monitored checks")
    monitor_minutes: float = Field(3.0, gt=0, description="The newest checks, judged for a burst")
    detection_probability: float = Field(
        0.2, ge=0, le=1, description="Chance the normal sampling (1 unit in 5) catches one"
    )
    cost_per_escape: Decimal = Field(Decimal("1.50"), description="A defective unit shipped")
    currency: str = "EUR"
    max_lots: int = Field(20, ge=1)
    reinspection_seconds: float = Field(
        30.0, gt=0, description="QA's turnaround on a held lot: measured no sooner after proposing"
    )


class DefectBurstAgent:
    """Watches one characteristic's defect rate per lot and proposes holding burst lots."""

    def __init__(self, config: DefectBurstConfig) -> None:
        self.spec = SPEC
        self.config = config

    def needs(self) -> DataNeeds:
        """Quality results and lots from the MES over the look-back."""
        return DataNeeds(
            mes=("quality_results", "lots"), mes_lookback_hours=self.config.lookback_hours
        )

    def analyze(self, data: AgentInput) -> AgentOutput:
        """Find a burst after the reference period; propose holding its released lots."""
        c = self.config
        out = AgentOutput(agent=SPEC.name)
        inspections = _inspections(data.mes, c.characteristic)
        lots = [lot for lot in data.mes.lots if lot.id.startswith(c.lot_prefix)]
        reference_end = data.now - timedelta(minutes=c.monitor_minutes)
        reference_start = data.now - timedelta(hours=c.lookback_hours)
        if not any(i.at < reference_end for i in inspections):
            return skip(out, "insufficient_baseline", "no checks before the monitoring window")
        report = detect_defect_burst(
            inspections,
            reference_start=reference_start,
            reference_end=reference_end,
            produced_lots=_produced(lots, data.now),
            detection_probability=c.detection_probability,
            as_of=data.now,
            characteristic=c.characteristic,
        )
        if report.status != "burst" or report.burst is None:
            if report.status == "insufficient_baseline":
                return skip(out, "insufficient_baseline", report.conclusion)
            out.findings.append(
                Finding(agent=SPEC.name, severity="info", message=report.conclusion)
            )
            return out
        released = {lot.id for lot in lots if lot.status == LotStatus.RELEASED}
        to_hold = sorted({a.lot for a in report.affected_lots if a.lot in released})[: c.max_lots]
        out.findings.append(Finding(agent=SPEC.name, severity="alarm", message=report.conclusion))
        if not to_hold:
            return skip(out, "nothing_to_hold", "every lot the burst touched is held already")
        out.proposals.append(self._proposal(data.now, report, to_hold))
        return out

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """Defective units QA found in the held lots, less those sampling would have caught."""
        c = self.config
        action = proposal.action
        if not isinstance(action, LotHold):
            raise DataQualityError(f"{SPEC.name} measures lot holds, not {action.kind}")
        found = [
            r
            for r in window.data.mes.quality_results
            if r.characteristic == c.reinspection and r.lot_id in action.lot_ids
        ]
        missing = sorted(set(action.lot_ids) - {r.lot_id for r in found if r.lot_id})
        if missing:
            raise MeasurementNotReady(
                f"lots {', '.join(missing)} have no re-inspection result yet; the realized saving"
                " is measured once QA has re-inspected every held lot"
            )
        defective = sum(int(r.value) for r in found)
        avoided = defective * (1 - c.detection_probability)
        start, end = window.before.at, window.after.at
        return RealizedSaving(
            amount=(Decimal(str(avoided)) * c.cost_per_escape).quantize(CENTS),
            currency=c.currency,
            period_hours=(end - start).total_seconds() / 3600,
            metric_after=avoided,
            units=defective,
            method=(
                f"{defective} defective unit(s) found by QA's full re-inspection of the"
                f" {len(action.lot_ids)} held lot(s) x (1 - {c.detection_probability:g}, the share"
                f" normal sampling catches) x {c.cost_per_escape} {c.currency} per escape;"
                " counterfactual: without the hold they would have shipped"
            ),
        )

    def _proposal(self, now: datetime, report: DefectBurstReport, lots: list[str]) -> Proposal:
        c = self.config
        burst = report.burst
        assert burst is not None
        key = hashlib.sha256(
            f"{SPEC.name}|{c.characteristic}|{burst.first_bucket}".encode()
        ).hexdigest()[:20]
        chosen = [a for a in report.affected_lots if a.lot in lots]
        escapes = sum(a.expected_escapes or 0.0 for a in chosen)
        amount = (Decimal(str(escapes)) * c.cost_per_escape).quantize(CENTS)
        p0 = report.baseline.proportion
        return Proposal(
            proposal_id=f"p-{key}",
            agent=SPEC.name,
            line=c.line,
            title=f"Hold {len(lots)} lot(s) on {c.line}: {c.characteristic} defects at"
            f" {burst.proportion_high:.0%} since {burst.start:%H:%M:%S} UTC (normally {p0:.1%})",
            rationale=report.conclusion,
            action=LotHold(
                action_id=f"a-{key}",
                lot_ids=tuple(lots),
                reason=f"{c.characteristic} defect burst since {burst.start:%F %T} UTC",
            ),
            evidence=BarChart(
                title=f"{c.characteristic} defective per lot",
                unit="%",
                bars=[
                    Bar(
                        category=b.count.key,
                        value=round(100 * b.proportion, 2),
                        group="signalling" if b.signal else "within limits",
                    )
                    for b in report.buckets
                ],
            ),
            estimated_saving=EstimatedSaving(
                amount=amount,
                currency=c.currency,
                horizon_hours=c.lookback_hours,
                formula="sum over held lots of expected escapes x cost per escape",
                inputs={
                    "expected_escapes": round(escapes, 2),
                    "baseline_defect_rate": round(p0, 4),
                    "burst_defect_rate": round(burst.proportion_high, 4),
                    "detection_probability": c.detection_probability,
                    "cost_per_escape": float(c.cost_per_escape),
                },
                assumptions=[
                    "defective units in a lot = lot quantity x the burst's defect rate",
                    f"normal sampling catches {c.detection_probability:.0%} of defective units;"
                    " the rest would ship",
                    f"one shipped defective unit costs {c.cost_per_escape} {c.currency}",
                    *report.notes,
                ],
            ),
            baseline=Baseline(
                metric="expected_escapes",
                value=escapes,
                units=int(sum(a.quantity or 0 for a in chosen)),
                start=burst.start,
                end=burst.end,
                method="expected escapes of the lots to hold, from the burst's defect rate",
            ),
            created_at=now,
            measure_until=now + timedelta(seconds=c.reinspection_seconds),
        )


def _inspections(mes: MesData, characteristic: str) -> list[Inspection]:
    """The MES results of one characteristic, as the analytics read them."""
    return [
        Inspection(
            lot=r.lot_id,
            work_order=r.work_order_id,
            characteristic=r.characteristic,
            value=r.value,
            lsl=r.lsl,
            usl=r.usl,
            passed=r.passed,
            at=r.sampled_at,
        )
        for r in mes.quality_results
        if r.characteristic == characteristic
    ]


def _produced(lots: list[Lot], now: datetime) -> list[ProducedLot]:
    """Each lot produced from its creation until the next lot of the line (or now)."""
    ordered = sorted((lot for lot in lots if lot.work_order_id), key=lambda lot: lot.created_at)
    produced = []
    for lot, following in zip(ordered, [*ordered[1:], None], strict=True):
        produced.append(
            ProducedLot(
                lot=lot.id,
                work_order=lot.work_order_id or "",
                quantity=lot.quantity,
                produced_from=lot.created_at,
                produced_to=following.created_at if following is not None else now,
            )
        )
    return produced


SPEC = AgentSpec(
    name="defect_burst",
    version="1.0",
    domain=Domain.QUALITY,
    description="p-chart per lot and exact binomial tests on MES quality results; proposes holding"
    " the lots of a defect burst, priced as escapes avoided x cost per escape.",
    config_model=DefectBurstConfig,
    factory=DefectBurstAgent,
    risk=RiskClass.MEDIUM,
    actions=("lot_hold",),
    default_interval_seconds=30.0,
)
