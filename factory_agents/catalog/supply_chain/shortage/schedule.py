"""When each work order finishes once its material arrives: the plan re-run line by line."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from factory_agents.catalog.supply_chain.shortage.model import (
    MaterialPlan,
    PlannedOperation,
    RequirementCoverage,
    ShortageReport,
    WorkOrderLateness,
    hours,
)
from factory_agents.catalog.supply_chain.shortage.projection import find_shortages

OpKey = tuple[str, str]


def with_operations_linked(plan: MaterialPlan) -> MaterialPlan:
    """The plan with each operation-less requirement given its work order's first operation."""
    keys = {(op.work_order, op.operation) for op in plan.operations}
    first_op: dict[str, str] = {}
    for op in sorted(plan.operations, key=lambda o: (o.start, o.operation)):
        first_op.setdefault(op.work_order, op.operation)
    requirements = tuple(
        dataclasses.replace(req, operation=first_op[req.work_order])
        if (req.work_order, req.operation) not in keys
        and not req.operation
        and req.work_order in first_op
        else req
        for req in plan.requirements
    )
    return dataclasses.replace(plan, requirements=requirements)


def requirements_by_operation(plan: MaterialPlan) -> dict[OpKey, list[int]]:
    """Requirement indexes per planned operation."""
    keys = {(op.work_order, op.operation) for op in plan.operations}
    linked: dict[OpKey, list[int]] = defaultdict(list)
    for index, req in enumerate(plan.requirements):
        if (req.work_order, req.operation) in keys:
            linked[(req.work_order, req.operation)].append(index)
    return linked


def _schedule(
    plan: MaterialPlan, coverage: Sequence[RequirementCoverage]
) -> tuple[WorkOrderLateness, ...]:
    """Run each line's operations in planned order, each starting once the line is free and its
    material is there; work orders whose material never arrives are blocked."""
    linked = requirements_by_operation(plan)
    lines: dict[str, list[PlannedOperation]] = defaultdict(list)
    for op in plan.operations:
        lines[op.line].append(op)
    ends: dict[OpKey, datetime | None] = {}
    for ops in lines.values():
        free: datetime | None = None
        for op in sorted(ops, key=lambda o: (o.start, o.work_order, o.operation)):
            ready: datetime | None = op.start
            for index in linked.get((op.work_order, op.operation), []):
                covered = coverage[index].covered_at
                if covered is None or ready is None:
                    ready = None
                    break
                offset = plan.requirements[index].needed_at - op.start
                ready = max(ready, covered - offset)
            if ready is None:
                ends[(op.work_order, op.operation)] = None
                continue
            start = ready if free is None else max(ready, free)
            free = start + (op.end - op.start)
            ends[(op.work_order, op.operation)] = free
    by_order: dict[str, list[PlannedOperation]] = defaultdict(list)
    for op in plan.operations:
        by_order[op.work_order].append(op)
    result: list[WorkOrderLateness] = []
    for work_order, ops in by_order.items():
        due = min(op.due_at for op in ops)
        finish = [ends[(op.work_order, op.operation)] for op in ops]
        expected = None if any(f is None for f in finish) else max(f for f in finish if f)
        late = None if expected is None else max(0.0, hours(expected - due))
        result.append(
            WorkOrderLateness(
                work_order=work_order,
                due_at=due,
                planned_end=max(op.end for op in ops),
                expected_end=expected,
                hours_late=late,
            )
        )
    result.sort(key=lambda w: (w.due_at, w.work_order))
    return tuple(result)


@dataclass(frozen=True)
class Outcome:
    """A plan's shortages and the lateness of every work order they cause."""

    report: ShortageReport
    lateness: tuple[WorkOrderLateness, ...]


def evaluate(plan: MaterialPlan) -> Outcome:
    """Project the plan, then schedule it on what arrives when."""
    report = find_shortages(plan)
    return Outcome(report, _schedule(plan, report.coverage))
