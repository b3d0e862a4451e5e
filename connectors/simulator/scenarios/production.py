"""The line's production in the MES: counts per period, material consumed, work orders done.

Every 100 units the running work order gets a production count (good and scrap, as the
line's counters saw them), the materials of its bill consume their released lots first in,
first out (lots run empty and become consumed), and the order's quantity done moves on; a
finished order completes and the next released or planned one starts. Starvation is not
simulated yet: a material without released stock is recorded as consumed from no lot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.simulator.address_space import TagSpec
from connectors.simulator.model import LineModel, Unit
from connectors.simulator.scenarios.base import TagWrite
from factory_agents.site import LINE

FLUSH_UNITS = 100
"""Units per production count written to the MES."""
WAITING = ("released", "planned")


class LineProduction:
    """Production counts, consumption and work-order progress of Line 1 in the MES."""

    name = "production"

    def __init__(self, seed: int) -> None:
        self._good = 0
        self._scrap = 0
        self._since: datetime | None = None
        self._until: datetime | None = None

    def tags(self) -> list[TagSpec]:
        """No tags of its own: the line's counters are the model's."""
        return []

    def step(
        self, line: LineModel, units: Sequence[Unit], moments: Sequence[datetime]
    ) -> list[TagWrite]:
        """Count the units made since the last production count."""
        for unit, moment in zip(units, moments, strict=True):
            self._since = self._since or moment
            self._until = moment
            if unit.scrap:
                self._scrap += 1
            else:
                self._good += 1
        return []

    def write(self, path: str, value: float) -> bool:
        """No writable tags."""
        return False

    def mes(self, session: Session, now: datetime) -> None:
        """Write the production count, consumption and order progress once 100 units are made."""
        made = self._good + self._scrap
        if made < FLUSH_UNITS or self._since is None or self._until is None:
            return
        order = running_order(session)
        session.add(
            db.ProductionCount(
                equipment_id=LINE,
                work_order_id=order.id if order is not None else None,
                start=self._since,
                end=self._until,
                good=self._good,
                scrap=self._scrap,
            )
        )
        if order is not None:
            consume(session, order, made, self._until)
            progress(session, order, self._good)
        self._good = self._scrap = 0
        self._since = self._until = None

    def state(self) -> dict[str, Any]:
        """Units counted but not yet written (lost on a restart is acceptable: < 100 units)."""
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        """Nothing to restore."""


def running_order(session: Session) -> db.WorkOrder | None:
    """The line's running work order, starting the next waiting one when none runs."""
    running = session.scalars(
        select(db.WorkOrder).where(db.WorkOrder.line_id == LINE, db.WorkOrder.status == "running")
    ).first()
    if running is not None:
        return running
    waiting = session.scalars(
        select(db.WorkOrder)
        .where(db.WorkOrder.line_id == LINE, db.WorkOrder.status.in_(WAITING))
        .order_by(db.WorkOrder.release_at, db.WorkOrder.id)
    ).first()
    if waiting is not None:
        waiting.status = "running"
    return waiting


def consume(session: Session, order: db.WorkOrder, units: int, at: datetime) -> None:
    """Take each bill-of-materials line's need from released lots, oldest first."""
    bom = session.scalars(select(db.BomLine).where(db.BomLine.product_id == order.product_id))
    for line in bom:
        need = units * line.quantity_per_unit
        lots = session.scalars(
            select(db.Lot)
            .where(
                db.Lot.material_id == line.material_id,
                db.Lot.status == "released",
                db.Lot.quantity > 0,
            )
            .order_by(db.Lot.created_at, db.Lot.id)
        )
        for lot in lots:
            if need <= 0:
                break
            taken = min(need, lot.quantity)
            lot.quantity -= taken
            need -= taken
            _draw_positions(session, lot.id, taken)
            if lot.quantity <= 1e-9:
                lot.quantity, lot.status = 0.0, "consumed"
            session.add(_consumption(line, lot.id, order.id, taken, at))
        if need > 1e-9:
            session.add(_consumption(line, None, order.id, need, at))


def progress(session: Session, order: db.WorkOrder, good: int) -> None:
    """Count good units towards the order; a finished order completes."""
    order.quantity_done += good
    if order.quantity_done >= order.quantity:
        order.quantity_done, order.status = order.quantity, "completed"


def _draw_positions(session: Session, lot_id: str, quantity: float) -> None:
    """Take `quantity` from the lot's storage positions, first position first."""
    positions = session.scalars(
        select(db.InventoryPosition)
        .where(db.InventoryPosition.lot_id == lot_id, db.InventoryPosition.quantity > 0)
        .order_by(db.InventoryPosition.id)
    )
    for position in positions:
        taken = min(quantity, position.quantity)
        position.quantity -= taken
        quantity -= taken
        if quantity <= 1e-9:
            return


def _consumption(
    line: db.BomLine, lot_id: str | None, order_id: str, quantity: float, at: datetime
) -> db.MaterialConsumption:
    return db.MaterialConsumption(
        material_id=line.material_id,
        lot_id=lot_id,
        work_order_id=order_id,
        quantity=round(quantity, 6),
        unit=line.unit,
        at=at,
    )
