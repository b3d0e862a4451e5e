"""Which ISA-95 model each kind of MES record is, for connectors that decode records by kind."""

from __future__ import annotations

from pydantic import BaseModel

from factory_agents import isa95

RECORD_MODELS: dict[str, type[BaseModel]] = {
    "equipment": isa95.Equipment,
    "materials": isa95.Material,
    "lots": isa95.Lot,
    "inventory": isa95.InventoryPosition,
    "work_orders": isa95.WorkOrder,
    "operations": isa95.Operation,
    "bom": isa95.BomLine,
    "suppliers": isa95.Supplier,
    "purchase_orders": isa95.PurchaseOrder,
    "quality_results": isa95.QualityResult,
    "downtime": isa95.DowntimeEvent,
    "production_counts": isa95.ProductionCount,
    "consumption": isa95.MaterialConsumption,
    "maintenance_orders": isa95.MaintenanceOrder,
}
"""The ISA-95 model of each kind agents read (the keys are exactly the MesKind values)."""
