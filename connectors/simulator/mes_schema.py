"""The simulated MES database's tables, shaped after ISA-95, on a base of their own."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from factory_agents.sqltypes import NAMING_CONVENTION, UtcDateTime


class MesBase(DeclarativeBase):
    """Declarative base of the simulated MES tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


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


class SeedRecord(MesBase):
    """Which seed filled this database, so seeding again is a no-op."""

    __tablename__ = "mes_seed"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seed: Mapped[int] = mapped_column(Integer)
    anchor: Mapped[datetime]
