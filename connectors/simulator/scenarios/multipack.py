"""The multipack line runs short of gift boxes: two planned orders, one of them without material.

On its first MES round it adds the multipack line (one wrapper) to the MES with its products,
gift boxes and their supplier, and plans two orders back to back, LEAD after that round (real
seconds, a shift compressed, whatever the simulator's speed): WO-MP-001 (still-water packs, 600
boxes) then WO-MP-002 (sparkling, 400 boxes). Only a seeded 220-280 still boxes are released
(400 more sit in quarantine); Smurfit Kappa's open order of 1,000 arrives 15 s after WO-MP-001
is planned to start. The sparkling boxes are in stock; 300 plain boxes are the BOM's allowed
alternative to the still ones.

The line follows the plan in force: the wrapper takes its orders by planned start (a dispatch
list moves them, the MES does that) and starts one once the wrapper is free and all its boxes
are released, booking them from the oldest lots; until then it stands idle, booked as a stop
"waiting for material". A run takes its planned duration x a seeded factor (0.97-1.03); its end
is a production count and the order is completed. The open order arrives at its expected time
as a released lot.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.simulator.address_space import TagSpec
from connectors.simulator.model import LineModel, Unit
from connectors.simulator.scenarios.base import TagWrite
from factory_agents.catalog.supply_chain.shortage_config import (
    BOX_PLAIN,
    BOX_SPARK,
    BOX_STILL,
    BOX_SUPPLIER,
    BOX_UNIT,
    MULTIPACK_AREA,
    MULTIPACK_LINE,
    MULTIPACK_WRAPPER,
)

LEAD = timedelta(seconds=35)
"""From the first round to the first planned start: time to find the shortage and act."""
ORDERS = (
    # id, product, boxes, planned seconds, due seconds after its planned end
    ("WO-MP-001", "FG-MP6-STILL", 600, 12, 4),
    ("WO-MP-002", "FG-MP6-SPARK", 400, 8, 4),
)
PRODUCTS = (
    ("FG-MP6-STILL", "Still water 6-pack gift box", BOX_STILL),
    ("FG-MP6-SPARK", "Sparkling water 6-pack gift box", BOX_SPARK),
)
BOXES = (
    (BOX_STILL, "Gift box, still water print", "0.2200"),
    (BOX_SPARK, "Gift box, sparkling water print", "0.2200"),
    (BOX_PLAIN, "Gift box, plain", "0.3000"),
)
ARRIVAL = timedelta(seconds=15)
"""The open order arrives this long after WO-MP-001's planned start."""
ORDER_QUANTITY = 1_000.0
PURCHASE_ORDER = "PO-MP-001"
STREAM = 67


class MultipackShortage:
    """Gift-box stock, an open order and two planned orders on the multipack line."""

    name = "multipack_shortage"

    def __init__(self, seed: int) -> None:
        self._seed = seed
        rng = random.Random(seed * 1_000 + STREAM)
        self._still_on_hand = float(rng.choice((220, 250, 280)))
        self._start: datetime | None = None
        self._ran: dict[str, list[str]] = {}  # work order -> [start, end] (ISO)
        self._idle: int | None = None  # the open "waiting for material" stop

    def tags(self) -> list[TagSpec]:
        """No tags: the multipack line is known to the MES only."""
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
        """Plan once; receive the open order when due; run the wrapper up to now."""
        if self._start is None:
            self._plan(session, now)
            self._start = now + LEAD
        self._receive(session, now)
        self._run(session, now)

    def _plan(self, session: Session, now: datetime) -> None:
        """The line, its products and boxes, stock, the open order and the two planned orders."""
        if session.get(db.Equipment, MULTIPACK_LINE) is None:
            session.add(db.Equipment(id=MULTIPACK_LINE, name="Multipack line", level="line",
                                     parent_id=MULTIPACK_AREA))  # fmt: skip
            session.flush()
            session.add(db.Equipment(id=MULTIPACK_WRAPPER, name="Wrapper", level="cell",
                                     parent_id=MULTIPACK_LINE))  # fmt: skip
        if session.get(db.Supplier, BOX_SUPPLIER) is None:
            session.add(db.Supplier(id=BOX_SUPPLIER, name="Smurfit Kappa"))
        for code, name, _box in PRODUCTS:
            if session.get(db.Material, code) is None:
                session.add(db.Material(id=code, name=name, kind="finished_good", unit="pcs",
                                        unit_cost=Decimal("2.10"), currency="EUR"))  # fmt: skip
        for code, name, cost in BOXES:
            if session.get(db.Material, code) is None:
                session.add(db.Material(id=code, name=name, kind="packaging", unit=BOX_UNIT,
                                        unit_cost=Decimal(cost), currency="EUR"))  # fmt: skip
        session.flush()
        if session.get(db.WorkOrder, ORDERS[0][0]) is not None:
            return
        for code, _name, box in PRODUCTS:
            alternatives = [BOX_PLAIN] if box == BOX_STILL else []
            session.add(db.BomLine(product_id=code, material_id=box, quantity_per_unit=1.0,
                                   unit=BOX_UNIT, alternatives=alternatives))  # fmt: skip
        _lot(session, "BOX-STILL-L1", BOX_STILL, self._still_on_hand, "released", now)
        _lot(session, "BOX-STILL-Q1", BOX_STILL, 400.0, "quarantine", now)
        _lot(session, "BOX-SPARK-L1", BOX_SPARK, 500.0, "released", now)
        _lot(session, "BOX-PLAIN-L1", BOX_PLAIN, 300.0, "released", now)
        start = now + LEAD
        session.add(db.PurchaseOrder(
            id=PURCHASE_ORDER, material_id=BOX_STILL, supplier_id=BOX_SUPPLIER,
            quantity=ORDER_QUANTITY, unit=BOX_UNIT, status="ordered",
            ordered_at=now - timedelta(seconds=60), expected_at=start + ARRIVAL,
            received_at=None, external_key=None))  # fmt: skip
        at = start
        for number, product, boxes, seconds, slack in ORDERS:
            end = at + timedelta(seconds=seconds)
            session.add(db.WorkOrder(id=number, product_id=product, line_id=MULTIPACK_LINE,
                                     quantity=boxes, quantity_done=0, priority=2,
                                     status="released", release_at=now,
                                     due_at=end + timedelta(seconds=slack)))  # fmt: skip
            session.flush()
            session.add(db.Operation(work_order_id=number, sequence=0,
                                     equipment_id=MULTIPACK_WRAPPER, duration_minutes=seconds / 60,
                                     setup_minutes=0.0, planned_start=at, planned_end=end,
                                     status="planned"))  # fmt: skip
            at = end
        session.flush()

    def _receive(self, session: Session, now: datetime) -> None:
        """The open order arrives at its expected time as a released lot."""
        order = session.get(db.PurchaseOrder, PURCHASE_ORDER)
        if order is None or order.status != "ordered" or order.expected_at > now:
            return
        _lot(session, f"BOX-{PURCHASE_ORDER}", BOX_STILL, order.quantity, "released",
             order.expected_at)  # fmt: skip
        order.status, order.received_at = "received", order.expected_at

    def _run(self, session: Session, now: datetime) -> None:
        """Start the next order by the plan in force once material is there; end those done."""
        assert self._start is not None
        ops = {
            op.work_order_id: op
            for op in session.scalars(
                select(db.Operation).where(db.Operation.work_order_id.in_([o[0] for o in ORDERS]))
            )
        }
        free = max((self._times(k)[1] for k in self._ran), default=self._start)
        queue = sorted(
            (op for name, op in ops.items() if name not in self._ran),
            key=lambda op: (op.planned_start or now, op.work_order_id),
        )
        if queue:
            op = queue[0]
            ready = max(free, op.planned_start or now)
            if ready <= now:
                self._start_if_material(session, op, ready, now)
        for name, op in ops.items():
            if name in self._ran:
                self._finish(session, op, now)

    def _start_if_material(
        self, session: Session, op: db.Operation, ready: datetime, now: datetime
    ) -> None:
        """Book the order's boxes and start it, or stand idle waiting for them."""
        order = session.get(db.WorkOrder, op.work_order_id)
        assert order is not None
        box = next(b for p, _n, b in PRODUCTS if p == order.product_id)
        lots = list(
            session.scalars(
                select(db.Lot)
                .where(db.Lot.material_id == box, db.Lot.status == "released",
                       db.Lot.quantity > 0)
                .order_by(db.Lot.created_at, db.Lot.id)
            )
        )  # fmt: skip
        wanted = float(order.quantity - order.quantity_done)
        if sum(lot.quantity for lot in lots) + 1e-9 < wanted:
            if self._idle is None:
                self._idle = _stop(session, ready)
            return
        begin = ready
        for lot in lots:
            if wanted <= 1e-9:
                break
            taken = min(wanted, lot.quantity)
            begin = max(begin, lot.created_at)
            _take(session, lot, taken, op.work_order_id, begin)
            wanted -= taken
        if self._idle is not None:
            stop = session.get(db.DowntimeEvent, self._idle)
            if stop is not None:
                stop.ended_at = begin
            self._idle = None
        rng = random.Random(f"{self._seed}/{op.work_order_id}")
        end = begin + timedelta(seconds=op.duration_minutes * 60 * rng.uniform(0.97, 1.03))
        self._ran[op.work_order_id] = [begin.isoformat(), end.isoformat()]
        op.status, order.status = "running", "running"

    def _finish(self, session: Session, op: db.Operation, now: datetime) -> None:
        """An order whose run has ended: a production count, completed."""
        begin, end = self._times(op.work_order_id)
        if op.status == "completed" or end > now:
            return
        order = session.get(db.WorkOrder, op.work_order_id)
        assert order is not None
        op.status, order.status, order.quantity_done = "completed", "completed", order.quantity
        session.add(db.ProductionCount(equipment_id=MULTIPACK_WRAPPER,
                                       work_order_id=op.work_order_id, start=begin, end=end,
                                       good=order.quantity, scrap=0))  # fmt: skip

    def _times(self, name: str) -> tuple[datetime, datetime]:
        begin, end = self._ran[name]
        return datetime.fromisoformat(begin), datetime.fromisoformat(end)

    def state(self) -> dict[str, Any]:
        """When the plan starts, the orders run, the open stop."""
        return {
            "start": self._start.isoformat() if self._start else None,
            "ran": self._ran,
            "idle": self._idle,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Carry on from a saved state."""
        self._start = datetime.fromisoformat(state["start"]) if state.get("start") else None
        self._ran = {k: list(v) for k, v in state.get("ran", {}).items()}
        self._idle = state.get("idle")


def _lot(
    session: Session, lot_id: str, material: str, quantity: float, status: str, at: datetime
) -> None:
    """A box lot from Smurfit Kappa with one inventory position."""
    session.add(db.Lot(id=lot_id, material_id=material, quantity=quantity, unit=BOX_UNIT,
                       status=status, supplier=BOX_SUPPLIER, work_order_id=None, created_at=at,
                       expires_at=None))  # fmt: skip
    session.flush()
    number = (session.scalar(select(func.max(db.InventoryPosition.id))) or 0) + 1
    session.add(db.InventoryPosition(id=number, material_id=material, lot_id=lot_id,
                                     location="multipack store", quantity=quantity,
                                     unit=BOX_UNIT, updated_at=at))  # fmt: skip
    session.flush()


def _take(session: Session, lot: db.Lot, quantity: float, work_order: str, at: datetime) -> None:
    """Book boxes from one lot for a work order."""
    lot.quantity -= quantity
    for position in session.scalars(
        select(db.InventoryPosition).where(db.InventoryPosition.lot_id == lot.id)
    ):
        position.quantity = max(0.0, position.quantity - quantity)
        position.updated_at = at
    if lot.quantity <= 1e-9:
        lot.quantity, lot.status = 0.0, "consumed"
    session.add(db.MaterialConsumption(material_id=lot.material_id, lot_id=lot.id,
                                       work_order_id=work_order, quantity=quantity,
                                       unit=BOX_UNIT, at=at))  # fmt: skip


def _stop(session: Session, at: datetime) -> int:
    """Open a stop of the wrapper: waiting for material."""
    number = (session.scalar(select(func.max(db.DowntimeEvent.id))) or 0) + 1
    session.add(db.DowntimeEvent(id=number, equipment_id=MULTIPACK_WRAPPER, started_at=at,
                                 ended_at=None, reason_code="DT-MAT", planned=False,
                                 reason="Waiting for material: gift boxes"))  # fmt: skip
    session.flush()
    return number
