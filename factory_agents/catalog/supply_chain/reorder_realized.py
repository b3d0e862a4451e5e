"""What a window cost with the requisition (measured) and under the current policy (replayed).

Measured: units short are demand the MES booked from no lot; holding is the time integral of
on hand, reconstructed from the inventory at the window's end, the consumption from lots and
the lots received; orders are the requisition plus every order placed in the window.

Counterfactual: the same measured demand, one booking at a time, replayed from the same on
hand through the current (r, Q) policy without the requisition. Orders placed before the
window stay in (those received at their real time); the replayed policy orders n·Q whenever
its inventory position is at or below r, and those orders arrive one mean lead time later
(modelled). Demand the replayed stock cannot meet is short and backordered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from factory_agents.actions import PurchaseRequisition
from factory_agents.catalog.supply_chain.reorder_config import ReorderMaterial
from factory_agents.catalog.supply_chain.stock import Issue, Receipt, on_hand_at, receipts
from factory_agents.isa95 import MesData, PurchaseOrder

SAME_QUANTITY = 1e-6
SAME_MOMENT = timedelta(seconds=1)


@dataclass(frozen=True)
class WindowCost:
    """Holding, shortage and orders over a window, and their cost."""

    unit_hours: float
    units_short: float
    orders: int

    def cost(self, m: ReorderMaterial) -> float:
        """h·unit-hours + p·units short + K·orders."""
        return (
            m.holding_cost_per_unit_hour * self.unit_hours
            + m.shortage_cost_per_unit * self.units_short
            + m.ordering_cost * self.orders
        )


@dataclass(frozen=True)
class WindowOrders:
    """The window's receipts and orders, split into the requisition's and the others."""

    ours_received: Receipt | None
    earlier_receipts: list[Receipt]
    placed_in_window: list[PurchaseOrder]
    earlier_open: float


def split_orders(
    mes: MesData, action: PurchaseRequisition, start: datetime, end: datetime
) -> WindowOrders:
    """Tell the requisition's receipt from receipts of orders placed before or in the window."""
    material = action.material_id
    mine = [o for o in mes.purchase_orders if o.material_id == material]
    placed = [o for o in mine if start <= o.ordered_at <= end]
    got = [r for r in receipts(mes, material, start) if r.at <= end]
    earlier, ours = [], None
    for receipt in got:
        if any(_receipt_of(receipt, o) for o in placed):
            continue
        if (
            ours is None
            and _same(receipt.quantity, action.quantity)
            and (receipt.supplier == action.supplier)
        ):
            ours = receipt
            continue
        earlier.append(receipt)
    open_before = [
        o
        for o in mine
        if o.status in ("requested", "ordered")
        and o.ordered_at < start
        and not (ours is None and _same(o.quantity, action.quantity))
    ]
    return WindowOrders(ours, earlier, placed, sum(o.quantity for o in open_before))


def measured(
    mes: MesData,
    material: str,
    demand: list[Issue],
    orders: WindowOrders,
    start: datetime,
    end: datetime,
) -> WindowCost:
    """The window as it happened: holding from on hand rebuilt, shortage from lot-less issues."""
    got = [r for r in receipts(mes, material, start) if r.at <= end]
    level = on_hand_at([start], mes, material)[0]
    events = sorted(
        [(i.at, -i.quantity) for i in demand if i.from_stock] + [(r.at, r.quantity) for r in got]
    )
    unit_hours, last = 0.0, start
    for at, change in events:
        unit_hours += max(level, 0.0) * (at - last).total_seconds() / 3600
        level, last = level + change, at
    unit_hours += max(level, 0.0) * (end - last).total_seconds() / 3600
    short = sum(i.quantity for i in demand if not i.from_stock)
    return WindowCost(unit_hours, short, 1 + len(orders.placed_in_window))


def replayed(
    start_on_hand: float,
    demand: list[Issue],
    orders: WindowOrders,
    policy: ReorderMaterial,
    lead_time: timedelta,
    start: datetime,
    end: datetime,
) -> WindowCost:
    """The same demand through the current (r, Q) policy, without the requisition."""
    r, q = policy.current_reorder_point, policy.current_order_quantity
    arrivals = sorted((x.at, x.quantity) for x in orders.earlier_receipts)
    level, on_order, short, count = start_on_hand, orders.earlier_open, 0.0, 0
    on_order += sum(qty for _at, qty in arrivals)
    unit_hours, last = 0.0, start

    def advance(to: datetime) -> None:
        nonlocal level, on_order, unit_hours, last
        while arrivals and arrivals[0][0] <= to:
            at, qty = arrivals.pop(0)
            unit_hours += max(level, 0.0) * (at - last).total_seconds() / 3600
            level, on_order, last = level + qty, on_order - qty, at
        unit_hours += max(level, 0.0) * (to - last).total_seconds() / 3600
        last = to

    def reorder(at: datetime) -> None:
        nonlocal on_order, count
        position = level + on_order
        if position > r:
            return
        batches = int((r - position) // q) + 1
        arrivals.append((at + lead_time, batches * q))
        arrivals.sort()
        on_order += batches * q
        count += 1

    reorder(start)
    for issue in demand:
        advance(issue.at)
        short += max(issue.quantity - max(level, 0.0), 0.0)
        level -= issue.quantity
        reorder(issue.at)
    advance(end)
    return WindowCost(unit_hours, short, count)


def _receipt_of(receipt: Receipt, order: PurchaseOrder) -> bool:
    return (
        order.received_at is not None
        and receipt.supplier == order.supplier_id
        and _same(receipt.quantity, order.quantity)
        and abs(receipt.at - order.received_at) <= SAME_MOMENT
    )


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= SAME_QUANTITY * max(1.0, abs(a), abs(b))
