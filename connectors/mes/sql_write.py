"""Writing the agents' actions into the MES database: checked, idempotent, one transaction each.

Each write is keyed by its action id (stored as the document's external key): called again,
it finds what it did the first time and reports it as already applied. Inconsistent requests
(unknown lot, material or equipment, a quantity that is not positive, a unit that does not
match, a status change the MES does not allow) raise WriteRejected and change nothing.

Writes go through the mapping (connectors/mes/mapping.py): each names the kinds it needs,
and a mapping that lacks them is refused with a ConfigurationError before anything changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from connectors.base import MesWriteResult
from connectors.mes.mapping import MappedKind, MappedSchema, decode, encode
from factory_agents.actions import (
    DispatchList,
    LoadShift,
    LotHold,
    MaintenanceWorkOrder,
    PurchaseRequisition,
)
from factory_agents.errors import WriteRejected

HOLDABLE = ("released", "quarantine")
"""Lot statuses a hold may start from: consumed, blocked or shipped stock cannot be held."""


def hold_lots(
    conn: Connection, schema: MappedSchema, action: LotHold, now: datetime
) -> MesWriteResult:
    """Put every lot of the action on hold, recording each change under the action id."""
    schema.require("hold lots", "lots", "lot_status_changes")
    lots, log = schema.kinds["lots"], schema.kinds["lot_status_changes"]
    reference = f"HOLD-{action.action_id}"
    done = _status_changes(conn, log, action.action_id)
    if done:
        return _result(
            action.action_id, reference, True, f"{len(done)} lot(s) already on hold", now
        )
    status = {
        row["id"]: lots.mapping.to_isa95("status", row["status"])
        for row in conn.execute(
            select(lots.column("id").label("id"), lots.column("status").label("status")).where(
                lots.column("id").in_(action.lot_ids), *lots.filters()
            )
        ).mappings()
    }
    missing = [lot_id for lot_id in action.lot_ids if lot_id not in status]
    if missing:
        raise WriteRejected(f"the MES knows no lot {', '.join(missing)}; nothing was held")
    illegal = [f"{i} ({status[i]})" for i in action.lot_ids if status[i] not in HOLDABLE]
    if illegal:
        raise WriteRejected(
            f"lots {', '.join(illegal)} cannot be put on hold: only {' or '.join(HOLDABLE)} lots"
            " can; nothing was held. Reload the lots' status and propose again."
        )
    for lot_id in action.lot_ids:
        _log_change(conn, schema, lot_id, status[lot_id], "hold", action.action_id,
                    action.reason, now)  # fmt: skip
        _set_lot_status(conn, lots, lot_id, "hold")
    summary = f"{len(action.lot_ids)} lot(s) on hold: {', '.join(action.lot_ids)}"
    return _result(action.action_id, reference, False, summary, now)


def release_lots(
    conn: Connection, schema: MappedSchema, action: LotHold, reason: str, now: datetime
) -> MesWriteResult:
    """Give lots this action held back the status they had, unless people changed them since."""
    schema.require("release lots", "lots", "lot_status_changes")
    lots, log = schema.kinds["lots"], schema.kinds["lot_status_changes"]
    release_key = f"{action.action_id}:release"
    reference = f"RELEASE-{action.action_id}"
    if _status_changes(conn, log, release_key):
        return _result(action.action_id, reference, True, "lots already released", now)
    holds = _status_changes(conn, log, action.action_id)
    if not holds:
        raise WriteRejected(
            f"action {action.action_id} held no lots, so there is nothing to release"
        )
    released: list[str] = []
    for lot_id, raw_from in holds:
        before = _log_status(schema, "from_status", raw_from)
        row = conn.execute(
            select(lots.column("status")).where(lots.column("id") == lot_id, *lots.filters())
        ).first()
        if row is None or lots.mapping.to_isa95("status", row[0]) != "hold":
            continue  # someone decided about this lot since; leave it as they set it
        _log_change(conn, schema, lot_id, "hold", before, release_key, reason, now)
        _set_lot_status(conn, lots, lot_id, before)
        released.append(lot_id)
    summary = f"released {len(released)} of {len(holds)} lot(s): {', '.join(released) or 'none'}"
    return _result(action.action_id, reference, False, summary, now)


def create_purchase_requisition(
    conn: Connection, schema: MappedSchema, action: PurchaseRequisition, now: datetime
) -> MesWriteResult:
    """Create a purchase requisition for a known material and supplier, in the material's unit."""
    schema.require(
        "create purchase requisitions", "purchase_orders", "materials", "suppliers",
        fields={"purchase_orders": ("external_key",)},
    )  # fmt: skip
    orders = schema.kinds["purchase_orders"]
    existing = _by_key(conn, orders, action.action_id)
    if existing is not None:
        summary = f"requisition {existing} exists already"
        return _result(action.action_id, existing, True, summary, now)
    _check_quantity(action.quantity, action.unit)
    materials = schema.kinds["materials"]
    material = conn.execute(
        select(materials.column("unit")).where(
            materials.column("id") == action.material_id, *materials.filters()
        )
    ).first()
    if material is None:
        raise WriteRejected(f"the MES knows no material {action.material_id}; nothing was ordered")
    unit = str(materials.mapping.to_isa95("unit", material[0])).strip()
    if unit != action.unit:
        raise WriteRejected(
            f"{action.material_id} is kept in {unit}, but the requisition is in"
            f" {action.unit}; nothing was ordered. Convert the quantity to {unit}."
        )
    if not _known(conn, schema.kinds["suppliers"], [action.supplier]):
        raise WriteRejected(f"the MES knows no supplier {action.supplier}; nothing was ordered")
    if action.need_by <= now:
        raise WriteRejected(
            f"the requisition is needed by {action.need_by:%F %T} UTC, which has passed;"
            " nothing was ordered"
        )
    number = _next_number(conn, orders, "PR")
    conn.execute(
        insert(orders.table).values(
            orders.insert_values(
                {
                    "id": number,
                    "material_id": action.material_id,
                    "supplier_id": action.supplier,
                    "quantity": action.quantity,
                    "unit": action.unit,
                    "status": "requested",
                    "ordered_at": now,
                    "expected_at": action.need_by,
                    "received_at": None,
                    "external_key": action.action_id,
                }
            )
        )
    )
    summary = f"requisition {number}: {action.quantity:g} {action.unit} of {action.material_id}"
    return _result(action.action_id, number, False, summary, now)


def publish_dispatch_list(
    conn: Connection, schema: MappedSchema, action: DispatchList, now: datetime
) -> MesWriteResult:
    """Publish the list for its line, supersede the one in force, and move the operations' plan."""
    schema.require(
        "publish dispatch lists", "dispatch_lists", "equipment", "work_orders", "operations",
        fields={"operations": ("planned_start", "planned_end")},
    )  # fmt: skip
    lists, operations = schema.kinds["dispatch_lists"], schema.kinds["operations"]
    existing = _by_key(conn, lists, action.action_id)
    if existing is not None:
        return _result(action.action_id, existing, True, f"{existing} published already", now)
    equipment = schema.kinds["equipment"]
    _require(conn, equipment, [action.line_id], "line")
    _require(conn, equipment, [e.equipment_id for e in action.entries], "equipment")
    _require(conn, schema.kinds["work_orders"], [e.work_order_id for e in action.entries],
             "work order")  # fmt: skip
    planned = {
        (row["work_order_id"], row["sequence"]): row["equipment_id"]
        for row in conn.execute(
            select(
                operations.column("work_order_id").label("work_order_id"),
                operations.column("sequence").label("sequence"),
                operations.column("equipment_id").label("equipment_id"),
            ).where(
                operations.column("work_order_id").in_({e.work_order_id for e in action.entries}),
                *operations.filters(),
            )
        ).mappings()
    }
    for entry in action.entries:
        runs_on = planned.get((entry.work_order_id, entry.operation))
        if runs_on is None:
            raise WriteRejected(
                f"work order {entry.work_order_id} has no operation {entry.operation}; nothing"
                " was published"
            )
        if runs_on != entry.equipment_id:
            raise WriteRejected(
                f"{entry.work_order_id} operation {entry.operation} runs on"
                f" {runs_on}, not {entry.equipment_id}; nothing was published"
            )
    _supersede(conn, lists, "line_id", action.line_id)
    for entry in action.entries:
        conn.execute(
            update(operations.table)
            .where(
                operations.column("work_order_id") == entry.work_order_id,
                operations.column("sequence") == entry.operation,
                *operations.filters(),
            )
            .values(
                {
                    operations.column("planned_start"): entry.start,
                    operations.column("planned_end"): entry.end,
                }
            )
        )
    number = f"DL-{action.action_id[:20]}"
    conn.execute(
        insert(lists.table).values(
            lists.insert_values(
                {
                    "id": number,
                    "line_id": action.line_id,
                    "entries": [entry.model_dump(mode="json") for entry in action.entries],
                    "status": "active",
                    "published_at": now,
                    "replaces": action.replaces,
                    "external_key": action.action_id,
                }
            )
        )
    )
    summary = f"dispatch list {number} for {action.line_id}: {len(action.entries)} operations"
    return _result(action.action_id, number, False, summary, now)


def create_maintenance_order(
    conn: Connection, schema: MappedSchema, action: MaintenanceWorkOrder, now: datetime
) -> MesWriteResult:
    """Create a maintenance work order for known equipment."""
    schema.require(
        "create maintenance work orders", "maintenance_orders", "equipment",
        fields={"maintenance_orders": ("external_key",)},
    )  # fmt: skip
    orders = schema.kinds["maintenance_orders"]
    existing = _by_key(conn, orders, action.action_id)
    if existing is not None:
        return _result(action.action_id, existing, True, f"{existing} exists already", now)
    _require(conn, schema.kinds["equipment"], [action.equipment_id], "equipment")
    number = _next_number(conn, orders, "MWO")
    conn.execute(
        insert(orders.table).values(
            orders.insert_values(
                {
                    "id": number,
                    "equipment_id": action.equipment_id,
                    "description": action.description,
                    "due_by": action.due_by,
                    "priority": action.priority,
                    "status": "open",
                    "created_at": now,
                    "external_key": action.action_id,
                }
            )
        )
    )
    summary = f"maintenance work order {number} for {action.equipment_id}"
    return _result(action.action_id, number, False, summary, now)


def publish_load_plan(
    conn: Connection, schema: MappedSchema, action: LoadShift, now: datetime
) -> MesWriteResult:
    """Publish the load plan for its site, superseding the one in force."""
    schema.require("publish load plans", "load_plans")
    plans = schema.kinds["load_plans"]
    existing = _by_key(conn, plans, action.action_id)
    if existing is not None:
        return _result(action.action_id, existing, True, f"{existing} published already", now)
    _supersede(conn, plans, "site_id", action.site_id)
    number = f"LP-{action.action_id[:20]}"
    conn.execute(
        insert(plans.table).values(
            plans.insert_values(
                {
                    "id": number,
                    "site_id": action.site_id,
                    "plans": [plan.model_dump(mode="json") for plan in action.plans],
                    "status": "active",
                    "published_at": now,
                    "external_key": action.action_id,
                }
            )
        )
    )
    summary = f"load plan {number} for {action.site_id}: {len(action.plans)} load(s)"
    return _result(action.action_id, number, False, summary, now)


def _check_quantity(quantity: float, unit: str) -> None:
    """Raise WriteRejected unless the quantity is a positive, finite number."""
    if not (math.isfinite(quantity) and quantity > 0):
        raise WriteRejected(
            f"the quantity {quantity:g} {unit} is not a positive number; nothing was ordered"
        )


def _status_changes(conn: Connection, log: MappedKind, key: str) -> list[tuple[str, Any]]:
    """(lot id, raw from-status) of the lot status changes recorded under an external key."""
    order = [log.table.c[c] for c in log.mapping.order_by] or [log.column("at")]
    rows = conn.execute(
        select(log.column("lot_id"), log.column("from_status"))
        .where(log.column("external_key") == key, *log.filters())
        .order_by(*order)
    ).all()
    return [(row[0], row[1]) for row in rows]


def _log_values(schema: MappedSchema, field: str) -> dict[Any, Any] | None:
    """The value map of a log column: its own, or else the lots' status codes."""
    log, lots = schema.kinds["lot_status_changes"], schema.kinds["lots"]
    return log.mapping.values.get(field) or lots.mapping.values.get("status")


def _log_status(schema: MappedSchema, field: str, raw: Any) -> str:
    """The ISA-95 lot status a log column value means."""
    log = schema.kinds["lot_status_changes"]
    where = f"{log.table.name}.{log.mapping.columns[field]}"
    return str(decode(_log_values(schema, field), raw, where))


def _log_change(
    conn: Connection,
    schema: MappedSchema,
    lot_id: str,
    before: str,
    after: str,
    key: str,
    reason: str,
    now: datetime,
) -> None:
    """Record one lot status change under an external key, in the MES's status codes."""
    log = schema.kinds["lot_status_changes"]
    values: dict[str, Any] = {"lot_id": lot_id, "external_key": key, "reason": reason, "at": now}
    row = log.insert_values(values)
    for field, status in (("from_status", before), ("to_status", after)):
        column = log.mapping.columns[field]
        row[column] = encode(_log_values(schema, field), status, f"{log.table.name}.{column}")
    conn.execute(insert(log.table).values(row))


def _set_lot_status(conn: Connection, lots: MappedKind, lot_id: str, status: str) -> None:
    conn.execute(
        update(lots.table)
        .where(lots.column("id") == lot_id, *lots.filters())
        .values({lots.column("status"): lots.mapping.to_db("status", status)})
    )


def _by_key(conn: Connection, kind: MappedKind, key: str) -> str | None:
    """The id of the document written under an external key, if any."""
    found = conn.execute(
        select(kind.column("id")).where(kind.column("external_key") == key, *kind.filters())
    ).first()
    return None if found is None else str(found[0])


def _supersede(conn: Connection, kind: MappedKind, scope: str, value: str) -> None:
    """Mark the active document of a line or site superseded."""
    conn.execute(
        update(kind.table)
        .where(
            kind.column(scope) == value,
            kind.column("status").in_(kind.mapping.codes_for("status", ["active"])),
            *kind.filters(),
        )
        .values({kind.column("status"): kind.mapping.to_db("status", "superseded")})
    )


def _next_number(conn: Connection, kind: MappedKind, prefix: str) -> str:
    """The next free document number: PREFIX-00001 after the documents there are."""
    count = conn.scalar(select(func.count()).select_from(kind.table).where(*kind.filters())) or 0
    while True:
        count += 1
        number = f"{prefix}-{count:05d}"
        taken = conn.execute(select(kind.column("id")).where(kind.column("id") == number)).first()
        if taken is None:
            return number


def _known(conn: Connection, kind: MappedKind, ids: Sequence[str]) -> set[str]:
    """The ids among `ids` the MES has."""
    query = select(kind.column("id")).where(kind.column("id").in_(set(ids)), *kind.filters())
    rows = conn.execute(query)
    return {str(row[0]) for row in rows}


def _require(conn: Connection, kind: MappedKind, ids: Sequence[str], what: str) -> None:
    """Raise WriteRejected naming every id the MES does not know."""
    missing = sorted(set(ids) - _known(conn, kind, ids))
    if missing:
        raise WriteRejected(f"the MES knows no {what} {', '.join(missing)}; nothing was written")


def _result(
    action_id: str, reference: str, already: bool, summary: str, now: datetime
) -> MesWriteResult:
    return MesWriteResult(
        action_id=action_id, reference=reference, already_applied=already, summary=summary, at=now
    )
