"""OEE loss agent: the largest loss of each line, and advice when one stop reason dominates it.

It reads the MES over its look-back: the line's production counts (the period they cover is the
period judged), the downtime events of the line and its machines, and the routing of the
line's orders (the planned run time per item, PRI). `analyze_oee_losses` splits the planned
busy time into availability, performance and quality losses (ISO 22400-2: availability
APT/PBT, effectiveness PRI x PQ/APT, quality ratio GQ/PQ) with a Pareto of stop reasons
(MTBF, MTTR). When one reason clearly dominates the stop time, the agent proposes an Advice:
people should find and remove that cause. Advice writes nothing to the plant.

Estimated saving: the reason's stop time per hour, turned into units at the line's demonstrated
running rate (PQ / APT), over a horizon, times the share removing the cause is assumed to
recover, times the contribution of a unit.

Realized saving: the change of the reason's stop rate in the verification window against the
rate recorded at proposal time, priced the same way. It is an observed change after the
advice, not proof that the advice caused it; it can be zero or negative.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

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
    VerificationWindow,
)
from factory_agents.catalog.common import skip
from factory_agents.catalog.losses.mes_lines import line_stops, lines_of, planned_seconds_per_item
from factory_agents.catalog.losses.oee_losses import (
    LinePeriod,
    OeeLossReport,
    ReasonLoss,
    analyze_oee_losses,
)
from factory_agents.catalog.losses.stop_rate import ReasonRate, reason_rate
from factory_agents.errors import DataQualityError
from factory_agents.evidence import Bar, BarChart
from factory_agents.isa95 import ProductionCount

CENTS = Decimal("0.01")
NO_PRI = 1e-9
"""Stands in for an unknown PRI: the loss tree's time elements do not depend on it."""


class OeeLossConfig(BaseModel):
    """Which lines, how far back, when a reason dominates, and what a lost unit is worth."""

    model_config = ConfigDict(frozen=True)

    lines: tuple[str, ...] = Field((), description="() : every line with production counts")
    lookback_hours: float = Field(8.0, gt=0, description="The period judged: one shift")
    min_counts: int = Field(3, ge=1, description="Production counts needed in the look-back")
    min_period_minutes: float = Field(30.0, gt=0, description="Shortest period counts must span")
    min_stops: int = Field(3, ge=1, description="Stops of the reason needed: a pattern, not once")
    min_share_of_stop_time: float = Field(0.5, gt=0, le=1, description="Of all stop time")
    min_ratio_to_next: float = Field(2.0, ge=1, description="Times the next reason's stop time")
    min_share_of_pbt: float = Field(0.02, ge=0, le=1, description="Of planned busy time")
    setup_reason_codes: tuple[str, ...] = Field((), description="Planned stops judged as setup")
    contribution_per_unit: Decimal = Field(
        Decimal("0.12"), ge=0, description="Price less variable cost of one unit sold"
    )
    currency: str = "EUR"
    recoverable_fraction: float = Field(
        0.5, gt=0, le=1, description="Share of the reason's stop time removing its cause recovers"
    )
    horizon_hours: float = Field(8.0, gt=0, description="The estimate's horizon: one shift")


@dataclass(frozen=True)
class _Judged:
    """One line's period, its loss report, and what the report can be trusted for."""

    line: str
    period: LinePeriod
    report: OeeLossReport
    pri_problem: str


class OeeLossAgent:
    """Finds each line's largest loss and advises on a stop reason that dominates it."""

    def __init__(self, config: OeeLossConfig) -> None:
        self.spec = SPEC
        self.config = config

    def needs(self) -> DataNeeds:
        """Equipment, orders and routing, downtime and production counts over the look-back."""
        return DataNeeds(
            mes=("equipment", "work_orders", "operations", "downtime", "production_counts"),
            mes_lookback_hours=self.config.lookback_hours,
        )

    def analyze(self, data: AgentInput) -> AgentOutput:
        """Judge every line with counts; propose advice where one stop reason dominates."""
        c = self.config
        out = AgentOutput(agent=SPEC.name)
        since = data.now - timedelta(hours=c.lookback_hours)
        counts: dict[str, list[ProductionCount]] = defaultdict(list)
        for count in data.mes.production_counts:
            if since <= count.start and count.end <= data.now:
                counts[count.equipment_id].append(count)
        lines = c.lines or tuple(sorted(counts))
        if not lines:
            return skip(
                out, "insufficient_data", f"no production counts in the last {c.lookback_hours:g} h"
            )
        line_of = lines_of(data.mes.equipment)
        for line in lines:
            judged = self._judge(out, data, line, counts.get(line, []), line_of)
            if judged is not None:
                self._advise(out, data.now, judged)
        return out

    def _judge(
        self,
        out: AgentOutput,
        data: AgentInput,
        line: str,
        counts: list[ProductionCount],
        line_of: dict[str, str],
    ) -> _Judged | None:
        """The loss report of one line over the period its counts cover, or None (skipped)."""
        c = self.config
        if len(counts) < c.min_counts:
            skip(
                out, "insufficient_data",
                f"{line} has {len(counts)} production count(s) in the last {c.lookback_hours:g} h;"
                f" {c.min_counts} are needed",
            )  # fmt: skip
            return None
        start, end = min(x.start for x in counts), max(x.end for x in counts)
        minutes = (end - start).total_seconds() / 60
        if minutes < c.min_period_minutes:
            skip(
                out, "insufficient_data",
                f"the counts of {line} cover {minutes:.1f} min; {c.min_period_minutes:g} min are"
                " needed to judge its losses",
            )  # fmt: skip
            return None
        period = LinePeriod(
            line=line,
            start=start,
            end=end,
            pri_seconds=NO_PRI,
            produced=float(sum(x.good + x.scrap + x.rework for x in counts)),
            scrap=float(sum(x.scrap for x in counts)),
            rework=float(sum(x.rework for x in counts)),
            stops=line_stops(data.mes, line, line_of),
            setup_reason_codes=frozenset(c.setup_reason_codes),
        )
        pri = planned_seconds_per_item(data.mes, line)
        try:
            report = analyze_oee_losses(period)
            problem = _pri_problem(period, report, pri)
            if not problem and pri is not None:
                period = replace(period, pri_seconds=pri)
                report = analyze_oee_losses(period)
        except ValueError as err:
            skip(out, "inconsistent_data", f"the MES records of {line} do not add up: {err}")
            return None
        judged = _Judged(line, period, report, problem)
        out.findings.append(Finding(agent=SPEC.name, severity="info", message=_summary(judged)))
        return judged

    def _advise(self, out: AgentOutput, now: datetime, judged: _Judged) -> None:
        """Propose advice on the dominant stop reason, or say why no reason dominates."""
        c = self.config
        pareto = judged.report.pareto_by_time
        if not pareto:
            return
        top = pareto[0]
        total = sum(r.seconds for r in pareto)
        following = pareto[1].seconds if len(pareto) > 1 else 0.0
        share = top.seconds / total
        ratio = top.seconds / following if following > 0 else float("inf")
        of_pbt = top.share_of_pbt or 0.0
        if (
            top.stops < c.min_stops
            or share < c.min_share_of_stop_time
            or ratio < c.min_ratio_to_next
            or of_pbt < c.min_share_of_pbt
        ):
            out.findings.append(
                Finding(
                    agent=SPEC.name,
                    severity="info",
                    message=(
                        f"no single stop reason dominates on {judged.line}: {top.reason_code} has"
                        f" {top.stops} stop(s) (advice from {c.min_stops}), {_pct(share)} of the"
                        f" stop time (from {_pct(c.min_share_of_stop_time)}), {_times(ratio)}"
                        f" (from {c.min_ratio_to_next:g}x) and {_pct(of_pbt, 1)} of planned"
                        f" busy time (from {_pct(c.min_share_of_pbt, 1)})"
                    ),
                )
            )
            return
        period = judged.period
        rate = reason_rate(period.stops, top.reason_code, period.start, period.end)
        tree = judged.report.tree
        if rate.seconds_per_hour is None or tree.apt_seconds <= 0 or period.produced <= 0:
            skip(out, "line_not_running", f"{judged.line} did not run in the period judged")
            return
        out.findings.append(
            Finding(
                agent=SPEC.name,
                severity="warning",
                message=f"{top.reason_code} dominates the stops of {judged.line}: {_pct(share)} of"
                f" the stop time, {_times(ratio)}",
            )
        )
        out.proposals.append(self._proposal(now, judged, top, (share, ratio), rate))

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """The change of the reason's stop rate after the advice, priced as the estimate."""
        action = proposal.action
        if not isinstance(action, Advice) or not action.topic.startswith("oee:"):
            raise DataQualityError(f"{SPEC.name} measures its own advice, not {action.kind}")
        code = action.topic.rsplit(":", 1)[-1]
        inputs = proposal.estimated_saving.inputs
        units_per_second = inputs["units_per_running_hour"] / 3600
        contribution = Decimal(str(inputs["contribution_per_unit"]))
        currency = proposal.estimated_saving.currency
        start, end = window.before.at, window.after.at
        mes = window.data.mes
        stops = line_stops(mes, proposal.line, lines_of(mes.equipment))
        after = reason_rate(stops, code, start, end)
        hours = (end - start).total_seconds() / 3600
        before_rate = proposal.baseline.value
        if after.seconds_per_hour is None:
            return RealizedSaving(
                amount=Decimal("0.00"),
                currency=currency,
                period_hours=hours,
                metric_after=0.0,
                units=0,
                method=f"other stops held {proposal.line} through the whole window: {code} could"
                " not occur, so no change can be observed; recorded as zero",
            )
        exposed_hours = after.exposure_seconds / 3600
        recovered_seconds = (before_rate - after.seconds_per_hour) * exposed_hours
        units = recovered_seconds * units_per_second
        return RealizedSaving(
            amount=(Decimal(str(units)) * contribution).quantize(CENTS),
            currency=currency,
            period_hours=hours,
            metric_after=after.seconds_per_hour,
            units=round(units),
            method=(
                f"observed change after the advice, not proof of cause: {code} took"
                f" {after.seconds_per_hour:.0f} s per hour not held by other stops"
                f" ({after.stops} stop(s)) in the {_duration(hours * 3600)} window, against"
                f" {before_rate:.0f} s/h when advised; ({before_rate:.0f} - "
                f"{after.seconds_per_hour:.0f}) s/h x {exposed_hours:.4f} h ="
                f" {recovered_seconds:+.0f} s of line time x"
                f" {inputs['units_per_running_hour']:.0f} units per running hour x {contribution}"
                f" {currency} per unit; counterfactual: {code} would have gone on at its rate"
                " when advised. The plant records no action on the advice: chance and other"
                " changes move this number too"
            ),
        )

    def _proposal(
        self,
        now: datetime,
        judged: _Judged,
        top: ReasonLoss,
        dominance: tuple[float, float],
        rate: ReasonRate,
    ) -> Proposal:
        c = self.config
        period, tree = judged.period, judged.report.tree
        line = judged.line
        share, ratio = dominance
        loss_rate = rate.seconds_per_hour or 0.0
        exposure_share = rate.exposure_seconds / (period.end - period.start).total_seconds()
        units_per_running_hour = period.produced / tree.apt_seconds * 3600
        lost_units_per_hour = loss_rate / 3600 * exposure_share * units_per_running_hour
        recoverable_units = lost_units_per_hour * c.horizon_hours * c.recoverable_fraction
        amount = (Decimal(str(recoverable_units)) * c.contribution_per_unit).quantize(CENTS)
        # This judgement's id: the line, the reason and the period of counts judged.
        key = hashlib.sha256(
            f"{SPEC.name}|{line}|{top.reason_code}|{period.start.isoformat()}|"
            f"{period.end.isoformat()}".encode()
        ).hexdigest()[:20]
        hours = (period.end - period.start).total_seconds() / 3600
        machines = ", ".join(top.equipment)
        every = (
            f", one every {_duration(top.mtbf_hours * 3600)} of running" if top.mtbf_hours else ""
        )
        pareto = judged.report.pareto_by_time
        unit, per_unit = ("min", 60.0) if top.seconds >= 120 else ("s", 1.0)
        return Proposal(
            proposal_id=f"p-{key}",
            agent=SPEC.name,
            line=line,
            title=f"{line}: remove the cause of {top.reason_code} ({top.reason}), {_pct(share)} of"
            f" the stop time",
            rationale=(
                f"{_summary(judged)} {top.reason_code} on {machines} dominates the stops:"
                f" {_pct(share)} of the stop time ({_times(ratio)}),"
                f" {_pct(top.share_of_pbt or 0, 1)} of planned busy time,"
                f" {_duration(top.mean_stop_seconds)} per stop{every}."
            ),
            action=Advice(
                action_id=f"a-{key}",
                topic=f"oee:{line}:{top.reason_code}",
                summary=(
                    f"{top.reason} ({top.reason_code}) on {machines} stopped {line} {top.stops}"
                    f" times in {_duration(hours * 3600)}, {_duration(top.mean_stop_seconds)} each:"
                    f" {_pct(share)} of its stop time. Find and remove the cause (e.g. a root-cause"
                    " analysis with the operators of that machine)."
                ),
            ),
            evidence=BarChart(
                title=f"Stop time by reason on {line}, {period.start:%H:%M}-{period.end:%H:%M}"
                " UTC (largest first)",
                unit=unit,
                bars=[
                    Bar(
                        category=f"{r.reason_code} {r.reason}",
                        value=round(r.seconds / per_unit, 2),
                        group="advised" if r.reason_code == top.reason_code else "other stops",
                    )
                    for r in pareto
                ],
            ),
            estimated_saving=EstimatedSaving(
                amount=amount,
                currency=c.currency,
                horizon_hours=c.horizon_hours,
                formula="reason stop s per exposed hour / 3600 x exposed share x units per"
                " running hour x horizon hours x recoverable fraction x contribution per unit",
                inputs={
                    "reason_stop_minutes": round(rate.seconds / 60, 3),
                    "reason_stops": float(rate.stops),
                    "period_hours": round(hours, 4),
                    "exposed_share": round(exposure_share, 4),
                    "loss_seconds_per_hour": round(loss_rate, 2),
                    "units_per_running_hour": round(units_per_running_hour, 1),
                    "lost_units_per_hour": round(lost_units_per_hour, 2),
                    "horizon_hours": c.horizon_hours,
                    "recoverable_fraction": c.recoverable_fraction,
                    "contribution_per_unit": float(c.contribution_per_unit),
                },
                assumptions=[
                    f"{top.reason_code} goes on over the next {c.horizon_hours:g} h at its rate"
                    f" in the look-back ({hours:.2f} h of counts)",
                    "a lost minute costs the units the line makes in a minute of running (its"
                    " demonstrated rate PQ / APT, not the planned rate)",
                    f"removing the cause recovers {_pct(c.recoverable_fraction)} of the reason's"
                    " stop time (an assumption: root-cause work seldom removes every occurrence)",
                    f"each unit not made would have been sold for a contribution of"
                    f" {c.contribution_per_unit} {c.currency} (true while the line is the"
                    " bottleneck and demand takes its output)",
                    *([judged.pri_problem] if judged.pri_problem else []),
                    *judged.report.notes,
                ],
            ),
            baseline=Baseline(
                metric=f"{top.reason_code} stop seconds per hour not held by other stops",
                value=loss_rate,
                units=int(period.produced),
                start=period.start,
                end=period.end,
                method=f"{rate.stops} {top.reason_code} stop(s) in the MES downtime events of the"
                " line and its machines over the period its production counts cover (units: those"
                " counts); time other stops held the line is left out of both the reason's time"
                " and the hours",
            ),
            created_at=now,
        )


def _pri_problem(period: LinePeriod, report: OeeLossReport, pri: float | None) -> str:
    """Why the routing's PRI cannot be used for effectiveness, or '' when it can."""
    if pri is None:
        return (
            f"effectiveness not judged: the MES routing gives no planned run time per item for"
            f" the orders of {period.line}"
        )
    apt = report.tree.apt_seconds
    if pri * period.produced > apt * (1 + 1e-9):
        return (
            f"effectiveness not judged: {period.line} made {period.produced:,.0f} units in"
            f" {_duration(apt)} of running, more than the routing's {pri:g} s per item allows"
            " (a routing that does not fit the line, or a simulated plant faster than real time)"
        )
    return ""


def _pct(fraction: float, digits: int = 0) -> str:
    """A fraction as a percentage for people, e.g. '83 %'."""
    return f"{100 * fraction:.{digits}f} %"


def _duration(seconds: float) -> str:
    """A duration for people: seconds below two minutes, minutes below two hours, else hours."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7_200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _times(ratio: float) -> str:
    """How many times the next reason's stop time, for people."""
    return "no other reason" if ratio == float("inf") else f"{ratio:.1f}x the next reason"


def _summary(judged: _Judged) -> str:
    """The report's conclusion, or (PRI unusable) the part of it that does not need PRI."""
    report = judged.report
    if not judged.pri_problem:
        return report.conclusion
    kpis, tree = report.kpis, report.tree
    availability = next(d for d in report.losses if d.category == "availability")
    quality = "undefined" if kpis.quality_ratio is None else _pct(kpis.quality_ratio, 1)
    avail = "undefined" if kpis.availability is None else _pct(kpis.availability, 1)
    return (
        f"{judged.line}, {report.start:%Y-%m-%d %H:%M}–{report.end:%Y-%m-%d %H:%M} UTC:"
        f" availability"
        f" {avail} and quality ratio {quality} over {_duration(tree.pbt_seconds)} of planned"
        f" busy time; {judged.pri_problem}. Availability loss"
        f" {_duration(tree.availability_loss_seconds)}: {availability.explanation}."
    )


SPEC = AgentSpec(
    name="oee_losses",
    version="1.0",
    domain=Domain.LOSSES,
    description="ISO 22400 OEE loss tree per line from MES counts, stops and routing; advises"
    " removing the cause of a stop reason that dominates, priced as lost units x contribution.",
    config_model=OeeLossConfig,
    factory=OeeLossAgent,
    risk=RiskClass.LOW,
    actions=("advice",),
    default_interval_seconds=60.0,
)
