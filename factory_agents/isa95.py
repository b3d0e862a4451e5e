"""The MES vocabulary agents read: ISA-95 shaped records, as connectors translate them.

An MES connector (connectors/mes) maps its system's tables or API onto these models; agents
only ever see these. Times are timezone-aware UTC; quantities carry their unit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Record(BaseModel):
    """Every MES record is immutable once read."""

    model_config = ConfigDict(frozen=True)


class Equipment(_Record):
    """One level of the ISA-95 equipment hierarchy: site, area, line or cell."""

    id: str
    name: str
    level: Literal["site", "area", "line", "cell"]
    parent_id: str | None = None


class Material(_Record):
    """A material definition: finished good, raw material or packaging, with its unit cost."""

    id: str
    name: str
    kind: str
    unit: str
    unit_cost: Decimal
    currency: str = "EUR"


class LotStatus(StrEnum):
    """Where a lot stands: only released lots may be shipped or consumed."""

    RELEASED = "released"
    QUARANTINE = "quarantine"
    HOLD = "hold"
    BLOCKED = "blocked"
    CONSUMED = "consumed"


class Lot(_Record):
    """A lot of one material, received or produced, with its status."""

    id: str
    material_id: str
    quantity: float = Field(ge=0)
    unit: str
    status: LotStatus
    supplier: str | None = None
    work_order_id: str | None = Field(None, description="The order that produced it, if made here")
    created_at: AwareDatetime
    expires_at: AwareDatetime | None = None


class InventoryPosition(_Record):
    """How much of one lot sits at one storage location."""

    material_id: str
    lot_id: str
    location: str
    quantity: float = Field(ge=0)
    unit: str
    updated_at: AwareDatetime


class WorkOrder(_Record):
    """A production order: product, quantity, line, release and due time, status."""

    id: str
    product_id: str
    line_id: str
    quantity: int = Field(ge=0)
    quantity_done: int = Field(0, ge=0)
    priority: int = 2
    status: str
    release_at: AwareDatetime
    due_at: AwareDatetime


class Operation(_Record):
    """One step of a work order's routing on one piece of equipment."""

    work_order_id: str
    sequence: int = Field(ge=0)
    equipment_id: str
    duration_minutes: float = Field(gt=0)
    setup_minutes: float = Field(0.0, ge=0)
    planned_start: AwareDatetime | None = None
    planned_end: AwareDatetime | None = None
    status: str = "planned"


class BomLine(_Record):
    """How much of a material one unit of a product consumes."""

    product_id: str
    material_id: str
    quantity_per_unit: float = Field(gt=0)
    unit: str
    alternatives: tuple[str, ...] = ()


class Supplier(_Record):
    """A supplier of materials."""

    id: str
    name: str


class PurchaseOrder(_Record):
    """An order to a supplier: when it was placed, when it is expected, when it came."""

    id: str
    material_id: str
    supplier_id: str
    quantity: float = Field(gt=0)
    unit: str
    status: Literal["requested", "ordered", "received", "cancelled"]
    ordered_at: AwareDatetime
    expected_at: AwareDatetime
    received_at: AwareDatetime | None = None


class QualityResult(_Record):
    """One laboratory or in-line check of a characteristic against its limits."""

    id: int
    work_order_id: str
    lot_id: str | None = None
    equipment_id: str
    characteristic: str
    value: float
    unit: str
    lsl: float
    usl: float
    passed: bool
    sampled_at: AwareDatetime
    comment: str = Field("", description="Free text typed by people: untrusted input")


class DowntimeEvent(_Record):
    """A stop of one piece of equipment, with its reason and whether it was planned."""

    id: int
    equipment_id: str
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    reason_code: str
    reason: str
    planned: bool


class ProductionCount(_Record):
    """Units a piece of equipment made in a period: good, scrap and rework."""

    equipment_id: str
    work_order_id: str | None = None
    start: AwareDatetime
    end: AwareDatetime
    good: int = Field(ge=0)
    scrap: int = Field(ge=0)
    rework: int = Field(0, ge=0)


class MaterialConsumption(_Record):
    """Material a work order took from a lot."""

    material_id: str
    lot_id: str | None = None
    work_order_id: str | None = None
    quantity: float = Field(ge=0)
    unit: str
    at: AwareDatetime


class MaintenanceOrder(_Record):
    """A maintenance work order in the MES or CMMS."""

    id: str
    equipment_id: str
    description: str
    due_by: AwareDatetime
    priority: int = 2
    status: str = "open"
    created_at: AwareDatetime


MesKind = Literal[
    "equipment",
    "materials",
    "lots",
    "inventory",
    "work_orders",
    "operations",
    "bom",
    "suppliers",
    "purchase_orders",
    "quality_results",
    "downtime",
    "production_counts",
    "consumption",
    "maintenance_orders",
]
"""The kinds of MES records an agent can ask for in its DataNeeds."""


class MesData(_Record):
    """The MES records an agent asked for, read at one moment; kinds not asked for stay empty."""

    read_at: datetime | None = None
    equipment: tuple[Equipment, ...] = ()
    materials: tuple[Material, ...] = ()
    lots: tuple[Lot, ...] = ()
    inventory: tuple[InventoryPosition, ...] = ()
    work_orders: tuple[WorkOrder, ...] = ()
    operations: tuple[Operation, ...] = ()
    bom: tuple[BomLine, ...] = ()
    suppliers: tuple[Supplier, ...] = ()
    purchase_orders: tuple[PurchaseOrder, ...] = ()
    quality_results: tuple[QualityResult, ...] = ()
    downtime: tuple[DowntimeEvent, ...] = ()
    production_counts: tuple[ProductionCount, ...] = ()
    consumption: tuple[MaterialConsumption, ...] = ()
    maintenance_orders: tuple[MaintenanceOrder, ...] = ()
