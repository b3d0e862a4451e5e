"""The ways out of each shortage (wait, expedite, substitute, resequence), each a changed plan
re-projected and re-scheduled, priced and ranked."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from factory_agents.catalog.supply_chain.demand import Requirement
from factory_agents.catalog.supply_chain.shortage.model import (
    CENTS,
    EPS,
    MaterialPlan,
    OptionKind,
    PlannedOperation,
    ResolutionCosts,
    Shortage,
    ShortageDecision,
    ShortageOption,
    WorkOrderLateness,
    fmt_qty,
    fmt_time,
)
from factory_agents.catalog.supply_chain.shortage.schedule import (
    OpKey,
    Outcome,
    evaluate,
    requirements_by_operation,
    with_operations_linked,
)

_KIND_ORDER = {
    OptionKind.WAIT: 0,
    OptionKind.EXPEDITE: 1,
    OptionKind.SUBSTITUTE: 2,
    OptionKind.RESEQUENCE: 3,
}


def _late_summary(lateness: Iterable[WorkOrderLateness]) -> str:
    parts = []
    for w in lateness:
        if w.expected_end is None:
            parts.append(f"{w.work_order} blocked (its material never arrives in the plan)")
        elif w.hours_late and w.hours_late > 0:
            parts.append(
                f"{w.work_order} ends {fmt_time(w.expected_end)}, {w.hours_late:.1f} h after due"
            )
    return "; ".join(parts) if parts else "every work order finishes by its due date"


def _option(
    kind: OptionKind,
    action: str,
    direct_cost: Decimal,
    cost_note: str,
    outcome: Outcome,
    costs: ResolutionCosts,
    resolves: bool,
) -> ShortageOption:
    hours = sum(w.hours_late or 0.0 for w in outcome.lateness)
    tardiness = (Decimal(repr(round(hours, 6))) * costs.tardiness_cost_per_hour).quantize(
        CENTS, rounding=ROUND_HALF_EVEN
    )
    direct = direct_cost.quantize(CENTS, rounding=ROUND_HALF_EVEN)
    blocked = tuple(w.work_order for w in outcome.lateness if w.blocked)
    total = direct + tardiness
    cur = costs.currency
    explanation = (
        f"{action}. {_late_summary(outcome.lateness)}. Direct cost {direct} {cur}"
        + (f" ({cost_note})" if cost_note else "")
        + f" + tardiness {hours:.1f} h × {costs.tardiness_cost_per_hour} {cur}/h ="
        f" {tardiness} {cur}; total {total} {cur}."
    )
    return ShortageOption(
        kind=kind,
        action=action,
        direct_cost=direct,
        tardiness_hours=hours,
        tardiness_cost=tardiness,
        total_cost=total,
        resolves=resolves,
        blocked_work_orders=blocked,
        lateness=outcome.lateness,
        explanation=explanation,
    )


def _resolved(outcome: Outcome, affected: set[OpKey], materials: set[str]) -> bool:
    """Whether every affected operation gets its `materials` on time in this outcome."""
    return all(
        c.short_quantity <= EPS
        for c in outcome.report.coverage
        if (c.work_order, c.operation) in affected and c.material in materials
    ) and bool(affected)


def _wait_option(shortage: Shortage, base: Outcome, costs: ResolutionCosts) -> ShortageOption:
    if shortage.covered_at is None:
        action = f"Wait: no open receipt of {shortage.material} covers the shortage"
    else:
        action = (
            f"Wait for the open receipts of {shortage.material}; the shortage ends"
            f" {fmt_time(shortage.covered_at)}"
        )
    return _option(OptionKind.WAIT, action, Decimal(0), "", base, costs, False)


def _expedite_options(
    plan: MaterialPlan,
    shortage: Shortage,
    affected: set[OpKey],
    costs: ResolutionCosts,
) -> list[ShortageOption]:
    offers = {o.purchase_order: o for o in costs.expedite_offers}
    options: list[ShortageOption] = []
    for position, receipt in enumerate(plan.receipts):
        offer = offers.get(receipt.purchase_order)
        if (
            offer is None
            or receipt.material != shortage.material
            or receipt.expected_at <= shortage.first_short_at
        ):
            continue
        new_time = max(offer.earliest_at, shortage.first_short_at, plan.now)
        if new_time >= receipt.expected_at:
            continue
        moved = dataclasses.replace(receipt, expected_at=new_time)
        receipts = (*plan.receipts[:position], moved, *plan.receipts[position + 1 :])
        outcome = evaluate(dataclasses.replace(plan, receipts=receipts))
        quantity = Decimal(repr(receipt.quantity))
        cost = offer.cost_per_order + offer.cost_per_unit * quantity
        action = (
            f"Expedite {receipt.purchase_order} ({fmt_qty(receipt.quantity, receipt.unit)} of"
            f" {receipt.material} from {receipt.supplier}) from {fmt_time(receipt.expected_at)}"
            f" to {fmt_time(new_time)}"
        )
        note = (
            f"{offer.cost_per_order} per order + {offer.cost_per_unit} ×"
            f" {fmt_qty(receipt.quantity, receipt.unit)}"
        )
        resolves = _resolved(outcome, affected, {shortage.material})
        options.append(_option(OptionKind.EXPEDITE, action, cost, note, outcome, costs, resolves))
    return options


def _unit_of(plan: MaterialPlan, material: str) -> str | None:
    for lot in plan.lots:
        if lot.material == material:
            return lot.unit
    for receipt in plan.receipts:
        if receipt.material == material:
            return receipt.unit
    return None


def _substitute_options(
    plan: MaterialPlan,
    shortage: Shortage,
    affected: set[OpKey],
    costs: ResolutionCosts,
    remarks: list[str],
) -> list[ShortageOption]:
    options: list[ShortageOption] = []
    short_by_key = {
        (c.work_order, c.operation, c.needed_at): c.short_quantity
        for c in shortage.requirements
        if c.short_quantity > EPS
    }
    for rule in costs.substitutes:
        if rule.material != shortage.material:
            continue
        unit = _unit_of(plan, rule.alternative)
        if unit is None:
            remarks.append(
                f"substitute {rule.alternative} has no stock and no open receipt, so it was not"
                " offered"
            )
            continue
        requirements: list[Requirement] = []
        substituted = 0.0
        for req in plan.requirements:
            need = max(req.needed_at, plan.now)
            short = short_by_key.get((req.work_order, req.operation, need), 0.0)
            if req.material != shortage.material or short <= EPS:
                requirements.append(req)
                continue
            if req.quantity - short > EPS:
                requirements.append(dataclasses.replace(req, quantity=req.quantity - short))
            alternative = short * rule.alternative_per_unit
            substituted += alternative
            requirements.append(
                dataclasses.replace(req, material=rule.alternative, quantity=alternative, unit=unit)
            )
        outcome = evaluate(dataclasses.replace(plan, requirements=tuple(requirements)))
        cost = rule.price_difference_per_unit * Decimal(repr(substituted))
        action = (
            f"Use {fmt_qty(substituted, unit)} of {rule.alternative} instead of"
            f" {fmt_qty(sum(short_by_key.values()), shortage.unit)} of {shortage.material}"
            f" for {', '.join(shortage.work_orders)}"
        )
        note = f"{fmt_qty(substituted, unit)} × {rule.price_difference_per_unit} price difference"
        resolves = _resolved(outcome, affected, {shortage.material, rule.alternative})
        if not resolves:
            note += f"; not enough released {rule.alternative} on time"
        options.append(_option(OptionKind.SUBSTITUTE, action, cost, note, outcome, costs, resolves))
    return options


def _moved_plan(
    plan: MaterialPlan, line_ops: list[PlannedOperation], first: int, last: int
) -> tuple[MaterialPlan, dict[OpKey, datetime]]:
    """Move line_ops[first] to just after line_ops[last], the block between running back to back
    from its old start; requirements move with their operation."""
    block = [*line_ops[first + 1 : last + 1], line_ops[first]]
    at = line_ops[first].start
    shift: dict[OpKey, timedelta] = {}
    new_start: dict[OpKey, datetime] = {}
    for op in block:
        key = (op.work_order, op.operation)
        shift[key] = at - op.start
        new_start[key] = at
        at += op.end - op.start
    operations = tuple(
        dataclasses.replace(op, start=op.start + shift[key], end=op.end + shift[key])
        if (key := (op.work_order, op.operation)) in shift
        else op
        for op in plan.operations
    )
    linked = requirements_by_operation(plan)
    moved_index = {
        i: shift[key] for key, indexes in linked.items() if key in shift for i in indexes
    }
    requirements = tuple(
        dataclasses.replace(req, needed_at=req.needed_at + moved_index[i])
        if i in moved_index
        else req
        for i, req in enumerate(plan.requirements)
    )
    return dataclasses.replace(plan, operations=operations, requirements=requirements), new_start


def _resequence_options(
    plan: MaterialPlan,
    shortage: Shortage,
    affected: set[OpKey],
    costs: ResolutionCosts,
) -> list[ShortageOption]:
    options: list[ShortageOption] = []
    operations = {(op.work_order, op.operation): op for op in plan.operations}
    for key in sorted(affected & operations.keys(), key=lambda k: operations[k].start):
        moving = operations[key]
        line_ops = sorted(
            (op for op in plan.operations if op.line == moving.line),
            key=lambda o: (o.start, o.work_order, o.operation),
        )
        first = line_ops.index(moving)
        for last in range(first + 1, len(line_ops)):
            other = line_ops[last]
            variant, new_start = _moved_plan(plan, line_ops, first, last)
            outcome = evaluate(variant)
            other_key = (other.work_order, other.operation)
            other_ready = all(
                c.short_quantity <= EPS
                for c in outcome.report.coverage
                if (c.work_order, c.operation) == other_key
            )
            if not other_ready:
                continue
            action = (
                f"Run {other.work_order} before {moving.work_order} on {moving.line}:"
                f" {moving.work_order} is planned to start {fmt_time(new_start[key])} instead of"
                f" {fmt_time(moving.start)}"
            )
            resolves = _resolved(outcome, affected, {shortage.material})
            option = _option(
                OptionKind.RESEQUENCE, action, Decimal(0), "", outcome, costs, resolves
            )
            options.append(dataclasses.replace(option, operations=variant.operations))
    return options


def _rank(option: ShortageOption) -> tuple[int, Decimal, int, str]:
    return (
        len(option.blocked_work_orders),
        option.total_cost,
        _KIND_ORDER[option.kind],
        option.action,
    )


def resolve_shortages(plan: MaterialPlan, costs: ResolutionCosts) -> tuple[ShortageDecision, ...]:
    """For each shortage: wait, expedite, substitute and resequence options, priced and ranked.

    Ranking: fewest work orders left without material, then lowest total cost (direct cost plus
    hours late past due × tardiness cost per hour, summed over every work order in the plan).
    """
    if costs.tardiness_cost_per_hour < 0:
        raise ValueError("tardiness cost per hour must not be negative")
    if not plan.operations:
        raise ValueError(
            "no planned operations given: without start, end and due dates the tardiness of an"
            " option cannot be priced; pass the schedule in MaterialPlan.operations"
        )
    plan = with_operations_linked(plan)
    scheduled = {op.work_order for op in plan.operations}
    base = evaluate(plan)
    decisions: list[ShortageDecision] = []
    for shortage in base.report.shortages:
        affected = {(c.work_order, c.operation) for c in shortage.requirements}
        remarks = [
            f"{work_order} has no planned operation, so its lateness is not priced"
            for work_order in shortage.work_orders
            if work_order not in scheduled
        ]
        wait = _wait_option(shortage, base, costs)
        options = [
            wait,
            *_expedite_options(plan, shortage, affected, costs),
            *_substitute_options(plan, shortage, affected, costs, remarks),
            *_resequence_options(plan, shortage, affected, costs),
        ]
        options.sort(key=_rank)
        best = options[0]
        cur = costs.currency
        waiting_blocks_more = len(wait.blocked_work_orders) > len(best.blocked_work_orders)
        saving = None if waiting_blocks_more else wait.total_cost - best.total_cost
        why = (
            f"Recommended: {best.kind.value} ({best.action}), total {best.total_cost} {cur}"
            f" against {wait.total_cost} {cur} for waiting"
        )
        if waiting_blocks_more:
            why += f", and waiting leaves {', '.join(wait.blocked_work_orders)} without material"
        why += (
            ". Options are ranked by work orders left without material, then by total cost"
            f" (direct cost + hours late × {costs.tardiness_cost_per_hour} {cur}/h over every"
            " work order in the plan)."
        )
        if remarks:
            why += " Note: " + "; ".join(remarks) + "."
        decisions.append(
            ShortageDecision(
                shortage=shortage,
                options=tuple(options),
                recommended=best,
                saving_against_waiting=saving,
                explanation=why,
            )
        )
    return tuple(decisions)
