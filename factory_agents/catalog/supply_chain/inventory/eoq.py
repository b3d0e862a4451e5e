"""The economic order quantity and its total relevant cost."""

from __future__ import annotations

import math
from dataclasses import dataclass

from factory_agents.catalog.supply_chain.inventory.checks import (
    require_non_negative,
    require_positive,
)


@dataclass(frozen=True)
class EoqResult:
    """The economic order quantity with its annual ordering and holding cost (input currency)."""

    order_quantity: float
    orders_per_year: float
    annual_ordering_cost: float
    annual_holding_cost: float
    total_relevant_cost: float


def eoq_total_relevant_cost(
    order_quantity: float,
    annual_demand: float,
    ordering_cost: float,
    holding_cost_per_unit_year: float,
) -> float:
    """TRC(Q) = K·D/Q + h·Q/2: annual ordering plus cycle-stock holding cost of lot size Q."""
    q = require_positive("order quantity Q", order_quantity)
    d = require_non_negative(
        "annual demand D", annual_demand, "returns belong in a separate stream"
    )
    k = require_non_negative("ordering cost K", ordering_cost)
    h = require_non_negative("holding cost h", holding_cost_per_unit_year)
    return k * d / q + h * q / 2


def eoq(annual_demand: float, ordering_cost: float, holding_cost_per_unit_year: float) -> EoqResult:
    """Q* = √(2·K·D/h) (Harris 1913); at Q* ordering equals holding and TRC(Q*) = √(2·K·D·h)."""
    d = require_positive("annual demand D", annual_demand, "an item without demand needs no order")
    k = require_positive(
        "ordering cost K", ordering_cost, "with no cost per order, order every unit"
    )
    h = require_positive("holding cost h", holding_cost_per_unit_year, "give it per unit and year")
    q = math.sqrt(2 * k * d / h)
    return EoqResult(
        order_quantity=q,
        orders_per_year=d / q,
        annual_ordering_cost=k * d / q,
        annual_holding_cost=h * q / 2,
        total_relevant_cost=eoq_total_relevant_cost(q, d, k, h),
    )
