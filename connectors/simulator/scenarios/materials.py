"""Shrink film for the packs: noisy consumption, the plant's MRP reorders, the supplier delivers.

Every 50 units made the packer books one consumption of shrink film, N(10 m, 3 m) rounded to
0.1 m, from released film lots first in, first out (from no lot when none is left: a shortage).
The plant's MRP orders 400 m from Mondi whenever the inventory position (on hand + open orders)
is at or below 200 m: no safety stock. Mondi delivers each order, an MRP order or a requisition
the platform created, after a seeded lead time of N(1,000 s, 150 s) of the line's clock, as a
new released lot. At its first MES round the scenario writes the material, the supplier, 150
past consumptions and six received orders (a history, timed from the line's observed clock
rate), and a first lot of 320 m.
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
from factory_agents.catalog.supply_chain.reorder_config import (
    FILM_CURRENT_ORDER_QUANTITY,
    FILM_CURRENT_REORDER_POINT,
    FILM_MATERIAL,
    FILM_SUPPLIER,
    FILM_UNIT,
)

BOOKING_UNITS = 50
DEMAND_MEAN, DEMAND_SD = 10.0, 3.0
LEAD_MEAN_S, LEAD_SD_S = 1_000.0, 150.0
HISTORY_BOOKINGS = 150
HISTORY_ORDERS = 6
FIRST_LOT = 320.0
OPEN = ("requested", "ordered")


class MaterialReplenishment:
    """Shrink-film consumption, the MRP's (r, Q) reorders and the supplier's deliveries."""

    name = "material_replenishment"

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed * 1_000 + 61)
        self._units = 0
        self._pending: list[tuple[datetime, float]] = []
        self._rate: float | None = None
        self._last: tuple[int, datetime] | None = None
        self._ready = False
        self._due: dict[str, datetime] = {}

    def tags(self) -> list[TagSpec]:
        """No tags: stock lives in the MES."""
        return []

    def write(self, path: str, value: float) -> bool:
        """No writable tags."""
        return False

    def step(
        self, line: LineModel, units: Sequence[Unit], moments: Sequence[datetime]
    ) -> list[TagWrite]:
        """Book one consumption every 50 units; learn real seconds per second of the line."""
        for unit, moment in zip(units, moments, strict=True):
            if self._last is not None and unit.second > self._last[0]:
                rate = (moment - self._last[1]).total_seconds() / (unit.second - self._last[0])
                self._rate = rate if rate > 0 else self._rate
            self._last = (unit.second, moment)
            self._units += 1
            if self._units % BOOKING_UNITS == 0:
                self._pending.append((moment, self._demand()))
        return []

    def _demand(self) -> float:
        return round(max(0.0, self._rng.gauss(DEMAND_MEAN, DEMAND_SD)), 1)

    def _lead(self) -> timedelta:
        seconds = max(100.0, self._rng.gauss(LEAD_MEAN_S, LEAD_SD_S))
        return timedelta(seconds=seconds * (self._rate or 0.0))

    def mes(self, session: Session, now: datetime) -> None:
        """Write the history once; then book consumption, confirm requisitions, reorder, receive."""
        if self._rate is None:
            return
        if not self._ready:
            self._history(session, now)
            self._ready = True
        for at, quantity in self._pending:
            _consume(session, quantity, at)
        self._pending.clear()
        self._confirm(session, now)
        self._reorder(session, now)
        self._receive(session, now)

    def _history(self, session: Session, now: datetime) -> None:
        """The material, its supplier, past consumption and received orders, a first lot."""
        if session.get(db.Material, FILM_MATERIAL) is not None:
            return
        session.add(
            db.Material(
                id=FILM_MATERIAL,
                name="Shrink film 500 mm",
                kind="packaging",
                unit=FILM_UNIT,
                unit_cost=Decimal("0.35"),
                currency="EUR",
            )
        )
        if session.get(db.Supplier, FILM_SUPPLIER) is None:
            session.add(db.Supplier(id=FILM_SUPPLIER, name="Mondi"))  # fmt: skip
        session.flush()
        step = timedelta(seconds=BOOKING_UNITS * (self._rate or 0.0))
        _lot(session, "FILM-HIST", 0.0, now - step * (HISTORY_BOOKINGS + 1), "consumed")
        for k in range(HISTORY_BOOKINGS, 0, -1):
            session.add(db.MaterialConsumption(material_id=FILM_MATERIAL, lot_id="FILM-HIST",
                                               work_order_id=None, quantity=self._demand(),
                                               unit=FILM_UNIT, at=now - step * k))  # fmt: skip
        cycle = step * (FILM_CURRENT_ORDER_QUANTITY / DEMAND_MEAN)
        for k in range(HISTORY_ORDERS, 0, -1):
            ordered, lead = now - cycle * (k / 2 + 1), self._lead()
            session.add(db.PurchaseOrder(
                id=f"PO-FILM-H{k}", material_id=FILM_MATERIAL, supplier_id=FILM_SUPPLIER,
                quantity=FILM_CURRENT_ORDER_QUANTITY, unit=FILM_UNIT, status="received",
                ordered_at=ordered, expected_at=ordered + lead, received_at=ordered + lead,
                external_key=None))  # fmt: skip
        _lot(session, "FILM-L0001", FIRST_LOT, now, "released")

    def _confirm(self, session: Session, now: datetime) -> None:
        """Mondi confirms each new requisition: it becomes an order with a delivery time."""
        for order in _orders(session, ("requested",)):
            order.status = "ordered"
            self._due[order.id] = now + self._lead()

    def _reorder(self, session: Session, now: datetime) -> None:
        """The MRP: order Q when the inventory position is at or below r."""
        on_hand = session.scalar(
            select(func.coalesce(func.sum(db.Lot.quantity), 0.0)).where(
                db.Lot.material_id == FILM_MATERIAL, db.Lot.status == "released"
            )
        )
        on_order = sum(o.quantity for o in _orders(session, OPEN))
        if float(on_hand or 0.0) + on_order > FILM_CURRENT_REORDER_POINT:
            return
        count = session.scalar(select(func.count()).where(db.PurchaseOrder.id.like("PO-FILM-M%")))
        lead = self._lead()
        number = f"PO-FILM-M{(count or 0) + 1:04d}"
        session.add(db.PurchaseOrder(
            id=number, material_id=FILM_MATERIAL, supplier_id=FILM_SUPPLIER,
            quantity=FILM_CURRENT_ORDER_QUANTITY, unit=FILM_UNIT, status="ordered",
            ordered_at=now, expected_at=now + lead, received_at=None,
            external_key=None))  # fmt: skip
        self._due[number] = now + lead
        session.flush()

    def _receive(self, session: Session, now: datetime) -> None:
        """Deliveries due arrive as new released lots."""
        for order in _orders(session, ("ordered",)):
            due = self._due.setdefault(order.id, order.expected_at)
            if due > now:
                continue
            _lot(session, f"FILM-{order.id}", order.quantity, due, "released")
            order.status, order.received_at = "received", due
            del self._due[order.id]

    def state(self) -> dict[str, Any]:
        """Units counted, bookings not written, the clock rate, deliveries due, the generator."""
        version, internal, gauss_next = self._rng.getstate()
        return {
            "units": self._units,
            "pending": [[at.isoformat(), q] for at, q in self._pending],
            "rate": self._rate,
            "ready": self._ready,
            "due": {k: v.isoformat() for k, v in self._due.items()},
            "rng": [version, list(internal), gauss_next],
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Carry on from a saved state."""
        self._units = int(state["units"])
        self._pending = [(datetime.fromisoformat(a), float(q)) for a, q in state["pending"]]
        self._rate = state["rate"]
        self._ready = bool(state["ready"])
        self._due = {k: datetime.fromisoformat(v) for k, v in state["due"].items()}
        version, internal, gauss_next = state["rng"]
        self._rng.setstate((version, tuple(internal), gauss_next))


def _orders(session: Session, statuses: Sequence[str]) -> list[db.PurchaseOrder]:
    return list(
        session.scalars(
            select(db.PurchaseOrder)
            .where(db.PurchaseOrder.material_id == FILM_MATERIAL,
                   db.PurchaseOrder.status.in_(statuses))
            .order_by(db.PurchaseOrder.ordered_at, db.PurchaseOrder.id)
        )
    )  # fmt: skip


def _lot(session: Session, lot_id: str, quantity: float, at: datetime, status: str) -> None:
    """A film lot from Mondi with one inventory position."""
    session.add(db.Lot(id=lot_id, material_id=FILM_MATERIAL, quantity=quantity, unit=FILM_UNIT,
                       status=status, supplier=FILM_SUPPLIER, work_order_id=None, created_at=at,
                       expires_at=None))  # fmt: skip
    session.flush()
    number = (session.scalar(select(func.max(db.InventoryPosition.id))) or 0) + 1
    session.add(db.InventoryPosition(id=number, material_id=FILM_MATERIAL, lot_id=lot_id,
                                     location="packaging store", quantity=quantity,
                                     unit=FILM_UNIT, updated_at=at))  # fmt: skip
    session.flush()


def _consume(session: Session, quantity: float, at: datetime) -> None:
    """Book film from released lots, oldest first; what no lot covers is booked from no lot."""
    lots = session.scalars(
        select(db.Lot)
        .where(db.Lot.material_id == FILM_MATERIAL, db.Lot.status == "released",
               db.Lot.quantity > 0)
        .order_by(db.Lot.created_at, db.Lot.id)
    )  # fmt: skip
    for lot in lots:
        if quantity <= 1e-9:
            break
        taken = min(quantity, lot.quantity)
        lot.quantity -= taken
        quantity -= taken
        for position in session.scalars(
            select(db.InventoryPosition).where(db.InventoryPosition.lot_id == lot.id)
        ):
            position.quantity = max(0.0, position.quantity - taken)
            position.updated_at = at
        if lot.quantity <= 1e-9:
            lot.quantity, lot.status = 0.0, "consumed"
        session.add(db.MaterialConsumption(material_id=FILM_MATERIAL, lot_id=lot.id,
                                           work_order_id=None, quantity=round(taken, 6),
                                           unit=FILM_UNIT, at=at))  # fmt: skip
    if quantity > 1e-9:
        session.add(db.MaterialConsumption(material_id=FILM_MATERIAL, lot_id=None,
                                           work_order_id=None, quantity=round(quantity, 6),
                                           unit=FILM_UNIT, at=at))  # fmt: skip
