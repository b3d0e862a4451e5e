"""Rescheduling on breakdown: a machine gone down → the plan in force repaired → a dispatch list.

It reads the shop's machine states (OPC UA PackML StateCurrent, now and over a short history;
machine_down.py), their repair estimates, the MES's downtime events and the line's open orders
and operations (shop_in_force.py). When a machine has gone down it repairs the plan in force
with repair.py: right-shift (every machine keeps its sequence) against CP-SAT re-optimisation
with a stability penalty on start shifts. It proposes the re-optimised list when that wins and
saves at least `min_saving`; a right-shift needs no list (the shop already keeps its sequence and
waits), which a finding says. Estimated saving: (right-shift - chosen objective) priced as in
sequencing_saving.py; realized: the same measure from the MES completions (measure_sequence).
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
from factory_agents.catalog.scheduling.cpsat import SolverSettings
from factory_agents.catalog.scheduling.gantt import gantt_chart
from factory_agents.catalog.scheduling.jobshop import Schedule
from factory_agents.catalog.scheduling.machine_down import MachineDown, NotUsable, machine_down
from factory_agents.catalog.scheduling.repair import Breakdown, RepairResult, repair
from factory_agents.catalog.scheduling.rescheduling_config import ReschedulingConfig
from factory_agents.catalog.scheduling.sequencing_saving import (
    METRICS,
    due_key,
    measure_sequence,
    money,
    weight_key,
)
from factory_agents.catalog.scheduling.shop_in_force import ShopInForce, read_in_force
from factory_agents.catalog.scheduling.shop_queue import Unusable
from factory_agents.evidence import GanttChart


class ReschedulingAgent:
    """Repairs the shop's plan when a machine goes down and proposes the better dispatch list."""

    def __init__(self, config: ReschedulingConfig) -> None:
        self.spec = SPEC
        self.config = config

    def needs(self) -> DataNeeds:
        """Machine states now and their recent history, repair estimates, and the shop's MES."""
        c = self.config
        return DataNeeds(
            current=(*c.state_tags.values(), *c.repair_tags.values()),
            history=tuple(c.state_tags.values()),
            lookback_seconds=c.history_seconds,
            mes=("equipment", "work_orders", "operations", "downtime", "production_counts"),
            mes_lookback_hours=c.mes_lookback_hours,
        )

    def analyze(self, data: AgentInput) -> AgentOutput:
        """Find a fresh breakdown; repair the plan in force; propose the list if it pays."""
        c = self.config
        out = AgentOutput(agent=SPEC.name)
        read_at = data.mes.read_at
        if read_at is None or data.now - read_at > timedelta(seconds=c.stale_after_seconds):
            return skip(
                out, "stale_mes", f"no MES read of {c.line} in the last {c.stale_after_seconds:g} s"
            )
        downs: list[MachineDown] = []
        for machine in sorted(c.state_tags):
            found = machine_down(data, machine, c)
            if isinstance(found, NotUsable):
                return skip(out, found.reason, found.message)
            if found is not None:
                downs.append(found)
        if not downs:
            return skip(out, "no_breakdown", f"every machine of {c.line} is up")
        down = min(downs, key=lambda d: (d.since, d.machine))
        shop = read_in_force(data.mes, data.now, c)
        if isinstance(shop, Unusable):
            return skip(out, shop.reason, shop.message)
        if down.machine not in shop.instance.machines:
            return skip(out, "unknown_machine", f"{down.machine} is not a machine of {c.line}")
        up = max(shop.grid(down.up_at), shop.now + 1)
        settings = SolverSettings(
            time_limit_seconds=c.time_limit_seconds, num_workers=c.num_workers
        )
        result = repair(
            shop.instance,
            shop.plan,
            Breakdown(down.machine, now=shop.now, up_at=up),
            c.objective,
            c.stability_weight,
            settings,
        )
        summary = _summary(down, shop, result, c)
        if result.recommended == "right-shift":
            out.findings.append(Finding(agent=SPEC.name, severity="info", message=summary))
            return skip(
                out,
                "right_shift_kept",
                "no new list: the shop keeps its sequence and waits for the machine, which is"
                " the right-shift repair",
            )
        minutes = shop.unit.total_seconds() / 60
        before = result.right_shift.schedule.value(c.objective)
        after = result.chosen.schedule.value(c.objective)
        saving = money((before - after) * minutes, c.objective, c)
        if saving < c.min_saving:
            out.findings.append(Finding(agent=SPEC.name, severity="info", message=summary))
            return skip(
                out,
                "improvement_below_threshold",
                f"re-optimising is worth {saving} {c.currency}, below {c.min_saving}",
            )
        out.findings.append(Finding(agent=SPEC.name, severity="warning", message=summary))
        out.proposals.append(self._proposal(data.now, down, shop, result, saving, summary))
        return out

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """The objective from the orders' completions in the MES, against the modelled shift."""
        return measure_sequence(proposal, window, self.config)

    def _proposal(
        self,
        now: datetime,
        down: MachineDown,
        shop: ShopInForce,
        result: RepairResult,
        saving: Decimal,
        summary: str,
    ) -> Proposal:
        c = self.config
        event = f"{SPEC.name}|{c.line}|{down.machine}|{down.since.isoformat()}"
        key = hashlib.sha256(event.encode()).hexdigest()[:20]
        minutes = shop.unit.total_seconds() / 60
        chosen, shifted = result.chosen, result.right_shift
        entries = tuple(
            DispatchEntry(
                work_order_id=op.job,
                operation=shop.sequence_of[op.key],
                equipment_id=op.machine,
                start=shop.at(op.start),
                end=shop.at(op.end),
            )
            for op in chosen.schedule.operations
        )
        inputs: dict[str, float] = {
            f"right_shift_{c.objective}": float(shifted.schedule.value(c.objective)),
            f"proposed_{c.objective}": float(chosen.schedule.value(c.objective)),
            f"plan_{c.objective}": float(shop.plan.value(c.objective)),
            "right_shift_total_shift": float(shifted.total_shift),
            "proposed_total_shift": float(chosen.total_shift),
            "stability_weight": result.stability_weight,
            "right_shift_score": shifted.score,
            "proposed_score": chosen.score,
            "minutes_per_time_unit": minutes,
            "down_at": float(result.breakdown.now),
            "up_at": float(result.breakdown.up_at),
            "cost_per_weighted_minute": float(c.cost_per_weighted_minute),
            "cost_per_shop_hour": float(c.cost_per_shop_hour),
        }
        for order in shop.orders:
            inputs[due_key(order.id)] = round((order.due_at - shop.origin).total_seconds() / 60, 4)
            inputs[weight_key(order.id)] = float(shop.instance.job(order.id).weight)
        end = max(shifted.makespan, chosen.makespan)
        span = shop.at(end) - shop.origin
        label = c.objective.replace("_", " ")
        return Proposal(
            proposal_id=f"p-{key}",
            agent=SPEC.name,
            line=c.line,
            title=f"Repair the {c.line} plan around {down.machine} down: {label}"
            f" {shifted.schedule.value(c.objective)} right-shifted → {after_value(result, c)}"
            f" ({saving} {c.currency})",
            rationale=summary,
            action=DispatchList(action_id=f"a-{key}", line_id=c.line, entries=entries),
            evidence=_gantt(shop, chosen.schedule, c.line, down),
            estimated_saving=EstimatedSaving(
                amount=saving,
                currency=c.currency,
                horizon_hours=end * minutes / 60,
                formula=f"(right-shift - re-optimised {label}) x minutes per time unit x"
                + (
                    " cost per weighted minute; weighted tardiness = sum over orders of weight x"
                    " max(0, completion - due)"
                    if c.objective == "weighted_tardiness"
                    else " cost per shop hour / 60"
                ),
                inputs=inputs,
                assumptions=[
                    f"{down.machine} {down.state} since {down.since:%H:%M:%S} UTC"
                    f" ({down.since_from}), back at {shop.at(result.breakdown.up_at):%H:%M:%S}"
                    f" UTC ({down.up_from})",
                    "the operation cut short on the broken machine is redone in full",
                    "baseline: the right-shift repair (each machine keeps its sequence and waits),"
                    " which is what the shop does without a new list",
                    f"durations from the MES rounded up to {c.time_unit_seconds:g} s; running"
                    " operations keep their planned start",
                    f"the list reaches the shop at once; solver {chosen.found_by}",
                ],
            ),
            baseline=Baseline(
                metric=METRICS[c.objective],
                value=round(shifted.schedule.value(c.objective) * minutes, 4),
                units=len(shop.orders),
                start=shop.origin,
                end=shop.at(shifted.makespan),
                method=f"right-shift repair of the plan in force, modelled on the"
                f" {c.time_unit_seconds:g} s grid",
            ),
            created_at=now,
            measure_until=shop.at(end)
            + span * c.measure_slack
            + timedelta(seconds=c.settle_seconds),
        )


def after_value(result: RepairResult, c: ReschedulingConfig) -> int:
    """The chosen repair's objective value."""
    return result.chosen.schedule.value(c.objective)


def _gantt(shop: ShopInForce, proposed: Schedule, line: str, down: MachineDown) -> GanttChart:
    """The repaired plan next to the plan in force; operations whose start moved are flagged."""
    old = {op.key: op.start for op in shop.plan.operations}
    return gantt_chart(
        f"{line}: repaired dispatch list ({down.machine} down) and the plan in force",
        proposed,
        shop.plan,
        at=shop.at,
        label=lambda op: f"{op.job} op {shop.sequence_of[op.key]}",
        moved=lambda op: old[op.key] != op.start,
        now=shop.at(shop.now),
    )


def _summary(
    down: MachineDown, shop: ShopInForce, result: RepairResult, c: ReschedulingConfig
) -> str:
    """The breakdown, the work it hits and the recommendation, in one paragraph."""
    return (
        f"{down.machine} is {down.state} since {down.since:%H:%M:%S} UTC ({down.since_from}),"
        f" expected back {down.up_at:%H:%M:%S} UTC ({down.up_from}); {len(shop.orders)} open"
        f" order(s) on {c.line}, time unit {c.time_unit_seconds:g} s from"
        f" {shop.origin:%H:%M:%S} UTC; {c.objective} of the plan in force"
        f" {shop.plan.value(c.objective)}. {result.recommendation}"
    )


SPEC = AgentSpec(
    name="rescheduling",
    version="1.0",
    domain=Domain.SCHEDULING,
    description="Repairs a job shop's plan when a machine goes down (OPC UA state): right-shift"
    " against CP-SAT re-optimisation weighing start shifts; proposes the re-optimised dispatch"
    " list priced as tardiness cost (or shop time) avoided against the right-shift.",
    config_model=ReschedulingConfig,
    factory=ReschedulingAgent,
    risk=RiskClass.LOW,
    actions=("dispatch_list",),
    default_interval_seconds=10.0,
)
