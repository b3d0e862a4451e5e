"""Continuous review (r,Q): lead-time demand, reorder points for a service level, the optimum."""

from __future__ import annotations

import math
from dataclasses import dataclass

from factory_agents.catalog.supply_chain.inventory.checks import (
    require_non_negative,
    require_positive,
    require_probability,
)
from factory_agents.catalog.supply_chain.inventory.eoq import eoq
from factory_agents.catalog.supply_chain.inventory.normal_loss import (
    STANDARD_NORMAL,
    inverse_standard_normal_loss,
    second_order_standard_normal_loss,
    standard_normal_loss,
)


@dataclass(frozen=True)
class LeadTimeDemandBasis:
    """What a lead-time demand was computed from: demand per period and lead time in periods."""

    demand_mean: float
    demand_std: float
    lead_time_mean: float
    lead_time_std: float


@dataclass(frozen=True)
class LeadTimeDemand:
    """Demand over the replenishment lead time as a normal mean and standard deviation."""

    mean: float
    std: float
    basis: LeadTimeDemandBasis | None = None

    def __post_init__(self) -> None:
        require_non_negative("mean lead-time demand", self.mean, "demand cannot be negative")
        require_non_negative("standard deviation of lead-time demand", self.std)

    def safety_factor(self, reorder_point: float) -> float:
        """k = (r − μ)/σ."""
        return (reorder_point - self.mean) / self.checked_std()

    def checked_std(self) -> float:
        """σ, refused when it is zero because the normal safety-stock formulas divide by it."""
        if self.std <= 0:
            raise ValueError(
                "lead-time demand has no spread (σ = 0): demand and lead time are certain, so no"
                " safety stock is needed; set the reorder point to the mean lead-time demand"
            )
        return self.std


def lead_time_demand(
    demand_mean_per_period: float,
    demand_std_per_period: float,
    lead_time_mean_periods: float,
    lead_time_std_periods: float = 0.0,
) -> LeadTimeDemand:
    """μ = D·L and σ = √(L·σ_D² + D²·σ_L²), demand per period independent of the lead time."""
    d = require_non_negative(
        "mean demand per period", demand_mean_per_period, "returns belong in a separate stream"
    )
    sd = require_non_negative("standard deviation of demand per period", demand_std_per_period)
    lead = require_positive(
        "mean lead time",
        lead_time_mean_periods,
        "with zero lead time there is no lead-time demand to protect and no reorder point to set",
    )
    sl = require_non_negative("standard deviation of the lead time", lead_time_std_periods)
    return LeadTimeDemand(
        mean=d * lead,
        std=math.sqrt(lead * sd * sd + d * d * sl * sl),
        basis=LeadTimeDemandBasis(d, sd, lead, sl),
    )


def expected_units_short(reorder_point: float, ltd: LeadTimeDemand) -> float:
    """n(r) = σ·G((r − μ)/σ): the expected units short per replenishment cycle."""
    return ltd.std * standard_normal_loss(ltd.safety_factor(reorder_point))


def fill_rate(reorder_point: float, order_quantity: float, ltd: LeadTimeDemand) -> float:
    """β = 1 − n(r)/Q: the share of demand met from stock (Type 2 service, backorders, floor 0)."""
    q = require_positive("order quantity Q", order_quantity)
    return max(0.0, 1 - expected_units_short(reorder_point, ltd) / q)


@dataclass(frozen=True)
class ReorderPoint:
    """A reorder point with its safety stock and the service it gives."""

    reorder_point: float
    safety_stock: float
    safety_factor: float
    cycle_service_level: float
    expected_units_short_per_cycle: float
    fill_rate: float | None


def _reorder_point(ltd: LeadTimeDemand, k: float, order_quantity: float | None) -> ReorderPoint:
    r = ltd.mean + k * ltd.std
    return ReorderPoint(
        reorder_point=r,
        safety_stock=r - ltd.mean,
        safety_factor=k,
        cycle_service_level=STANDARD_NORMAL.cdf(k),
        expected_units_short_per_cycle=ltd.std * standard_normal_loss(k),
        fill_rate=None if order_quantity is None else fill_rate(r, order_quantity, ltd),
    )


def reorder_point_for_cycle_service(
    ltd: LeadTimeDemand, cycle_service_level: float, order_quantity: float | None = None
) -> ReorderPoint:
    """r = μ + k·σ with Φ(k) = α, the probability of no stockout in a cycle; safety stock k·σ."""
    alpha = require_probability("cycle service level α", cycle_service_level)
    ltd.checked_std()
    return _reorder_point(ltd, STANDARD_NORMAL.inv_cdf(alpha), order_quantity)


def reorder_point_for_fill_rate(
    ltd: LeadTimeDemand, order_quantity: float, target_fill_rate: float
) -> ReorderPoint:
    """r = μ + k·σ with σ·G(k) = (1 − β)·Q: units short per cycle equal the share of Q allowed."""
    beta = require_probability("fill rate β", target_fill_rate)
    q = require_positive("order quantity Q", order_quantity)
    k = inverse_standard_normal_loss((1 - beta) * q / ltd.checked_std())
    return _reorder_point(ltd, k, q)


@dataclass(frozen=True)
class PolicyEvaluation:
    """Expected annual cost of one policy by component, with the quantities behind it (floats)."""

    holding_cost: float
    ordering_cost: float
    shortage_cost: float
    orders_per_year: float
    average_on_hand: float
    shortage_per_year: float
    safety_stock: float

    @property
    def total_cost(self) -> float:
        """Holding plus ordering plus shortage cost per year."""
        return self.holding_cost + self.ordering_cost + self.shortage_cost


@dataclass(frozen=True)
class ContinuousReviewModel:
    """A continuously reviewed item: annual demand, normal lead-time demand and three unit costs.

    D is per year and h per unit and year; the lead-time demand may come from any period unit,
    as long as D equals the demand per period times the periods in a year.
    """

    annual_demand: float
    lead_time_demand: LeadTimeDemand
    ordering_cost: float
    holding_cost_per_unit_year: float
    shortage_cost_per_unit: float
    currency: str = "EUR"
    unit: str = "units"

    def __post_init__(self) -> None:
        require_positive(
            "annual demand D", self.annual_demand, "an item without demand needs no policy"
        )
        require_non_negative("ordering cost K", self.ordering_cost)
        require_positive(
            "holding cost h", self.holding_cost_per_unit_year, "give it per unit and year"
        )
        require_non_negative("shortage cost p per unit short", self.shortage_cost_per_unit)
        self.lead_time_demand.checked_std()


def reorder_policy_cost(
    model: ContinuousReviewModel, reorder_point: float, order_quantity: float
) -> PolicyEvaluation:
    """Annual cost of (r, Q): h·(Q/2 + r − μ + B̄) + K·D/Q + p·D·[n(r) − n(r + Q)]/Q.

    n(y) = σ·G((y − μ)/σ) is the expected backlog when the position is y; n(r) − n(r + Q) the units
    short per cycle and B̄ = σ²·[G₂(k_r) − G₂(k_r+Q)]/Q the average backlog (Hadley & Whitin 1963,
    backorders). Nahmias' textbook form drops the two small terms n(r + Q) and B̄.
    """
    q = require_positive("order quantity Q", order_quantity)
    ltd = model.lead_time_demand
    k_low, k_high = ltd.safety_factor(reorder_point), ltd.safety_factor(reorder_point + q)
    sigma = ltd.std
    short_per_cycle = sigma * (standard_normal_loss(k_low) - standard_normal_loss(k_high))
    average_backlog = (
        sigma
        * sigma
        * (second_order_standard_normal_loss(k_low) - second_order_standard_normal_loss(k_high))
        / q
    )
    on_hand = q / 2 + reorder_point - ltd.mean + average_backlog
    cycles = model.annual_demand / q
    return PolicyEvaluation(
        holding_cost=model.holding_cost_per_unit_year * on_hand,
        ordering_cost=model.ordering_cost * cycles,
        shortage_cost=model.shortage_cost_per_unit * short_per_cycle * cycles,
        orders_per_year=cycles,
        average_on_hand=on_hand,
        shortage_per_year=short_per_cycle * cycles,
        safety_stock=reorder_point - ltd.mean,
    )


@dataclass(frozen=True)
class OptimalReorderPolicy:
    """The (Q, r) pair the Hadley–Whitin iteration settles on, with its expected annual cost."""

    reorder_point: float
    order_quantity: float
    safety_factor: float
    iterations: int
    evaluation: PolicyEvaluation


def optimal_reorder_policy(
    model: ContinuousReviewModel, *, tolerance: float = 1e-6, max_iterations: int = 100
) -> OptimalReorderPolicy:
    """Hadley–Whitin: Q₀ = EOQ; 1 − Φ(k) = Q·h/(p·D), r = μ + k·σ; Q = √(2D(K + p·n(r))/h); repeat.

    Stops when Q and r both move less than `tolerance` (relative). Minimises the textbook cost
    h·(Q/2 + r − μ) + K·D/Q + p·D·n(r)/Q with p per unit short (Nahmias, section 5.4).
    """
    d, h, p = model.annual_demand, model.holding_cost_per_unit_year, model.shortage_cost_per_unit
    ltd = model.lead_time_demand
    if model.ordering_cost <= 0:
        raise ValueError(
            "ordering cost K must be positive for the (Q, r) iteration to start at EOQ"
        )
    q = eoq(d, model.ordering_cost, h).order_quantity
    r = math.inf
    for iteration in range(1, max_iterations + 1):
        tail = q * h / (p * d) if p > 0 else math.inf
        if tail >= 1:
            raise ValueError(
                f"shortage cost p = {p} per unit is too low against holding: Q·h/(p·D) = {tail:.3g}"
                " ≥ 1, so no reorder point pays for itself; raise p or check that h is per year"
                " and D per year"
            )
        k = STANDARD_NORMAL.inv_cdf(1 - tail)
        r_new = ltd.mean + k * ltd.std
        q_new = math.sqrt(2 * d * (model.ordering_cost + p * ltd.std * standard_normal_loss(k)) / h)
        settled = abs(q_new - q) <= tolerance * max(1.0, q) and abs(r_new - r) <= tolerance * max(
            1.0, abs(r_new)
        )
        q, r = q_new, r_new
        if settled:
            return OptimalReorderPolicy(
                reorder_point=r,
                order_quantity=q,
                safety_factor=ltd.safety_factor(r),
                iterations=iteration,
                evaluation=reorder_policy_cost(model, r, q),
            )
    raise ValueError(
        f"the (Q, r) iteration did not settle in {max_iterations} steps; check the inputs"
        " (demand and costs in the same time unit) or raise max_iterations"
    )
