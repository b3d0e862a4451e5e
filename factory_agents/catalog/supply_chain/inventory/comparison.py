"""The policies side by side: each evaluated, priced in Decimal, inputs and assumptions listed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias

from factory_agents.catalog.supply_chain.inventory.checks import cents
from factory_agents.catalog.supply_chain.inventory.continuous import (
    ContinuousReviewModel,
    PolicyEvaluation,
    reorder_policy_cost,
)
from factory_agents.catalog.supply_chain.inventory.periodic import (
    PeriodicReviewModel,
    check_min_max,
    evaluate_min_max,
    evaluate_reorder_point_periodic,
)


@dataclass(frozen=True)
class ReorderPointPolicy:
    """(r, Q): order Q when the inventory position falls to r ((r, nQ) under periodic review)."""

    reorder_point: float
    order_quantity: float

    def describe(self) -> str:
        """A short human label."""
        return f"(r, Q) = ({self.reorder_point:g}, {self.order_quantity:g})"


@dataclass(frozen=True)
class MinMaxPolicy:
    """(s, S): when the inventory position is at or below s, order up to S."""

    reorder_level: int
    order_up_to: int

    def describe(self) -> str:
        """A short human label."""
        return f"(s, S) = ({self.reorder_level}, {self.order_up_to})"


InventoryPolicy: TypeAlias = ReorderPointPolicy | MinMaxPolicy
InventoryModel: TypeAlias = ContinuousReviewModel | PeriodicReviewModel


def evaluate_policy(policy: InventoryPolicy, model: InventoryModel) -> PolicyEvaluation:
    """Expected annual holding, ordering and shortage cost of a policy under a model."""
    if isinstance(model, ContinuousReviewModel):
        if isinstance(policy, MinMaxPolicy):
            s, big_s = check_min_max(policy.reorder_level, policy.order_up_to)
            return reorder_policy_cost(model, s, big_s - s)
        return reorder_policy_cost(model, policy.reorder_point, policy.order_quantity)
    if isinstance(policy, MinMaxPolicy):
        s, big_s = check_min_max(policy.reorder_level, policy.order_up_to)
        return evaluate_min_max(model, s, big_s)
    return evaluate_reorder_point_periodic(model, policy.reorder_point, policy.order_quantity)


@dataclass(frozen=True)
class PolicyCost:
    """Expected annual cost of one policy, by component, in money an engineer can check."""

    policy: str
    holding: Decimal
    shortage: Decimal
    ordering: Decimal
    total: Decimal
    orders_per_year: float
    average_on_hand: float
    safety_stock: float
    shortage_per_year: float


@dataclass(frozen=True)
class PolicyComparison:
    """Current against proposed policy: each cost, the saving per component, inputs, assumptions."""

    current: PolicyCost
    proposed: PolicyCost
    holding_saving: Decimal
    shortage_saving: Decimal
    ordering_saving: Decimal
    saving: Decimal
    currency: str
    inputs: dict[str, str]
    assumptions: tuple[str, ...]


def _policy_cost(policy: InventoryPolicy, model: InventoryModel) -> PolicyCost:
    evaluation = evaluate_policy(policy, model)
    holding = cents(evaluation.holding_cost)
    shortage = cents(evaluation.shortage_cost)
    ordering = cents(evaluation.ordering_cost)
    return PolicyCost(
        policy=policy.describe(),
        holding=holding,
        shortage=shortage,
        ordering=ordering,
        total=holding + shortage + ordering,
        orders_per_year=evaluation.orders_per_year,
        average_on_hand=evaluation.average_on_hand,
        safety_stock=evaluation.safety_stock,
        shortage_per_year=evaluation.shortage_per_year,
    )


def _continuous_inputs(model: ContinuousReviewModel) -> tuple[dict[str, str], tuple[str, ...]]:
    u, c = model.unit, model.currency
    inputs = {
        "annual demand D": f"{model.annual_demand:g} {u}/year",
        "mean lead-time demand μ": f"{model.lead_time_demand.mean:g} {u}",
        "std of lead-time demand σ": f"{model.lead_time_demand.std:g} {u}",
        "ordering cost K": f"{model.ordering_cost:g} {c}/order",
        "holding cost h": f"{model.holding_cost_per_unit_year:g} {c}/({u}·year)",
        "shortage cost p": f"{model.shortage_cost_per_unit:g} {c}/{u} short",
    }
    basis = model.lead_time_demand.basis
    if basis is not None:
        inputs |= {
            "mean demand per period D": f"{basis.demand_mean:g} {u}",
            "std of demand per period σ_D": f"{basis.demand_std:g} {u}",
            "mean lead time L": f"{basis.lead_time_mean:g} periods",
            "std of lead time σ_L": f"{basis.lead_time_std:g} periods",
        }
    assumptions = (
        "continuous review: an order is placed the moment the inventory position reaches r",
        "demand over the lead time is normal with the mean and σ above"
        " (σ² = L·σ_D² + D²·σ_L² when the lead time varies)",
        "unmet demand is backordered; each unit short costs p once",
        "holding = h·(Q/2 + r − μ + average backlog); shortage = p·D·[n(r) − n(r + Q)]/Q;"
        " ordering = K·D/Q (Hadley & Whitin 1963)",
        "an (s, S) policy is read as r = s, Q = S − s (demand arrives one unit at a time)",
        "costs are expected values per year in steady state, not a forecast of one year",
    )
    return inputs, assumptions


def _periodic_inputs(model: PeriodicReviewModel) -> tuple[dict[str, str], tuple[str, ...]]:
    u, c = model.unit, model.currency
    inputs = {
        "mean demand per period": f"{model.demand.mean:g} {u}",
        "std of demand per period": f"{model.demand.std:g} {u}",
        "demand distribution": f"P(D = 0..{len(model.demand.pmf) - 1}) given, discrete",
        "lead time L": f"{model.lead_time_periods} periods",
        "ordering cost K": f"{model.ordering_cost:g} {c}/order",
        "holding cost h": f"{model.holding_cost_per_unit_period:g} {c}/({u}·period)",
        "backorder cost p": f"{model.backorder_cost_per_unit_period:g} {c}/({u}·period)",
        "periods per year": f"{model.periods_per_year:g}",
    }
    assumptions = (
        "periodic review: the inventory position is checked once per period, before demand",
        "demand per period is independent and identically distributed as given",
        "an order arrives L periods after it is placed; unmet demand is backordered",
        "holding h and backorder p are charged on the net inventory at the end of each period,"
        " G(y) = h·E[(y − D_{L+1})⁺] + p·E[(D_{L+1} − y)⁺]",
        "(s, S) is evaluated exactly with the renewal function (Zheng & Federgruen 1991);"
        " (r, Q) as (r, nQ) with the position uniform on r + 1 … r + Q",
        "costs are expected values per year in steady state, not a forecast of one year",
    )
    return inputs, assumptions


def compare_policies(
    current: InventoryPolicy, proposed: InventoryPolicy, model: InventoryModel
) -> PolicyComparison:
    """Expected annual holding, shortage and ordering cost of both policies and the saving."""
    now_cost = _policy_cost(current, model)
    new_cost = _policy_cost(proposed, model)
    if isinstance(model, ContinuousReviewModel):
        inputs, assumptions = _continuous_inputs(model)
    else:
        inputs, assumptions = _periodic_inputs(model)
    return PolicyComparison(
        current=now_cost,
        proposed=new_cost,
        holding_saving=now_cost.holding - new_cost.holding,
        shortage_saving=now_cost.shortage - new_cost.shortage,
        ordering_saving=now_cost.ordering - new_cost.ordering,
        saving=now_cost.total - new_cost.total,
        currency=model.currency,
        inputs=inputs,
        assumptions=(*assumptions, "saving = current total − proposed total; positive is cheaper"),
    )
