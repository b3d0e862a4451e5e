"""The material plan of one line from MES records: requirements, stock lots, receipts, prices.

Requirements: each released or planned work order of the line whose operations have not started
and whose first operation starts within the horizon needs (quantity − done) × BOM quantity of
each BOM material at its first operation's planned start. Stock: every lot of those materials
(and of their BOM alternatives), with the quantity in its inventory positions and its status.
Receipts: confirmed open purchase orders at their expected time; requisitions not yet confirmed
are left out (no supplier date). Expedite offers come from the configured supplier terms,
substitutes from the BOM's alternatives priced by the MES unit costs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from factory_agents.catalog.supply_chain.demand import Requirement
from factory_agents.catalog.supply_chain.shortage import (
    ExpediteOffer,
    MaterialPlan,
    PlannedOperation,
    Receipt,
    ResolutionCosts,
    StockLot,
    Substitute,
)
from factory_agents.catalog.supply_chain.shortage_config import ShortageConfig
from factory_agents.catalog.supply_chain.stock import open_orders
from factory_agents.isa95 import MesData, Operation, WorkOrder

OPEN_WORK_ORDER = ("released", "planned")
NOT_STARTED = ("planned", "dispatched")


class Unusable(Exception):
    """The MES data cannot be planned on; `reason` is the skip reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class LinePlan:
    """The plan handed to shortage.py, the prices, and the orders left out and why."""

    plan: MaterialPlan
    costs: ResolutionCosts
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (reason, message)
    notes: list[str] = field(default_factory=list)


def read_plan(mes: MesData, c: ShortageConfig, now: datetime) -> LinePlan:
    """The line's material plan at `now`; raises Unusable when it cannot be trusted."""
    left_out: list[tuple[str, str]] = []
    operations: list[PlannedOperation] = []
    requirements: list[Requirement] = []
    routing: dict[str, list[Operation]] = defaultdict(list)
    for op in mes.operations:
        routing[op.work_order_id].append(op)
    horizon = now + timedelta(seconds=c.horizon_seconds)
    orders = [w for w in mes.work_orders if w.line_id == c.line and w.status in OPEN_WORK_ORDER]
    for order in sorted(orders, key=lambda w: w.id):
        ops = sorted(routing.get(order.id, []), key=lambda o: o.sequence)
        if any(op.status not in NOT_STARTED for op in ops):
            continue  # running: its material is issued already
        problem = _unplannable(order, ops, mes)
        if problem is not None:
            left_out.append(problem)
            continue
        first = ops[0]
        assert first.planned_start is not None
        if first.planned_start > horizon:
            continue
        remaining = max(0, order.quantity - order.quantity_done)
        for line in (b for b in mes.bom if b.product_id == order.product_id):
            requirements.append(
                Requirement(
                    material=line.material_id,
                    quantity=remaining * line.quantity_per_unit,
                    needed_at=first.planned_start,
                    work_order=order.id,
                    unit=line.unit,
                    operation=str(first.sequence),
                )
            )
        for op in ops:
            assert op.planned_start is not None and op.planned_end is not None
            operations.append(
                PlannedOperation(
                    work_order=order.id,
                    line=op.equipment_id,
                    start=op.planned_start,
                    end=op.planned_end,
                    due_at=order.due_at,
                    operation=str(op.sequence),
                )
            )
    needed = {r.material for r in requirements}
    alternatives = {
        (b.material_id, alt) for b in mes.bom if b.material_id in needed for alt in b.alternatives
    }
    materials = needed | {alt for _m, alt in alternatives}
    receipts, notes = _receipts(mes, c, now, materials)
    try:
        plan = MaterialPlan(
            now=now,
            lots=_lots(mes, materials),
            receipts=tuple(receipts),
            requirements=tuple(requirements),
            operations=tuple(operations),
        )
    except ValueError as err:
        raise Unusable("bad_data", str(err)) from err
    costs = ResolutionCosts(
        tardiness_cost_per_hour=c.tardiness_cost_per_hour,
        expedite_offers=_offers(c, now, receipts),
        substitutes=_substitutes(mes, sorted(alternatives), notes),
        currency=c.currency,
    )
    return LinePlan(plan, costs, left_out, notes)


def _unplannable(order: WorkOrder, ops: list[Operation], mes: MesData) -> tuple[str, str] | None:
    """Why a work order cannot be planned on: no routing, no planned times, no BOM."""
    if not ops:
        return "no_routing", f"{order.id} has no operations in the MES"
    if any(op.planned_start is None or op.planned_end is None for op in ops):
        return "unplanned_operation", f"{order.id} has operations without planned start or end"
    if not any(b.product_id == order.product_id for b in mes.bom):
        return "no_bom", f"{order.id}: the MES has no bill of materials for {order.product_id}"
    return None


def _lots(mes: MesData, materials: set[str]) -> tuple[StockLot, ...]:
    """Each lot of the materials, with the quantity in its inventory positions."""
    held: dict[str, float] = defaultdict(float)
    placed: set[str] = set()
    for position in mes.inventory:
        held[position.lot_id] += position.quantity
        placed.add(position.lot_id)
    return tuple(
        StockLot(
            lot=lot.id,
            material=lot.material_id,
            quantity=held[lot.id] if lot.id in placed else lot.quantity,
            unit=lot.unit,
            status=lot.status.value,
            expires_at=lot.expires_at,
        )
        for lot in sorted(mes.lots, key=lambda x: x.id)
        if lot.material_id in materials
    )


def _receipts(
    mes: MesData, c: ShortageConfig, now: datetime, materials: set[str]
) -> tuple[list[Receipt], list[str]]:
    """Confirmed open orders of the materials; an order long overdue makes the plan uncertain."""
    grace = timedelta(seconds=c.overdue_grace_seconds)
    receipts: list[Receipt] = []
    notes: list[str] = []
    for material in sorted(materials):
        for order in sorted(open_orders(mes, material), key=lambda o: o.id):
            if order.status == "requested":
                notes.append(
                    f"requisition {order.id} is not confirmed by the supplier: not counted"
                )
                continue
            if order.expected_at < now - grace:
                raise Unusable(
                    "overdue_receipt",
                    f"{order.id} ({material}) was expected {order.expected_at:%H:%M:%S} and has"
                    " not arrived; its arrival is uncertain, ask the supplier before planning",
                )
            receipts.append(
                Receipt(
                    material=material,
                    quantity=order.quantity,
                    expected_at=order.expected_at,
                    purchase_order=order.id,
                    supplier=order.supplier_id,
                    unit=order.unit,
                )
            )
    return receipts, notes


def _offers(c: ShortageConfig, now: datetime, receipts: list[Receipt]) -> tuple[ExpediteOffer, ...]:
    """An offer to rush each open order whose supplier has expedite terms."""
    terms = {t.supplier: t for t in c.expedite}
    return tuple(
        ExpediteOffer(
            purchase_order=r.purchase_order,
            earliest_at=now + timedelta(seconds=terms[r.supplier].fastest_seconds),
            cost_per_order=terms[r.supplier].cost_per_order,
            cost_per_unit=terms[r.supplier].cost_per_unit,
        )
        for r in receipts
        if r.supplier in terms
    )


def _substitutes(
    mes: MesData, pairs: list[tuple[str, str]], notes: list[str]
) -> tuple[Substitute, ...]:
    """Each BOM alternative, one for one, priced as its unit cost less the material's."""
    price = {m.id: m for m in mes.materials}
    found: list[Substitute] = []
    for material, alternative in pairs:
        a, b = price.get(material), price.get(alternative)
        if a is None or b is None or a.currency != b.currency or a.unit != b.unit:
            notes.append(f"{alternative} for {material}: no comparable unit cost, not offered")
            continue
        found.append(Substitute(material, alternative, b.unit_cost - a.unit_cost))
    return tuple(found)
