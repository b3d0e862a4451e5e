"""A breakdown in the tool room: a second batch of orders, and the mill down while they run.

Once the tool room has no open order (and REST after its last count), it releases five orders,
seeded around a fixed shape: two start on the mill, two urgent ones need only the lathe and the
grinder, planned first come first served (toolroom.py), the work starting LEAD after release.
BREAK_AFTER into the work the mill goes down (PackML Aborted) for REPAIR: the operation on it
is cut short and redone in full once it is back, an unplanned downtime event is written to the
MES, and its repair estimate (seconds left) is published. The shop follows the plan in force
or a newly published dispatch list, as the tool room does. Every MES round refreshes each
machine's state tag (Execute while it runs an operation, Idle otherwise, Aborted while down).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from asyncua import ua
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.simulator.address_space import TagSpec
from connectors.simulator.model import LineModel, Unit
from connectors.simulator.scenarios.base import TagWrite
from connectors.simulator.scenarios.toolroom import ShopOrder, ToolRoom, machine_id
from factory_agents.catalog.scheduling.rescheduling_config import (
    ABORTED,
    EXECUTE,
    IDLE,
    repair_path,
    state_path,
)
from factory_agents.catalog.scheduling.sequencing_config import SHOP_LINE, SHOP_MACHINES

LEAD = timedelta(seconds=6)
REST = timedelta(seconds=20)
BREAK_AFTER = timedelta(seconds=2)
REPAIR = timedelta(seconds=20)
BROKEN = "mill"
STREAM = 71
SHAPE = (  # route, priority: the urgent orders wait behind the mill's on the lathe and grinder
    ((("mill", 4), ("lathe", 3), ("grinder", 2)), 3),
    ((("mill", 3), ("grinder", 3), ("lathe", 2)), 3),
    ((("lathe", 3), ("grinder", 3)), 1),
    ((("grinder", 2), ("lathe", 3)), 1),
    ((("lathe", 2), ("mill", 2), ("grinder", 2)), 2),
)


def breakdown_orders(seed: int) -> list[ShopOrder]:
    """The second batch: the fixed shape, durations +0/1 s and due slack 0-6 s, seeded."""
    rng = random.Random(seed * 1_000 + STREAM)
    orders = []
    for number, (route, priority) in enumerate(SHAPE, start=101):
        steps = tuple((machine_id(m), s + rng.randint(0, 1)) for m, s in route)
        orders.append(
            ShopOrder(
                id=f"WO-TR-{number:03d}",
                part="CP-GUIDE",
                route=steps,
                priority=priority,
                due_seconds=sum(s for _m, s in steps) + rng.randint(0, 6),
            )
        )
    return orders


class ToolRoomBreakdown(ToolRoom):
    """The tool room's second batch with the mill breaking down while it runs."""

    name = "tool_room_breakdown"
    lead = LEAD

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self._orders = breakdown_orders(seed)
        self._broke = False
        self._repaired = False
        self._writes: list[TagWrite] = []
        self._lock = threading.Lock()

    def tags(self) -> list[TagSpec]:
        """Each machine's PackML state and repair estimate."""
        tags = []
        for machine in SHOP_MACHINES:
            tags += [
                TagSpec(state_path(machine), ua.VariantType.Int32, IDLE, historized=True),
                TagSpec(repair_path(machine), ua.VariantType.Double, 0.0),
            ]
        return tags

    def step(
        self, line: LineModel, units: Sequence[Unit], moments: Sequence[datetime]
    ) -> list[TagWrite]:
        """The state writes of the last MES rounds."""
        with self._lock:
            writes, self._writes = self._writes, []
        return writes

    def mes(self, session: Session, now: datetime) -> None:
        """Release once the shop is free; break and repair the mill; run the shop; tell states."""
        if self._start is None:
            if not self._shop_free(session, now):
                self._publish_states(session, now)
                return
            self._release(session, now)
            self._start = now + self.lead
        down_at = self._start + BREAK_AFTER
        if not self._broke and now >= down_at:
            self._break(session, down_at)
        if self._broke and not self._repaired and now >= down_at + REPAIR:
            self._repair(session, down_at + REPAIR)
        self._follow_list(session)
        self._run(session, now)
        self._publish_states(session, now)

    def _shop_free(self, session: Session, now: datetime) -> bool:
        """No other open order in the tool room, and REST since its last count."""
        open_orders = session.scalar(
            select(func.count())
            .select_from(db.WorkOrder)
            .where(db.WorkOrder.line_id == SHOP_LINE, db.WorkOrder.status != "completed")
        )
        last = session.scalar(
            select(func.max(db.ProductionCount.end)).where(
                db.ProductionCount.equipment_id.like(f"{SHOP_LINE}.%")
            )
        )
        return not open_orders and (last is None or _aware(last, now) + REST <= now)

    def _break(self, session: Session, at: datetime) -> None:
        """The mill stops: the operation on it is cut short; the MES gets a downtime event."""
        broken = machine_id(BROKEN)
        by_key = {(op.work_order_id, op.sequence): op for op in self._operations(session)}
        for key, (_begin, end) in self._times().items():
            if by_key[key].equipment_id == broken and end > at:
                del self._ran[f"{key[0]}/{key[1]}"]
                by_key[key].status = "planned"
        number = (session.scalar(select(func.max(db.DowntimeEvent.id))) or 0) + 1
        session.add(
            db.DowntimeEvent(
                id=number, equipment_id=broken, started_at=at, ended_at=None,
                reason_code="DT-BRK", reason="Mill spindle drive fault", planned=False,
            )
        )  # fmt: skip
        self._broke = True

    def _repair(self, session: Session, at: datetime) -> None:
        """The mill is back: its downtime event ends."""
        event = session.scalars(
            select(db.DowntimeEvent).where(
                db.DowntimeEvent.equipment_id == machine_id(BROKEN),
                db.DowntimeEvent.ended_at.is_(None),
            )
        ).first()
        if event is not None:
            event.ended_at = at
        self._repaired = True

    def _free_from(self, machine: str) -> datetime:
        """The mill, once broken, starts nothing before it is back."""
        start = super()._free_from(machine)
        if self._broke and machine == machine_id(BROKEN):
            return max(start, start + BREAK_AFTER + REPAIR)
        return start

    def _publish_states(self, session: Session, now: datetime) -> None:
        """Each machine's state and repair estimate, stamped now."""
        busy = set()
        if self._start is not None:
            by_key = {(op.work_order_id, op.sequence): op for op in self._operations(session)}
            busy = {
                by_key[key].equipment_id
                for key, (begin, end) in self._times().items()
                if begin <= now < end
            }
        writes = []
        for machine in SHOP_MACHINES:
            down = machine == BROKEN and self._broke and not self._repaired
            state = ABORTED if down else EXECUTE if machine_id(machine) in busy else IDLE
            left = 0.0
            if down and self._start is not None:
                left = max(0.0, (self._start + BREAK_AFTER + REPAIR - now).total_seconds())
            writes += [
                TagWrite(state_path(machine), state, ua.VariantType.Int32, now),
                TagWrite(repair_path(machine), left, ua.VariantType.Double, now),
            ]
        with self._lock:
            self._writes = [*self._writes, *writes][-60:]

    def state(self) -> dict[str, Any]:
        """The tool room's state, and whether the mill broke and was repaired."""
        return {**super().state(), "broke": self._broke, "repaired": self._repaired}

    def restore(self, state: dict[str, Any]) -> None:
        """Carry on from a saved state."""
        super().restore(state)
        self._broke = bool(state.get("broke", False))
        self._repaired = bool(state.get("repaired", False))


def _aware(moment: datetime, like: datetime) -> datetime:
    """A time read back from the database with the time zone of `like` if it lost it."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=like.tzinfo)
