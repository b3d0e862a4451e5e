"""What the reorder agent watches per material: the plant's current policy and the unit costs.

The defaults are the simulated line's shrink film, in compressed time: its MRP reorders 400 m
when the inventory position falls to 200 m (the mean lead-time demand, no safety stock), and
costs are per real hour of a simulator that runs many times faster than a real plant.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from factory_agents.site import LINE

FILM_MATERIAL = "RM-SHRINK-FILM"
FILM_SUPPLIER = "mondi"
FILM_UNIT = "m"
FILM_CURRENT_REORDER_POINT = 200.0
FILM_CURRENT_ORDER_QUANTITY = 400.0


class ReorderMaterial(BaseModel):
    """One material: its current (r, Q) in the ERP, and what holding, orders and shortages cost."""

    model_config = ConfigDict(frozen=True)

    material_id: str
    current_reorder_point: float = Field(ge=0, description="r the ERP/MRP orders at today")
    current_order_quantity: float = Field(gt=0, description="Q the ERP/MRP orders today")
    ordering_cost: float = Field(gt=0, description="K: cost of placing and receiving one order")
    holding_cost_per_unit_hour: float = Field(gt=0, description="h: one unit held one hour")
    shortage_cost_per_unit: float = Field(gt=0, description="p: one unit of demand not met")


class ReorderConfig(BaseModel):
    """Materials to watch, the demand period and history, the data checks and the horizon."""

    model_config = ConfigDict(frozen=True)

    line: str = LINE
    materials: tuple[ReorderMaterial, ...] = (
        ReorderMaterial(
            material_id=FILM_MATERIAL,
            current_reorder_point=FILM_CURRENT_REORDER_POINT,
            current_order_quantity=FILM_CURRENT_ORDER_QUANTITY,
            ordering_cost=20.0,
            holding_cost_per_unit_hour=9.0,
            shortage_cost_per_unit=2.0,
        ),
    )
    period_seconds: float = Field(5.0, gt=0, description="Demand is summed per period this long")
    history_periods: int = Field(24, ge=2, description="Periods of consumption the demand uses")
    min_periods: int = Field(12, ge=2, description="Fewer periods: demand too uncertain to act")
    min_received_orders: int = Field(5, ge=2, description="Fewer: lead time too uncertain to act")
    order_lookback_hours: float = Field(2.0, gt=0, description="Received orders this far back")
    stale_after_seconds: float = Field(
        30.0, gt=0, description="No consumption this long: the line or the MES feed has stopped"
    )
    horizon_hours: float = Field(1.0, gt=0, description="The estimated saving's horizon")
    settle_periods: int = Field(
        4, ge=0, description="Measured this many periods past the latest expected receipt"
    )
    currency: str = "EUR"
