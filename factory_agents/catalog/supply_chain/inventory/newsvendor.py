"""The newsvendor: one order for one period, normal or discrete demand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from factory_agents.catalog.supply_chain.inventory.checks import (
    require_finite,
    require_non_negative,
    require_positive,
)
from factory_agents.catalog.supply_chain.inventory.normal_loss import (
    STANDARD_NORMAL,
    standard_normal_loss,
)


@dataclass(frozen=True)
class NewsvendorSolution:
    """The best single order against uncertain demand, with what it is expected to leave or miss."""

    quantity: float
    critical_ratio: float
    expected_units_short: float
    expected_units_left_over: float
    expected_cost: float


def critical_ratio(underage_cost: float, overage_cost: float) -> float:
    """Cu/(Cu + Co): the probability of meeting all demand that the best order quantity gives."""
    cu = require_non_negative("underage cost Cu (margin lost per unit short)", underage_cost)
    co = require_non_negative("overage cost Co (loss per unit left over)", overage_cost)
    if cu + co <= 0:
        raise ValueError("underage and overage costs are both zero: every quantity is as good")
    return cu / (cu + co)


def newsvendor_normal_cost(
    quantity: float,
    demand_mean: float,
    demand_std: float,
    underage_cost: float,
    overage_cost: float,
) -> float:
    """Co·E[(Q − D)⁺] + Cu·E[(D − Q)⁺], with E[(D − Q)⁺] = σ·G(z), E[(Q − D)⁺] = Q − μ + σ·G(z)."""
    mu = require_non_negative("mean demand", demand_mean, "demand cannot be negative")
    sigma = require_positive(
        "demand standard deviation", demand_std, "without spread, order the mean"
    )
    critical_ratio(underage_cost, overage_cost)
    short = sigma * standard_normal_loss((quantity - mu) / sigma)
    left_over = quantity - mu + short
    return overage_cost * left_over + underage_cost * short


def newsvendor_normal(
    demand_mean: float, demand_std: float, underage_cost: float, overage_cost: float
) -> NewsvendorSolution:
    """Q* = μ + z·σ with Φ(z) = Cu/(Cu + Co); its expected cost is (Cu + Co)·σ·φ(z)."""
    mu = require_non_negative("mean demand", demand_mean, "demand cannot be negative")
    sigma = require_positive(
        "demand standard deviation", demand_std, "without spread, order the mean"
    )
    ratio = critical_ratio(underage_cost, overage_cost)
    if not 0 < ratio < 1:
        raise ValueError(
            "the critical ratio is 0 or 1 (one of the two costs is zero), so the best quantity is"
            " zero or unbounded; give both the underage and the overage cost"
        )
    z = STANDARD_NORMAL.inv_cdf(ratio)
    quantity = mu + z * sigma
    short = sigma * standard_normal_loss(z)
    return NewsvendorSolution(
        quantity=quantity,
        critical_ratio=ratio,
        expected_units_short=short,
        expected_units_left_over=quantity - mu + short,
        expected_cost=newsvendor_normal_cost(quantity, mu, sigma, underage_cost, overage_cost),
    )


def _discrete_distribution(
    outcomes: Sequence[float], probabilities: Sequence[float] | None
) -> tuple[list[float], list[float]]:
    """Sorted distinct outcomes and their probabilities; equal weights when none are given."""
    if not outcomes:
        raise ValueError("no demand outcomes given; pass the observed demands or the support")
    values = [require_finite("demand outcome", v) for v in outcomes]
    if any(v < 0 for v in values):
        raise ValueError(f"demand outcomes must not be negative, got {min(values)}")
    if probabilities is None:
        weights = [1.0 / len(values)] * len(values)
    else:
        if len(probabilities) != len(values):
            raise ValueError(
                f"{len(values)} outcomes but {len(probabilities)} probabilities; give one each"
            )
        weights = [require_non_negative("probability", p) for p in probabilities]
        total = sum(weights)
        if abs(total - 1) > 1e-6:
            raise ValueError(f"probabilities sum to {total}, not 1; normalise them first")
    merged: dict[float, float] = {}
    for v, w in zip(values, weights, strict=True):
        merged[v] = merged.get(v, 0.0) + w
    support = sorted(merged)
    return support, [merged[v] for v in support]


def newsvendor_discrete_cost(
    quantity: float,
    outcomes: Sequence[float],
    probabilities: Sequence[float] | None = None,
    *,
    underage_cost: float,
    overage_cost: float,
) -> float:
    """Σ P(d)·[Co·(Q − d)⁺ + Cu·(d − Q)⁺] over a discrete or empirical demand distribution."""
    critical_ratio(underage_cost, overage_cost)
    support, weights = _discrete_distribution(outcomes, probabilities)
    return sum(
        w * (overage_cost * max(quantity - d, 0.0) + underage_cost * max(d - quantity, 0.0))
        for d, w in zip(support, weights, strict=True)
    )


def newsvendor_discrete(
    outcomes: Sequence[float],
    probabilities: Sequence[float] | None = None,
    *,
    underage_cost: float,
    overage_cost: float,
) -> NewsvendorSolution:
    """Q* = the smallest outcome with F(Q) ≥ Cu/(Cu + Co); equal weights (empirical) by default."""
    ratio = critical_ratio(underage_cost, overage_cost)
    support, weights = _discrete_distribution(outcomes, probabilities)
    cumulative = 0.0
    quantity = support[-1]
    for d, w in zip(support, weights, strict=True):
        cumulative += w
        if cumulative >= ratio - 1e-12:
            quantity = d
            break
    short = sum(w * max(d - quantity, 0.0) for d, w in zip(support, weights, strict=True))
    left = sum(w * max(quantity - d, 0.0) for d, w in zip(support, weights, strict=True))
    return NewsvendorSolution(
        quantity=quantity,
        critical_ratio=ratio,
        expected_units_short=short,
        expected_units_left_over=left,
        expected_cost=overage_cost * left + underage_cost * short,
    )
