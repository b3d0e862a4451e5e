"""Job-shop sequencing agent: a line's released orders → a better dispatch list, when it pays.

It reads from the MES the line's machines, its released work orders whose operations have not
started, and their operations (machine, processing and setup time, planned start); see
shop_queue.py. It sequences them with CP-SAT (cpsat.py: warm-started by the best dispatching
rule, time-limited) and compares the result with the baseline: the sequence in force (each
machine's operations by planned start) where the MES has one, else the best dispatching rule.
It proposes publishing the new list when the objective (weighted tardiness or makespan)
improves by at least a share and an amount. Saving: see sequencing_saving.py.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal

from factory_agents.actions import DispatchEntry, DispatchList
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
from factory_agents.catalog.scheduling.cpsat import CpSatResult, SolverSettings, solve
from factory_agents.catalog.scheduling.gantt import gantt_chart
from factory_agents.catalog.scheduling.jobshop import (
    Objective,
    OpKey,
    Schedule,
    machine_sequences,
    timetable,
)
from factory_agents.catalog.scheduling.sequencing_config import SequencingConfig
from factory_agents.catalog.scheduling.sequencing_saving import (
    METRICS,
    due_key,
    measure_sequence,
    money,
    weight_key,
)
from factory_agents.catalog.scheduling.shop_queue import ShopQueue, Unusable, read_queue
from factory_agents.evidence import GanttChart


class SequencingAgent:
    """Sequences a line's queue of released orders and proposes the better dispatch list."""

    def __init__(self, config: SequencingConfig) -> None:
        self.spec = SPEC
        self.config = config

    def needs(self) -> DataNeeds:
        """The line's equipment, orders and operations; production counts to measure."""
        return DataNeeds(
            mes=("equipment", "work_orders", "operations", "production_counts"),
            mes_lookback_hours=self.config.mes_lookback_hours,
        )

    def analyze(self, data: AgentInput) -> AgentOutput:
        """Sequence the queue; propose the list when it beats the baseline by the thresholds."""
        c = self.config
        out = AgentOutput(agent=SPEC.name)
        read_at = data.mes.read_at
        if read_at is None or data.now - read_at > timedelta(seconds=c.stale_after_seconds):
            return skip(
                out, "stale_mes", f"no MES read of {c.line} in the last {c.stale_after_seconds:g} s"
            )
        queue = read_queue(data.mes, data.now, c)
        if isinstance(queue, Unusable):
            return skip(out, queue.reason, queue.message)
        settings = SolverSettings(
            time_limit_seconds=c.time_limit_seconds, num_workers=c.num_workers
        )
        result = solve(queue.instance, c.objective, settings)
        baseline, basis = self._baseline(queue, result)
        before, after = baseline.value(c.objective), result.value
        gained = (before - after) * queue.unit.total_seconds() / 60
        saving = money(gained, c.objective, c)
        summary = _summary(queue, result, baseline, basis, c)
        if before <= 0 or (before - after) / before < c.min_improvement or saving < c.min_saving:
            out.findings.append(Finding(agent=SPEC.name, severity="info", message=summary))
            return skip(
                out,
                "improvement_below_threshold",
                f"the best sequence reaches {after} against {before} ({basis}) on {c.objective};"
                f" worth {saving} {c.currency}, below {c.min_improvement:.0%} and"
                f" {c.min_saving} {c.currency}",
            )
        out.findings.append(Finding(agent=SPEC.name, severity="warning", message=summary))
        out.proposals.append(
            self._proposal(data.now, queue, result, baseline, basis, saving, summary)
        )
        return out

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """The objective as the orders completed in the MES, against the modelled baseline."""
        return measure_sequence(proposal, window, self.config)

    def _baseline(self, queue: ShopQueue, result: CpSatResult) -> tuple[Schedule, str]:
        """The sequence in force, timed as early as it allows; else the best dispatching rule."""
        rule = f"best dispatching rule, {result.dispatch.best_rule}"
        if queue.current is None:
            return result.dispatch.best, rule + " (no operation has a planned start)"
        try:
            return timetable(
                queue.instance, queue.current, "sequence in force"
            ), "sequence in force"
        except ValueError as err:
            return result.dispatch.best, f"{rule} (the planned starts cannot be kept: {err})"

    def _proposal(
        self,
        now: datetime,
        queue: ShopQueue,
        result: CpSatResult,
        baseline: Schedule,
        basis: str,
        saving: Decimal,
        summary: str,
    ) -> Proposal:
        c = self.config
        key = hashlib.sha256(f"{SPEC.name}|{c.line}|{queue.identity()}".encode()).hexdigest()[:20]
        minutes = queue.unit.total_seconds() / 60
        schedule = result.schedule
        entries = tuple(
            DispatchEntry(
                work_order_id=op.job,
                operation=op.index,
                equipment_id=op.machine,
                start=queue.at(op.start),
                end=queue.at(op.end),
            )
            for op in schedule.operations
        )
        inputs: dict[str, float] = {
            f"baseline_{c.objective}": float(baseline.value(c.objective)),
            f"proposed_{c.objective}": float(result.value),
            "best_rule_value": float(result.dispatch.best.value(c.objective)),
            "lower_bound": float(result.lower_bound),
            "minutes_per_time_unit": minutes,
            "baseline_makespan": float(baseline.makespan),
            "proposed_makespan": float(schedule.makespan),
            "cost_per_weighted_minute": float(c.cost_per_weighted_minute),
            "cost_per_shop_hour": float(c.cost_per_shop_hour),
        }
        for order in queue.orders:
            job = queue.instance.job(order.id)
            inputs[due_key(order.id)] = round((order.due_at - queue.origin).total_seconds() / 60, 4)
            inputs[weight_key(order.id)] = float(job.weight)
        tardy = c.objective == "weighted_tardiness"
        formula = (
            "(baseline - proposed weighted tardiness) x minutes per time unit x cost per weighted"
            " minute; weighted tardiness = sum over orders of weight x max(0, completion - due)"
            if tardy
            else "(baseline - proposed makespan) x minutes per time unit / 60 x cost per shop hour"
        )
        last_end = queue.at(schedule.makespan)
        span = last_end - queue.origin
        return Proposal(
            proposal_id=f"p-{key}",
            agent=SPEC.name,
            line=c.line,
            title=f"Resequence {len(queue.orders)} order(s) on {c.line}:"
            f" {c.objective.replace('_', ' ')} {baseline.value(c.objective)} → {result.value}"
            f" ({saving} {c.currency})",
            rationale=summary,
            action=DispatchList(action_id=f"a-{key}", line_id=c.line, entries=entries),
            evidence=_gantt(queue, schedule, baseline, c.line),
            estimated_saving=EstimatedSaving(
                amount=saving,
                currency=c.currency,
                horizon_hours=max(baseline.makespan, schedule.makespan) * minutes / 60,
                formula=formula,
                inputs=inputs,
                assumptions=[
                    f"baseline: {basis}, each operation as early as its sequence allows",
                    f"durations are processing plus setup minutes from the MES, rounded up to"
                    f" {c.time_unit_seconds:g} s; setups do not depend on the sequence",
                    "weights from the MES priority: "
                    + ", ".join(
                        f"priority {p} → {w}" for p, w in sorted(c.priority_weights.items())
                    ),
                    f"the list reaches the shop before {queue.origin:%H:%M:%S} UTC and the"
                    " machines run without breakdowns",
                    f"solver: {schedule.method}, gap to its lower bound {result.gap:.0%}",
                ],
            ),
            baseline=Baseline(
                metric=METRICS[c.objective],
                value=round(baseline.value(c.objective) * minutes, 4),
                units=len(queue.orders),
                start=queue.origin,
                end=queue.at(baseline.makespan),
                method=f"{basis}, modelled on the {c.time_unit_seconds:g} s grid",
            ),
            created_at=now,
            measure_until=last_end + span * c.measure_slack + timedelta(seconds=c.settle_seconds),
        )


def _gantt(queue: ShopQueue, proposed: Schedule, current: Schedule, line: str) -> GanttChart:
    """The proposed schedule next to the baseline; operations whose machine position changes."""
    before = machine_positions(current)
    after = machine_positions(proposed)
    return gantt_chart(
        f"{line}: proposed dispatch list and the baseline",
        proposed,
        current,
        at=queue.at,
        label=lambda op: f"{op.job} op {op.index}",
        moved=lambda op: before.get(op.key) != after[op.key],
        now=queue.origin,
    )


def machine_positions(schedule: Schedule) -> dict[OpKey, int]:
    """Each operation's place in its machine's sequence."""
    return {
        key: position
        for keys in machine_sequences(schedule).values()
        for position, key in enumerate(keys)
    }


def _summary(
    queue: ShopQueue, result: CpSatResult, baseline: Schedule, basis: str, c: SequencingConfig
) -> str:
    """The proposed sequence against the baseline and the best rule, in one paragraph."""
    other: Objective = "makespan" if c.objective == "weighted_tardiness" else "weighted_tardiness"
    return (
        f"{len(queue.orders)} released order(s) on {c.line}, {len(queue.instance.machines)}"
        f" machine(s), time unit {c.time_unit_seconds:g} s from {queue.origin:%H:%M:%S} UTC."
        f" {c.objective}: baseline ({basis}) {baseline.value(c.objective)}, best dispatching"
        f" rule ({result.dispatch.best_rule}) {result.dispatch.best.value(c.objective)},"
        f" {result.schedule.method} {result.value} (lower bound {result.lower_bound});"
        f" {other}: baseline {baseline.value(other)}, proposed {result.schedule.value(other)}."
    )


SPEC = AgentSpec(
    name="sequencing",
    version="1.0",
    domain=Domain.SCHEDULING,
    description="CP-SAT job-shop sequencing of a line's released orders from the MES, against the"
    " sequence in force or the best dispatching rule; proposes a dispatch list priced as tardiness"
    " cost (or shop time) avoided.",
    config_model=SequencingConfig,
    factory=SequencingAgent,
    risk=RiskClass.LOW,
    actions=("dispatch_list",),
    default_interval_seconds=30.0,
)
