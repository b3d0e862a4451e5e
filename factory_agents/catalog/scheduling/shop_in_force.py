"""A line's remaining work and the plan in force, from the MES, as a job-shop instance.

The open orders' operations not yet done (running or waiting) make the instance; done ones are
left out and an operation's index in its job maps back to its MES sequence number. Durations
and weights are as in shop_queue.py. Time zero is the earlier of now and the planned start of
the running operations; a running operation keeps its planned start, held so that it still
runs at ``now``; the plan in force runs each machine's operations in order of planned start
(running first), none of those waiting before ``now``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from factory_agents.catalog.scheduling.jobshop import Instance, Job, OpKey, Schedule, timetable
from factory_agents.catalog.scheduling.rescheduling_config import ReschedulingConfig
from factory_agents.catalog.scheduling.shop_queue import Unusable, _broken_route, _units
from factory_agents.isa95 import MesData, Operation, WorkOrder


@dataclass(frozen=True)
class ShopInForce:
    """The remaining work as an instance, the plan in force timed from now, and the grid."""

    instance: Instance
    plan: Schedule
    origin: datetime
    unit: timedelta
    now: int
    orders: tuple[WorkOrder, ...]
    sequence_of: dict[OpKey, int]

    def at(self, time: int) -> datetime:
        """The moment a time on the grid stands for."""
        return self.origin + time * self.unit

    def grid(self, moment: datetime) -> int:
        """A moment on the grid, rounded up."""
        return math.ceil(round((moment - self.origin) / self.unit, 9))


def read_in_force(mes: MesData, now: datetime, c: ReschedulingConfig) -> ShopInForce | Unusable:
    """The line's remaining work and its plan in force, or why there is none to repair."""
    machines = tuple(sorted(e.id for e in mes.equipment if e.parent_id == c.line))
    if not machines:
        return Unusable("no_machines", f"the MES lists no equipment under line {c.line}")
    open_statuses = c.open_order_statuses
    orders = {o.id: o for o in mes.work_orders if o.line_id == c.line and o.status in open_statuses}
    routes: dict[str, list[Operation]] = {}
    for op in mes.operations:
        if op.work_order_id in orders:
            routes.setdefault(op.work_order_id, []).append(op)
    remaining: dict[str, list[Operation]] = {}
    for order_id, route in sorted(routes.items()):
        route.sort(key=lambda op: op.sequence)
        broken = _broken_route(orders[order_id], route, machines)
        if broken is not None:
            return Unusable("bad_routing", broken)
        left = [op for op in route if op.status not in c.done_statuses]
        if left:
            remaining[order_id] = left
    if not remaining:
        return Unusable("nothing_to_repair", f"no open order of {c.line} has work left")
    ops = [op for left in remaining.values() for op in left]
    if any(op.planned_start is None for op in ops):
        return Unusable("no_plan", f"operations of {c.line} lack a planned start: no plan in force")
    running = [op for op in ops if op.status in c.running_statuses]
    origin = min([now, *(op.planned_start for op in running if op.planned_start)])
    origin = origin.replace(microsecond=0)
    unit = timedelta(seconds=c.time_unit_seconds)
    t_now = math.ceil(round((now - origin) / unit, 9))
    jobs, sequence_of, earliest, first = [], {}, {}, []
    for order_id, left in remaining.items():
        order = orders[order_id]
        durations = [_units(op.duration_minutes + op.setup_minutes, unit) for op in left]
        jobs.append(
            Job.from_route(
                order_id,
                [(op.equipment_id, d) for op, d in zip(left, durations, strict=True)],
                due=math.floor((order.due_at - origin) / unit),
                weight=c.priority_weights.get(order.priority, 1),
            )
        )
        for index, (op, duration) in enumerate(zip(left, durations, strict=True)):
            sequence_of[(order_id, index)] = op.sequence
            assert op.planned_start is not None
            planned = math.floor((op.planned_start - origin) / unit)
            low = max(0, t_now - duration + 1)
            if op.status in c.running_statuses and index == 0 and low < t_now:
                earliest[(order_id, index)] = min(max(planned, low), t_now - 1)
                first.append((order_id, index))
            else:
                earliest[(order_id, index)] = max(t_now, planned)
    instance = Instance(tuple(jobs), machines, name=f"{c.line} remaining work")
    by_machine: dict[str, list[tuple[int, datetime, OpKey]]] = {}
    for order_id, index in sequence_of:
        op = remaining[order_id][index]
        assert op.planned_start is not None
        started = 0 if (order_id, index) in first else 1
        by_machine.setdefault(op.equipment_id, []).append(
            (started, op.planned_start, (order_id, index))
        )
    sequences = {m: [key for *_s, key in sorted(items)] for m, items in by_machine.items()}
    try:
        plan = timetable(instance, sequences, "plan in force", earliest)
    except ValueError as err:
        return Unusable("plan_contradicts", f"the planned starts of {c.line} cannot be kept: {err}")
    chosen = tuple(sorted((orders[o] for o in remaining), key=lambda o: o.id))
    return ShopInForce(instance, plan, origin, unit, t_now, chosen, sequence_of)
