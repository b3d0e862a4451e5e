"""Textbook inventory models: EOQ, newsvendor, (r,Q) with the normal loss function, exact (s,S).

One module per model (`eoq`, `newsvendor`, `continuous` for (r,Q), `periodic` for (s,S)), the
normal loss functions in `normal_loss`, and `comparison` pricing the policies side by side.

Every model is a small pure function with its formula in the docstring. Amounts inside the math
are floats in the currency of the inputs; `compare_policies`, which is what reaches an engineer,
returns `Decimal` amounts with every input and assumption listed.

Notation: D demand per year (or per period), K cost per order, h holding cost per unit and year
(or period), p shortage cost, L lead time, μ and σ the mean and standard deviation of demand over
the lead time, k = (r − μ)/σ the safety factor, φ and Φ the standard normal density and
distribution, G(k) = φ(k) − k·(1 − Φ(k)) the standard normal loss function.
"""

from __future__ import annotations

from factory_agents.catalog.supply_chain.inventory.comparison import (
    InventoryModel,
    InventoryPolicy,
    MinMaxPolicy,
    PolicyComparison,
    PolicyCost,
    ReorderPointPolicy,
    compare_policies,
    evaluate_policy,
)
from factory_agents.catalog.supply_chain.inventory.continuous import (
    ContinuousReviewModel,
    LeadTimeDemand,
    LeadTimeDemandBasis,
    OptimalReorderPolicy,
    PolicyEvaluation,
    ReorderPoint,
    expected_units_short,
    fill_rate,
    lead_time_demand,
    optimal_reorder_policy,
    reorder_point_for_cycle_service,
    reorder_point_for_fill_rate,
    reorder_policy_cost,
)
from factory_agents.catalog.supply_chain.inventory.eoq import (
    EoqResult,
    eoq,
    eoq_total_relevant_cost,
)
from factory_agents.catalog.supply_chain.inventory.newsvendor import (
    NewsvendorSolution,
    critical_ratio,
    newsvendor_discrete,
    newsvendor_discrete_cost,
    newsvendor_normal,
    newsvendor_normal_cost,
)
from factory_agents.catalog.supply_chain.inventory.normal_loss import (
    inverse_standard_normal_loss,
    second_order_standard_normal_loss,
    standard_normal_loss,
)
from factory_agents.catalog.supply_chain.inventory.periodic import (
    DiscreteDemand,
    OptimalMinMaxPolicy,
    PeriodicReviewModel,
    min_max_policy_cost,
    optimal_min_max_policy,
)

__all__ = [
    "ContinuousReviewModel",
    "DiscreteDemand",
    "EoqResult",
    "InventoryModel",
    "InventoryPolicy",
    "LeadTimeDemand",
    "LeadTimeDemandBasis",
    "MinMaxPolicy",
    "NewsvendorSolution",
    "OptimalMinMaxPolicy",
    "OptimalReorderPolicy",
    "PeriodicReviewModel",
    "PolicyComparison",
    "PolicyCost",
    "PolicyEvaluation",
    "ReorderPoint",
    "ReorderPointPolicy",
    "compare_policies",
    "critical_ratio",
    "eoq",
    "eoq_total_relevant_cost",
    "evaluate_policy",
    "expected_units_short",
    "fill_rate",
    "inverse_standard_normal_loss",
    "lead_time_demand",
    "min_max_policy_cost",
    "newsvendor_discrete",
    "newsvendor_discrete_cost",
    "newsvendor_normal",
    "newsvendor_normal_cost",
    "optimal_min_max_policy",
    "optimal_reorder_policy",
    "reorder_point_for_cycle_service",
    "reorder_point_for_fill_rate",
    "reorder_policy_cost",
    "second_order_standard_normal_loss",
    "standard_normal_loss",
]
