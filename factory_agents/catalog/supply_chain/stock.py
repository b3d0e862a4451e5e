"""A material's stock from MES records: on hand, open orders, receipts, and on hand in the past.

On hand is the inventory of the material's released lots. Receipts are lots from a supplier;
a receipt's quantity is the lot's quantity now plus what was consumed from it since. Going
back in time, on hand at t = on hand now + consumed from lots after t − received after t.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from factory_agents.isa95 import LotStatus, MesData, PurchaseOrder

OPEN_ORDER = ("requested", "ordered")


@dataclass(frozen=True)
class Receipt:
    """A lot received from a supplier: when, how much, from whom."""

    lot_id: str
    supplier: str
    quantity: float
    at: datetime


@dataclass(frozen=True)
class Issue:
    """Demand booked in the MES: from a lot (met from stock) or from no lot (not met)."""

    quantity: float
    at: datetime
    from_stock: bool


def on_hand(mes: MesData, material: str) -> float:
    """Units of the material in the inventory positions of its released lots."""
    status = {lot.id: lot.status for lot in mes.lots}
    return sum(
        p.quantity
        for p in mes.inventory
        if p.material_id == material and status.get(p.lot_id, LotStatus.RELEASED) == "released"
    )


def open_orders(mes: MesData, material: str) -> list[PurchaseOrder]:
    """Requisitions and orders of the material not yet received or cancelled."""
    return [o for o in mes.purchase_orders if o.material_id == material and o.status in OPEN_ORDER]


def issues(mes: MesData, material: str) -> list[Issue]:
    """Every consumption of the material, oldest first."""
    return sorted(
        (
            Issue(quantity=c.quantity, at=c.at, from_stock=c.lot_id is not None)
            for c in mes.consumption
            if c.material_id == material
        ),
        key=lambda i: i.at,
    )


def receipts(mes: MesData, material: str, since: datetime) -> list[Receipt]:
    """Lots of the material received from a supplier after `since`, oldest first."""
    taken: dict[str, float] = {}
    for c in mes.consumption:
        if c.material_id == material and c.lot_id is not None:
            taken[c.lot_id] = taken.get(c.lot_id, 0.0) + c.quantity
    return sorted(
        (
            Receipt(lot.id, lot.supplier, lot.quantity + taken.get(lot.id, 0.0), lot.created_at)
            for lot in mes.lots
            if lot.material_id == material and lot.supplier and lot.created_at > since
        ),
        key=lambda r: r.at,
    )


def on_hand_at(moments: list[datetime], mes: MesData, material: str) -> list[float]:
    """On hand at each moment, reconstructed back from on hand now, consumption and receipts."""
    now = on_hand(mes, material)
    used = [i for i in issues(mes, material) if i.from_stock]
    got = receipts(mes, material, min(moments)) if moments else []
    return [
        now + sum(i.quantity for i in used if i.at > t) - sum(r.quantity for r in got if r.at > t)
        for t in moments
    ]
