"""The site's tool room, a small job shop: released orders, a plan in the MES, and its execution.

On its first MES round it adds the tool room (a line of three machines) and its change parts to
the MES, and releases six orders for change parts, seeded: each routed over the three machines
in its own order, 2-6 s per operation (a shift compressed into real seconds, whatever the
simulator's speed), a priority and a due time. The MES plans them first come, first served
(each machine takes the orders in release order, as early as the routing allows), and the
work starts LEAD after the release.

The shop follows the plan in force: each machine runs its operations in order of their planned
start, an operation once its order's previous one has ended. A dispatch list published for the
tool room moves the planned starts (the MES does that), and the shop marks the list's
operations dispatched. An operation takes its planned duration x a seeded factor (0.95-1.10);
its end is recorded as a production count of the machine for the order, and an order whose last
operation ends is completed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.simulator.address_space import TagSpec
from connectors.simulator.model import LineModel, Unit
from connectors.simulator.scenarios.base import TagWrite
from factory_agents.catalog.scheduling.jobshop import Instance, Job, timetable
from factory_agents.catalog.scheduling.sequencing_config import (
    SHOP_AREA,
    SHOP_LINE,
    SHOP_MACHINES,
)

LEAD = timedelta(seconds=30)
"""From the orders' release to the start of work: time to sequence and approve a list."""
ORDERS = 6
PARTS = (
    ("CP-STARWHEEL", "Starwheel change part"),
    ("CP-GUIDE", "Neck guide change part"),
    ("CP-SCREW", "Infeed screw change part"),
)
STREAM = 61


@dataclass(frozen=True)
class ShopOrder:
    """One released order: its part, route (machine, seconds), priority and due time offset."""

    id: str
    part: str
    route: tuple[tuple[str, int], ...]
    priority: int
    due_seconds: int


def machine_id(machine: str) -> str:
    """The MES equipment id of a tool-room machine."""
    return f"{SHOP_LINE}.{machine}"


def draw_orders(seed: int) -> list[ShopOrder]:
    """The seeded orders: routes, times, priorities and due times (from the start of work)."""
    rng = random.Random(seed * 1_000 + STREAM)
    orders = []
    for number in range(1, ORDERS + 1):
        machines = list(SHOP_MACHINES)
        rng.shuffle(machines)
        route = tuple((machine_id(m), rng.randint(2, 6)) for m in machines)
        work = sum(seconds for _machine, seconds in route)
        orders.append(
            ShopOrder(
                id=f"WO-TR-{number:03d}",
                part=rng.choice(PARTS)[0],
                route=route,
                priority=rng.choice((1, 2, 3)),
                due_seconds=work + rng.randint(0, 20),
            )
        )
    return orders


def fifo_plan(orders: Sequence[ShopOrder]) -> dict[tuple[str, int], tuple[int, int]]:
    """Start and end (s after the start of work) of each operation, first come, first served."""
    jobs = tuple(Job.from_route(o.id, o.route) for o in orders)
    instance = Instance(jobs, tuple(machine_id(m) for m in SHOP_MACHINES))
    sequences = {
        machine: [
            (job.name, op.index) for job in jobs for op in job.operations if op.machine == machine
        ]
        for machine in instance.machines
    }
    schedule = timetable(instance, sequences, "first come, first served")
    return {op.key: (op.start, op.end) for op in schedule.operations}


class ToolRoom:
    """The tool room's orders in the MES, executed by the plan (or dispatch list) in force."""

    name = "tool_room"
    lead = LEAD

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._orders = draw_orders(seed)
        self._start: datetime | None = None
        self._ran: dict[str, list[str]] = {}  # "WO/seq" -> [start, end] (ISO)
        self._followed: str | None = None

    def tags(self) -> list[TagSpec]:
        """No tags: the tool room is known to the MES only."""
        return []

    def step(
        self, line: LineModel, units: Sequence[Unit], moments: Sequence[datetime]
    ) -> list[TagWrite]:
        """Nothing to do per unit of the bottling line."""
        return []

    def write(self, path: str, value: float) -> bool:
        """No writable tags."""
        return False

    def mes(self, session: Session, now: datetime) -> None:
        """Release the orders once; follow a new dispatch list; run the shop up to now."""
        if self._start is None:
            self._release(session, now)
            self._start = now + self.lead
        self._follow_list(session)
        self._run(session, now)

    def _release(self, session: Session, now: datetime) -> None:
        """Add the tool room, its parts and its released orders, planned first come first served."""
        if session.get(db.Equipment, SHOP_LINE) is None:
            session.add(
                db.Equipment(id=SHOP_AREA, name="Workshop", level="area", parent_id="site1")
            )
            session.flush()
            session.add(
                db.Equipment(id=SHOP_LINE, name="Tool room", level="line", parent_id=SHOP_AREA)
            )
            session.flush()
            for machine in SHOP_MACHINES:
                session.add(
                    db.Equipment(
                        id=machine_id(machine),
                        name=machine.title(),
                        level="cell",
                        parent_id=SHOP_LINE,
                    )
                )
            for code, name in PARTS:
                if session.get(db.Material, code) is None:
                    session.add(
                        db.Material(
                            id=code, name=name, kind="component", unit="pcs",
                            unit_cost=Decimal("0"), currency="EUR",
                        )
                    )  # fmt: skip
            session.flush()
        if session.get(db.WorkOrder, self._orders[0].id) is not None:
            return
        start = now + self.lead
        plan = fifo_plan(self._orders)
        for order in self._orders:
            session.add(
                db.WorkOrder(
                    id=order.id, product_id=order.part, line_id=SHOP_LINE, quantity=1,
                    quantity_done=0, priority=order.priority, status="released",
                    release_at=start, due_at=start + timedelta(seconds=order.due_seconds),
                )
            )  # fmt: skip
        session.flush()
        for order in self._orders:
            for sequence, (machine, seconds) in enumerate(order.route):
                begin, end = plan[(order.id, sequence)]
                session.add(
                    db.Operation(
                        work_order_id=order.id, sequence=sequence, equipment_id=machine,
                        duration_minutes=seconds / 60, setup_minutes=0.0,
                        planned_start=start + timedelta(seconds=begin),
                        planned_end=start + timedelta(seconds=end), status="planned",
                    )
                )  # fmt: skip

    def _operations(self, session: Session) -> list[db.Operation]:
        return list(
            session.scalars(
                select(db.Operation).where(
                    db.Operation.work_order_id.in_([o.id for o in self._orders])
                )
            )
        )

    def _follow_list(self, session: Session) -> None:
        """Mark the operations of a newly published dispatch list as dispatched."""
        published = session.scalars(
            select(db.DispatchListRecord)
            .where(
                db.DispatchListRecord.line_id == SHOP_LINE, db.DispatchListRecord.status == "active"
            )
            .order_by(db.DispatchListRecord.published_at.desc())
        ).first()
        if published is None or published.id == self._followed:
            return
        listed = {(e["work_order_id"], int(e["operation"])) for e in published.entries}
        for op in self._operations(session):
            if (op.work_order_id, op.sequence) in listed and op.status == "planned":
                op.status = "dispatched"
        self._followed = published.id

    def _run(self, session: Session, now: datetime) -> None:
        """Start and end operations, by the plan in force, as far as `now`."""
        assert self._start is not None
        ops = self._operations(session)
        by_key = {(op.work_order_id, op.sequence): op for op in ops}
        machine_free = {machine_id(m): self._free_from(machine_id(m)) for m in SHOP_MACHINES}
        for key, (_begin, end) in self._times().items():
            machine = by_key[key].equipment_id
            machine_free[machine] = max(machine_free[machine], end)
        changed = True
        while changed:
            changed = False
            for machine in machine_free:
                queue = sorted(
                    (
                        op
                        for op in ops
                        if op.equipment_id == machine and _key(op) not in self._times()
                    ),
                    key=lambda op: (op.planned_start or now, op.work_order_id, op.sequence),
                )
                if not queue:
                    continue
                op = queue[0]
                ready = machine_free[machine]
                if op.sequence:
                    before = self._times().get((op.work_order_id, op.sequence - 1))
                    if before is None:
                        continue  # the machine waits for this order: it keeps its sequence
                    ready = max(ready, before[1])
                if ready > now:
                    continue
                end = ready + timedelta(seconds=op.duration_minutes * 60 * self._factor(op))
                self._ran[f"{op.work_order_id}/{op.sequence}"] = [
                    ready.isoformat(),
                    end.isoformat(),
                ]
                machine_free[machine] = end
                changed = True
        for key, (begin, end) in self._times().items():
            op = by_key[key]
            if op.status == "completed":
                continue
            if end > now:
                op.status = "running"
                continue
            op.status = "completed"
            session.add(
                db.ProductionCount(
                    equipment_id=op.equipment_id, work_order_id=op.work_order_id,
                    start=begin, end=end, good=1, scrap=0,
                )
            )  # fmt: skip
            order = session.get(db.WorkOrder, op.work_order_id)
            if order is not None:
                last = max(o.sequence for o in ops if o.work_order_id == order.id)
                order.status = "completed" if op.sequence == last else "running"
                order.quantity_done = 1 if op.sequence == last else 0

    def _free_from(self, machine: str) -> datetime:
        """When a machine may start its first operation: the start of work."""
        assert self._start is not None
        return self._start

    def _times(self) -> dict[tuple[str, int], tuple[datetime, datetime]]:
        """Start and end of every operation started so far."""
        times = {}
        for name, (begin, end) in self._ran.items():
            order, sequence = name.rsplit("/", 1)
            times[(order, int(sequence))] = (
                datetime.fromisoformat(begin),
                datetime.fromisoformat(end),
            )
        return times

    def _factor(self, op: db.Operation) -> float:
        """The seeded share of its planned duration an operation actually takes."""
        rng = random.Random(f"{self._seed}/{op.work_order_id}/{op.sequence}")
        return rng.uniform(0.95, 1.10)

    def state(self) -> dict[str, Any]:
        """When work started, the operations run, the list followed."""
        return {
            "start": self._start.isoformat() if self._start else None,
            "ran": self._ran,
            "followed": self._followed,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Carry on from a saved state."""
        self._start = datetime.fromisoformat(state["start"]) if state.get("start") else None
        self._ran = {k: list(v) for k, v in state.get("ran", {}).items()}
        self._followed = state.get("followed")


def _key(op: db.Operation) -> tuple[str, int]:
    return (op.work_order_id, op.sequence)
