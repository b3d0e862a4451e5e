"""The reference MES schema: ISA-95 shaped tables the SQL connector reads, the simulator seeds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from factory_agents.sqltypes import NAMING_CONVENTION, UtcDateTime


class MesBase(DeclarativeBase):
    """Declarative base of the simulated MES tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Equipment(MesBase):
    """One level of the ISA-95 equipment hierarchy: site, area, line or cell."""

    __tablename__ = "equipment"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("equipment.id"), index=True)
    opcua_path: Mapped[str | None] = mapped_column(String(200))


class Material(MesBase):
    """A material definition: finished good, raw material or packaging."""

    __tablename__ = "materials"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(10))
    unit_cost: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    currency: Mapped[str] = mapped_column(String(3))


class Lot(MesBase):
    """A lot of one material, received or produced, with its release status."""

    __tablename__ = "lots"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    material_id: Mapped[str] = mapped_column(ForeignKey("materials.id"), index=True)
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), index=True)
    supplier: Mapped[str | None] = mapped_column(String(100))
    work_order_id: Mapped[str | None] = mapped_column(String(50), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]


class InventoryPosition(MesBase):
    """How much of one lot sits at one storage location."""

    __tablename__ = "inventory_positions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    material_id: Mapped[str] = mapped_column(ForeignKey("materials.id"), index=True)
    lot_id: Mapped[str] = mapped_column(ForeignKey("lots.id"), index=True)
    location: Mapped[str] = mapped_column(String(50))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime]


class WorkOrder(MesBase):
    """A production order: which product, how many, on which line, by when, and its status."""

    __tablename__ = "work_orders"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("materials.id"), index=True)
    line_id: Mapped[str] = mapped_column(ForeignKey("equipment.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    quantity_done: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    release_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)


class QualityResult(MesBase):
    """One laboratory or in-line quality check of a characteristic against its limits."""

    __tablename__ = "quality_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    work_order_id: Mapped[str] = mapped_column(ForeignKey("work_orders.id"), index=True)
    lot_id: Mapped[str | None] = mapped_column(ForeignKey("lots.id"))
    equipment_id: Mapped[str] = mapped_column(ForeignKey("equipment.id"))
    characteristic: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    lsl: Mapped[float] = mapped_column(Float)
    usl: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool]
    sampled_at: Mapped[datetime] = mapped_column(index=True)
    comment: Mapped[str] = mapped_column(Text, default="")


class DowntimeEvent(MesBase):
    """A stop of one piece of equipment, with its reason and whether it was planned."""

    __tablename__ = "downtime_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    equipment_id: Mapped[str] = mapped_column(ForeignKey("equipment.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    reason_code: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    planned: Mapped[bool]


class Operation(MesBase):
    """One step of a work order's routing on one machine, with its plan."""

    __tablename__ = "operations"
    __table_args__ = (UniqueConstraint("work_order_id", "sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    work_order_id: Mapped[str] = mapped_column(ForeignKey("work_orders.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    equipment_id: Mapped[str] = mapped_column(ForeignKey("equipment.id"))
    duration_minutes: Mapped[float] = mapped_column(Float)
    setup_minutes: Mapped[float] = mapped_column(Float, default=0.0)
    planned_start: Mapped[datetime | None]
    planned_end: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))


class BomLine(MesBase):
    """How much of a material one unit of a product consumes, and what may replace it."""

    __tablename__ = "bom_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("materials.id"), index=True)
    material_id: Mapped[str] = mapped_column(ForeignKey("materials.id"))
    quantity_per_unit: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    alternatives: Mapped[list[Any]] = mapped_column(default=list)


class Supplier(MesBase):
    """A supplier of input materials."""

    __tablename__ = "suppliers"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class PurchaseOrder(MesBase):
    """An order (or requisition) for a material: when placed, expected and received."""

    __tablename__ = "purchase_orders"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    material_id: Mapped[str] = mapped_column(ForeignKey("materials.id"), index=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id"))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), index=True)
    ordered_at: Mapped[datetime]
    expected_at: Mapped[datetime]
    received_at: Mapped[datetime | None]
    external_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class ProductionCount(MesBase):
    """Units a machine made for a work order in one period: good, scrap and rework."""

    __tablename__ = "production_counts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    equipment_id: Mapped[str] = mapped_column(ForeignKey("equipment.id"), index=True)
    work_order_id: Mapped[str | None] = mapped_column(ForeignKey("work_orders.id"))
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime]
    good: Mapped[int] = mapped_column(Integer)
    scrap: Mapped[int] = mapped_column(Integer)
    rework: Mapped[int] = mapped_column(Integer, default=0)


class MaterialConsumption(MesBase):
    """Material a work order took from a lot."""

    __tablename__ = "material_consumption"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    material_id: Mapped[str] = mapped_column(ForeignKey("materials.id"), index=True)
    lot_id: Mapped[str | None] = mapped_column(ForeignKey("lots.id"))
    work_order_id: Mapped[str | None] = mapped_column(ForeignKey("work_orders.id"))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(index=True)


class MaintenanceOrder(MesBase):
    """A maintenance work order, created by people or, once approved, by an agent."""

    __tablename__ = "maintenance_orders"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    equipment_id: Mapped[str] = mapped_column(ForeignKey("equipment.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    due_by: Mapped[datetime]
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    external_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class DispatchListRecord(MesBase):
    """A dispatch list published for a line; the newest active one is in force."""

    __tablename__ = "dispatch_lists"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    line_id: Mapped[str] = mapped_column(ForeignKey("equipment.id"), index=True)
    entries: Mapped[list[Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(20))
    published_at: Mapped[datetime]
    replaces: Mapped[str | None] = mapped_column(String(50))
    external_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class LoadPlanRecord(MesBase):
    """A plan of when deferrable loads run; the newest active one is in force."""

    __tablename__ = "load_plans"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(50), index=True)
    plans: Mapped[list[Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(20))
    published_at: Mapped[datetime]
    external_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class LotStatusChange(MesBase):
    """A lot's status change: who asked (an action id for agents), from what, to what, why."""

    __tablename__ = "lot_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lot_id: Mapped[str] = mapped_column(ForeignKey("lots.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    external_key: Mapped[str | None] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


MES_SCHEMA_VERSION = 2
"""Bumped when the tables change; a database seeded by another version is refused."""


class SeedRecord(MesBase):
    """Which seed (and schema version) filled this database, so seeding again is a no-op."""

    __tablename__ = "mes_seed"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seed: Mapped[int] = mapped_column(Integer)
    anchor: Mapped[datetime]
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
