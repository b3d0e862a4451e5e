"""Material shortages against the production plan, and what each way out would cost.

`find_shortages` projects the available inventory of every material over time: released lots
only (quarantined, blocked, consumed and expired lots do not count), plus the open purchase-order
receipts when they are expected, minus the requirements of the planned operations in the order
they are needed. Each stretch of time in which a material runs negative is one shortage.

`resolve_shortages` prices the ways out of each shortage on the same projection: wait for the
receipt, expedite a receipt, use an allowed substitute, or run another work order first. Every
option is a changed plan, re-projected and re-scheduled, so its direct cost and the tardiness of
every work order (hours past due × cost per hour) come from the same arithmetic, and the cheapest
is recommended.
"""

from __future__ import annotations

from factory_agents.catalog.supply_chain.shortage.model import (
    HELD_STATUSES,
    RELEASED,
    ExcludedLot,
    ExpediteOffer,
    MaterialPlan,
    MaterialProjection,
    OptionKind,
    PlannedOperation,
    ProjectionPoint,
    Receipt,
    RequirementCoverage,
    ResolutionCosts,
    Shortage,
    ShortageDecision,
    ShortageOption,
    ShortageReport,
    StockLot,
    Substitute,
    WorkOrderLateness,
)
from factory_agents.catalog.supply_chain.shortage.options import resolve_shortages
from factory_agents.catalog.supply_chain.shortage.projection import find_shortages

__all__ = [
    "HELD_STATUSES",
    "RELEASED",
    "ExcludedLot",
    "ExpediteOffer",
    "MaterialPlan",
    "MaterialProjection",
    "OptionKind",
    "PlannedOperation",
    "ProjectionPoint",
    "Receipt",
    "RequirementCoverage",
    "ResolutionCosts",
    "Shortage",
    "ShortageDecision",
    "ShortageOption",
    "ShortageReport",
    "StockLot",
    "Substitute",
    "WorkOrderLateness",
    "find_shortages",
    "resolve_shortages",
]
