"""A line's queue from the MES: released orders not yet started, as a job-shop instance.

Time zero is the later of now and the earliest release, rounded up to the time grid; an
operation's duration is its processing plus its (sequence-independent) setup time, rounded up
to whole grid units. An order's weight comes from its MES priority. The sequence in force is
each machine's operations in order of their planned start, where every operation has one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from factory_agents.catalog.scheduling.jobshop import Instance, Job, OpKey
from factory_agents.catalog.scheduling.sequencing_config import SequencingConfig
from factory_agents.isa95 import MesData, Operation, WorkOrder


@dataclass(frozen=True)
class Unusable:
    """Why the queue cannot be sequenced now: a skip reason and a message."""

    reason: str
    message: str


@dataclass(frozen=True)
class ShopQueue:
    """The orders to sequence, the instance built from them, and the sequence in force."""

    instance: Instance
    origin: datetime
    unit: timedelta
    orders: tuple[WorkOrder, ...]
    current: dict[str, list[OpKey]] | None

    def at(self, time: int) -> datetime:
        """The moment a time on the grid stands for."""
        return self.origin + time * self.unit

    def identity(self) -> str:
        """The order set as text: the same orders, routings and dates give the same text."""
        parts = []
        for order in sorted(self.orders, key=lambda o: o.id):
            job = self.instance.job(order.id)
            route = ",".join(f"{op.machine}:{op.duration}" for op in job.operations)
            parts.append(f"{order.id}@{order.due_at.isoformat()}/w{job.weight}[{route}]")
        return ";".join(parts)


def read_queue(mes: MesData, now: datetime, c: SequencingConfig) -> ShopQueue | Unusable:
    """The line's queue as a job-shop instance, or why there is none to sequence."""
    machines = tuple(sorted(e.id for e in mes.equipment if e.parent_id == c.line))
    if not machines:
        return Unusable("no_machines", f"the MES lists no equipment under line {c.line}")
    orders = {o.id: o for o in mes.work_orders if o.line_id == c.line}
    steps: dict[str, list[Operation]] = {}
    for op in mes.operations:
        if op.work_order_id in orders:
            steps.setdefault(op.work_order_id, []).append(op)
    active = [op for ops in steps.values() for op in ops]
    dispatched = [op for op in active if op.status == c.dispatched_status]
    if dispatched:
        return Unusable(
            "list_in_force",
            f"{len(dispatched)} operation(s) of {c.line} follow a published dispatch list; a new"
            " list would supersede it, so the next one waits until the list is done",
        )
    running = [op for op in active if op.status in c.running_statuses]
    if running:
        return Unusable(
            "shop_running",
            f"{len(running)} operation(s) of {c.line} are running; the queue is sequenced while"
            " the machines are free (a list made now would ignore the work on them)",
        )
    waiting = [
        o
        for o in orders.values()
        if o.status in c.order_statuses
        and o.id in steps
        and all(op.status in c.open_statuses for op in steps[o.id])
    ]
    if len(waiting) < 2:
        return Unusable(
            "nothing_to_sequence",
            f"{len(waiting)} released order(s) of {c.line} wait with no operation started;"
            " there is no order to choose",
        )
    waiting = sorted(waiting, key=lambda o: (o.due_at, o.id))[: c.max_orders]
    unit = timedelta(seconds=c.time_unit_seconds)
    origin = _whole_second(max(now, min(o.release_at for o in waiting)))
    jobs = []
    for order in sorted(waiting, key=lambda o: o.id):
        route = sorted(steps[order.id], key=lambda op: op.sequence)
        broken = _broken_route(order, route, machines)
        if broken is not None:
            return Unusable("bad_routing", broken)
        jobs.append(
            Job.from_route(
                order.id,
                [
                    (op.equipment_id, _units(op.duration_minutes + op.setup_minutes, unit))
                    for op in route
                ],
                due=math.floor((order.due_at - origin) / unit),
                weight=c.priority_weights.get(order.priority, 1),
                release=max(0, math.ceil((order.release_at - origin) / unit)),
            )
        )
    instance = Instance(tuple(jobs), machines, name=f"{c.line} queue")
    current = _sequence_in_force(waiting, steps)
    return ShopQueue(instance, origin, unit, tuple(waiting), current)


def _broken_route(
    order: WorkOrder, route: list[Operation], machines: tuple[str, ...]
) -> str | None:
    """What is wrong with an order's routing, or None."""
    numbers = [op.sequence for op in route]
    if numbers != list(range(len(route))):
        return f"{order.id} has operations {numbers}; a routing numbers them 0, 1, 2 … once each"
    unknown = sorted({op.equipment_id for op in route} - set(machines))
    if unknown:
        return f"{order.id} runs on {', '.join(unknown)}, which the MES does not list in the line"
    return None


def _sequence_in_force(
    orders: list[WorkOrder], steps: dict[str, list[Operation]]
) -> dict[str, list[OpKey]] | None:
    """Each machine's operations by planned start, or None if any has no planned start."""
    ops = [op for order in orders for op in steps[order.id]]
    if any(op.planned_start is None for op in ops):
        return None
    sequences: dict[str, list[OpKey]] = {}
    for op in sorted(ops, key=lambda o: (o.planned_start, o.work_order_id, o.sequence)):
        sequences.setdefault(op.equipment_id, []).append((op.work_order_id, op.sequence))
    return sequences


def _units(minutes: float, unit: timedelta) -> int:
    """Minutes as whole grid units, rounded up, at least one."""
    return max(1, math.ceil(round(timedelta(minutes=minutes) / unit, 9)))


def _whole_second(moment: datetime) -> datetime:
    """The moment rounded up to a whole second, the grid's origin."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)
